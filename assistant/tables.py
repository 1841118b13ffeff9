"""Tables and numeric targets: extraction from the corpus text.

`extract_tables(doc)` turns one `Document` into `Table` and `Cell` records. It works on
`doc.raw_lines` (the untouched file lines), because the layout carries information that the
cleaned lines lose: tabs, leading blanks and runs of blanks mark dropped empty cells.

Layouts handled (see /work/shared/corpus/CATALOGUE.md):
- ``tab``: tab-separated rows, empty cells kept, "Varav:" sub-rows and `<i>` italics.
- ``space`` / ``cell_per_line``: values separated by single spaces while a space is also the
  thousands separator ("1 515 2 000 2 500" with three columns is three cells), row labels
  wrapped over several lines, headers broken one cell per line, blank lines between lines.
  Dropped empty cells are placed from the spacing; where that had to be inferred the cell is
  marked uncertain.
- ``bullets``: numeric targets in bullet lists and sentences ("År 2028 ska: - sjukfrånvaron vara
  max 4,5 procent.") plus current-state statements ("nuläge").
- ``indicator_list``: indicator tables that only name indicators (no values).

The store, the lookup, the chat tool and the CLI live in `table_store.py`; their names are
re-exported from here.
"""

from __future__ import annotations

import itertools
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from .records import Cell, Document, Table

_log = logging.getLogger(__name__)

# Bump when any extractor's output changes: the index records it and the next ingest rebuilds the
# table store instead of serving the old one.
EXTRACTOR_VERSION = 1

__all__ = [
    "extract_tables",
    "parse_number",
    "parse_cell_value",
    "column_kind_and_year",
    # re-exported lazily from table_store
    "build_table_store",
    "TableStore",
    "CellHit",
    "lookup_tool",
    "tables_command",
    "STRONG_MATCH",
]

_LAZY = {"build_table_store", "TableStore", "CellHit", "lookup_tool", "tables_command",
         "normalize_text", "measure_tokens", "TableStoreMissing", "STRONG_MATCH", "format_hits",
         "format_value"}


def __getattr__(name: str):  # re-export the store API without a circular import
    if name in _LAZY:
        from . import table_store

        return getattr(table_store, name)
    raise AttributeError(name)


# --------------------------------------------------------------------------- numbers

_MINUS = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2012": "-", "\u2010": "-"})
_SPACES = re.compile(r"[ \u00a0\u202f\u2009\u2007]+")
_NUMBER_RE = re.compile(
    r"""^(?P<sign>[-+])?\s?
        (?P<int>\d{1,3}(?:\ \d{3})+|\d+)
        (?:(?P<sep>[,.])(?P<frac>\d+))?
        \s*(?P<unit>%|procent|kr|kronor|mnkr|mkr|tkr|st|miljoner\ kronor|mdkr)?\.?\**$""",
    re.IGNORECASE | re.VERBOSE,
)


def parse_number(text: str) -> float | None:
    """Parse a Swedish number: "4,5" -> 4.5, "1 515" -> 1515, "−12,3" -> -12.3, "12 %" -> 12.

    A space (also a no-break space) is a thousands separator, the comma is the decimal sign,
    a dot followed by exactly three digits is a thousands separator ("300.000"), and a unit
    after the number (%, procent, kr, mnkr, tkr, st) is allowed. Anything else gives None.
    """
    if not isinstance(text, str):
        return None
    t = _SPACES.sub(" ", text.translate(_MINUS)).strip()
    if not t or len(t) > 40:
        return None
    m = _NUMBER_RE.match(t)
    if not m:
        return None
    digits = m.group("int").replace(" ", "")
    frac = m.group("frac")
    if m.group("sep") == "." and frac and len(frac) == 3 and " " not in m.group("int"):
        digits, frac = digits + frac, None  # "300.000" = 300 000
    value = float(digits + ("." + frac if frac else ""))
    return -value if m.group("sign") == "-" else value


_QUALIFIERS = {
    "över": "minst", "minst": "minst", "lägst": "minst", "min": "minst", ">": "minst", "≥": "minst",
    ">=": "minst", "under": "max", "max": "max", "högst": "max", "<": "max", "≤": "max", "<=": "max",
    "ca": "", "cirka": "", "ungefär": "",
}
_LEADING_NUMBER = re.compile(
    r"^(?P<num>[-+]?\s?\d{1,3}(?:[ \u00a0]\d{3})+(?:[,.]\d+)?|[-+]?\s?\d+(?:[,.]\d+)?)"
    r"(?:\s*(?P<unit>%|procent|mnkr|mkr|tkr|kr|kronor|st|ton|kw|kilo)\b|\s*(?P<pct>%))?",
    re.IGNORECASE,
)


def _unit_word(word: str | None) -> str:
    if not word:
        return ""
    w = word.lower()
    return {"procent": "%", "mkr": "mnkr", "kronor": "kr", "kw": "kW"}.get(w, w)


def parse_cell_value(text: str) -> tuple[float | None, str, str]:
    """Value, comparator and unit of a table cell as printed.

    "Över 50 %" -> (50, "minst", "%"), ">500 mnkr" -> (500, "minst", "mnkr"), "4 600 st" ->
    (4600, "", "st"), "32% (2%)" -> (32, "", "%"), "-" / "Ökande trend" / "N/A" -> (None, "", "").
    """
    t = _SPACES.sub(" ", (text or "").translate(_MINUS)).strip()
    if not t:
        return None, "", ""
    comparator = ""
    low = t.lower()
    for q in sorted(_QUALIFIERS, key=len, reverse=True):
        if low.startswith(q) and (not q[0].isalpha() or len(low) == len(q) or not low[len(q)].isalpha()):
            comparator = _QUALIFIERS[q]
            t = t[len(q):].strip()
            break
    m = _LEADING_NUMBER.match(t)
    if not m:
        return None, "", ""
    rest = t[m.end():].strip()
    # "5 Mkr/2025" is fine, "2025-2027" (a period) or "1C" is not a value
    if rest and (rest[0].isalnum() and not m.group("unit")) and not rest.startswith("("):
        if not re.match(r"^(mnkr|mkr|tkr|kr|st|ton|kw)\b", rest, re.IGNORECASE):
            return None, "", ""
    if rest.startswith("-") and re.match(r"^-\d", rest):
        return None, "", ""
    value = parse_number(m.group("num"))
    unit = _unit_word(m.group("unit")) or ("%" if m.group("pct") else "")
    if not unit and rest:
        um = re.match(r"^(mnkr|mkr|tkr|kr|st)\b", rest, re.IGNORECASE)
        unit = _unit_word(um.group(1)) if um else ""
    return value, comparator, unit


# --------------------------------------------------------------------------- column labels

_YEAR_TOKEN = re.compile(r"^(?:19|20)\d\d\**$")
_DATE_TOKEN = re.compile(r"^(?:19|20)\d\d-\d\d-\d\d$")
_ANY_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")
_KIND_WORDS = [
    ("avvik", "avvikelse"),
    ("målvärde", "mål"),
    ("mål", "mål"),
    ("bokslut", "bokslut"),
    ("utfall", "utfall"),
    ("nuläge", "utfall"),
    ("prognos", "prognos"),
    ("budget", "budget"),
    ("plan", "plan"),
]


def column_kind_and_year(label: str) -> tuple[str, int | None]:
    """("Målvärde 2025") -> ("mål", 2025); ("Prognos avvik 2024") -> ("avvikelse", 2024)."""
    low = (label or "").lower()
    kind = ""
    for word, k in _KIND_WORDS:
        if re.search(r"(?<![a-zåäö])" + word, low):
            kind = k
            break
    years = _ANY_YEAR.findall(label or "")
    year = int(years[-1]) if years else None
    return kind, year


# --------------------------------------------------------------------------- small helpers

