"""The entry point of table extraction: `extract_tables(doc)` runs every layout over one document.

It works on `doc.raw_lines` (the untouched file lines), because the layout carries information that the
cleaned lines lose: tabs, leading blanks and runs of blanks mark dropped empty cells. The layouts are
tried in this order, each skipping the lines an earlier one used: ``tab`` (`tabbed`), ``indicator_list``
(`indicators`), one-column amount lists (`lists`), ``space`` / ``cell_per_line`` (`spaced`), and the
``bullets`` of targets and current-state figures in prose (`prose`). Each layout's module
describes what it reads.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from ..records import Cell, Document, Table
from .headings import heading_index, section_before
from .indicators import indicator_tables
from .lists import list_tables
from .prose import prose_tables
from .spaced import SpaceTables
from .tabbed import tab_tables

# Bump when any extractor's output changes: the index records it and the next ingest rebuilds the
# table store instead of serving the old one.
EXTRACTOR_VERSION = 1


def extract_tables(doc: Document) -> tuple[list[Table], list[Cell]]:
    """Every table and numeric target of one document, as `Table` and `Cell` records.

    Pure: depends only on the document. Table ids are "<file-stem>:tNN" in document order.
    """
    raw = list(doc.raw_lines or [])
    file_stem = Path(doc.file).stem
    pages = {ln.no: ln.page for ln in (doc.lines or []) if ln.page is not None}
    headings = heading_index(raw)
    counter = itertools.count(1)
    skip: set[int] = set()  # 0-based line indices already used by a table
    found: list[tuple[Table, list[Cell]]] = []

    pieces = [
        tab_tables(doc, raw, file_stem, counter, pages, headings, skip),
        indicator_tables(doc, raw, skip, file_stem, counter, pages, headings),
        list_tables(doc, raw, skip, file_stem, counter, pages, headings),
    ]
    space = SpaceTables(doc, raw, skip)
    pieces.append(space.extract(file_stem, counter, pages, headings))
    for t in pieces[-1][0]:
        skip.update(range(t.line_start - 1, t.line_end))
    pieces.append(prose_tables(doc, raw, skip, file_stem, counter, pages, headings))

    for tables, cells in pieces:
        by_table: dict[str, list[Cell]] = {}
        for c in cells:
            by_table.setdefault(c.table_id, []).append(c)
        for t in tables:
            found.append((t, by_table.get(t.id, [])))
    # renumber in document order so ids read naturally
    found.sort(key=lambda tc: (tc[0].line_start, tc[0].id))
    ranges = [(t.line_start, t.line_end) for t, _ in found if t.layout != "bullets"]
    clean_headings = [(no, text) for no, text in headings if not any(a <= no <= b for a, b in ranges)]
    out_tables: list[Table] = []
    out_cells: list[Cell] = []
    for k, (t, cs) in enumerate(found, start=1):
        new_id = f"{file_stem}:t{k:02d}"
        section = section_before(clean_headings, t.line_start, t.caption)
        out_tables.append(Table(**{**t.__dict__, "id": new_id, "section": section}))
        out_cells.extend(Cell(**{**c.__dict__, "table_id": new_id}) for c in cs)
    return out_tables, out_cells
