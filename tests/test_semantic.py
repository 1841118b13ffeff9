"""The semantic index (vectors of sentences and table rows) and the calibrated models over signals.

A small deterministic embedder stands in for the model here: these tests check the logic around
it (which units are embedded, reuse, search, filters); the real model runs in the slow tests."""

from __future__ import annotations

import numpy as np
import pytest

from assistant import calibration
from assistant.chunking import chunk_sentences
from assistant.records import Cell, Chunk, Table
from assistant.semantic import ROW, SENTENCE, SemanticIndex, embed_units, row_text, row_units, sentence_units


class BagOfWords:
    """Vectors from hashed words: texts that share words are close (a stand-in, not a model)."""

    dim = 64

    def __init__(self):
        self.calls = 0

    def _vector(self, text):
        v = np.zeros(self.dim, dtype=np.float32)
        for w in text.lower().split():
            v[hash(w.strip(".,:")) % self.dim] += 1.0
        return v

    def embed_passages(self, texts):
        self.calls += len(texts)
        return np.vstack([self._vector(t) for t in texts])

    def embed_queries(self, texts):
        return np.vstack([self._vector(t) for t in texts])


CHUNK = Chunk(id="c1", file="a.txt", text="Sjukfrånvaron ska minska till 4,5 procent.\nhttps://a.se https://b.se\n"
                                        "Matsvinnet i köken ska halveras till år 2028.\n12 13 14",
              section=("Medarbetare",), line_start=10, line_end=13, lines=(10, 11, 12, 13))


def test_sentences_are_units_and_number_runs_and_link_lists_are_not():
    units = sentence_units([CHUNK], chunk_sentences)
    texts = [u.text for u in units]
    assert any("Sjukfrånvaron" in t for t in texts) and any("Matsvinnet" in t for t in texts)
    assert not any("https" in t for t in texts)  # addresses are dropped from what is embedded
    assert not any(t.strip() == "12 13 14" for t in texts)
    assert all(u.kind == SENTENCE and u.chunk_id == "c1" for u in units)
    assert units[-1].line_end == 12  # the sentence runs on to line 12 past the addresses


def test_one_row_unit_per_row_label_with_its_caption():
    table = Table(id="t1", file="b.txt", caption="Driftsramar", section=(), unit="mnkr", line_start=1, line_end=5)
    cells = [Cell("t1", "b.txt", 3, "Trafiknämnd", "Budget 2024", "500", 500.0),
             Cell("t1", "b.txt", 3, "Trafiknämnd", "Plan 2025", "510", 510.0),
             Cell("t1", "b.txt", 4, "Kulturnämnd", "Budget 2024", "90", 90.0)]
    units = row_units([(table, cells)])
    assert [u.text for u in units] == ["Trafiknämnd – Driftsramar", "Kulturnämnd – Driftsramar"]
    assert {u.kind for u in units} == {ROW} and units[0].row == "Trafiknämnd"
    assert row_text("Intäkter > Skatteintäkter", "") == "Intäkter, Skatteintäkter"
    assert row_text("Driftsramar totalt", "Driftsramar") == "Driftsramar totalt"


def test_search_ranks_by_meaning_and_filters_by_kind_and_file(tmp_path):
    embedder = BagOfWords()
    units = sentence_units([CHUNK], chunk_sentences)
    matrix, embedded = embed_units(units, embedder, {}, progress=False)
    assert embedded == len(units) and np.all(np.linalg.norm(matrix, axis=1) <= 1.0001)
    index = SemanticIndex(units, matrix)
    query = embedder.embed_queries(["matsvinnet i köken"])[0]
    best, score = index.search(query, SENTENCE)[0]
    assert "Matsvinnet" in best.text and 0 < score <= 1.0001
    assert index.search(query, ROW) == []
    assert index.search(query, SENTENCE, files=["other.txt"]) == []
    assert index.similarity(query, SENTENCE, "a.txt", best.line_start) == pytest.approx(score)
    index.save(tmp_path)
    again = SemanticIndex.load(tmp_path)
    assert [u.text for u in again.units] == [u.text for u in units]


def test_unchanged_units_are_not_embedded_again():
    embedder = BagOfWords()
    units = sentence_units([CHUNK], chunk_sentences)
    first, _ = embed_units(units, embedder, {}, progress=False)
    reuse = SemanticIndex(units, first).vectors_by_key()
    calls = embedder.calls
    second, embedded = embed_units(units, embedder, reuse, progress=False)
    assert embedded == 0 and embedder.calls == calls and np.allclose(first, second)


def test_a_damaged_semantic_index_is_reported(tmp_path):
    units = sentence_units([CHUNK], chunk_sentences)
    SemanticIndex(units, np.zeros((len(units) + 1, 4), dtype=np.float32)).save(tmp_path)
    with pytest.raises(ValueError):
        SemanticIndex.load(tmp_path)


def test_calibrated_models_rise_with_their_signals():
    low = calibration.SENTENCE.probability(lexical=0.1, meaning=0.75, passage=0.75, english=0.0)
    high = calibration.SENTENCE.probability(lexical=0.8, meaning=0.9, passage=0.85, english=0.0)
    assert 0.0 < low < high < 1.0
    weak = calibration.CELL.probability(lexical=0.0, meaning=0.78, kind=0.0, value=1.0)
    strong = calibration.CELL.probability(lexical=1.2, meaning=0.9, kind=1.0, value=1.0)
    assert weak < strong
    # the same match, but a sub-row whose own label the question does not hold is less likely
    parent = calibration.CELL.probability(lexical=1.0, meaning=0.88, value=1.0, depth=0.0, leaf_asked=1.0)
    sub_row = calibration.CELL.probability(lexical=1.0, meaning=0.88, value=1.0, depth=1.0, leaf_asked=0.0)
    assert sub_row < parent
    for model in (calibration.CELL, calibration.SENTENCE):
        assert len(model.names) == len(model.weights) and model.fitted_on


