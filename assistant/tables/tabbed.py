"""The ``tab`` layout: tab-separated rows with empty cells kept, "Varav:" sub-rows, `<i>` italics for
sub-rows, headers continued over two rows and repeated inside the table."""

from __future__ import annotations

import logging
import re

from ..records import Cell, Document, Table
from ..text import ITALIC_OPEN, collapse_spaces
from .headings import section_before
from .lines import DATE_TOKEN, YEAR_TOKEN, caption_clean, clean_raw, unit_from_text
from .numbers import parse_cell_value
from .rows import Assembler, RawRow, Val

_log = logging.getLogger(__name__)


def _split_tabs(line: str) -> tuple[list[str], bool]:
    italic = bool(ITALIC_OPEN.search(line.split("\t", 1)[0]))
    cells = [collapse_spaces(c) for c in clean_raw(line).split("\t")]
    return cells, italic


def _headerish_cell(text: str) -> bool:
    if not text:
        return True
    if YEAR_TOKEN.match(text) or DATE_TOKEN.match(text):
        return True
    return parse_cell_value(text)[0] is None


def _tab_blocks(raw: list[str]) -> list[tuple[int, int]]:
    blocks, start, last = [], None, None
    for i, line in enumerate(raw):
        if "\t" in line:
            if start is None:
                start = i
            last = i
        elif line.strip():
            if start is not None:
                blocks.append((start, last))
                start = None
    if start is not None:
        blocks.append((start, last))
    return blocks


def _tab_caption(raw: list[str], start: int) -> tuple[str, int]:
    j = start - 1
    found: list[str] = []
    first_no = start + 1
    while j >= 0 and start - j <= 8:
        t = clean_raw(raw[j]).strip()
        if t:
            found.insert(0, collapse_spaces(t))
            first_no = j + 1
            if not t[0].islower():
                break
        j -= 1
    return caption_clean(" ".join(found)), first_no


def tab_tables(doc: Document, raw: list[str], file_stem, counter, pages, headings, skip: set[int]):
    tables, cells = [], []
    for a, b in _tab_blocks(raw):
        skip.update(range(a, b + 1))
        try:
            t, c = _one_tab_table(doc, raw, a, b, file_stem, counter, pages, headings)
        except Exception:  # a malformed block is skipped, not fatal
            _log.warning("%s: tabellen på rad %d kunde inte läsas", doc.file, a + 1, exc_info=True)
            t, c = None, []
        if t is not None and c:
            tables.append(t)
            cells.extend(c)
    return tables, cells


def _one_tab_table(doc, raw, a, b, file_stem, counter, pages, headings):
    rows = [(i + 1, *_split_tabs(raw[i])) for i in range(a, b + 1) if "\t" in raw[i]]
    if not rows:
        return None, []
    caption, cap_line = _tab_caption(raw, a)
    if caption.lower().startswith("innehållsförteckning"):
        return None, []
    first = rows[0][1]
    if not (len(first) >= 2 and all(_headerish_cell(c) for c in first[1:]) and any(first[1:] + [first[0]])):
        return None, []
    stub = first[0]
    header, idx = _tab_header(rows, stub)
    table_id = f"{file_stem}:t{next(counter):02d}"
    unit = unit_from_text(caption) or unit_from_text(stub)
    out = Assembler(table_id, doc.file, header, unit, pages).run(_tab_raw_rows(rows[idx:]))
    if stub.lower().startswith("uppdrag"):
        out = _uppdrag_cells(out)
    table = Table(id=table_id, file=doc.file, caption=caption or stub,
                  section=section_before(headings, cap_line, caption), unit=unit,
                  line_start=rows[0][0], line_end=rows[-1][0], columns=tuple(header), layout="tab")
    return table, out


def _tab_header(rows: list[tuple[int, list[str], bool]], stub: str) -> tuple[list[str], int]:
    """The column labels (a header may go on over the next rows) and the index of the first data row."""
    header = list(rows[0][1][1:])
    idx = 1
    # header continued on the next line ("PLAN/PROGNOS" over "2024 2025")
    while idx < len(rows) and not rows[idx][1][0] and all(_headerish_cell(c) for c in rows[idx][1][1:]) \
            and any(rows[idx][1][1:]):
        nxt = rows[idx][1][1:]
        width = max(len(header), len(nxt))
        header += [""] * (width - len(header))
        merged = []
        for k in range(width):
            up = header[k]
            lo = nxt[k] if k < len(nxt) else ""
            if not up and lo:
                left = next((header[q] for q in range(k - 1, -1, -1) if header[q]), "")
                up = left if left and not YEAR_TOKEN.match(left) and not re.search(r"\d", left) else ""
            merged.append(collapse_spaces(f"{up} {lo}"))
        header = merged
        idx += 1
    while header and not header[-1]:
        header.pop()
    if not header:
        header = [stub or "Värde"]
    elif all(not h for h in header):
        header = [stub or "Värde"] * len(header)
    return [h or f"Kolumn {k + 1}" for k, h in enumerate(header)], idx


def _tab_raw_rows(rows: list[tuple[int, list[str], bool]]) -> list[RawRow]:
    raw_rows: list[RawRow] = []
    for line_no, cells, italic in rows:
        label = cells[0]
        vals_text = cells[1:]
        nonempty = [v for v in vals_text if v]
        # a repeated header row, possibly with a group label ("Trafiknämnd 2025 2026 2027")
        years = [int(v.rstrip("*")) for v in nonempty if YEAR_TOKEN.match(v)]
        if len(years) >= 2 and len(years) == len(nonempty) and all(
                0 < b - a <= 2 for a, b in zip(years, years[1:])):
            raw_rows.append(RawRow("header", line_no, label, columns=[v or f"Kolumn {k + 1}"
                                                                    for k, v in enumerate(vals_text)]))
            continue
        if not nonempty:
            low = label.lower().rstrip(":").strip()
            if low == "varav":
                raw_rows.append(RawRow("varav", line_no, label))
            elif label:
                raw_rows.append(RawRow("group", line_no, label, italic=italic))
            continue
        vals = [Val(k, v) for k, v in enumerate(vals_text) if v]
        if label or vals:
            raw_rows.append(RawRow("row", line_no, label, vals, italic=italic))
    return raw_rows


def _uppdrag_cells(cells: list[Cell]) -> list[Cell]:
    """A table of assignments ("Uppdrag"): only its financing column holds amounts."""
    fixed = []
    for c in cells:
        if c.column.lower().startswith("finansiering"):
            v, cmp_, u = parse_cell_value(c.value_text)
            ok = v is not None and re.search(r"\b(mkr|mnkr|kr|tkr)\b", c.value_text, re.IGNORECASE)
            fixed.append(Cell(**{**c.__dict__, "value": v if ok else None,
                                 "unit": (u or unit_from_text(c.value_text)) if ok else "",
                                 "year": None, "column_kind": ""}))
        else:
            fixed.append(Cell(**{**c.__dict__, "value": None, "unit": "", "year": None,
                                 "column_kind": ""}))
    return fixed
