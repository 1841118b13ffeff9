"""The question analysis: one record per turn from the closed vocabularies of a question."""

from assistant.question import QuestionAnalysis, analyse, asks_for, documents_named

ALIASES = {"delarsrapport.txt": ("delårsrapporten", "interim report"),
           "budget2021.txt": ("budget 2021",)}


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
    a = analyse("Vad säger budget 2021 om kollektivtrafiken?", "Vad säger budget 2021 om kollektivtrafiken?",
                "Vad säger budget 2021 om kollektivtrafiken?", ALIASES,
                lambda text: text.lower().replace("budget 2021", " "))
    assert a.documents == ("budget2021.txt",) and a.years == ()


def test_what_is_asked_for():
    assert asks_for("Hur många anställda finns det?") == "value"
    assert asks_for("Vem ansvarar för kollektivtrafiken?") == "who"
    assert asks_for("Vilka fokusområden finns?") == "list"
    assert asks_for("Beskriv strategin") == "anything"
    assert documents_named("enligt the interim report", ALIASES) == ("delarsrapport.txt",)
