"""The documents' own terms for the words people use (corpus/synonyms.toml)."""

from pathlib import Path

import pytest

from assistant.synonyms import SYNONYMS_FILE, Synonyms, SynonymsError

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
SMALL = Synonyms.from_terms([("sjukfrånvaro", ["sjukskrivningar", "sick leave"]),
                             ("matsvinn", ["mat som slängs", "food waste"]),
                             ("likvida medel", ["pengar på banken"])])


def test_an_everyday_word_finds_the_documents_term_in_any_form():
    assert SMALL.terms_for("Hur många sjukskrivningarna blev det 2023?") == ["sjukfrånvaro"]
    assert SMALL.terms_for("What is the sick leave target?") == ["sjukfrånvaro"]
    # the content words must stand together; small words between them do not matter
    assert SMALL.terms_for("hur mycket mat slängs") == ["matsvinn"]
    assert SMALL.terms_for("mat och kläder slängs") == []
    assert SMALL.terms_for("vad är soliditeten?") == []


def test_a_variant_that_is_only_small_words_and_another_terms_word_is_not_kept():
    synonyms = Synonyms.from_terms([("avvikelse", ["över eller under budget", "budgetavvikelse"]),
                                    ("budget", ["budgeten"]), ("driftram", ["budget"])])
    assert synonyms.terms_for("vad säger alliansens budget?") == []
    assert synonyms.terms_for("hur stor är budgetavvikelsen?") == ["avvikelse"]


def test_expansion_adds_each_term_once_in_order_and_not_when_already_there():
    assert SMALL.expand("sick leave och pengar på banken") == "sick leave och pengar på banken sjukfrånvaro likvida medel"
    assert SMALL.expand("sjukfrånvaro, sjukskrivningar") == "sjukfrånvaro, sjukskrivningar"


def test_a_missing_file_means_no_synonyms_and_a_broken_one_is_named(tmp_path):
    assert Synonyms.load(tmp_path / SYNONYMS_FILE).variants == ()
    broken = tmp_path / SYNONYMS_FILE
    broken.write_text("[[term]]\nterm = \n", encoding="utf-8")
    with pytest.raises(SynonymsError, match="synonyms.toml"):
        Synonyms.load(broken)
    broken.write_text('[[term]]\nsv = ["x"]\n', encoding="utf-8")
    with pytest.raises(SynonymsError, match="post 1"):
        Synonyms.load(broken)


def test_the_corpus_file_reads_and_gives_each_word_one_term():
    synonyms = Synonyms.load(CORPUS / SYNONYMS_FILE)
    assert len(synonyms.variants) > 1000
    import tomllib

    entries = tomllib.loads((CORPUS / SYNONYMS_FILE).read_text(encoding="utf-8"))["term"]
    terms = [e["term"].lower() for e in entries]
    assert len(terms) == len(set(terms))
    assert synonyms.terms_for("sick leave") == ["sjukfrånvaro"]
    assert "avvikelse" not in synonyms.terms_for("När väntas tunneln vara klar enligt alliansens budget?")
