"""Consistency checks for the evaluation question set (evals/questions.jsonl).

Only the standard library and pytest are used. Quotes are checked against the
project's own copies of the documents in corpus/, never against external paths.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover
    tomllib = None

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "evals" / "questions.jsonl"
CORPUS = ROOT / "corpus"

CATEGORIES = {
    "table_value",
    "text_fact",
    "list",
    "comparison",
    "temporal",
    "unanswerable",
    "conversation",
}
MIN_PER_CATEGORY = {
    "table_value": 45,
    "text_fact": 30,
    "list": 12,
    "comparison": 12,
    "temporal": 12,
    "unanswerable": 20,
    "conversation": 12,
}
UNANSWERABLE = "EJ I DOKUMENTEN"

# Original (published) file names -> descriptive names used in corpus/.
# Only a fallback: corpus/manifest.toml (source_file -> file) wins when present.
FALLBACK_NAMES = {
    "000_9b54efb63f6214a5.txt": "budget-2021-plan-2022-2023-alliansen.txt",
    "001_d436ddedb8252149.txt": "hallbarhetsprogram-2024-2028.txt",
    "002_b12d27c0afef24ca.txt": "budgetforslag-2025-2027-allians-for-kronoberg.txt",
    "003_993d9c722ecec77e.txt": "delarsrapport-mars-2024.txt",
    "004_8de1547e5698a2e5.txt": "nara-kronobergaren-utvecklingsstrategi.txt",
}
DOCUMENTS = sorted(FALLBACK_NAMES)


def normalise(text: str) -> str:
    """Lower-case and drop everything that is not a letter or digit."""
    return re.sub(r"[\W_]+", "", text.lower())


def _manifest_pairs(node) -> list[tuple[str, str]]:
    """Collect (source_file, file) from any table in the manifest, however nested."""
    pairs = []
    if isinstance(node, dict):
        src, dst = node.get("source_file"), node.get("file")
        if isinstance(src, str) and isinstance(dst, str):
            pairs.append((src, dst))
        for value in node.values():
            pairs.extend(_manifest_pairs(value))
    elif isinstance(node, list):
        for value in node:
            pairs.extend(_manifest_pairs(value))
    return pairs


def _resolve(name: str) -> Path | None:
    for candidate in (ROOT / name, CORPUS / name, CORPUS / Path(name).name):
        if candidate.is_file():
            return candidate
    return None


def document_paths() -> dict[str, Path]:
    mapping: dict[str, Path] = {}
    manifest = CORPUS / "manifest.toml"
    if manifest.is_file() and tomllib is not None:
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
        for src, dst in _manifest_pairs(data):
            path = _resolve(dst)
            if path is not None:
                mapping[Path(src).name] = path
    for original, descriptive in FALLBACK_NAMES.items():
        if original not in mapping:
            path = _resolve(descriptive) or _resolve(original)
            if path is not None:
                mapping[original] = path
    return mapping


def load_items() -> list[dict]:
    items = []
    with QUESTIONS.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError as exc:  # pragma: no cover - reported by the test
                pytest.fail(f"line {lineno} is not valid JSON: {exc}")
    return items


ITEMS = load_items()
IDS = [item.get("id", f"line{i}") for i, item in enumerate(ITEMS, 1)]


@pytest.fixture(scope="module")
def normalised_docs() -> dict[str, str]:
    paths = document_paths()
    missing = [doc for doc in DOCUMENTS if doc not in paths]
    assert not missing, f"corpus copies not found for: {missing}"
    return {doc: normalise(path.read_text(encoding="utf-8")) for doc, path in paths.items()}


def test_every_line_parses():
    raw = [ln for ln in QUESTIONS.read_text(encoding="utf-8").splitlines() if ln.strip()]
    assert len(raw) == len(ITEMS)
    for item in ITEMS:
        assert isinstance(item, dict)


def test_ids_unique_and_sequential():
    ids = [item["id"] for item in ITEMS]
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]
    assert ids == [f"q{i:03d}" for i in range(1, len(ids) + 1)]


@pytest.mark.parametrize("item", ITEMS, ids=IDS)
def test_item_shape(item):
    for key in ("id", "question", "category", "answer", "must_contain", "sources"):
        assert key in item, f"missing key {key}"
    assert item["category"] in CATEGORIES
    assert isinstance(item["question"], str) and item["question"].strip()
    assert isinstance(item["answer"], str) and item["answer"].strip()
    assert isinstance(item["must_contain"], list)
    assert isinstance(item["sources"], list)
    assert item.get("lang", "sv") in {"sv", "en"}
    assert item.get("history", []) == [] or item["category"] == "conversation"
    assert item.get("split") == "dev", "every item of questions.jsonl belongs to the dev split"


@pytest.mark.parametrize("item", ITEMS, ids=IDS)
def test_patterns_compile_and_match_answer(item):
    for pattern in item["must_contain"]:
        regex = re.compile(pattern, re.IGNORECASE)
        assert regex.search(item["answer"]), f"{pattern!r} does not match gold answer {item['answer']!r}"


@pytest.mark.parametrize("item", ITEMS, ids=IDS)
def test_unanswerable_rules(item):
    is_unanswerable = item["category"] == "unanswerable"
    assert is_unanswerable == (item["answer"] == UNANSWERABLE)
    if is_unanswerable:
        assert item["must_contain"] == []
        assert item["sources"] == []
    else:
        assert item["must_contain"], "answerable items need at least one pattern"
        assert 1 <= len(item["sources"]) <= 3


@pytest.mark.parametrize("item", ITEMS, ids=IDS)
def test_conversation_history(item):
    history = item.get("history", [])
    if item["category"] != "conversation":
        assert not history
        return
    assert history, "conversation items need a history"
    assert history[0]["role"] == "user"
    for i, turn in enumerate(history):
        assert set(turn) == {"role", "content"}
        assert turn["role"] == ("user" if i % 2 == 0 else "assistant")
        assert turn["content"].strip()


@pytest.mark.parametrize("item", ITEMS, ids=IDS)
def test_quotes_occur_in_documents(item, normalised_docs):
    for source in item["sources"]:
        assert source["file"] in DOCUMENTS, source["file"]
        words = len(source["quote"].split())
        assert 4 <= words <= 25, f"quote has {words} words: {source['quote']!r}"
        needle = normalise(source["quote"])
        assert needle, "empty quote"
        assert needle in normalised_docs[source["file"]], (
            f"quote not found in {source['file']}: {source['quote']!r}"
        )


def test_comparisons_cite_evidence_for_both_sides():
    for item in ITEMS:
        if item["category"] == "comparison":
            assert len(item["sources"]) >= 2, item["id"]
            assert len(item["must_contain"]) >= 1, item["id"]


def test_required_question_present():
    wanted = "Vad är målvärdet för sjukfrånvaro 2028?"
    matches = [item for item in ITEMS if item["question"] == wanted]
    assert matches, "the sick-leave 2028 question is missing"
    item = matches[0]
    assert re.search(r"4[,.]5", item["answer"])
    assert any(src["file"] == "001_d436ddedb8252149.txt" for src in item["sources"])


def test_counts():
    assert len(ITEMS) >= 150
    per_category = Counter(item["category"] for item in ITEMS)
    for category, minimum in MIN_PER_CATEGORY.items():
        assert per_category[category] >= minimum, (category, per_category[category])
    per_document = Counter()
    for item in ITEMS:
        for doc in {src["file"] for src in item["sources"]}:
            per_document[doc] += 1
    for doc in DOCUMENTS:
        assert per_document[doc] >= 15, (doc, per_document[doc])
    english = sum(1 for item in ITEMS if item.get("lang") == "en")
    assert english >= 0.15 * len(ITEMS), (english, len(ITEMS))