_TAG = re.compile(r"</?(?:i|b|u|em|strong|sup|sub|p|br)\s*/?>", re.IGNORECASE)
_ITALIC = re.compile(r"<i>", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")


def _clean_raw(line: str) -> str:
    """Tags and control characters out, spacing kept (the layout needs it)."""
    line = _CONTROL.sub("", line.replace("\u00ad", ""))
    line = _TAG.sub(" ", line) if "<" in line else line
    return line.replace("\u00a0", " ").rstrip("\r\n")


def _norm_ws(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _join_label_lines(parts: list[str]) -> str:
    """Join wrapped label lines; "sjuk-" + "domsförebyggande" -> one word, "Hälso- " + "och" stays."""
    out = ""
    for raw in parts:
        p = _norm_ws(raw)
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


def _caption_clean(text: str) -> str:
    text = _norm_ws(_TAG.sub(" ", text))
    return text[:200]


def _unit_from_text(text: str) -> str:
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


def _row_unit(label: str, value_text: str, table_unit: str) -> str:
    vt = value_text or ""
    if "%" in vt or "procent" in vt.lower():
        return "%"
    u = _unit_from_text(vt)
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


# --------------------------------------------------------------------------- headings

def _is_heading(text: str) -> bool:
    t = _norm_ws(text)
    if not (2 < len(t) <= 80) or t.endswith((".", ",", ";", ":")):
        return False
    if not (t[0].isupper() or t[0].isdigit()) or "\t" in text or t.startswith(("*", "-", "•", "http")):
        return False
    if len(t.split()) > 12:
        return False
    nums = re.findall(r"(?:^|\s)[-+]?\d[\d,]*%?(?=\s|$)", t)
    if len([x for x in nums if not _YEAR_TOKEN.match(x.strip())]) >= 2:
        return False  # a data row, not a heading
    return True


def _heading_index(raw: list[str]) -> list[tuple[int, str]]:
    """(line number, text) of heading-like lines, in order.

    A heading is short, has no final full stop and is not followed by a line that continues
    its sentence (a lower-case start).
    """
    out = []
    cleaned = [_clean_raw(r) for r in raw]
    for i, t in enumerate(cleaned):
        if not (_is_heading(t) and (t.strip().isupper() or len(t.split()) <= 9)):
            continue
        if t.strip()[:1].isdigit() or _is_header_line(_norm_ws(t), False) or t.rstrip().endswith("*"):
            continue
        nxt = next((c.strip() for c in cleaned[i + 1:i + 6] if c.strip()), "")
        if nxt[:1].islower() and not t.strip().isupper():
            continue
        if out and out[-1][0] == i and t.strip().isupper() and out[-1][1].isupper():
            out[-1] = (out[-1][0], _join_label_lines([out[-1][1], t]))  # heading over two lines
            continue
        out.append((i + 1, _norm_ws(t)))
    return out


def _section_before(headings: list[tuple[int, str]], line_no: int, caption: str) -> tuple[str, ...]:
    trail: list[str] = []
    for no, text in headings:
        if no >= line_no:
            break
        if text == caption or text in trail or (len(text) > 8 and text in caption):
            continue
        trail.append(text)
    return tuple(trail[-3:])


# --------------------------------------------------------------------------- row assembly

@dataclass
class _Val:
    col: int
    text: str
    uncertain: bool = False


@dataclass
class _RawRow:
    kind: str  # row | group | varav | header
    line: int
    label: str
    vals: list[_Val] = field(default_factory=list)
    italic: bool = False
    columns: list[str] | None = None  # for kind == header (tab tables with repeated headers)


_IS_SUB = re.compile(r"^\s*(?:[-–]\s*\S|varav\b)", re.IGNORECASE)
_IS_SUM = re.compile(r"^(summa|totalt|total)\b", re.IGNORECASE)
_INFO_ROW = re.compile(r"^(?P<label>[A-Za-zÅÄÖåäö][^\d]*?)\s+(?P<num>\d+(?:,\d+)?)\s*%\s*(?:\(.*\))?\s*$")


def _sub_label(label: str) -> str:
    lab = label.strip()
    lab = re.sub(r"^[-–]\s*", "", lab)
    return lab.strip()


class _Assembler:
    """Turns raw rows into cells with "Parent > Sub-row" labels (sections, Varav blocks)."""

    def __init__(self, table_id: str, file: str, columns: list[str], unit: str, pages: dict[int, int]):
        self.table_id, self.file, self.unit, self.pages = table_id, file, unit, pages
        self.columns = list(columns)
        self.cells: list[Cell] = []

    def run(self, rows: list[_RawRow]) -> list[Cell]:
        section = ""  # group header followed by main rows
        subgroup = ""  # group header followed by sub-rows
        last_main: _RawRow | None = None
        last_main_label = ""
        last_kind = ""  # "main" | "subgroup"
        varav: dict | None = None
        for idx, r in enumerate(rows):
            if r.kind == "header":
                if r.columns:
                    self.columns = list(r.columns)
                section = _norm_ws(r.label)
                subgroup, last_main, varav, last_kind = "", None, None, ""
                continue
            if r.kind == "varav":
                if last_main is not None:
                    varav = {"parent": last_main, "label": last_main_label, "sums": {},
                             "italic": None}
                continue
            if r.kind == "group":
                info = _INFO_ROW.match(_norm_ws(r.label))
                if info:
                    self._emit(r, [section, info.group("label")],
                               [_Val(-1, info.group("num") + " %")], column=info.group("label"))
                    continue
                nxt = self._next_row(rows, idx)
                if nxt is not None and nxt.kind == "row" and not _IS_SUB.match(nxt.label):
                    section, subgroup, last_main, last_kind = _norm_ws(r.label), "", None, ""
                else:
                    subgroup, last_kind = _norm_ws(r.label), "subgroup"
                varav = None
                continue
            label = _norm_ws(r.label)
            is_sub = bool(_IS_SUB.match(label))
            if varav is not None and not is_sub:
                if _IS_SUM.match(label) or (varav["italic"] is True and not r.italic):
                    varav = None
                else:
                    is_sub = True
            if is_sub:
                if varav is not None:
                    parent = varav["label"]
                    if varav["italic"] is None:
                        varav["italic"] = r.italic
                elif last_kind == "subgroup" or last_main is None:
                    parent = subgroup or last_main_label
                else:
                    parent = last_main_label
                path = [section, parent, _sub_label(label)]
                self._emit(r, path, r.vals)
                if varav is not None:
                    if self._varav_closed(varav, r):
                        varav = None
                continue
            # a main row
            self._emit(r, [section, label], r.vals)
            last_main, last_main_label, last_kind = r, label, "main"
            subgroup = ""
            varav = None
            if _IS_SUM.match(label) or label.upper().startswith("SUMMA"):
                section, last_main, last_main_label = "", None, ""
        return self.cells

    @staticmethod
    def _next_row(rows: list[_RawRow], idx: int) -> _RawRow | None:
        for r in rows[idx + 1:]:
            if r.kind == "row":
                return r
            if r.kind == "group" and _INFO_ROW.match(r.label):
                continue
            if r.kind in ("header", "varav"):
                return None
            if r.kind == "group":
                return r  # group followed by group: the first one is a sub-group
        return None

    @staticmethod
    def _varav_closed(varav: dict, r: _RawRow) -> bool:
        parent_vals = {v.col: parse_cell_value(v.text)[0] for v in varav["parent"].vals}
        for v in r.vals:
            val = parse_cell_value(v.text)[0]
            if val is not None:
                varav["sums"][v.col] = varav["sums"].get(v.col, 0.0) + val
        checks = [(c, pv) for c, pv in parent_vals.items() if pv is not None]
        if not checks:
            return False
        return all(abs(varav["sums"].get(c, 0.0) - pv) <= 0.051 + 1e-6 * abs(pv) for c, pv in checks)

    def _emit(self, r: _RawRow, path: list[str], vals: list[_Val], column: str | None = None) -> None:
        parts: list[str] = []
        for p in path:
            p = _norm_ws(p)
            if p and (not parts or parts[-1] != p):
                parts.append(p)
        row = " > ".join(parts) or "(rad utan etikett)"
        for v in vals:
            col = column if column is not None else (
                self.columns[v.col] if 0 <= v.col < len(self.columns) else f"Kolumn {v.col + 1}")
            value, comparator, vunit = parse_cell_value(v.text)
            kind, year = column_kind_and_year(col)
            self.cells.append(Cell(
                table_id=self.table_id, file=self.file, line=r.line, row=row, column=col,
                value_text=_norm_ws(v.text), value=value,
                unit=vunit or _row_unit(row, v.text, self.unit) if value is not None else (vunit or ""),
                year=year, column_kind=kind, comparator=comparator, uncertain=v.uncertain,
                page=self.pages.get(r.line),
            ))


# --------------------------------------------------------------------------- tab tables

def _split_tabs(line: str) -> tuple[list[str], bool]:
    italic = bool(_ITALIC.search(line.split("\t", 1)[0]))
    cells = [_norm_ws(_TAG.sub(" ", c)) for c in _clean_raw(line).split("\t")]
    return cells, italic


def _headerish_cell(text: str) -> bool:
    if not text:
        return True
    if _YEAR_TOKEN.match(text) or _DATE_TOKEN.match(text):
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
        t = _clean_raw(raw[j]).strip()
        if t:
            found.insert(0, _norm_ws(_TAG.sub(" ", t)))
            first_no = j + 1
            if not t[0].islower():
                break
        j -= 1
    return _caption_clean(" ".join(found)), first_no


# --------------------------------------------------------------------------- space tables

_HEADER_WORDS = {
    "mätetal", "utfall", "bokslut", "budget", "plan", "prognos", "progno", "s", "mål", "målvärde",
    "avvik", "avvi", "k", "avvikelse", "förändring", "förändrin", "g", "föränd", "ring", "mnkr",
    "%", "kommentar", "periodens", "jan-mar", "jan-", "jan-mars", "jan", "mar", "mars", "dec",
    "januari", "-", "feb", "jan-feb", "totalt", "kvinnor", "män", "summa", "läkare", "sjuk-",
    "skötersk", "or", "övriga", "yrkes-", "grupper", "över", "fakt", "ssg", "ack", "årets", "total",
    "uppräkning", "á", "å", "pris", "belopp", "i", "tkr", "kr", "kronor", "uppföljning", "av",
    "projektets", "totala", "kostnader", "investeringar", "dagar", "ny", "nuvarande",
    "ersättningsmodell", "fr", "o", "m", "t", "juli", "juni", "plan/prognos", "1", "-14", ">14",
    "miljoner", "30", "budgeterat", "tidplan",
}
_STRONG_WORDS = {
    "mätetal", "utfall", "bokslut", "budget", "plan", "prognos", "mål", "målvärde", "avvik",
    "avvikelse", "förändring", "periodens", "kommentar", "belopp", "uppräkning", "á", "å", "totalt",
    "mars", "mar", "dec", "jan-mar", "jan-feb", "januari", "ack", "årets", "total", "uppföljning",
    "ny", "nuvarande", "plan/prognos", "jan-mars",
}
_STUB_RE = re.compile(r"^\s*(?:Mätetal|\(?[Bb]elopp i (?:mnkr|tkr|kr|kronor)\)?|\((?:mnkr|tkr)\))\s*", re.UNICODE)
_MONTH_WORDS = {"januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
                "september", "oktober", "november", "december", "jan", "feb", "mar", "apr",
                "jun", "jul", "aug", "sep", "okt", "nov", "dec"}


def _header_token_ok(tok: str) -> bool:
    t = tok.lower().strip("*,")
    t2 = t.strip("().")
    return (t in _HEADER_WORDS or t2 in _HEADER_WORDS or bool(_YEAR_TOKEN.match(t2))
            or bool(_DATE_TOKEN.match(t2)) or bool(re.match(r"^(?:19|20)\d\d\)$", t)))


def _is_header_line(text: str, strong_needed: bool) -> bool:
    toks = text.split()
    if not toks or len(toks) > 14:
        return False
    if strong_needed:
        first = text.strip()[:1]
        if not (first.isupper() or first in "(áå" or first.isdigit()):
            return False
        if re.match(r"^(Tabell|Diagram|Figur|Källa)\b", text.strip()):
            return False
        last = toks[-1].lower()
        if last.endswith(".") and last not in ("avvik.", "ack.", "ssg.", "k.", "fakt."):
            return False
    ok = sum(1 for t in toks if _header_token_ok(t))
    if ok / len(toks) < 0.75:
        return False
    if strong_needed:
        return any(t.lower().strip("*,.()") in _STRONG_WORDS for t in toks) or (
            len(toks) >= 2 and all(_YEAR_TOKEN.match(t.strip("*")) for t in toks[-2:])
        ) or bool(_STUB_RE.match(text))
    return True


def _segment_header(fragments: list[str]) -> list[str]:
    """Column labels from header lines broken one cell (or one word) per line."""
    joined = ""
    prev_raw = None
    for raw in fragments:
        core = raw.strip()
        if not core:
            continue
        if prev_raw is not None and not prev_raw.endswith((" ", "\t")) and core[:1].islower():
            if joined.endswith("-"):
                last = re.findall(r"(\w+)-$", joined)
                if last and last[0].lower() in _MONTH_WORDS:
                    joined += core
                else:
                    joined = joined[:-1] + core
            else:
                joined += core
        else:
            joined = (joined + " " + core) if joined else core
        prev_raw = raw
    tokens = joined.split()
    labels: list[list[str]] = []
    cur: list[str] = []
    depth = 0

    def has_year(words: list[str]) -> bool:
        return any(_YEAR_TOKEN.match(w.strip("*")) or _DATE_TOKEN.match(w) for w in words)

    for tok in tokens:
        new = False
        if depth > 0:
            new = False
        elif _YEAR_TOKEN.match(tok.strip("*")) or _DATE_TOKEN.match(tok):
            new = has_year(cur) or not cur
        elif tok[:1].isupper():
            new = True
        elif tok in ("á", "å"):
            new = True
        elif tok.lower() in _MONTH_WORDS and has_year(cur):
            new = True
        elif tok[:1].isdigit() or tok[:1] == ">":
            new = True
        if new and cur:
            labels.append(cur)
            cur = []
        cur.append(tok)
        depth = max(0, depth + tok.count("(") - tok.count(")"))
    if cur:
        labels.append(cur)
    return [" ".join(words) for words in labels]


def _dedupe_labels(labels: list[str]) -> list[str]:
    """A repeated label after "Årets ..." columns is this year's figure ("Årets prognos")."""
    out = list(labels)
    seen: set[str] = set()
    for i, lab in enumerate(out):
        if lab in seen:
            prev = out[i - 1] if i else ""
            out[i] = ("Årets " + lab[0].lower() + lab[1:]) if prev.startswith("Årets") else f"{lab} ({i + 1})"
        seen.add(out[i])
    return out


@dataclass
class _Tok:
    text: str
    start: int
    end: int
    gap: int  # blanks before the token


_NUM_TOKEN = re.compile(r"^[-+]?\d+(?:[,.]\d+)?%?\**$")
_TAIL_TOKEN = re.compile(r"^\d{3}(?:,\d+)?%?\**$")
_HEAD_TOKEN = re.compile(r"^[-+]?\d{1,3}$")
_QUALIFIER_WORDS = {"över", "under", "minst", "max", "högst", "ca", "cirka"}


def _tokenize(line: str) -> list[_Tok]:
    toks = []
    prev_end = 0
    for m in re.finditer(r"\S+", line):
        toks.append(_Tok(m.group(0), m.start(), m.end(), m.start() - prev_end))
        prev_end = m.end()
    return toks


def _merge_value_tokens(toks: list[_Tok]) -> list[_Tok]:
    """"63" "%" -> "63 %"; "Över" "50 %" -> "Över 50 %"; "−" normalised."""
    out: list[_Tok] = []
    for t in toks:
        text = t.text.translate(_MINUS)
        if text == "%" and out and _NUM_TOKEN.match(out[-1].text.rstrip("%")) and t.gap == 1 \
                and not out[-1].text.endswith("%"):
            out[-1] = _Tok(out[-1].text + " %", out[-1].start, t.end, out[-1].gap)
            continue
        out.append(_Tok(text, t.start, t.end, t.gap))
    merged: list[_Tok] = []
    i = 0
    while i < len(out):
        t = out[i]
        if t.text.lower() in _QUALIFIER_WORDS and i + 1 < len(out) and _NUM_TOKEN.match(
                out[i + 1].text.split(" ")[0]) and out[i + 1].gap == 1:
            n = out[i + 1]
            merged.append(_Tok(t.text + " " + n.text, t.start, n.end, t.gap))
            i += 2
            continue
        merged.append(t)
        i += 1
    return merged


def _tok_kind(text: str) -> str:
    core = text.split(" ", 1)
    if len(core) == 2 and core[0].lower() in _QUALIFIER_WORDS:
        return "num" if _NUM_TOKEN.match(core[1].replace(" %", "%")) else ""
    t = text.replace(" %", "%")
    if t in ("-", "–"):
        return "dash"
    if t.startswith(">") and _NUM_TOKEN.match(t[1:]):
        return "num"
    if _NUM_TOKEN.match(t):
        return "num"
    return ""


@dataclass
class _Cand:
    cost: float
    slots: list[str | None]  # per column: value text or None (empty)
    uncertain: bool
    start: int  # index of the first value token


def _segmentations(toks: list[_Tok], lo: int, limit: int = 4000):
    """All ways to group toks[lo:] into numbers (with space thousands groups) or empty markers.

    Returns [(groups, penalty, sign_attached)], a group being a list of token indices.
    Penalties prefer readings without implausible numbers: a three-digit head with a
    thousands group ("471 500") costs 4, two thousands groups (millions) cost 10, a
    detached minus sign ("- 6 853") costs 1.
    """
    n = len(toks)
    results: list[tuple[list[list[int]], float, bool]] = []

    def plain(i: int) -> str:
        return toks[i].text.replace(" %", "%")

    def rec(i: int, groups: list[list[int]], pen: float, signed: bool) -> None:
        if len(results) >= limit:
            return
        if i == n:
            results.append(([g[:] for g in groups], pen, signed))
            return
        kind = _tok_kind(toks[i].text)
        if kind == "dash":
            groups.append([i])
            rec(i + 1, groups, pen, signed)
            groups.pop()
            if i + 1 < n and toks[i + 1].gap == 1 and _HEAD_TOKEN.match(plain(i + 1)) \
                    and not plain(i + 1).startswith(("-", "+")):
                chain(i, i + 1, [i, i + 1], groups, pen + 1.0, True)
            return
        if kind != "num":
            return
        if re.match(r"^0\d", plain(i)):
            return  # "069" cannot start a number
        chain(i, i, [i], groups, pen, signed)

    def chain(first: int, head: int, members: list[int], groups, pen: float, signed: bool) -> None:
        tails = len(members) - (head - first) - 1
        p = pen + (10.0 if tails >= 2 else 0.0)
        if tails >= 1 and len(plain(head).lstrip("-+")) == 3:
            p += 4.0
        groups.append(members[:])
        rec(members[-1] + 1, groups, p, signed)
        groups.pop()
        last = members[-1]
        nxt = last + 1
        head_ok = bool(_HEAD_TOKEN.match(plain(head))) and not re.match(r"^[-+]?0$", plain(head))
        last_ok = last == head or bool(re.match(r"^\d{3}$", plain(last)))
        if head_ok and last_ok and nxt < n and toks[nxt].gap == 1 and _TAIL_TOKEN.match(plain(nxt)):
            chain(first, head, members + [nxt], groups, pen, signed)

    rec(lo, [], 0.0, False)
    return results


def _fit_row(toks: list[_Tok], lo_min: int, lead_base: int, trailing: int, ncols: int,
             comment_col: bool) -> _Cand | None:
    """Choose how the value tokens toks[s:] (s >= lo_min) fill `ncols` columns."""
    best: list[_Cand] = []
    n = len(toks)
    slots_expected = ncols + (1 if comment_col else 0)
    trail_empty = max(0, trailing - 1)
    for s in range(lo_min, min(n, lo_min + 4)):  # at most three value-like words stay in the label
        left_cost = 3.0 * (s - lo_min)
        for groups, pen, signed in _segmentations(toks, s):
            g = len(groups)
            texts = [" ".join(toks[i].text for i in grp) for grp in groups]
            # gap-derived empties
            first_gap = toks[s].gap + (lead_base if s == 0 else 0)
            lead_empty = max(0, first_gap - 1)
            mids = [max(0, toks[grp[0]].gap - 1) for grp in groups[1:]]
            e = lead_empty + sum(mids) + trail_empty
            cands: list[_Cand] = []
            if g + e == slots_expected:
                slots: list[str | None] = [None] * lead_empty
                for k, txt in enumerate(texts):
                    slots.append(txt)
                    if k < len(mids):
                        slots.extend([None] * mids[k])
                slots.extend([None] * trail_empty)
                if comment_col and slots[-1] is not None:
                    pass
                else:
                    slots = slots[:ncols]
                    inferred = (lead_empty + sum(mids)) > 0
                    cands.append(_Cand(pen + left_cost, slots, inferred or signed, s))
            if g == ncols and not (g + e == slots_expected):
                cands.append(_Cand(pen + left_cost + 1.0 * e, list(texts), signed, s))
            best.extend(cands)
    if not best:
        return None
    best.sort(key=lambda c: c.cost)
    top = best[0]
    ties = [c for c in best if abs(c.cost - top.cost) < 1e-9]
    if any(c.slots != top.slots for c in ties):
        return _Cand(top.cost, top.slots, True, top.start)
    return top


def _value_tail_start(toks: list[_Tok]) -> int:
    i = len(toks)
    while i > 0 and _tok_kind(toks[i - 1].text):
        i -= 1
    return i


@dataclass
class _Line:
    no: int  # 1-based
    raw: str  # cleaned, spacing kept
    text: str  # normalised


class _SpaceTables:
    """Tables whose cells are separated by spaces (000) or broken one per line (003)."""

    def __init__(self, doc: Document, raw: list[str], skip: set[int]):
        self.doc, self.skip = doc, skip
        self.lines = [_Line(i + 1, _clean_raw(r), _norm_ws(_clean_raw(r))) for i, r in enumerate(raw)]
        self.ranges: list[tuple[int, int]] = []

    # -- header detection
    def _header_at(self, i: int) -> tuple[int, list[str], str, bool] | None:
        """If a header starts at index i: (index after the header, labels, header text, comment)."""
        ln = self.lines[i]
        if i in self.skip or "\t" in ln.raw or not _is_header_line(ln.text, True):
            return None
        frags = [ln.raw]
        j = i + 1
        while j < len(self.lines):
            t = self.lines[j]
            if j in self.skip or "\t" in t.raw:
                break
            if not t.text:
                j += 1
                continue
            if _is_header_line(t.text, False) and not self._looks_like_row(t):
                frags.append(t.raw)
                j += 1
                continue
            break
        first = frags[0]
        m = _STUB_RE.match(first)
        if m:
            frags[0] = first[m.end():]
        labels = _segment_header(frags)
        has_year = any(_YEAR_TOKEN.match(t.strip("*()")) or _DATE_TOKEN.match(t) for f in frags for t in f.split())
        if not (has_year or m or len(labels) >= 3):
            return None
        comment = bool(labels) and labels[-1].lower().startswith("kommentar")
        if comment:
            labels = labels[:-1]
        if not labels:
            return None
        return j, labels, _norm_ws(" ".join(f.strip() for f in frags)).lower(), comment

    @staticmethod
    def _looks_like_row(ln: _Line) -> bool:
        toks = _merge_value_tokens(_tokenize(ln.raw))
        s = _value_tail_start(toks)
        tail = toks[s:]
        return bool(tail) and not all(_YEAR_TOKEN.match(t.text.strip("*")) or _DATE_TOKEN.match(t.text)
                                      for t in tail)

    def _row_fit(self, ln: _Line, ncols: int, comment: bool) -> tuple[str, _Cand] | None:
        key = (ln.no, ncols, comment)
        cache = self.__dict__.setdefault("_fit_cache", {})
        if key not in cache:
            cache[key] = self._row_fit_uncached(ln, ncols, comment)
        return cache[key]

    def _row_fit_uncached(self, ln: _Line, ncols: int, comment: bool) -> tuple[str, _Cand] | None:
        toks = _merge_value_tokens(_tokenize(ln.raw))
        lo = _value_tail_start(toks)
        if lo >= len(toks):
            return None
        tail = toks[lo:]
        if all(_YEAR_TOKEN.match(t.text.strip("*")) or _DATE_TOKEN.match(t.text) for t in tail):
            return None
        trailing = len(ln.raw) - len(ln.raw.rstrip(" "))
        leading = len(ln.raw) - len(ln.raw.lstrip(" "))
        value_only = lo == 0
        # value-only line: its leading blanks are empty cells (the first token's gap counts them)
        lead_base = 1 if value_only else 0
        cand = _fit_row(toks, lo, lead_base, trailing, ncols, comment)
        if cand is None:
            return None
        label = ln.raw[: toks[cand.start].start] if cand.start > 0 else ""
        return label, cand

    def extract(self, file_stem: str, counter: itertools.count, pages: dict[int, int],
                headings: list[tuple[int, str]]) -> tuple[list[Table], list[Cell]]:
        tables: list[Table] = []
        cells: list[Cell] = []
        i = 0
        n = len(self.lines)
        while i < n:
            hdr = self._header_at(i)
            if hdr is None:
                i += 1
                continue
            try:
                end, table, tcells = self._table_from(i, hdr, file_stem, counter, pages, headings)
            except Exception:  # never let one odd table stop the ingest
                _log.warning("%s: tabellen på rad %d kunde inte läsas", self.doc.file, i + 1, exc_info=True)
                end, table, tcells = hdr[0], None, []
            if table is not None and tcells:
                tables.append(table)
                cells.extend(tcells)
                self.ranges.append((table.line_start, table.line_end))
            i = max(end, i + 1)
        return tables, cells

    def _caption(self, start: int, headings: list[tuple[int, str]]) -> str:
        """The title above a table: the line just above it when it reads like a title
        (joined with the line before when it continues it), a "Tabell: ..." line, or else
        the nearest heading."""
        above = [k for k in range(start - 1, max(-1, start - 40), -1) if self.lines[k].text]
        for pos, k in enumerate(above[:6]):
            t = self.lines[k].text
            if t.lower().startswith("tabell"):
                nxt = next((self.lines[q].text for q in range(k + 1, start) if self.lines[q].text), "")
                return _caption_clean(t + (" " + nxt if nxt[:1].islower() else ""))
        if above:
            k = above[0]
            parts = [self.lines[k].text]
            q = 1
            while parts[0][:1].islower() and q < len(above) and q <= 2:
                parts.insert(0, self.lines[above[q]].text)
                q += 1
            cap = _join_label_lines(parts)
            if (len(cap) <= 140 and not cap.endswith((".", ",")) and not cap.startswith("*")
                    and not self._looks_like_row(self.lines[k]) and not cap[:1].islower()):
                return _caption_clean(cap)
        for no, text in reversed(headings):
            if no <= start and start - no <= 60 and not any(a <= no <= b for a, b in self.ranges):
                return text
        return ""

    def _table_from(self, i: int, hdr, file_stem, counter, pages, headings):
        end, labels, htext, comment = hdr
        # first pass: the zone of lines belonging to this table
        zone: list[tuple[_Line, str, _Cand | None, str]] = []  # (line, kind, cand, inline label)
        j = end
        since_row = 0
        rows_seen = 0
        # decide the column count from the rows that follow (two-level headers)
        probe = self._probe_rows(end, 40)
        ncols, labels = self._decide_columns(labels, probe, comment)
        labels = _dedupe_labels(labels)
        while j < len(self.lines):
            ln = self.lines[j]
            if j in self.skip or "\t" in ln.raw:
                break
            t = ln.text
            if not t:
                j += 1
                continue
            h2 = self._header_at(j) if _is_header_line(t, True) else None
            if h2 is not None:
                partial = h2[2] != htext and h2[2] in htext
                page_top = ln.raw[:1].isspace()  # a page starts with a blank in these files
                if partial or (h2[2] == htext and page_top and not self._caption_pending(zone)):
                    j = h2[0]  # the header repeated after a page break
                    continue
                break
            fit = self._row_fit(ln, ncols, comment)
            if fit is not None:
                zone.append((ln, "row", fit[1], fit[0]))
                rows_seen += 1
                since_row = 0
                j += 1
                continue
            if t.startswith("*") or len(t) > 85 or (t.endswith(".") and len(t) > 60) or (
                    t.isupper() and len(t) > 12 and len(t.split()) >= 2 and not ln.raw.endswith("   ")):
                break
            if since_row > 25:
                break
            stripped = t.rstrip(":").strip().lower()
            if stripped == "varav":
                zone.append((ln, "varav", None, ""))
            elif ln.raw.endswith("   ") and len(ln.raw.rstrip()) > 0:
                zone.append((ln, "group", None, t))
            else:
                zone.append((ln, "text", None, t))
            since_row += 1
            j += 1
        # drop trailing text lines (comments after the last row, prose)
        while zone and zone[-1][1] != "row":
            zone.pop()
        if rows_seen == 0 or not zone:
            return j, None, []
        table_id = f"{file_stem}:t{next(counter):02d}"
        caption = self._caption(i, headings)
        unit = _unit_from_text(caption) or _unit_from_text(self.lines[i].text)
        raw_rows = self._assemble(zone)
        cells = _Assembler(table_id, self.doc.file, labels, unit, pages).run(raw_rows)
        layout = "cell_per_line" if self._blank_ratio(i, zone[-1][0].no) > 0.35 else "space"
        table = Table(id=table_id, file=self.doc.file, caption=caption,
                      section=_section_before(headings, i + 1, caption), unit=unit,
                      line_start=i + 1, line_end=zone[-1][0].no, columns=tuple(labels), layout=layout)
        return j, table, cells

    @staticmethod
    def _caption_pending(zone) -> bool:
        """Does the zone end with a caption-like line (a new table's title) after its last row?"""
        tail = []
        for ln, kind, _, _ in reversed(zone):
            if kind != "text":
                break
            tail.insert(0, ln)
        if not tail:
            return False
        last = tail[-1]
        block = [last]
        for ln in reversed(tail[:-1]):
            if block[0].no - ln.no > 1:
                break
            block.insert(0, ln)
        text = " ".join(x.text for x in block)
        return len(block) == 1 and not text.endswith((".", ",")) and len(text.split()) >= 3

    def _blank_ratio(self, a: int, b_no: int) -> float:
        seg = self.lines[a:b_no]
        return sum(1 for x in seg if not x.text) / max(1, len(seg))

    def _probe_rows(self, start: int, limit: int) -> list[_Line]:
        out = []
        j = start
        while j < len(self.lines) and len(out) < limit:
            ln = self.lines[j]
            if "\t" in ln.raw or (ln.text and _is_header_line(ln.text, True) and not self._looks_like_row(ln)):
                break
            if ln.text and self._looks_like_row(ln):
                out.append(ln)
            if ln.text and (ln.text.startswith("*") or len(ln.text) > 85):
                break
            j += 1
        return out

    def _decide_columns(self, labels: list[str], probe: list[_Line], comment: bool) -> tuple[int, list[str]]:
        """Column count and labels that the data rows support.

        Candidates: the labels as segmented; a two-level header (the first m labels span the
        rest, e.g. "Utfall jan-mar 2024" over "Totalt Kvinnor Män"); the labels without a top
        row that cannot be spread evenly. A candidate scores the share of rows it fits exactly
        (every value token used); the segmented labels win ties.
        """
        rows = [ln for ln in probe if len(_merge_value_tokens(_tokenize(ln.raw))) >= 2]
        k = len(labels)
        if not rows:
            return k, labels

        def exact(ncols: int) -> float:
            ok = 0
            for ln in rows:
                fit = self._row_fit(ln, ncols, comment)
                if fit is not None and fit[1].start == _value_tail_start(_merge_value_tokens(_tokenize(ln.raw))):
                    ok += 1
            return ok / len(rows)

        cands: list[tuple[float, int, int, list[str]]] = [(exact(k), 0, k, labels)]
        if cands[0][0] == 1.0:
            return k, labels
        for m in (1, 2, 3, 4):
            nb = k - m
            if nb < 2:
                break
            if nb % m == 0:
                per = nb // m
                top, bottom = labels[:m], labels[m:]
                cands.append((exact(nb), 1, nb, [f"{top[c // per]} {bottom[c]}" for c in range(nb)]))
            cands.append((exact(nb), 2, nb, labels[m:]))
        best = max(cands, key=lambda c: (c[0], -c[1]))
        if best[0] == 0:
            return k, labels
        return best[2], best[3]

    @staticmethod
    def _assemble(zone) -> list[_RawRow]:
        rows: list[_RawRow] = []
        pending: list[list[_Line]] = []  # text blocks since the last row
        prev_no = None
        prev_kind = None
        for ln, kind, cand, inline in zone:
            new_block = prev_no is None or (ln.no - prev_no) > 1  # a blank line in between
            if kind == "text":
                if new_block or not pending or prev_kind != "text":
                    pending.append([ln])
                else:
                    pending[-1].append(ln)
            elif kind in ("group", "varav"):
                rows.append(_RawRow(kind, ln.no, ln.text))
                pending = []
            else:
                label_parts: list[str] = []
                if inline.strip():
                    if pending and prev_kind == "text" and not new_block:
                        label_parts = [x.raw for x in pending[-1]]
                    label_parts.append(inline)
                elif pending:
                    label_parts = [x.raw for x in pending[-1]]
                label = _join_label_lines(label_parts)
                vals = [_Val(c, txt, cand.uncertain) for c, txt in enumerate(cand.slots) if txt is not None]
                rows.append(_RawRow("row", ln.no, label, vals))
                pending = []
            prev_no, prev_kind = ln.no, kind
        return rows


# --------------------------------------------------------------------------- one-column lists

_LIST_CAPTION = re.compile(r"\(belopp i (mnkr|tkr|kr)\)\s*:\s*$", re.IGNORECASE)


def _list_tables(doc: Document, raw: list[str], skip: set[int], file_stem, counter, pages, headings):
    tables, cells = [], []
    lines = [_clean_raw(r) for r in raw]
    for i, line in enumerate(lines):
        m = _LIST_CAPTION.search(line)
        if not m or i in skip:
            continue
        unit = m.group(1).lower()
        col = f"Belopp ({unit})"
        rows: list[_RawRow] = []
        j = i + 1
        last = None
        while j < len(lines) and j - (last if last is not None else i) <= 3:
            t = _norm_ws(lines[j])
            if not t:
                j += 1
                continue
            mm = re.match(r"^(?P<label>.*?\D)\s+(?P<val>[-+]?\d[\d ]*(?:,\d+)?)\s*$", t)
            if not mm or len(t) > 80:
                break
            rows.append(_RawRow("row", j + 1, mm.group("label"), [_Val(0, mm.group("val"))]))
            last = j
            j += 1
        if not rows:
            continue
        table_id = f"{file_stem}:t{next(counter):02d}"
        caption = _caption_clean(line)
        cells.extend(_Assembler(table_id, doc.file, [col], unit, pages).run(rows))
        tables.append(Table(id=table_id, file=doc.file, caption=caption,
                            section=_section_before(headings, i + 1, caption), unit=unit,
                            line_start=i + 1, line_end=rows[-1].line, columns=(col,), layout="space"))
        skip.update(range(i, rows[-1].line))
    return tables, cells


# --------------------------------------------------------------------------- indicator lists

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
        return _norm_ws(m.group(1))
    if re.search(r"\bindex\b|motivationsindex", low):
        return "index"
    return ""


def _indicator_tables(doc: Document, raw: list[str], skip: set[int], file_stem, counter, pages, headings):
    """Tables that list indicators without values: one cell per indicator, value None."""
    tables, cells = [], []
    lines = [_clean_raw(r) for r in raw]
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
                entries.append((cur_start, _join_label_lines(cur)))
                cur = []
            if not cur:
                cur_start = j + 1
            cur.append(t)
            blanks = 0
            j += 1
        if cur:
            entries.append((cur_start, _join_label_lines(cur)))
        if len(entries) < 3:
            continue
        has_value = sum(1 for _, e in entries if re.search(r"\s-?\d+(?:,\d+)?\s*%?\s*$", e))
        with_comma = sum(1 for _, e in entries if "," in e)
        if has_value > len(entries) // 3 or with_comma < len(entries) // 2:
            continue
        table_id = f"{file_stem}:t{next(counter):02d}"
        caption = _caption_clean(line)
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
                            section=_section_before(headings, i + 1, caption), unit="",
                            line_start=i + 1, line_end=last, columns=("Indikator",),
                            layout="indicator_list"))
        skip.update(range(i, last))
    return tables, cells


