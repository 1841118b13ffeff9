"""The ``indicator_list`` layout: "Tabell N." lists that only name indicators, without values."""

from __future__ import annotations

import re

from ..records import Cell, Document, Table
from ..text import collapse_spaces
from .headings import section_before
from .lines import caption_clean, clean_raw, join_label_lines


_TABLE_CAPTION = re.compile(r"^\s*Tabell\s+\d+[.:]", re.IGNORECASE)


def _indicator_unit(name: str) -> str:
    low = name.lower()
    if "(%)" in low or "andel" in low and "%" in low:
        return "%"
    m = re.search(r"(kr/inv\.?(?:\s*\d+\+)?)", name)
    if m:
        return m.group(1)
    m = re.search(r"(antal(?: dagar)?\s*/\s*[\d ]*\s*inv\.?(?:\s*\d+\+)?|antal [^,]*?/\s*[\d ]+ inv\.)", name)
    if m:
        return collapse_spaces(m.group(1))
    if re.search(r"\bindex\b|motivationsindex", low):
        return "index"
    return ""


def indicator_tables(doc: Document, raw: list[str], skip: set[int], file_stem, counter, pages, headings):
    """Tables that list indicators without values: one cell per indicator, value None."""
    tables, cells = [], []
    lines = [clean_raw(r) for r in raw]
    for i, line in enumerate(lines):
        if i in skip or not _TABLE_CAPTION.match(line):
            continue
        entries: list[tuple[int, str]] = []  # (first line no, text)
        j = i + 1
        blanks = 0
        cur: list[str] = []
        cur_start = None
        while j < len(lines):
            t = lines[j]
            if not t.strip():
                blanks += 1
                if blanks >= 2 and entries or blanks >= 2 and cur:
                    break
                j += 1
                continue
            if "\t" in t:
                break
            starts_new = not cur or blanks > 0 or not (t.strip()[:1].islower() or t.strip()[:1] == "(")
            if starts_new and cur:
                entries.append((cur_start, join_label_lines(cur)))
                cur = []
            if not cur:
                cur_start = j + 1
            cur.append(t)
            blanks = 0
            j += 1
        if cur:
            entries.append((cur_start, join_label_lines(cur)))
        if len(entries) < 3:
            continue
        has_value = sum(1 for _, e in entries if re.search(r"\s-?\d+(?:,\d+)?\s*%?\s*$", e))
        with_comma = sum(1 for _, e in entries if "," in e)
        if has_value > len(entries) // 3 or with_comma < len(entries) // 2:
            continue
        table_id = f"{file_stem}:t{next(counter):02d}"
        caption = caption_clean(line)
        group = ""
        tcells = []
        for no, text in entries:
            if "," not in text and "(" not in text:
                group = text
                continue
            row = f"{group} > {text}" if group else text
            tcells.append(Cell(table_id=table_id, file=doc.file, line=no, row=row, column="Indikator",
                               value_text="", value=None, unit=_indicator_unit(text), page=pages.get(no)))
        if not tcells:
            continue
        cells.extend(tcells)
        last = entries[-1][0]
        tables.append(Table(id=table_id, file=doc.file, caption=caption,
                            section=section_before(headings, i + 1, caption), unit="",
                            line_start=i + 1, line_end=last, columns=("Indikator",),
                            layout="indicator_list"))
        skip.update(range(i, last))
    return tables, cells
