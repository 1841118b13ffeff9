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