# --------------------------------------------------------------------------- prose targets

_PROSE_NUM = re.compile(
    r"(?<![\w,./])(?P<cmp>(?:max|högst|minst|över|under|ca|cirka)\s+)?"
    r"(?P<num>[-−]?\d{1,3}(?:[ \u00a0]\d{3})+(?:,\d+)?|[-−]?\d+(?:,\d+)?)"
    r"(?![\w,]*\d)(?!\w)",
    re.IGNORECASE,
)
_PROSE_UNIT = re.compile(
    r"^\s*(?P<unit>procent per år|procent|%|ton/miljon investerad krona|ton CO2e|ton|kW|kilo|"
    r"recept(?:/1000 invånare och år| per 1000 invånare och år)?|år|kemiska produkter)(?![\wåäö])",
    re.IGNORECASE,
)
_TARGET_YEAR = re.compile(
    r"(?:\b[Åå]r\s+|\btill\s+(?:år\s+)?|\bsenast\s+|\b[Ff]ör\s+|^|(?<=procent\s)|(?<=%\s))"
    r"((?:19|20)\d\d)(?:\d{1,2})?\b"
)
_ANY_YEAR_IN_TEXT = re.compile(r"(?<![\d,])((?:19|20)\d\d)(?:\d{1,2})?(?![\d,])")
_LEAD_TIME = re.compile(
    r"^(?:(?:[Åå]r|[Uu]nder|[Ii]|[Tt]ill|[Ff]ör)\s+)?(?:(?:januari|februari|mars|april|maj|juni|juli|"
    r"augusti|september|oktober|november|december|jan–jun|jan-jun)\s+)?(?:19|20)\d\d\d{0,2}\b\s*:?\s*"
)
_FRONT_WORDS = {"ska", "var", "har", "används", "utgjorde", "är", "uppgick", "stod", "köpte", "använde",
                "vi", "och", "så", "att"}
