"""Follow-ups read in the frame of the last turn (pure logic, no index)."""

from assistant.conversation import is_follow_up, readings, standalone_question

HISTORY = [{"role": "user", "content": "Vilken driftram har hälso- och sjukvårdsnämnden i budgetförslaget 2025?"},
           {"role": "assistant", "content": "6 010 mnkr [1]."}]


def test_chat_shorthand_for_och_starts_a_follow_up():
    assert is_follow_up("o 2027 då?")
    rewrite = standalone_question("o självfinansieringsgraden 2027?", HISTORY)
    assert "självfinansieringsgraden" in rewrite.focus and "driftram" in rewrite.background


def test_a_word_that_only_points_back_makes_a_long_question_a_follow_up():
    question = "Hur mycket blir det för samma nämnd år 2027 enligt samma förslag?"
    assert is_follow_up(question)
    assert "driftram" in standalone_question(question, HISTORY).text
    # "det" and "den" are also articles: a long question with only them stands alone
    alone = "Hur stort blev det ekonomiska resultatet för hela regionen under året 2023?"
    assert not is_follow_up(alone)
    assert standalone_question(alone, HISTORY).text == alone


def test_without_history_nothing_is_rewritten():
    assert standalone_question("o 2027 då?", []).text == "o 2027 då?"


def test_a_new_year_for_an_earlier_question_without_one_is_kept():
    history = [{"role": "user", "content": "What is the target for antibiotic prescriptions?"},
               {"role": "assistant", "content": "250 per 1 000 inhabitants [1]."}]
    rewrite = standalone_question("What was it in Jan–Jun 2023, then?", history)
    assert "antibiotic" in rewrite.text and "2023" in rewrite.text
    assert standalone_question("och 2027?", HISTORY).text == HISTORY[0]["content"].replace("2025", "2027")


def test_a_question_that_may_or_may_not_continue_is_read_both_ways():
    question = "Vilken nämnd har fått ansvaret för att genomföra uppdraget?"  # no follow-up words; "uppdraget" is the last one's
    alone, framed = readings(question, HISTORY)
    assert alone.text == question and alone.background == ""
    assert "driftram" in framed.text and "driftram" in framed.background and framed.focus.startswith("Vilken nämnd har fått")
    assert readings("o 2027 då?", HISTORY) == [standalone_question("o 2027 då?", HISTORY)]  # a follow-up by its words
    assert readings(question, []) == [alone]  # nothing earlier to continue


def test_the_earlier_answer_is_read_without_citation_marks_framing_or_refusals():
    from assistant.conversation import earlier_answer
    history = [{"role": "user", "content": "Vad är målet för antibiotika?"},
               {"role": "assistant", "content": "Enligt Hållbarhetsprogram 2024–2028 (fastställt av regionfullmäktige): "
                                                "“Antal uthämtade antibiotikarecept”: max 250 recept [1]."}]
    assert earlier_answer(history) == "“Antal uthämtade antibiotikarecept”: max 250 recept."
    assert earlier_answer(history[:1]) == ""  # no answer yet
    refused = [history[0], {"role": "assistant", "content": "Det framgår inte av dokumenten.\nNärmast i dokumenten: [1]"}]
    assert earlier_answer(refused) == ""
    # an answer to an older question says nothing about the last one
    assert earlier_answer(history + [{"role": "user", "content": "och 2027?"}]) == ""


def test_a_follow_up_carries_the_earlier_answer_as_context_not_as_what_it_asks():
    history = [{"role": "user", "content": "What is the target for antibiotic prescriptions?"},
               {"role": "assistant", "content": "Antal uthämtade antibiotikarecept: max 250 recept [1]."}]
    (rewrite,) = readings("And what was the level in the first half of 2023?", history)
    assert "uthämtade" in rewrite.context and "uthämtade" not in rewrite.focus
    alone = readings("Vad är regionens vision för 2036 enligt strategin?", [])
    assert alone[0].context == ""


def test_what_the_earlier_answer_gave_is_recognised_by_its_value_or_its_words_and_numbers():
    from assistant.conversation import already_given
    said = "Bland kunderna svarar 84 % att de för de flesta resor vet hur de kan åka kollektivt."
    assert already_given("Kunder - vet hur jag kan åka kollektivt", "84 %", said)
    assert not already_given("Allmänhet - vet hur jag kan åka kollektivt", "61 %", said)
    rsr = "Vilka sitter i Regionalt strategiskt råd? RSR består av länets kommunchefer, regiondirektör och landshövding."
    assert already_given("Regionalt strategiskt råd (RSR) består av länets kommunchefer, regiondirektör, landshövding.",
                         None, rsr)
    assert not already_given("Syftet med rådet är att stärka arbetet med långsiktiga utvecklingsfrågor.", None, rsr)
    # a row read as prose with a value not yet given (the cost beside the posts) is new
    posts = "Utöka akutläkarorganisationen till 20 tjänster 2025 och 35 tjänster 2027."
    assert not already_given("Utöka akutläkarorganisationen till 20 tjänster 2025 och 35 tjänster 2027. 8 Mkr",
                             None, posts)
    assert not already_given("Utöka akutläkarorganisationen till 20 tjänster 2025", None, "")


def test_a_follow_up_about_now_does_not_inherit_the_earlier_target_year():
    history = [{"role": "user", "content": "Hur mycket solceller ska regionen installera fram till 2028?"},
               {"role": "assistant", "content": "640 kW (Mål 2028) [1]."}]
    now = standalone_question("hur mycket har de installerat redan då?", history)
    assert "2028" not in now.focus and "installerat" in now.focus
    later = standalone_question("och solfångarna samma år?", history)
    assert "2028" in later.focus  # a follow-up that does not ask about now keeps the earlier year


def test_a_follow_up_naming_another_document_drops_the_years_that_document_does_not_speak_of():
    from assistant.document_names import DocumentNames
    from assistant.text import period_years
    names = DocumentNames({"budget2021.txt": ["budgeten för 2021"], "forslag.txt": ["budgetförslaget"]},
                          {"budget2021.txt": period_years("2021–2023"), "forslag.txt": period_years("2024–2027")})
    history = [{"role": "user", "content": "skattesats 2025?"},
               {"role": "assistant", "content": "12,00 procent enligt budgetförslaget [1]."}]
    other = standalone_question("samma som i budgeten för 2021?", history, names)
    assert "2025" not in other.text and "skattesats" in other.text and "budgeten för 2021" in other.text
    history[0]["content"] = "skattesats 2022?"
    kept = standalone_question("samma som i budgeten för 2021?", history, names)
    assert "2022" in kept.text  # a year the named document speaks of is still asked
