"""The question analysis: one record per turn from the closed vocabularies of a question."""

from assistant.document_names import DocumentNames
from assistant.question import (QuestionAnalysis, analyse, asks_for, asks_for_amount, detect_language,
                                expected_answer, question_years, values_in)
from assistant.evidence import states, states_amount

ALIASES = DocumentNames({"delarsrapport.txt": ("delårsrapporten", "interim report"),
                         "budget2021.txt": ("budget 2021",)})


def test_a_value_question_with_year_kind_and_document():
    a = analyse("Vad är målvärdet för sjukfrånvaro 2028 i delårsrapporten?",
                "Vad är målvärdet för sjukfrånvaro 2028 i delårsrapporten?",
                "Vad är målvärdet för sjukfrånvaro 2028 i delårsrapporten?", ALIASES)
    assert isinstance(a, QuestionAnalysis)
    assert a.lang == "sv" and a.years == ("2028",) and "mål" in a.kinds and a.numeric
    assert a.documents == ("delarsrapport.txt",) and not a.follow_up


def test_an_english_question_and_a_follow_up():
    a = analyse("and 2027?", "What is the target for sick leave 2027?", "What is the target for sick leave 2027?",
                ALIASES)
    assert a.lang == "en" and a.follow_up and a.years == ("2027",)


def test_document_names_do_not_count_as_years():
    q = "Vad säger budgeten för 2021 om kollektivtrafiken 2023?"
    a = analyse(q, q, q, ALIASES)
    assert a.documents == ("budget2021.txt",) and a.years == ("2023",)
    q = "Vad säger budget 2021 om kollektivtrafiken?"
    assert analyse(q, q, q, ALIASES).years == ()


def test_what_is_asked_for():
    assert asks_for("Hur många anställda finns det?") == "value"
    assert asks_for("Vem ansvarar för kollektivtrafiken?") == "who"
    assert asks_for("Vilka fokusområden finns?") == "list"
    assert asks_for("Beskriv strategin") == "anything"
    assert ALIASES.named("enligt the interim report") == ("delarsrapport.txt",)


def test_language_and_years():
    assert detect_language("What is the sick leave target for 2028?") == "en"
    assert detect_language("Vad är målvärdet för sjukfrånvaro 2028?") == "sv"
    # Swedish terms quoted in an English question do not make it Swedish
    assert detect_language("How is the dependency ratio (försörjningskvot) expected to change?") == "en"
    assert detect_language("Which parties make up Allians för Kronoberg?") == "en"
    assert detect_language("och 2027?") == "sv"
    assert question_years("Vilken nivå år -28 och 2030?") == {"2028", "2030"}


def test_amounts_and_quoted_values():

    assert asks_for_amount("Hur många ambulanser levererades?") and asks_for_amount("How many members?")
    assert not asks_for_amount("Vem är regiondirektör?")
    assert states_amount("Utöka till 35 tjänster 2027.") and not states_amount("Arbetet klart under 2024.")
    assert values_in("Vilket år avser driftsramen på 5 853 mnkr budgetår -25?") == {5853.0}
    assert values_in("Står sjukfrånvaron 'Utfall 2023' som 6,0 %?") == {6.0}
    assert values_in("Vad säger budgetförslaget 2025–27 och planen 2022-2023 om 4,5 %?") == {4.5}


def test_the_kind_of_answer_asked_for():
    assert expected_answer("Vilket datum antog regionfullmäktige programmet?") == "date"
    assert expected_answer("What date is the strategy dated?") == "date"
    assert expected_answer("När väntas tunneln vara klar?") == "time"
    assert expected_answer("Sedan när sitter alliansen i opposition?") == "time"
    assert expected_answer("Hur många sökte utbildningstjänst?") == "amount"
    assert expected_answer("Vad händer när tunneln är klar?") == ""
    assert states("date", "Datum: 2025-09-30") and states("date", "beslutades den 12 juni")
    assert not states("date", "för perioden 2024–2028")
    assert states("time", "förväntas vara klar 2029") and states("time", "till hösten")
    assert not states("time", "skapar nya möjligheter")


def test_a_question_about_a_change():
    from assistant.question import asks_change
    assert asks_change("Hur har sjukfrånvaron förändrats sedan 2022?") and asks_change("How much did costs increase?")
    assert not asks_change("Vad säger utvecklingsstrategin om skolan?")  # a document's name, not a change


def test_what_has_been_reached_so_far_asks_for_an_outcome():
    from assistant.question import asks_about_now
    q = "hur mycket har de installerat redan?"
    assert asks_about_now(q) and asks_about_now("How many are there today?")
    assert analyse(q, q, q, ALIASES).kinds == ("bokslut", "utfall")
    assert not asks_about_now("hur mycket ska de installera till 2028?")


def test_what_actually_happened_asks_for_an_outcome_but_a_measure_named_actual_does_not():
    q = "hur punktlig var kollektivtrafiken faktiskt 2023?"
    assert "utfall" in analyse(q, q, q, ALIASES).kinds
    measure = "Hur hög ska den faktiska sysselsättningsgraden vara 2028?"
    assert analyse(measure, measure, measure, ALIASES).kinds == ()


def test_a_count_of_things_is_told_apart_from_a_count_of_money():
    from assistant.question import counts_things, is_money
    assert counts_things("hur många sms-livräddare finns det?") and counts_things("How many nurses were hired?")
    assert not counts_things("hur många miljoner kronor kostar det?") and not counts_things("hur mycket kostar det?")
    assert is_money("mnkr 1 Mkr") and is_money("5 560 kr") and not is_money("% 64 %")