_TRAIL_WORDS = ["nå nationellt uppställda mål om", "ha minskat med", "uppgå till", "uppgick till",
                "ökar med", "minska med", "minskas med", "ska", "vara", "var", "är", "utgöra",
                "utgjorde", "med", "till", "om", "för", "på", "ca", "cirka", "stod", "max", "minst",
                "högst", "över", "under", "nå"]
_STOP = {"och", "i", "av", "för", "till", "med", "den", "det", "de", "som", "en", "ett", "på", "om",
         "vi", "ska", "var", "har", "är", "att", "år", "från", "inom", "våra", "vår"}
_PREPOSITIONS = ("från ", "av ", "i ", "för ", "och ", "vilket ")


def _sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+(?=[A-ZÅÄÖ])", text)
    return [p.strip() for p in parts if p.strip()]


def _strip_front(p: str) -> str:
    p = p.strip(" :,–-")
    for _ in range(4):
        p2 = _LEAD_TIME.sub("", p).strip(" :,")
        words = p2.split(" ", 1)
        if words and words[0].lower() in _FRONT_WORDS:
            p2 = words[1] if len(words) > 1 else ""
        if p2 == p:
            break
        p = p2
    return p.strip(" :,–-")


def _strip_trail(p: str) -> str:
    p = p.strip(" :,–-")
    changed = True
    while changed and p:
        changed = False
        for w in _TRAIL_WORDS:
            if p.lower().endswith(" " + w) or p.lower() == w:
                p = p[: len(p) - len(w)].rstrip(" :,–-")
                changed = True
    return p


