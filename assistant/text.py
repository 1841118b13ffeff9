"""Character-level rules every stage shares, each written once.

The corpus is extracted text: PDF and DOCX exports keep inline markup (``<i>``, ``<sup>``), block
markup (``<p>``, ``<br>``), soft hyphens and control characters. Ingest, table extraction and the
question's own cleaning all apply these same rules, so a chunk, a table cell and a question never
disagree about what a character means.
"""

from __future__ import annotations

import re

# Inline markup wraps part of a word or a footnote number: removed without a space, so
# "växthusgaser<sup>11</sup>" stays one token for the footnote rule to strip.
INLINE_TAG = re.compile(r"</?(?:i|b|u|em|strong|sup|sub)\s*>", re.IGNORECASE)
# Block markup separates words: replaced by a space ("mål<p>utfall" is two words).
BLOCK_TAG = re.compile(r"</?(?:p|br)\s*/?>", re.IGNORECASE)
ITALIC_OPEN = re.compile(r"<i>", re.IGNORECASE)  # an italic row label marks a sub-row in table layouts
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")
# Zero-width and bidirectional controls a pasted question may carry: invisible, never meaningful.
INVISIBLE_CHARS = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
SOFT_HYPHEN = "\u00ad"
NO_BREAK_SPACE = "\u00a0"
# A list item's marker: a bullet or dash, or "1." / "1)". Where a marker must be followed by a space
# (chunking, so "-12,4" is not an item) or may not be (reading an item's text), the caller says so.
LIST_MARKER = r"(?:[•\-–·▪*]|\d+[.)])"
# "[1]", "[12]": an answer's citation marker.
CITATION_MARKER = re.compile(r"\[(\d{1,2})\]")


def without_markup(text: str) -> str:
    """Markup tags out: inline ones without a trace, block ones as a space."""
    if "<" not in text:
        return text
    return BLOCK_TAG.sub(" ", INLINE_TAG.sub("", text))


def without_control(text: str) -> str:
    """Control characters and soft hyphens out; layout (spaces, tabs) kept."""
    return CONTROL_CHARS.sub("", text.replace(SOFT_HYPHEN, ""))


def collapse_spaces(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()

# A number as printed: "1 500", "6,2", "-3". Thousands are grouped by a space or no-break space.
NUMBER = re.compile(r"(?<![\w,.])[-−–]?\d{1,3}(?:[ \u00a0]\d{3})+(?:[,.]\d+)?(?![\w])|(?<![\w,.])[-−–]?\d+(?:[,.]\d+)?(?![\w])")
# A year the documents can be about (1980-2049); a wider pattern would read amounts such as
# "2 500" or "2060 mnkr" as years.
YEAR = re.compile(r"\b(19[89]\d|20[0-4]\d)\b")
# A period, "2025–2027" or "2024-28": its first year and its last (in full or as two digits).
YEAR_RANGE = re.compile(r"\b((?:19|20)\d\d)\s*[-–]\s*((?:19|20)\d\d|\d\d)\b")
MAX_PERIOD_YEARS = 12  # a longer "period" is two unrelated years, not a span a text speaks of


def period_years(text: str) -> set[int]:
    """The years a text speaks of, a period's years between: "2021–2023" -> {2021, 2022, 2023};
    "januari–mars 2024" -> {2024}; "2025–27" -> {2025, 2026, 2027}."""
    years = {int(y) for y in YEAR.findall(text)}
    for first, last in YEAR_RANGE.findall(text):
        end = int(last) if len(last) == 4 else int(first[:2] + last)
        if end - int(first) <= MAX_PERIOD_YEARS:
            years |= set(range(int(first), end + 1))
    return years
