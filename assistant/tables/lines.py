"""Line-level helpers of the table layouts: a raw line cleaned with its spacing kept, wrapped labels
joined, captions, year tokens and units named in a label or a caption."""

from __future__ import annotations

import re

from ..text import NO_BREAK_SPACE, collapse_spaces, without_control, without_markup
# A year column label ("2025", "2025*" with a footnote star) and a date ("2024-03-31").
YEAR_TOKEN = re.compile(r"^(?:19|20)\d\d\**$")
DATE_TOKEN = re.compile(r"^(?:19|20)\d\d-\d\d-\d\d$")


def clean_raw(line: str) -> str:
    """Tags and control characters out, spacing kept (the layout needs it)."""
    return without_markup(without_control(line)).replace(NO_BREAK_SPACE, " ").rstrip("\r\n")


def join_label_lines(parts: list[str]) -> str:
    """Join wrapped label lines; "sjuk-" + "domsförebyggande" -> one word, "Hälso- " + "och" stays."""
    out = ""
    for raw in parts:
        p = collapse_spaces(raw)
        if not p:
            continue
        if not out:
            out = p
            continue
        m = re.search(r"(\w)-$", out)
        first = p.split(" ", 1)[0]
        if m and out.split(" ")[-1].isupper() and first.isupper():
            out = out[:-1] + p  # "ORGANISA-" + "TION"
        elif m and first[:1].islower() and first.lower() not in {"och", "eller", "samt", "respektive", "till"}:
            out = out[:-1] + p if m.group(1).islower() else out + p
        else:
            out = out + " " + p
    return out


def caption_clean(text: str) -> str:
    return collapse_spaces(without_markup(text))[:200]


def unit_from_text(text: str) -> str:
    low = (text or "").lower()
    if re.search(r"\btkr\b|tusen kronor", low):
        return "tkr"
    if re.search(r"\bmnkr\b|\bmkr\b|miljoner\s*kronor|miljoner$", low):
        return "mnkr"
    if re.search(r"\bmdkr\b|miljarder", low):
        return "mdkr"
    if re.search(r"\bkr\b|\bkronor\b", low):
        return "kr"
    return ""


def row_unit(label: str, value_text: str, table_unit: str) -> str:
    vt = value_text or ""
    if "%" in vt or "procent" in vt.lower():
        return "%"
    u = unit_from_text(vt)
    if u:
        return u
    if re.search(r"\bst\b", vt):
        return "st"
    low = label.lower()
    if "(%)" in low or re.search(r"%\s*\**$", low) or "andel (%" in low:
        return "%"
    lu = re.search(r"\((mnkr|tkr|kr)\)", low)
    if lu:
        return lu.group(1)
    return table_unit