def _measure_from(prefix: str, after: str, unit_noun: str = "") -> str:
    """The measure a number belongs to: the words before it, else the words after its unit."""
    p = _norm_ws(prefix)
    p = re.sub(r"(?<=[a-zåäö]{3})\d{1,2}(?=[\s:,]|$)", "", p)  # glued footnote numbers
    if " så att " in f" {p} ":
        p = re.split(r"\bså att\b", p)[-1]
    p = _strip_front(p)
    if " ska " in f" {p} ":
        p = re.split(r"\s+ska\s+", f" {p} ", maxsplit=1)[0]
    p = _strip_trail(_strip_front(p))
    a = _norm_ws(after)
    a = re.split(r"\s(?:ska|så att|jämfört med|per år|till|under år|under|senast)\s|[.;]", " " + a + " ")[0].strip(" ,")
    content = [w for w in re.findall(r"[\wåäöÅÄÖ]+", p) if w.lower() not in _STOP and len(w) >= 3]
    verb_like = bool(content) and content[-1].lower().endswith(("a", "å", "s")) and len(content) == 1
    weak = (len(content) < 2 and (not content or verb_like)) or bool(
        re.search(r"\s(av|för|med|om|i|på|från)$", p))
    if weak and (a or unit_noun):
        tail = f"{unit_noun} {a}".strip() if unit_noun else a
        return f"{p} … {tail}" if p else tail
    if a and len(a) <= 70 and a.split(" ", 1)[0].lower() in ("av", "vid", "i", "installerade", "inom"):
        return f"{p} ({a})"
    return p