def test_calibration_labels():
    from types import SimpleNamespace

    from evals.calibrate import label_cell, label_sentence

    item = {"category": "table_value", "must_contain": [r"(?<!\d)4[,.]5(?!\d)"],
            "sources": [{"file": "001.txt", "quote": "sjukfrånvaron vara max 4,5 procent"}]}
    info = SimpleNamespace(source_file="001.txt")
    cell = SimpleNamespace(info=info, cell=SimpleNamespace(value_text="4,5 %"))
    assert label_cell(item, cell)
    assert not label_cell(item, SimpleNamespace(info=SimpleNamespace(source_file="002.txt"), cell=cell.cell))
    assert label_sentence(item, SimpleNamespace(info=info, text="År 2028 ska sjukfrånvaron vara max 4,5 procent."))
    assert not label_sentence(item, SimpleNamespace(info=info, text="HME ska vara minst 81."))
    assert not label_sentence(dict(item, category="unanswerable"), SimpleNamespace(info=info, text="max 4,5 procent"))


# --- with the real model and index --------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("question, row_word", [
    ("Hur många dagar är personalen sjuk?", "sjukfrånvaro"),  # shares no word with the row label
    ("How high is staff sick leave?", "sjukfrånvaro"),  # another language
])
def test_the_real_model_finds_a_row_by_meaning(index, embedder, question, row_word):
    query = embedder.embed_queries([question])[0]
    rows = [u.text.lower() for u, _ in index.semantic.search(query, ROW, k=8)]
    assert any(row_word in r for r in rows), rows


@pytest.mark.slow
def test_answers_record_their_question_analysis(assistant):
    answer = assistant.ask("Vad är målvärdet för sjukfrånvaro 2028?")
    assert answer.analysis.years == ("2028",) and answer.analysis.lang == "sv"
    assert answer.to_json()["analysis"]["years"] == ["2028"]


TWO = Chunk(id="c2", file="a.txt", text="Sjukfrånvaron ska minska till 4,5 procent i hela regionen. Matsvinnet "
                                       "i köken ska halveras till år 2028.", section=("Medarbetare",), line_start=1,
            line_end=1, lines=(1,))


def test_a_sentence_is_embedded_in_its_place_under_its_heading_and_after_the_sentence_before():
    units = sentence_units([TWO], chunk_sentences)
    first, second = units
    assert first.views == (f"Medarbetare: {first.text}", first.text)  # nothing stands before the first
    assert second.views == (f"Medarbetare: {second.text}", f"{first.text} {second.text}")
    embedder = BagOfWords()
    matrix, _ = embed_units(units, embedder, {}, progress=False)
    own = embedder.embed_passages([second.text, *second.views])
    own = own / np.linalg.norm(own, axis=1, keepdims=True)
    assert np.allclose(matrix[-1], own.mean(axis=0), atol=1e-6)  # a cosine with it is the mean cosine
    query = embedder.embed_queries(["matsvinnet"])[0]
    index = SemanticIndex(units, matrix)
    assert index.similarity(query, SENTENCE, "a.txt", 1, second.text) == pytest.approx(
        float(np.mean(own @ (query / np.linalg.norm(query)))), abs=1e-5)


def test_a_changed_heading_embeds_the_sentence_again():
    units = sentence_units([CHUNK], chunk_sentences)
    moved = sentence_units([Chunk(**{**CHUNK.__dict__, "section": ("Miljö",)})], chunk_sentences)
    assert units[0].text == moved[0].text and units[0].key != moved[0].key


def test_calibration_sets_by_id_and_the_sets_to_fit_on():
    from types import SimpleNamespace

    from evals.calibrate import fit_sets, set_of

    assert [set_of(i) for i in ("q001", "q001-p2", "ua007", "ud060")] == ["dev", "paraphrases", "tune", "tune"]
    assert fit_sets(SimpleNamespace(dev_only=False, fit_on=None)) == ("dev", "paraphrases", "tune")
    assert fit_sets(SimpleNamespace(dev_only=True, fit_on=None)) == ("dev",)
    assert fit_sets(SimpleNamespace(dev_only=False, fit_on="dev, tune")) == ("dev", "tune")
    with pytest.raises(ValueError, match="test"):
        fit_sets(SimpleNamespace(dev_only=False, fit_on="dev,test"))


def test_replay_right_counts_right_answers_and_right_refusals_without_cost():
    from evals.calibrate import replay_right

    model = calibration.Model(("lexical",), (10.0,), -5.0, "hand")  # p ≥ 0.5 from lexical 0.5 on
    rows = [{"answerable": True, "candidates": [{"kind": "sentence", "signals": {"lexical": 0.9}, "label": True}]},
            {"answerable": True, "candidates": [{"kind": "sentence", "signals": {"lexical": 0.9}, "label": False}]},
            {"answerable": False, "candidates": [{"kind": "sentence", "signals": {"lexical": 0.1}, "label": False}]},
            {"answerable": True, "candidates": [{"kind": "sentence", "signals": {"lexical": 0.1}, "label": True}]}]
    assert replay_right(rows, model, model, 0.5, 0.5) == 2
