"""Scoring rules of the evaluation, kept pure so that they can be tested on hand-made results.

    correct          every `must_contain` pattern matches the answer text and the answer is not a
                     refusal; for an unanswerable item, correct means refused.
    quote found      after lower-casing and removing everything that is not a letter or digit from
                     both, the quote is a substring of the text.
    retrieval hit    some gold quote is found in one of the first 5 contexts (answerable items).
    citation hit     some gold quote is found in a cited passage (answerable items).
    refusal_recall   share of unanswerable items refused.
    false_refusal    share of answerable items refused.

Strict scoring (beside the regex verdict, which stays as it was for comparison with earlier runs)
judges an answer as its reader would: correct and concise.
    strict correct   correct, and none of `strict_problems`: no pasted table row (a tab, or four or
                     more bare numbers in a row), no URL block (two or more addresses), at most
                     MAX_ANSWER_CHARS of answer text (LONG_ANSWER_CHARS for lists and comparisons),
                     and for a comparison at least two documents named in the text. A refusal of
                     an unanswerable item is strictly correct.
    dump             an answer (not a refusal) that pastes table or URL text.
    paraphrase consistency   share of rewrites of a question that get the same verdict as it.
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


# --- strict scoring -------------------------------------------------------------------------------
# The limits are a reader's, not fitted to any run: a single value with its document and kind of
# figure fits in two sentences (~250 characters); 450 leaves room for a second document's value.
MAX_ANSWER_CHARS = 450
LONG_ANSWER_CHARS = 900
LONG_CATEGORIES = frozenset({"list", "comparison"})
COMPARISON = "comparison"

# A row of a table pasted as it is: four or more numbers with nothing but spaces (and %) between
# them, e.g. "2,2 1,3 1,2 5" or "64 % 65 % 64 % 70 %". "1 515 mnkr" (a thousands separator) is two.
_BARE_NUMBER_RUN = re.compile(
    r"(?<![\w,.])(?:[-−–]?\d+(?:[,.]\d+)?(?:[ \u00a0]?%)?[ \u00a0\t]+){3}[-−–]?\d+(?:[,.]\d+)?(?![\w,.])")
_URL = re.compile(r"https?://\S+|\bwww\.\S+", re.IGNORECASE)
URL_BLOCK_MIN = 2
_CITATION_MARK = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")

# How a reader recognises each document in an answer (by its original file name). The evaluator's
# own list, independent of the engine's manifest aliases.
DOCUMENT_NAMES = {
    "000_9b54efb63f6214a5.txt": re.compile(r"budget(?:en)?\s*(?:för\s*)?2021|plan 2022|alliansens budget(?! ?för?slag)",
                                           re.IGNORECASE),
    "001_d436ddedb8252149.txt": re.compile(r"hållbarhetsprogram|sustainability program", re.IGNORECASE),
    "002_b12d27c0afef24ca.txt": re.compile(r"budgetförslag|allians för kronoberg|oppositionen|opposition's|"
                                           r"budget proposal|budget 2025", re.IGNORECASE),
    "003_993d9c722ecec77e.txt": re.compile(r"delårsrapport|interim report", re.IGNORECASE),
    "004_8de1547e5698a2e5.txt": re.compile(r"nära kronobergaren|utvecklingsstrategi|development strategy",
                                           re.IGNORECASE),
}


def answer_body(text: str) -> str:
    """The answer as read: without the citation marks [1], [2, 3]."""
    return _CITATION_MARK.sub("", text or "").strip()


def pastes_table_row(text: str) -> bool:
    return "\t" in (text or "") or bool(_BARE_NUMBER_RUN.search(text or ""))


def pastes_urls(text: str) -> bool:
    return len(_URL.findall(text or "")) >= URL_BLOCK_MIN


def is_dump(text: str) -> bool:
    return pastes_table_row(text) or pastes_urls(text)


def documents_named(text: str) -> set[str]:
    return {file for file, pattern in DOCUMENT_NAMES.items() if pattern.search(text or "")}


def strict_problems(item: dict[str, Any], text: str) -> list[str]:
    """Why a reader would not accept this answer as it stands (empty: concise enough)."""
    body = answer_body(text)
    problems = []
    if pastes_table_row(body):
        problems.append("tabellrad")
    if pastes_urls(body):
        problems.append("url-block")
    limit = LONG_ANSWER_CHARS if item.get("category") in LONG_CATEGORIES else MAX_ANSWER_CHARS
    if len(body) > limit:
        problems.append("för långt")
    if item.get("category") == COMPARISON and len(documents_named(body)) < 2:
        problems.append("ett dokument")
    return problems


def is_strict_correct(item: dict[str, Any], text: str, refused: bool) -> bool:
    if is_unanswerable(item):
        return bool(refused)
    return is_correct(item, text, refused) and not strict_problems(item, text)


def paraphrase_consistency(verdicts: dict[str, bool], rewrites: list[tuple[str, bool]]) -> float | None:
    """Share of rewrites (original id, verdict) whose verdict equals their original's."""
    same = [verdicts[of] == verdict for of, verdict in rewrites if of in verdicts]
    return _share(same)


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
    by_cat_strict: "OrderedDict[str, list[bool]]" = OrderedDict()
    for r in results:
        by_cat.setdefault(r["category"], []).append(bool(r["correct"]))
        by_cat_strict.setdefault(r["category"], []).append(bool(r.get("strict_correct", r["correct"])))
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
        "retrieval_by_category": {c: _share([r["retrieval_hit"] for r in results
                                             if r["category"] == c and r.get("retrieval_hit") is not None])
                                  for c in by_cat},
        "strict_accuracy": _share([bool(r.get("strict_correct", r["correct"])) for r in results]),
        "by_category_strict": {c: _share(v) for c, v in by_cat_strict.items()},
        "dump_rate": _share([bool(r.get("dump")) for r in results if not r["refused"] and not r.get("error")]),
        "n_by_category": {c: len(v) for c, v in by_cat.items()},
        "retrieval_recall_at_5": _share(retrieval),
        "citation_hit_rate": _share(citation),
        "citation_overlap_rate": _share(overlap),
        "refusal_recall": _share([bool(r["refused"]) for r in unanswerable]),
        "false_refusal_rate": _share([bool(r["refused"]) for r in answerable]),
        "latency_p50_s": _round(percentile(seconds, 50)),
        "latency_p95_s": _round(percentile(seconds, 95)),
        "errors": sum(1 for r in results if r.get("error")),
        "decisions": decision_counts(results),
    }
    summary.update(extra or {})
    return summary


def decision_rule(row: dict[str, Any]) -> str:
    """The rule of assistant/decision.py that decided the row's answer ("" for other systems)."""
    decision = (row.get("answer") or {}).get("decision") if isinstance(row.get("answer"), dict) else None
    return (decision or {}).get("rule", "")


def decision_counts(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per deciding rule: how many answers it decided and the share of them strictly right."""
    by_rule: "OrderedDict[str, list[bool]]" = OrderedDict()
    for r in results:
        rule = decision_rule(r)
        if rule:
            by_rule.setdefault(rule, []).append(bool(r.get("strict_correct", r["correct"])))
    return {rule: {"n": len(v), "strict": _share(v)} for rule, v in sorted(by_rule.items(), key=lambda x: -len(x[1]))}


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)