def _clean_lead(lead: str) -> str:
    if not lead:
        return ""
    t = _norm_ws(lead).rstrip(":")
    sents = _sentences(t)
    if sents and len(t) > 70:
        t = sents[-1]
    t = re.sub(r"(?:\b[Åå]r\s+)?(?:19|20)\d\d\d{0,2}\b", " ", t)
    t = re.sub(r"(?<=[a-zåäö]{3})\d{1,2}(?=[\s:,]|$)", "", t)
    t = _norm_ws(t)
    t = re.sub(r"\s+(ska|var|har)$", "", t)
    t = _strip_front(t)
    t = re.sub(r"^(?:I|Under)\s+(?:januari|februari|mars|april|maj|juni|juli|augusti|september|oktober|"
               r"november|december)?\s*$", "", t, flags=re.IGNORECASE).strip(" :")
    content = [w for w in re.findall(r"[\wåäöÅÄÖ]+", t) if w.lower() not in _STOP and len(w) >= 3]
    return t if content else ""


def _prose_cells(sentence: str, lead: str, mode: str, line_of, table_id: str, doc: Document,
                 pages: dict[int, int], sentence_offset: int, year_context: str = "") -> list[Cell]:
    """Cells for the numbers of one target ("mål") or current-state ("nuläge") sentence."""
    cells: list[Cell] = []
    context = _norm_ws(f"{lead} {year_context or sentence}")
    year = None
    pattern = _TARGET_YEAR if mode == "mål" else _ANY_YEAR_IN_TEXT
    for m in pattern.finditer(context):
        before = context[max(0, m.start() - 16):m.start()].lower()
        if "jämfört" in before:
            continue
        year = int(m.group(1))
        break
    lead_clean = _clean_lead(lead)
    prev_end = 0
    first_measure = ""
    for m in _PROSE_NUM.finditer(sentence):
        num = m.group("num")
        if _YEAR_TOKEN.match(num) or re.match(r"^(?:19|20)\d{4}$", num):
            continue  # a year (with a glued footnote number), not a value
        if re.search(r"(?:\bper|/)\s*$", sentence[max(0, m.start() - 5):m.start()]):
            continue
        um = _PROSE_UNIT.match(sentence[m.end():])
        if um:
            unit_word, unit_end = um.group("unit"), um.end()
        else:
            # a bare number is kept when it has a comparator ("vara minst 81") or ends the
            # sentence ("hållbart medarbetarindex 79,7.")
            has_cmp = bool(m.group("cmp")) or re.search(
                r"\b(max|högst|minst|över|under)\s*$", sentence[max(0, m.start() - 12):m.start()].lower())
            if not (has_cmp or re.fullmatch(r"\s*[.]?\s*", sentence[m.end():])):
                continue
            unit_word, unit_end = "", 0
        prefix = sentence[prev_end:m.start()]
        if unit_word.lower() == "år" and "ålder" not in prefix.lower():
            continue
        after = sentence[m.end() + unit_end:]
        noun = unit_word if unit_word.lower() in ("kemiska produkter", "kilo", "recept") else ""
        measure = _measure_from(prefix, after, noun)
        if first_measure and (not measure or measure.lower().startswith(_PREPOSITIONS)):
            measure = f"{first_measure} – {measure}".strip(" –")
        if not first_measure:
            first_measure = measure
        if lead_clean:
            measure = f"{lead_clean}: {measure}" if measure else lead_clean
        cmp = (m.group("cmp") or "").strip().lower()
        if not cmp:
            cm = re.search(r"\b(max|högst|minst|över|under)\s*$", sentence[max(0, m.start() - 12):m.start()].lower())
            cmp = cm.group(1) if cm else ""
        comparator = _QUALIFIERS.get(cmp, "")
        unit = {"procent": "%", "procent per år": "% per år"}.get(unit_word.lower(), unit_word)
        if not unit and re.search(r"\bindex\b|index\b|\(hme\)", measure.lower()):
            unit = "index"
        col = ("Mål" if mode == "mål" else "Nuläge") + (f" {year}" if year else "")
        line = line_of(sentence_offset + m.start("num"))
        cells.append(Cell(table_id=table_id, file=doc.file, line=line,
                          row=measure or _norm_ws(sentence), column=col,
                          value_text=_norm_ws(f"{'ca ' if cmp in ('ca', 'cirka') else ''}{num} {unit_word}"),
                          value=parse_number(num),
                          unit=unit, year=year, column_kind="mål" if mode == "mål" else "utfall",
                          comparator=comparator, page=pages.get(line)))
        prev_end = m.end() + unit_end
    return cells


