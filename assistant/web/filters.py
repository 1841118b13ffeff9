"""The document and year filters: which years a document covers, and the files a filter leaves."""

from __future__ import annotations

from ..prompts import ALL_YEARS
from ..records import DocumentInfo
from ..text import YEAR as _YEAR  # a year in a document's period or date ("2024–2028", "2025-09-30")


def document_years(info: DocumentInfo) -> tuple[int, int] | None:
    """The years a document covers: its period, or from when it was written to a single target year."""
    years = [int(y) for y in _YEAR.findall(info.period)]
    written = [int(y) for y in _YEAR.findall(info.written)]
    if not years:
        years = written
    if not years:
        return None
    lo, hi = min(years), max(years)
    if lo == hi and written and min(written) < lo:
        lo = min(written)
    return lo, hi


def year_choices(documents: dict[str, DocumentInfo]) -> list[tuple[str, str]]:
    spans = [s for s in (document_years(d) for d in documents.values()) if s]
    if not spans:
        return [(ALL_YEARS, ALL_YEARS)]
    choices = [(ALL_YEARS, ALL_YEARS)]
    for year in range(min(lo for lo, _ in spans), max(hi for _, hi in spans) + 1):
        n = sum(lo <= year <= hi for lo, hi in spans)
        if n:
            choices.append((f"{year} ({n} dokument)", str(year)))
    return choices


def document_choices(documents: dict[str, DocumentInfo]) -> list[tuple[str, str]]:
    return [(info.cite or info.title or file, file) for file, info in documents.items()]


def filter_documents(documents: dict[str, DocumentInfo], chosen: list[str] | None,
                     year: str | None) -> tuple[list[str] | None, str]:
    """Files to search (None: all) and a description of the filter ("" when there is none)."""
    files = [f for f in (chosen or []) if f in documents]
    parts = []
    if files:
        parts.append(", ".join(documents[f].cite for f in files))
    if year and year != ALL_YEARS:
        y = int(year)
        covering = [f for f, d in documents.items() if (s := document_years(d)) and s[0] <= y <= s[1]]
        files = [f for f in files if f in covering] if files else covering
        parts.append(f"år {year}")
        if not files:
            return [], " och ".join(parts)
    return (files or None), " och ".join(parts)
