"""Figures stated in prose, as tables: the bullet targets, current-state ("nuläge") statements in the
sections a document's manifest entry names (`current_state`), and targets in footnotes ("För 2028 ska
materialåtervinningsgraden vara minst 58 procent.")."""

from __future__ import annotations

import re

from ..records import Cell, Document, Table
from .bullet_targets import FOOTNOTE_LINE, bullet_targets, goal_lines, offset_mapper
from .headings import section_before
from .lines import caption_clean, clean_raw
from .prose_figures import TargetGroups, prose_cells, sentences

CURRENT_STATE_CAPTION = "Nuläge och utmaningar"
# a current-state sentence states what was or is: it has one of these verbs, or a "label: figure"
_STATEMENT = re.compile(r"\b(var|är|har|uppgick|stod|köpte|använde)\b|:")


def prose_tables(doc: Document, raw: list[str], skip: set[int], file_stem, counter, pages, headings):
    """Numeric targets in bullets and sentences, and 'nuläge' statements."""
    lines = [clean_raw(r) for r in raw]
    groups = TargetGroups()
    bullet_targets(lines, skip, doc, pages, groups)
    goal_lines(lines, skip, doc, pages, groups)
    markers = tuple(doc.info.current_state or ())
    if len(markers) == 2:
        _current_state(lines, markers[0], markers[1], doc, pages, groups)
    _footnote_targets(lines, skip, doc, pages, groups)
    return _group_tables(groups, doc, file_stem, counter, headings)


def _current_state(lines: list[str], start_marker: str, end_marker: str, doc: Document,
                   pages: dict[int, int], groups: TargetGroups) -> None:
    """Statements between a line with `start_marker` and the next with `end_marker` (or another start)."""
    start_marker, end_marker = start_marker.upper(), end_marker.upper()
    n = len(lines)
    i = 0
    while i < n:
        if start_marker not in lines[i].upper():
            i += 1
            continue
        j = i + 1
        while j < n and end_marker not in lines[j].upper() and start_marker not in lines[j].upper():
            j += 1
        _current_state_region(lines, i, j, doc, pages, groups)
        i = j


def _current_state_region(lines: list[str], i: int, j: int, doc: Document, pages: dict[int, int],
                          groups: TargetGroups) -> None:
    """The paragraphs and dash items of lines[i + 1:j]."""
    key = (CURRENT_STATE_CAPTION, i)
    k = i + 1
    while k < j:
        t = lines[k].strip()
        if not t or t.startswith("http"):
            k += 1
            continue
        para = [(k, t)]
        m = k + 1
        while m < j and lines[m].strip() and not lines[m].strip().startswith("-"):
            para.append((m, lines[m].strip()))
            m += 1
        text = " ".join(p for _, p in para)
        if text.endswith(":"):
            # lead + dash items; a new lead ("År 2022:") may follow the items
            k = _lead_items(lines, m, j, text.rstrip(":"), key, doc, pages, groups)
            continue
        mapper = offset_mapper(para)
        offset = 0
        for sent in sentences(text):
            pos = text.find(sent, offset)
            offset = pos + len(sent)
            if not _STATEMENT.search(sent):
                continue
            new = prose_cells(sent, "", "nuläge", mapper, "__pending__", doc, pages, pos)
            groups.add(key, new, [p[0] + 1 for p in para])
        k = m


def _lead_items(lines: list[str], m: int, j: int, lead: str, key: tuple[str, int], doc: Document,
                pages: dict[int, int], groups: TargetGroups) -> int:
    """The "- ..." items from lines[m] on under a lead ending in ":"; returns the index after them."""
    while m < j:
        u = lines[m].strip()
        if not u:
            m += 1
            continue
        if not u.startswith("-"):
            break
        item = [(m, u[1:].strip())]
        q = m + 1
        while q < j and lines[q].strip() and not lines[q].strip().startswith("-") \
                and not lines[q].strip().endswith(":"):
            item.append((q, lines[q].strip()))
            q += 1
        itext = " ".join(p for _, p in item)
        new = prose_cells(itext, lead, "nuläge", offset_mapper(item), "__pending__", doc, pages, 0)
        groups.add(key, new, [p[0] + 1 for p in item])
        m = q
    return m


def _footnote_targets(lines: list[str], skip: set[int], doc: Document, pages: dict[int, int],
                      groups: TargetGroups) -> None:
    """Targets in footnotes: "12 För 2028 ska materialåtervinningsgraden vara minst 58 procent." """
    n = len(lines)
    for i, line in enumerate(lines):
        fm = re.match(r"^(\d{1,2})\s+([A-ZÅÄÖ].*)$", line.strip())
        if not fm or i in skip:
            continue
        para = [(i, fm.group(2))]
        q = i + 1
        while q < n and lines[q].strip() and not FOOTNOTE_LINE.match(lines[q].strip()):
            para.append((q, lines[q].strip()))
            q += 1
        text = " ".join(x for _, x in para)
        for sent in sentences(text):
            if re.match(r"^För\s+(?:19|20)\d\d\s+ska\b", sent):
                pos = text.find(sent)
                new = prose_cells(sent, "", "mål", offset_mapper(para), "__pending__", doc, pages, pos)
                groups.add((f"Fotnot {fm.group(1)}", i), new, [i + 1])


def _group_tables(groups: TargetGroups, doc: Document, file_stem, counter, headings):
    """One ``bullets`` table per group with cells, in document order."""
    tables: list[Table] = []
    cells: list[Cell] = []
    for (cap, cap_line), gcells in sorted(groups.cells.items(),
                                          key=lambda kv: min(c.line for c in kv[1]) if kv[1] else 0):
        if not gcells:
            continue
        table_id = f"{file_stem}:t{next(counter):02d}"
        fixed = [Cell(**{**c.__dict__, "table_id": table_id}) for c in gcells]
        caption = cap
        if cap and cap != CURRENT_STATE_CAPTION and not cap.startswith(("Fotnot", "Mål:")) and cap.isupper():
            caption = f"{cap} – delmål"
        lines_used = groups.lines.get((cap, cap_line), []) + [c.line for c in fixed]
        cols = tuple(dict.fromkeys(c.column for c in fixed))
        tables.append(Table(id=table_id, file=doc.file, caption=caption_clean(caption or "Mål i text"),
                            section=section_before(headings, min(lines_used), caption), unit="",
                            line_start=min(lines_used), line_end=max(lines_used), columns=cols,
                            layout="bullets"))
        cells.extend(fixed)
    return tables, cells
