"""Scoring rules of the evaluation, kept pure so that they can be tested on hand-made results.

    correct          every `must_contain` pattern matches the answer text and the answer is not a
                     refusal; for an unanswerable item, correct means refused.
    quote found      after lower-casing and removing everything that is not a letter or digit from
                     both, the quote is a substring of the text.
    retrieval hit    some gold quote is found in one of the first 5 contexts (answerable items).
    citation hit     some gold quote is found in a cited passage (answerable items).
    refusal_recall   share of unanswerable items refused.
    false_refusal    share of answerable items refused.
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from typing import Any, Iterable

UNANSWERABLE = "unanswerable"
RETRIEVAL_K = 5

_NOT_ALNUM = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    """Lower-case and drop everything that is not a letter or digit."""
    return _NOT_ALNUM.sub("", (text or "").lower())


def quote_found(quote: str, text: str) -> bool:
    q = normalise(quote)
    return bool(q) and q in normalise(text)


def is_unanswerable(item: dict[str, Any]) -> bool:
    return item.get("category") == UNANSWERABLE


def gold_quotes(item: dict[str, Any]) -> list[str]:
    return [s["quote"] for s in item.get("sources") or [] if isinstance(s, dict) and s.get("quote")]


def missing_patterns(item: dict[str, Any], text: str) -> list[str]:
    """The `must_contain` patterns (regular expressions, case-insensitive) that the text does not match."""
    missing = []
    for pattern in item.get("must_contain") or []:
        try:
            if not re.search(pattern, text or "", re.IGNORECASE):
                missing.append(pattern)
        except re.error:  # a broken pattern is a broken question, not a right answer
            missing.append(pattern)
    return missing


def is_correct(item: dict[str, Any], text: str, refused: bool) -> bool:
    if is_unanswerable(item):
        return bool(refused)
    return not refused and not missing_patterns(item, text)


def retrieval_hit(item: dict[str, Any], context_texts: Iterable[str], k: int = RETRIEVAL_K) -> bool | None:
    """None when the item has nothing to find (unanswerable, or no gold quote)."""
    quotes = gold_quotes(item)
    if is_unanswerable(item) or not quotes:
        return None
    texts = list(context_texts)[:k]
    return any(quote_found(q, t) for q in quotes for t in texts)


def citation_hit(item: dict[str, Any], cited_texts: Iterable[str]) -> bool | None:
    quotes = gold_quotes(item)
    if is_unanswerable(item) or not quotes:
        return None
    texts = list(cited_texts)
    return any(quote_found(q, t) for q in quotes for t in texts)


MIN_OVERLAP_CHARS = 10


def citation_overlap(item: dict[str, Any], citations: Iterable[tuple[str, str, str]]) -> bool | None:
    """A looser citation hit for (quote, passage, surroundings) triples: a citation hit, or the cited
    quote (at least MIN_OVERLAP_CHARS letters/digits) lies inside the gold quote and the gold quote
    inside the cited lines with one line either side. A table cell cites one line, while its gold
    quote often begins on the line before ("År 2028 ska:" / "- sjukfrånvaron vara max 4,5 procent.")."""
    quotes = gold_quotes(item)
    if is_unanswerable(item) or not quotes:
        return None
    for quote, passage, around in citations:
        for q in quotes:
            if quote_found(q, quote) or quote_found(q, passage):
                return True
            if len(normalise(quote)) >= MIN_OVERLAP_CHARS and normalise(quote) in normalise(q) \
                    and quote_found(q, around):
                return True
    return False


# Phrases with which an answer says that it does not know (for systems that have no `refused` flag).
_REFUSAL = re.compile(
    r"framgår (?:inte|ej)|vet (?:inte|ej)|finns (?:ingen|inte någon|inga) (?:uppgift|information)|"
    r"(?:saknas|inga) (?:uppgifter|information)|kan inte (?:svara|besvara|avgöra)|ingen information|"
    r"\b(?:nämner|anger|innehåller|specificerar|redovisar) (?:inte|ej|ingen)\b|"
    r"\b(?:nämns|anges|står|specificeras|redovisas) (?:inte|ej)\b|inte (?:nämnt|angivet|angett|specificerat)|"
    r"\b(?:do|does|did)(?: not|n'?t) (?:know|say|mention|specify|provide|contain|include|state|have)\b|"
    r"not (?:mentioned|specified|provided|stated|available|included|given)|no (?:information|mention|data)\b|"
    r"cannot (?:be )?(?:answer|determine|determined|found)|can'?t (?:answer|determine)|unable to (?:answer|determine)|"
    r"empty response",
    re.IGNORECASE,
)


def looks_like_refusal(text: str) -> bool:
    return not (text or "").strip() or bool(_REFUSAL.search(text))


def percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); q in [0, 100]."""
    data = sorted(v for v in values if v is not None and not math.isnan(v))
    if not data:
        return None
    pos = (len(data) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def _share(flags: list[bool]) -> float | None:
    return round(sum(flags) / len(flags), 4) if flags else None


def summarise(results: list[dict[str, Any]], mode: str, system: str = "assistant",
              extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The figures of summary.json from the rows of results.jsonl."""
    by_cat: "OrderedDict[str, list[bool]]" = OrderedDict()
    for r in results:
        by_cat.setdefault(r["category"], []).append(bool(r["correct"]))
    answerable = [r for r in results if r["category"] != UNANSWERABLE]
    unanswerable = [r for r in results if r["category"] == UNANSWERABLE]
    retrieval = [r["retrieval_hit"] for r in answerable if r.get("retrieval_hit") is not None]
    citation = [r["citation_hit"] for r in answerable if r.get("citation_hit") is not None]
    overlap = [r["citation_overlap"] for r in answerable if r.get("citation_overlap") is not None]
    seconds = [r["seconds"] for r in results if r.get("seconds") is not None and not r.get("error")]
    summary = {
        "system": system,
        "mode": mode,
        "n": len(results),
        "answer_accuracy": _share([bool(r["correct"]) for r in results]),
        "by_category": {c: _share(v) for c, v in by_cat.items()},
        "n_by_category": {c: len(v) for c, v in by_cat.items()},
        "retrieval_recall_at_5": _share(retrieval),
        "citation_hit_rate": _share(citation),
        "citation_overlap_rate": _share(overlap),
        "refusal_recall": _share([bool(r["refused"]) for r in unanswerable]),
        "false_refusal_rate": _share([bool(r["refused"]) for r in answerable]),
        "latency_p50_s": _round(percentile(seconds, 50)),
        "latency_p95_s": _round(percentile(seconds, 95)),
        "errors": sum(1 for r in results if r.get("error")),
    }
    summary.update(extra or {})
    return summary


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)