def _bullet_items(lines: list[str], start: int, end: int) -> list[tuple[str, list, list]]:
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
            if not u or u.startswith(("•", "-")) or _FOOTNOTE_LINE.match(u):
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
                    if w.startswith(("-", "•")) or _FOOTNOTE_LINE.match(w):
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


def _offset_mapper(parts: list[tuple[int, str]]):
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


_FOOTNOTE_LINE = re.compile(r"^\d{1,2}\s+[A-ZÅÄÖ]")
_TARGET_SIGNAL = re.compile(r"\bska\b|\b[Åå]r\s+(?:19|20)\d\d|^(?:19|20)\d\d\s+ska|\bmål\b", re.IGNORECASE)


def _prose_tables(doc: Document, raw: list[str], skip: set[int], file_stem, counter, pages, headings):
    """Numeric targets in bullets and sentences, and 'nuläge' statements."""
    lines = [_clean_raw(r) for r in raw]
    n = len(lines)
    tables: list[Table] = []
    cells: list[Cell] = []

    def heading_for(idx: int) -> tuple[str, int]:
        for k in range(idx - 1, max(-1, idx - 40), -1):
            t = lines[k].strip()
            if t and t.isupper() and len(t) > 8 and not t.startswith("HTTP"):
                # join a heading broken over two or three upper-case lines
                parts = [t]
                m = k - 1
                while m >= 0 and lines[m].strip().isupper() and len(parts) < 3:
                    parts.insert(0, lines[m].strip())
                    m -= 1
                return _join_label_lines(parts), k
        return "", idx

    # 1) bullet targets, grouped per heading
    groups: dict[tuple[str, int], list[Cell]] = {}
    group_lines: dict[tuple[str, int], list[int]] = {}
    def in_delmal(idx: int) -> bool:
        """Is the bullet under a "Delmål" (sub-goal) heading?"""
        for k in range(idx - 1, max(-1, idx - 60), -1):
            t = lines[k].strip()
            if t.lower().rstrip(":") in ("delmål", "mål", "målvärden"):
                return True
            if t and t.isupper() and len(t) > 8:
                return False
        return False

    for lead, text_parts, items in _bullet_items(lines, 0, n):
        if any(p[0] in skip for p in text_parts):
            continue
        delmal = in_delmal(text_parts[0][0])
        cap, cap_line = heading_for(text_parts[0][0])
        key = (cap, cap_line)
        tid = "__pending__"
        for first_idx, item_text, item_parts in items:
            signal = f"{lead} {item_text}"
            if not (delmal or _TARGET_SIGNAL.search(signal)):
                continue
            mapper = _offset_mapper(item_parts)
            offset = 0
            for s_i, sent in enumerate(_sentences(item_text)):
                pos = item_text.find(sent, offset)
                offset = pos + len(sent)
                use_lead = lead if s_i == 0 else ""
                if not (delmal or lead or _TARGET_SIGNAL.search(f"{use_lead} {sent}")):
                    continue
                new = _prose_cells(sent, use_lead, "mål", mapper, tid, doc, pages, pos,
                                   year_context=f"{lead} {item_text}")
                if not lead and s_i == 0 and not new:
                    continue
                groups.setdefault(key, []).extend(new)
                group_lines.setdefault(key, []).extend([p[0] + 1 for p in item_parts])
    # 2) one-line goal headings: "Mål: X ska öka till minst 16 procent 2030"
    for i, line in enumerate(lines):
        t = _norm_ws(line)
        if i in skip or "\t" in line or not t or len(t) > 120:
            continue
        if re.search(r"\bska\b.*\b(minst|max|högst|över|under)\s+\d+(?:,\d+)?\s*(procent|%)\s+(?:år\s+)?(?:19|20)\d\d\s*$", t):
            body = re.sub(r"^Mål:\s*", "", t)
            mapper = _offset_mapper([(i, body)])
            new = _prose_cells(body, "", "mål", mapper, "__pending__", doc, pages, 0)
            key = (t, i)
            if new:
                groups.setdefault(key, []).extend(new)
                group_lines.setdefault(key, []).append(i + 1)
    # 3) nuläge: statements between "KOPPLING TILL AGENDA 2030" and "EXEMPEL PÅ ÖVRIGT ARBETE"
    i = 0
    while i < n:
        if "KOPPLING TILL AGENDA 2030" not in lines[i].upper():
            i += 1
            continue
        j = i + 1
        while j < n and "EXEMPEL PÅ ÖVRIGT ARBETE" not in lines[j].upper() and "KOPPLING TILL AGENDA" not in lines[j].upper():
            j += 1
        key = ("Nuläge och utmaningar", i)
        # paragraphs and dash items inside the region
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
                lead = text.rstrip(":")
                while m < j:
                    u = lines[m].strip()
                    if not u:
                        m += 1
                        continue
                    if u.endswith(":") and not u.startswith("-"):
                        break
                    if not u.startswith("-"):
                        break
                    item = [(m, u[1:].strip())]
                    q = m + 1
                    while q < j and lines[q].strip() and not lines[q].strip().startswith("-") \
                            and not lines[q].strip().endswith(":"):
                        item.append((q, lines[q].strip()))
                        q += 1
                    itext = " ".join(p for _, p in item)
                    new = _prose_cells(itext, lead, "nuläge", _offset_mapper(item), "__pending__", doc, pages, 0)
                    groups.setdefault(key, []).extend(new)
                    group_lines.setdefault(key, []).extend([p[0] + 1 for p in item])
                    m = q
                k = m
                continue
            mapper = _offset_mapper(para)
            offset = 0
            for sent in _sentences(text):
                pos = text.find(sent, offset)
                offset = pos + len(sent)
                if not re.search(r"\b(var|är|har|uppgick|stod|köpte|använde)\b|:", sent):
                    continue
                new = _prose_cells(sent, "", "nuläge", mapper, "__pending__", doc, pages, pos)
                groups.setdefault(key, []).extend(new)
                group_lines.setdefault(key, []).extend([p[0] + 1 for p in para])
            k = m
        i = j
    # footnote targets ("För 2028 ska materialåtervinningsgraden vara minst 58 procent.")
    for i, line in enumerate(lines):
        t = line.strip()
        fm = re.match(r"^(\d{1,2})\s+([A-ZÅÄÖ].*)$", t)
        if not fm or i in skip:
            continue
        para = [(i, fm.group(2))]
        q = i + 1
        while q < n and lines[q].strip() and not _FOOTNOTE_LINE.match(lines[q].strip()):
            para.append((q, lines[q].strip()))
            q += 1
        text = " ".join(x for _, x in para)
        for sent in _sentences(text):
            if re.match(r"^För\s+(?:19|20)\d\d\s+ska\b", sent):
                pos = text.find(sent)
                new = _prose_cells(sent, "", "mål", _offset_mapper(para), "__pending__", doc, pages, pos)
                key = (f"Fotnot {fm.group(1)}", i)
                groups.setdefault(key, []).extend(new)
                group_lines.setdefault(key, []).append(i + 1)
    for (cap, cap_line), gcells in sorted(groups.items(), key=lambda kv: min(c.line for c in kv[1]) if kv[1] else 0):
        if not gcells:
            continue
        table_id = f"{file_stem}:t{next(counter):02d}"
        fixed = [Cell(**{**c.__dict__, "table_id": table_id}) for c in gcells]
        caption = cap
        if cap and cap != "Nuläge och utmaningar" and not cap.startswith(("Fotnot", "Mål:")) and cap.isupper():
            caption = f"{cap} – delmål"
        lines_used = group_lines.get((cap, cap_line), []) + [c.line for c in fixed]
        cols = tuple(dict.fromkeys(c.column for c in fixed))
        tables.append(Table(id=table_id, file=doc.file, caption=_caption_clean(caption or "Mål i text"),
                            section=_section_before(headings, min(lines_used), caption), unit="",
                            line_start=min(lines_used), line_end=max(lines_used), columns=cols,
                            layout="bullets"))
        cells.extend(fixed)
    return tables, cells


