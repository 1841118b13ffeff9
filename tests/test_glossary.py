from assistant.glossary import swedish_terms


def test_english_words_become_the_swedish_words_of_the_documents():
    terms = swedish_terms("How many employees does Region Kronoberg have according to the Alliance budget proposal?")
    assert "medarbetare" in terms and "budgetförslag" in terms and "Kronoberg" in terms
    assert "how" not in terms.lower().split() and "according" not in terms


def test_quoted_swedish_terms_names_and_numbers_are_kept():
    terms = swedish_terms("How large a borrowing limit (låneram) does the regional council grant for 2021 in Växjö?")
    for kept in ("låneram", "regionfullmäktige", "2021", "Växjö"):
        assert kept in terms


def test_unknown_english_words_are_left_out():
    assert swedish_terms("Why would anybody whistle?") == ""
