"""The ``bullets`` layout: numeric targets in bullet lists ("• År 2028 ska: - sjukfrånvaron vara max
4,5 procent.") and in one-line goal statements ("Mål: … ska öka till minst 16 procent 2030")."""

from __future__ import annotations

import re

from ..records import Document
from ..text import collapse_spaces
from .lines import join_label_lines
from .prose_figures import TargetGroups, prose_cells, sentences


def bullet_items(lines: list[str], start: int, end: int) -> list[tuple[str, list, list]]:
    """Bullet structures in lines[start:end]: (lead, bullet parts, items).

    Parts are (line index, text); an item is (first line index, text, its parts).

    A bullet ("• ...") without sub-items becomes one item with an empty lead; a bullet ending
    with ":" takes the following "- ..." lines as its items.
    """
    out = []
    i = start
    while i < end:
        t = lines[i].strip()
        if not t.startswith("•"):
            i += 1
            continue
        # gather the bullet text (continuation lines until blank/next bullet/dash item)
        text_parts = [(i, t[1:].strip())]
        j = i + 1
        while j < end:
            u = lines[j].strip()
            if not u or u.startswith(("•", "-")) or FOOTNOTE_LINE.match(u):
                break
            text_parts.append((j, u))
            j += 1
        btext = " ".join(p for _, p in text_parts)
        items: list[tuple[int, str]] = []
        if btext.rstrip().endswith(":"):
            k = j
            while k < end:
                u = lines[k].strip()
                if not u:
                    k += 1
                    continue
                if not u.startswith("-"):
                    break
                item_parts = [(k, u[1:].strip())]
                m2 = k + 1
                while m2 < end:
                    w = lines[m2].strip()
                    if not w:
                        # items may continue after one blank line when starting lowercase
                        if m2 + 1 < end and lines[m2 + 1].strip()[:1].islower():
                            m2 += 1
                            continue
                        break
                    if w.startswith(("-", "•")) or FOOTNOTE_LINE.match(w):
                        break
                    item_parts.append((m2, w))
                    m2 += 1
                items.append((item_parts[0][0], " ".join(p for _, p in item_parts), item_parts))
                k = m2
            out.append((btext.rstrip(":").strip(), text_parts, items))
            i = k
        else:
            out.append(("", text_parts, [(text_parts[0][0], btext, text_parts)]))
            i = j
    return out


def offset_mapper(parts: list[tuple[int, str]]):
    """Map a character offset in " ".join(texts) back to a 1-based line number."""
    bounds = []
    pos = 0
    for idx, text in parts:
        bounds.append((pos, idx + 1))
        pos += len(text) + 1

    def line_of(offset: int) -> int:
        no = bounds[0][1]
        for b, n in bounds:
            if offset >= b:
                no = n
        return no

    return line_of


FOOTNOTE_LINE = re.compile(r"^\d{1,2}\s+[A-ZÅÄÖ]")
TARGET_SIGNAL = re.compile(r"\bska\b|\b[Åå]r\s+(?:19|20)\d\d|^(?:19|20)\d\d\s+ska|\bmål\b", re.IGNORECASE)


_GOAL_LINE = re.compile(
    r"\bska\b.*\b(minst|max|högst|över|under)\s+\d+(?:,\d+)?\s*(procent|%)\s+(?:år\s+)?(?:19|20)\d\d\s*$")


def _heading_for(lines: list[str], idx: int) -> tuple[str, int]:
    """The upper-case heading above a bullet (joined when broken over two or three lines) and its line."""
    for k in range(idx - 1, max(-1, idx - 40), -1):
        t = lines[k].strip()
        if t and t.isupper() and len(t) > 8 and not t.startswith("HTTP"):
            parts = [t]
            m = k - 1
            while m >= 0 and lines[m].strip().isupper() and len(parts) < 3:
                parts.insert(0, lines[m].strip())
                m -= 1
            return join_label_lines(parts), k
    return "", idx


def _in_delmal(lines: list[str], idx: int) -> bool:
    """Is the bullet under a "Delmål" (sub-goal) heading?"""
    for k in range(idx - 1, max(-1, idx - 60), -1):
        t = lines[k].strip()
        if t.lower().rstrip(":") in ("delmål", "mål", "målvärden"):
            return True
        if t and t.isupper() and len(t) > 8:
            return False
    return False


def bullet_targets(lines: list[str], skip: set[int], doc: Document, pages: dict[int, int],
                   groups: TargetGroups) -> None:
    """Targets in bullets, grouped per heading."""
    for lead, text_parts, items in bullet_items(lines, 0, len(lines)):
        if any(p[0] in skip for p in text_parts):
            continue
        delmal = _in_delmal(lines, text_parts[0][0])
        key = _heading_for(lines, text_parts[0][0])
        for first_idx, item_text, item_parts in items:
            if not (delmal or TARGET_SIGNAL.search(f"{lead} {item_text}")):
                continue
            mapper = offset_mapper(item_parts)
            offset = 0
            for s_i, sent in enumerate(sentences(item_text)):
                pos = item_text.find(sent, offset)
                offset = pos + len(sent)
                use_lead = lead if s_i == 0 else ""
                if not (delmal or lead or TARGET_SIGNAL.search(f"{use_lead} {sent}")):
                    continue
                new = prose_cells(sent, use_lead, "mål", mapper, "__pending__", doc, pages, pos,
                                  year_context=f"{lead} {item_text}")
                if not lead and s_i == 0 and not new:
                    continue
                groups.add(key, new, [p[0] + 1 for p in item_parts])


def goal_lines(lines: list[str], skip: set[int], doc: Document, pages: dict[int, int],
               groups: TargetGroups) -> None:
    """One-line goal headings: "Mål: X ska öka till minst 16 procent 2030"."""
    for i, line in enumerate(lines):
        t = collapse_spaces(line)
        if i in skip or "\t" in line or not t or len(t) > 120:
            continue
        if _GOAL_LINE.search(t):
            body = re.sub(r"^Mål:\s*", "", t)
            new = prose_cells(body, "", "mål", offset_mapper([(i, body)]), "__pending__", doc, pages, 0)
            if new:
                groups.add((t, i), new, [i + 1])