# --------------------------------------------------------------------------- tab extraction

def _tab_tables(doc: Document, raw: list[str], file_stem, counter, pages, headings, skip: set[int]):
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
    rows = []
    for i in range(a, b + 1):
        if "\t" not in raw[i]:
            continue
        cells, italic = _split_tabs(raw[i])
        rows.append((i + 1, cells, italic))
    if not rows:
        return None, []
    caption, cap_line = _tab_caption(raw, a)
    if caption.lower().startswith("innehållsförteckning"):
        return None, []
    first = rows[0][1]
    if not (len(first) >= 2 and all(_headerish_cell(c) for c in first[1:]) and any(first[1:] + [first[0]])):
        return None, []
    stub = first[0]
    header = list(first[1:])
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
                up = left if left and not _YEAR_TOKEN.match(left) and not re.search(r"\d", left) else ""
            merged.append(_norm_ws(f"{up} {lo}"))
        header = merged
        idx += 1
    while header and not header[-1]:
        header.pop()
    if not header:
        header = [stub or "Värde"]
    elif all(not h for h in header):
        header = [stub or "Värde"] * len(header)
    header = [h or f"Kolumn {k + 1}" for k, h in enumerate(header)]
    is_uppdrag = stub.lower().startswith("uppdrag")
    table_id = f"{file_stem}:t{next(counter):02d}"
    unit = _unit_from_text(caption) or _unit_from_text(stub)
    raw_rows: list[_RawRow] = []
    for line_no, cells, italic in rows[idx:]:
        label = cells[0]
        vals_text = cells[1:]
        nonempty = [v for v in vals_text if v]
        # a repeated header row, possibly with a group label ("Trafiknämnd 2025 2026 2027")
        years = [int(v.rstrip("*")) for v in nonempty if _YEAR_TOKEN.match(v)]
        if len(years) >= 2 and len(years) == len(nonempty) and all(
                0 < b - a <= 2 for a, b in zip(years, years[1:])):
            raw_rows.append(_RawRow("header", line_no, label, columns=[v or f"Kolumn {k + 1}"
                                                                     for k, v in enumerate(vals_text)]))
            continue
        if not nonempty:
            low = label.lower().rstrip(":").strip()
            if low == "varav":
                raw_rows.append(_RawRow("varav", line_no, label))
            elif label:
                raw_rows.append(_RawRow("group", line_no, label, italic=italic))
            continue
        vals = [_Val(k, v) for k, v in enumerate(vals_text) if v]
        if label or vals:
            raw_rows.append(_RawRow("row", line_no, label, vals, italic=italic))
    asm = _Assembler(table_id, doc.file, header, unit, pages)
    out = asm.run(raw_rows)
    if is_uppdrag:
        fixed = []
        for c in out:
            if c.column.lower().startswith("finansiering"):
                v, cmp_, u = parse_cell_value(c.value_text)
                ok = v is not None and re.search(r"\b(mkr|mnkr|kr|tkr)\b", c.value_text, re.IGNORECASE)
                fixed.append(Cell(**{**c.__dict__, "value": v if ok else None,
                                     "unit": (u or _unit_from_text(c.value_text)) if ok else "",
                                     "year": None, "column_kind": ""}))
            else:
                fixed.append(Cell(**{**c.__dict__, "value": None, "unit": "", "year": None,
                                     "column_kind": ""}))
        out = fixed
    table = Table(id=table_id, file=doc.file, caption=caption or stub,
                  section=_section_before(headings, cap_line, caption), unit=unit,
                  line_start=rows[0][0], line_end=rows[-1][0], columns=tuple(header), layout="tab")
    return table, out


# --------------------------------------------------------------------------- entry point

def extract_tables(doc: Document) -> tuple[list[Table], list[Cell]]:
    """Every table and numeric target of one document, as `Table` and `Cell` records.

    Pure: depends only on the document. Table ids are "<file-stem>:tNN" in document order.
    """
    raw = list(doc.raw_lines or [])
    file_stem = Path(doc.file).stem
    pages = {ln.no: ln.page for ln in (doc.lines or []) if ln.page is not None}
    headings = _heading_index(raw)
    counter = itertools.count(1)
    skip: set[int] = set()  # 0-based line indices already used by a table
    found: list[tuple[Table, list[Cell]]] = []

    pieces = [
        _tab_tables(doc, raw, file_stem, counter, pages, headings, skip),
        _indicator_tables(doc, raw, skip, file_stem, counter, pages, headings),
        _list_tables(doc, raw, skip, file_stem, counter, pages, headings),
    ]
    space = _SpaceTables(doc, raw, skip)
    pieces.append(space.extract(file_stem, counter, pages, headings))
    for t in pieces[-1][0]:
        skip.update(range(t.line_start - 1, t.line_end))
    pieces.append(_prose_tables(doc, raw, skip, file_stem, counter, pages, headings))

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
        section = _section_before(clean_headings, t.line_start, t.caption)
        out_tables.append(Table(**{**t.__dict__, "id": new_id, "section": section}))
        out_cells.extend(Cell(**{**c.__dict__, "table_id": new_id}) for c in cs)
    return out_tables, out_cells
