"""Headings of a document: which raw lines are headings, and the section trail above a table."""

from __future__ import annotations

import re

from ..text import collapse_spaces
from .labels import is_header_line
from .lines import YEAR_TOKEN, clean_raw, join_label_lines


def is_heading(text: str) -> bool:
    t = collapse_spaces(text)
    if not (2 < len(t) <= 80) or t.endswith((".", ",", ";", ":")):
        return False
    if not (t[0].isupper() or t[0].isdigit()) or "\t" in text or t.startswith(("*", "-", "•", "http")):
        return False
    if len(t.split()) > 12:
        return False
    nums = re.findall(r"(?:^|\s)[-+]?\d[\d,]*%?(?=\s|$)", t)
    if len([x for x in nums if not YEAR_TOKEN.match(x.strip())]) >= 2:
        return False  # a data row, not a heading
    return True


def heading_index(raw: list[str]) -> list[tuple[int, str]]:
    """(line number, text) of heading-like lines, in order.

    A heading is short, has no final full stop and is not followed by a line that continues
    its sentence (a lower-case start).
    """
    out = []
    cleaned = [clean_raw(r) for r in raw]
    for i, t in enumerate(cleaned):
        if not (is_heading(t) and (t.strip().isupper() or len(t.split()) <= 9)):
            continue
        if t.strip()[:1].isdigit() or is_header_line(collapse_spaces(t), False) or t.rstrip().endswith("*"):
            continue
        nxt = next((c.strip() for c in cleaned[i + 1:i + 6] if c.strip()), "")
        if nxt[:1].islower() and not t.strip().isupper():
            continue
        if out and out[-1][0] == i and t.strip().isupper() and out[-1][1].isupper():
            out[-1] = (out[-1][0], join_label_lines([out[-1][1], t]))  # heading over two lines
            continue
        out.append((i + 1, collapse_spaces(t)))
    return out


def section_before(headings: list[tuple[int, str]], line_no: int, caption: str) -> tuple[str, ...]:
    trail: list[str] = []
    for no, text in headings:
        if no >= line_no:
            break
        if text == caption or text in trail or (len(text) > 8 and text in caption):
            continue
        trail.append(text)
    return tuple(trail[-3:])
