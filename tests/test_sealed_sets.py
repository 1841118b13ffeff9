"""Checks of the sealed test split (evals/test_questions.jsonl) and of the rewrites of the dev
questions (evals/paraphrases.jsonl).

The failures name item ids only, never a test question's text: whoever changes the engine reads
the test split's aggregates, not its items (evals/README.md).
"""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from tests.test_questions import (
    CATEGORIES,
    DOCUMENTS,
    ITEMS as DEV_ITEMS,
    ROOT,
    UNANSWERABLE,
    document_paths,
    normalise,
)

TEST_QUESTIONS = ROOT / "evals" / "test_questions.jsonl"
PARAPHRASES = ROOT / "evals" / "paraphrases.jsonl"
MIN_TEST_ITEMS = 200
# Same categories as dev, in roughly the same proportions, with room for what users ask most.
MIN_TEST_PER_CATEGORY = {"table_value": 45, "text_fact": 30, "list": 12, "comparison": 15,
                         "temporal": 15, "unanswerable": 25, "conversation": 15}


def _load(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


TEST_ITEMS = _load(TEST_QUESTIONS)
REWRITES = _load(PARAPHRASES)


@pytest.fixture(scope="module")
def documents() -> dict[str, str]:
    return {doc: path.read_text(encoding="utf-8") for doc, path in document_paths().items()}


def _failing(items, check) -> list[str]:
    bad = []
    for item in items:
        try:
            ok = check(item)
        except Exception:  # a malformed item fails its check, whatever the reason
            ok = False
        if not ok:
            bad.append(item.get("id", "?"))
    return bad


def test_test_split_ids_shape_and_size():
    ids = [item.get("id") for item in TEST_ITEMS]
    assert ids == [f"t{i:03d}" for i in range(1, len(ids) + 1)]
    assert len(TEST_ITEMS) >= MIN_TEST_ITEMS
    assert _failing(TEST_ITEMS, lambda i: i["split"] == "test" and i["category"] in CATEGORIES
                    and i["question"].strip() and i["answer"].strip()
                    and isinstance(i["must_contain"], list) and isinstance(i["sources"], list)
                    and i.get("lang", "sv") in {"sv", "en"}) == []
    per_category = Counter(item["category"] for item in TEST_ITEMS)
    for category, minimum in MIN_TEST_PER_CATEGORY.items():
        assert per_category[category] >= minimum, (category, per_category[category])


def test_test_split_speaks_as_users_do():
    n = len(TEST_ITEMS)
    english = sum(item.get("lang") == "en" for item in TEST_ITEMS)
    paraphrased = sum("paraphrase" in item.get("tags", []) for item in TEST_ITEMS)
    assert 0.15 * n <= english <= 0.30 * n, english
    assert paraphrased >= 0.40 * n, paraphrased


def test_test_split_patterns_match_gold():
    assert _failing(TEST_ITEMS, lambda i: all(re.search(p, i["answer"], re.IGNORECASE)
                                              for p in i["must_contain"])) == []


def test_test_split_quotes_are_verbatim(documents):
    normalised = {doc: normalise(text) for doc, text in documents.items()}
    assert _failing(TEST_ITEMS, lambda i: all(s["file"] in DOCUMENTS and normalise(s["quote"])
                                              and normalise(s["quote"]) in normalised[s["file"]]
                                              for s in i["sources"])) == []


def test_test_split_answerable_items_have_gold_and_comparisons_two_sides():
    answerable = [i for i in TEST_ITEMS if i["category"] != "unanswerable"]
    assert _failing(answerable, lambda i: i["must_contain"] and i["sources"]
                    and i["answer"] != UNANSWERABLE) == []
    comparisons = [i for i in TEST_ITEMS if i["category"] == "comparison"]
    assert _failing(comparisons, lambda i: len(i["sources"]) >= 2) == []


def test_test_split_unanswerables_are_absent_from_every_document(documents):
    texts = list(documents.values()) + [" ".join(t.split()) for t in documents.values()]

    def absent(item) -> bool:
        return (item["answer"] == UNANSWERABLE and not item["must_contain"] and not item["sources"]
                and item["absent"]
                and not any(re.search(p, t, re.IGNORECASE) for p in item["absent"] for t in texts))

    assert _failing([i for i in TEST_ITEMS if i["category"] == "unanswerable"], absent) == []


def _history_ok(history) -> bool:
    return bool(history) and all(set(t) == {"role", "content"} and t["content"].strip()
                                 and t["role"] == ("user" if k % 2 == 0 else "assistant")
                                 for k, t in enumerate(history))


def test_test_split_conversations_have_history():
    assert _failing(TEST_ITEMS, lambda i: _history_ok(i["history"]) if i["category"] == "conversation"
                    else not i.get("history")) == []


# An independent writer may type the same short question ("och 2027?") as the dev set; more than a
# few shared wordings would mean the test set was written from the dev set.
MAX_SHARED_WORDINGS = 0.02


def test_test_split_is_not_written_from_dev():
    dev = {normalise(i["question"]) for i in DEV_ITEMS}
    shared = _failing(TEST_ITEMS, lambda i: normalise(i["question"]) not in dev)
    assert len(shared) <= MAX_SHARED_WORDINGS * len(TEST_ITEMS), shared


# --- paraphrases of the dev questions ---------------------------------------------------------------

def test_two_rewrites_of_every_dev_question_in_order():
    expected = [f"{i['id']}-p{k}" for i in DEV_ITEMS for k in (1, 2)]
    assert [r["id"] for r in REWRITES] == expected
    assert all(r["of"] == r["id"].rsplit("-", 1)[0] for r in REWRITES)


def test_rewrites_are_new_wordings_with_the_original_history():
    dev = {i["id"]: i for i in DEV_ITEMS}

    def ok(r) -> bool:
        original = dev[r["of"]]
        return (r["question"].strip() and normalise(r["question"]) != normalise(original["question"])
                and r.get("history", []) == original.get("history", [])
                and r.get("lang", "sv") in {"sv", "en"})

    assert _failing(REWRITES, ok) == []


def test_rewrites_are_scored_with_their_originals_gold():
    from evals.runner import load_paraphrases

    items = load_paraphrases(PARAPHRASES)
    dev = {i["id"]: i for i in DEV_ITEMS}
    assert len(items) == len(REWRITES)
    for item in items:
        original = dev[item["of"]]
        assert (item["category"], item["must_contain"], item["answer"]) == \
               (original["category"], original["must_contain"], original["answer"])
        assert item["question"] != original["question"]


# --- the tune split: written like the test split, by helpers who saw neither code nor dev set ------

TUNE_QUESTIONS = ROOT / "evals" / "tune_questions.jsonl"
TUNE_ITEMS = _load(TUNE_QUESTIONS)
MIN_TUNE_ITEMS = 200


def test_tune_split_fields_ids_and_size():
    ids = [item.get("id") for item in TUNE_ITEMS]
    assert len(set(ids)) == len(ids) >= MIN_TUNE_ITEMS
    assert _failing(TUNE_ITEMS, lambda i: re.fullmatch(r"u[a-z]\d{3}", i["id"]) and i["split"] == "tune"
                    and i["category"] in CATEGORIES and i["question"].strip() and i["answer"].strip()
                    and isinstance(i["must_contain"], list) and isinstance(i["sources"], list)
                    and i.get("lang", "sv") in {"sv", "en"}) == []


def test_tune_split_gold_is_found_in_the_documents(documents):
    normalised = {doc: normalise(text) for doc, text in documents.items()}
    texts = list(documents.values())
    answerable = [i for i in TUNE_ITEMS if i["category"] != "unanswerable"]
    assert _failing(answerable, lambda i: i["must_contain"] and i["sources"]
                    and all(re.search(p, i["answer"], re.IGNORECASE) for p in i["must_contain"])
                    and all(normalise(s["quote"]) in normalised[s["file"]] for s in i["sources"])) == []
    assert _failing([i for i in TUNE_ITEMS if i["category"] == "unanswerable"],
                    lambda i: i["answer"] == UNANSWERABLE and i["absent"] and not i["sources"]
                    and not any(re.search(p, t, re.IGNORECASE) for p in i["absent"] for t in texts)) == []
    assert _failing(TUNE_ITEMS, lambda i: _history_ok(i["history"]) if i["category"] == "conversation"
                    else not i.get("history")) == []


def test_tune_split_is_not_written_from_dev_or_test():
    others = {normalise(i["question"]) for i in DEV_ITEMS + TEST_ITEMS}
    shared = _failing(TUNE_ITEMS, lambda i: normalise(i["question"]) not in others)
    assert shared == []  # dropped when the set was assembled: tuning on a test wording would tune on test
