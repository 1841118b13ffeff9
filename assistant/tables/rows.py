"""Row assembly shared by the layouts: raw rows (a label and its values) become cells labelled
"Section > Parent > Sub-row" (group rows, "Varav" blocks, sums)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..records import Cell
from ..text import collapse_spaces
from .labels import column_kind_and_year
from .lines import row_unit
from .numbers import parse_cell_value


@dataclass
class Val:
    col: int
    text: str
    uncertain: bool = False


@dataclass
class RawRow:
    kind: str  # row | group | varav | header
    line: int
    label: str
    vals: list[Val] = field(default_factory=list)
    italic: bool = False
    columns: list[str] | None = None  # for kind == header (tab tables with repeated headers)


IS_SUB = re.compile(r"^\s*(?:[-–]\s*\S|varav\b)", re.IGNORECASE)
IS_SUM = re.compile(r"^(summa|totalt|total)\b", re.IGNORECASE)
INFO_ROW = re.compile(r"^(?P<label>[A-Za-zÅÄÖåäö][^\d]*?)\s+(?P<num>\d+(?:,\d+)?)\s*%\s*(?:\(.*\))?\s*$")


def sub_label(label: str) -> str:
    lab = label.strip()
    lab = re.sub(r"^[-–]\s*", "", lab)
    return lab.strip()


class Assembler:
    """Turns raw rows into cells with "Parent > Sub-row" labels (sections, Varav blocks)."""

    def __init__(self, table_id: str, file: str, columns: list[str], unit: str, pages: dict[int, int]):
        self.table_id, self.file, self.unit, self.pages = table_id, file, unit, pages
        self.columns = list(columns)
        self.cells: list[Cell] = []

    def run(self, rows: list[RawRow]) -> list[Cell]:
        self._section = ""  # group header followed by main rows
        self._subgroup = ""  # group header followed by sub-rows
        self._last_main: RawRow | None = None
        self._last_main_label = ""
        self._last_kind = ""  # "main" | "subgroup"
        self._varav: dict | None = None
        for idx, r in enumerate(rows):
            if r.kind == "header":
                if r.columns:
                    self.columns = list(r.columns)
                self._section = collapse_spaces(r.label)
                self._subgroup, self._last_main, self._varav, self._last_kind = "", None, None, ""
            elif r.kind == "varav":
                if self._last_main is not None:
                    self._varav = {"parent": self._last_main, "label": self._last_main_label, "sums": {},
                                   "italic": None}
            elif r.kind == "group":
                self._group_row(rows, idx, r)
            else:
                self._value_row(r)
        return self.cells

    def _group_row(self, rows: list[RawRow], idx: int, r: RawRow) -> None:
        """A label without values: an information row ("Andel 32 %"), a section or a sub-group."""
        info = INFO_ROW.match(collapse_spaces(r.label))
        if info:
            self._emit(r, [self._section, info.group("label")],
                       [Val(-1, info.group("num") + " %")], column=info.group("label"))
            return
        nxt = self._next_row(rows, idx)
        if nxt is not None and nxt.kind == "row" and not IS_SUB.match(nxt.label):
            self._section, self._subgroup, self._last_main, self._last_kind = collapse_spaces(r.label), "", None, ""
        else:
            self._subgroup, self._last_kind = collapse_spaces(r.label), "subgroup"
        self._varav = None

    def _value_row(self, r: RawRow) -> None:
        label = collapse_spaces(r.label)
        is_sub = bool(IS_SUB.match(label))
        varav = self._varav
        if varav is not None and not is_sub:
            if IS_SUM.match(label) or (varav["italic"] is True and not r.italic):
                varav = self._varav = None
            else:
                is_sub = True
        if is_sub:
            if varav is not None:
                parent = varav["label"]
                if varav["italic"] is None:
                    varav["italic"] = r.italic
            elif self._last_kind == "subgroup" or self._last_main is None:
                parent = self._subgroup or self._last_main_label
            else:
                parent = self._last_main_label
            self._emit(r, [self._section, parent, sub_label(label)], r.vals)
            if varav is not None and self._varav_closed(varav, r):
                self._varav = None
            return
        # a main row
        self._emit(r, [self._section, label], r.vals)
        self._last_main, self._last_main_label, self._last_kind = r, label, "main"
        self._subgroup = ""
        self._varav = None
        if IS_SUM.match(label) or label.upper().startswith("SUMMA"):
            self._section, self._last_main, self._last_main_label = "", None, ""

    @staticmethod
    def _next_row(rows: list[RawRow], idx: int) -> RawRow | None:
        for r in rows[idx + 1:]:
            if r.kind == "row":
                return r
            if r.kind == "group" and INFO_ROW.match(r.label):
                continue
            if r.kind in ("header", "varav"):
                return None
            if r.kind == "group":
                return r  # group followed by group: the first one is a sub-group
        return None

    @staticmethod
    def _varav_closed(varav: dict, r: RawRow) -> bool:
        parent_vals = {v.col: parse_cell_value(v.text)[0] for v in varav["parent"].vals}
        for v in r.vals:
            val = parse_cell_value(v.text)[0]
            if val is not None:
                varav["sums"][v.col] = varav["sums"].get(v.col, 0.0) + val
        checks = [(c, pv) for c, pv in parent_vals.items() if pv is not None]
        if not checks:
            return False
        return all(abs(varav["sums"].get(c, 0.0) - pv) <= 0.051 + 1e-6 * abs(pv) for c, pv in checks)

    def _emit(self, r: RawRow, path: list[str], vals: list[Val], column: str | None = None) -> None:
        parts: list[str] = []
        for p in path:
            p = collapse_spaces(p)
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
                value_text=collapse_spaces(v.text), value=value,
                unit=vunit or row_unit(row, v.text, self.unit) if value is not None else (vunit or ""),
                year=year, column_kind=kind, comparator=comparator, uncertain=v.uncertain,
                page=self.pages.get(r.line),
            ))
