import pytest

from assistant.spelling import MIN_LETTERS, Speller

DOCUMENTS = ["Antalet sjuksköterskor ökar.", "Trafiknämnden redovisar ett överskott.",
             "Sjukvårdsnämnden har ett underskott. Sitt eget mål.", "Kostnaden för hyrpersonal minskar."]


@pytest.fixture
def speller():
    return Speller.from_texts(DOCUMENTS, known_stems={"solpanel"})


def test_a_word_one_letter_from_a_word_of_the_documents_is_read_as_that_word(speller):
    assert speller.correct("hur många sjuksöterskor?") == "hur många sjuksköterskor?"  # a letter missing
    assert speller.correct("Trafiknämden går plus") == "Trafiknämnden går plus"
    assert speller.correct("kostade hyrpersonl mer?") == "kostade hyrpersonal mer?"
    assert speller.correct("Hyrpersonl") == "Hyrpersonal"  # the capital stays


def test_a_form_of_a_word_the_documents_use_is_left_as_it_is(speller):
    # not in the documents, but its stem is: another inflection, not a typo
    assert speller.correct("sjukvårdsnämndens resultat") == "sjukvårdsnämndens resultat"


def test_a_word_of_the_synonym_map_is_left_as_it_is(speller):
    assert speller.correct("hur många solpaneler?") == "hur många solpaneler?"


def test_short_words_and_words_far_from_any_are_left_as_they_are(speller):
    assert len("snitt") < MIN_LETTERS
    assert speller.correct("i snitt") == "i snitt"  # "sitt" is one letter away, but another word
    assert speller.correct("hur mycket kostar parkeringen?") == "hur mycket kostar parkeringen?"


def test_the_most_frequent_of_two_words_one_letter_away_wins():
    speller = Speller.from_texts(["budgeten budgeten budgeter"])
    assert speller.correct("budgetem") == "budgeten"


@pytest.mark.slow
def test_a_misspelt_question_gets_the_answer_of_the_rightly_spelt_one(assistant):
    right = assistant.ask("Hur stora skatteintäkter budgeteras för 2021 i Budget 2021?")
    misspelt = assistant.ask("Hur stora skateintäkter budgeteras för 2021 i Budget 2021?")
    assert "5 118" in right.text
    assert misspelt.text == right.text
    assert misspelt.question == "Hur stora skateintäkter budgeteras för 2021 i Budget 2021?"  # as asked


@pytest.mark.slow
def test_an_english_question_is_not_spelt_as_swedish(assistant):
    assert assistant._read("How much did the region spend on agency staff?") == \
        "How much did the region spend on agency staff?"


def test_a_word_longer_than_any_of_the_documents_is_left_alone_without_searching(speller, monkeypatch):
    import assistant.spelling as spelling

    def no_search(word):
        raise AssertionError(f"searched the neighbours of a {len(word)}-letter word")
    longest = max(len(w) for w in speller.counts)
    assert speller.correct("x" * (longest + 1)) == "x" * (longest + 1)  # still searched: one letter more
    monkeypatch.setattr(spelling, "_one_letter_away", no_search)
    assert speller.correct("x" * 20_000) == "x" * 20_000
