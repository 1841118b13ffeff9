"""One-column lists of amounts under a caption ending "(belopp i mnkr):"."""

from __future__ import annotations

import re

from ..records import Document, Table
from ..text import collapse_spaces
from .headings import section_before
from .lines import caption_clean, clean_raw
from .rows import Assembler, RawRow, Val


_LIST_CAPTION = re.compile(r"\(belopp i (mnkr|tkr|kr)\)\s*:\s*$", re.IGNORECASE)


def list_tables(doc: Document, raw: list[str], skip: set[int], file_stem, counter, pages, headings):
    tables, cells = [], []
    lines = [clean_raw(r) for r in raw]
    for i, line in enumerate(lines):
        m = _LIST_CAPTION.search(line)
        if not m or i in skip:
            continue
        unit = m.group(1).lower()
        col = f"Belopp ({unit})"
        rows: list[RawRow] = []
        j = i + 1
        last = None
        while j < len(lines) and j - (last if last is not None else i) <= 3:
            t = collapse_spaces(lines[j])
            if not t:
                j += 1
                continue
            mm = re.match(r"^(?P<label>.*?\D)\s+(?P<val>[-+]?\d[\d ]*(?:,\d+)?)\s*$", t)
            if not mm or len(t) > 80:
                break
            rows.append(RawRow("row", j + 1, mm.group("label"), [Val(0, mm.group("val"))]))
            last = j
            j += 1
        if not rows:
            continue
        table_id = f"{file_stem}:t{next(counter):02d}"
        caption = caption_clean(line)
        cells.extend(Assembler(table_id, doc.file, [col], unit, pages).run(rows))
        tables.append(Table(id=table_id, file=doc.file, caption=caption,
                            section=section_before(headings, i + 1, caption), unit=unit,
                            line_start=i + 1, line_end=rows[-1].line, columns=(col,), layout="space"))
        skip.update(range(i, rows[-1].line))
    return tables, cells
