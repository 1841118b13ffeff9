"""The ``space`` and ``cell_per_line`` layouts: one extractor for both.

Values are separated by single spaces while a space is also the thousands separator, row labels wrap
over several lines, headers are broken one cell per line, and blank lines may separate every line (a
table with more than a third blank lines is tagged ``cell_per_line``). Dropped empty cells are placed
from the spacing (see `value_tokens`); where that had to be inferred the cell is marked uncertain.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass

from ..records import Cell, Document, Table
from ..text import collapse_spaces
from .headings import section_before
from .labels import STUB_RE, dedupe_labels, is_header_line, segment_header
from .lines import DATE_TOKEN, YEAR_TOKEN, caption_clean, clean_raw, join_label_lines, unit_from_text
from .rows import Assembler, RawRow, Val
from .value_tokens import Cand, fit_row, merge_value_tokens, tokenize, value_tail_start

_log = logging.getLogger(__name__)


@dataclass
class _Line:
    no: int  # 1-based
    raw: str  # cleaned, spacing kept
    text: str  # normalised


class SpaceTables:
    """Tables whose cells are separated by spaces (000) or broken one per line (003)."""

    def __init__(self, doc: Document, raw: list[str], skip: set[int]):
        self.doc, self.skip = doc, skip
        self.lines = [_Line(i + 1, clean_raw(r), collapse_spaces(clean_raw(r))) for i, r in enumerate(raw)]
        self.ranges: list[tuple[int, int]] = []

    # -- header detection
    def _header_at(self, i: int) -> tuple[int, list[str], str, bool] | None:
        """If a header starts at index i: (index after the header, labels, header text, comment)."""
        ln = self.lines[i]
        if i in self.skip or "\t" in ln.raw or not is_header_line(ln.text, True):
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
            if is_header_line(t.text, False) and not self._looks_like_row(t):
                frags.append(t.raw)
                j += 1
                continue
            break
        first = frags[0]
        m = STUB_RE.match(first)
        if m:
            frags[0] = first[m.end():]
        labels = segment_header(frags)
        has_year = any(YEAR_TOKEN.match(t.strip("*()")) or DATE_TOKEN.match(t) for f in frags for t in f.split())
        if not (has_year or m or len(labels) >= 3):
            return None
        comment = bool(labels) and labels[-1].lower().startswith("kommentar")
        if comment:
            labels = labels[:-1]
        if not labels:
            return None
        return j, labels, collapse_spaces(" ".join(f.strip() for f in frags)).lower(), comment

    @staticmethod
    def _looks_like_row(ln: _Line) -> bool:
        toks = merge_value_tokens(tokenize(ln.raw))
        s = value_tail_start(toks)
        tail = toks[s:]
        return bool(tail) and not all(YEAR_TOKEN.match(t.text.strip("*")) or DATE_TOKEN.match(t.text)
                                      for t in tail)

    def _row_fit(self, ln: _Line, ncols: int, comment: bool) -> tuple[str, Cand] | None:
        key = (ln.no, ncols, comment)
        cache = self.__dict__.setdefault("_fit_cache", {})
        if key not in cache:
            cache[key] = self._row_fit_uncached(ln, ncols, comment)
        return cache[key]

    def _row_fit_uncached(self, ln: _Line, ncols: int, comment: bool) -> tuple[str, Cand] | None:
        toks = merge_value_tokens(tokenize(ln.raw))
        lo = value_tail_start(toks)
        if lo >= len(toks):
            return None
        tail = toks[lo:]
        if all(YEAR_TOKEN.match(t.text.strip("*")) or DATE_TOKEN.match(t.text) for t in tail):
            return None
        trailing = len(ln.raw) - len(ln.raw.rstrip(" "))
        leading = len(ln.raw) - len(ln.raw.lstrip(" "))
        value_only = lo == 0
        # value-only line: its leading blanks are empty cells (the first token's gap counts them)
        lead_base = 1 if value_only else 0
        cand = fit_row(toks, lo, lead_base, trailing, ncols, comment)
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
                return caption_clean(t + (" " + nxt if nxt[:1].islower() else ""))
        if above:
            k = above[0]
            parts = [self.lines[k].text]
            q = 1
            while parts[0][:1].islower() and q < len(above) and q <= 2:
                parts.insert(0, self.lines[above[q]].text)
                q += 1
            cap = join_label_lines(parts)
            if (len(cap) <= 140 and not cap.endswith((".", ",")) and not cap.startswith("*")
                    and not self._looks_like_row(self.lines[k]) and not cap[:1].islower()):
                return caption_clean(cap)
        for no, text in reversed(headings):
            if no <= start and start - no <= 60 and not any(a <= no <= b for a, b in self.ranges):
                return text
        return ""

    def _table_from(self, i: int, hdr, file_stem, counter, pages, headings):
        end, labels, htext, comment = hdr
        # decide the column count from the rows that follow (two-level headers)
        probe = self._probe_rows(end, 40)
        ncols, labels = self._decide_columns(labels, probe, comment)
        labels = dedupe_labels(labels)
        j, zone, rows_seen = self._zone(end, htext, ncols, comment)
        # drop trailing text lines (comments after the last row, prose)
        while zone and zone[-1][1] != "row":
            zone.pop()
        if rows_seen == 0 or not zone:
            return j, None, []
        table_id = f"{file_stem}:t{next(counter):02d}"
        caption = self._caption(i, headings)
        unit = unit_from_text(caption) or unit_from_text(self.lines[i].text)
        raw_rows = self._assemble(zone)
        cells = Assembler(table_id, self.doc.file, labels, unit, pages).run(raw_rows)
        layout = "cell_per_line" if self._blank_ratio(i, zone[-1][0].no) > 0.35 else "space"
        table = Table(id=table_id, file=self.doc.file, caption=caption,
                      section=section_before(headings, i + 1, caption), unit=unit,
                      line_start=i + 1, line_end=zone[-1][0].no, columns=tuple(labels), layout=layout)
        return j, table, cells

    def _zone(self, j: int, htext: str, ncols: int, comment: bool):
        """The lines belonging to the table whose header ends before line index j:
        (index after them, [(line, kind, cand, inline label)], number of value rows)."""
        zone: list[tuple[_Line, str, Cand | None, str]] = []
        since_row = 0
        rows_seen = 0
        while j < len(self.lines):
            ln = self.lines[j]
            if j in self.skip or "\t" in ln.raw:
                break
            t = ln.text
            if not t:
                j += 1
                continue
            h2 = self._header_at(j) if is_header_line(t, True) else None
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
        return j, zone, rows_seen

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
            if "\t" in ln.raw or (ln.text and is_header_line(ln.text, True) and not self._looks_like_row(ln)):
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
        rows = [ln for ln in probe if len(merge_value_tokens(tokenize(ln.raw))) >= 2]
        k = len(labels)
        if not rows:
            return k, labels

        def exact(ncols: int) -> float:
            ok = 0
            for ln in rows:
                fit = self._row_fit(ln, ncols, comment)
                if fit is not None and fit[1].start == value_tail_start(merge_value_tokens(tokenize(ln.raw))):
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
    def _assemble(zone) -> list[RawRow]:
        rows: list[RawRow] = []
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
                rows.append(RawRow(kind, ln.no, ln.text))
                pending = []
            else:
                label_parts: list[str] = []
                if inline.strip():
                    if pending and prev_kind == "text" and not new_block:
                        label_parts = [x.raw for x in pending[-1]]
                    label_parts.append(inline)
                elif pending:
                    label_parts = [x.raw for x in pending[-1]]
                label = join_label_lines(label_parts)
                vals = [Val(c, txt, cand.uncertain) for c, txt in enumerate(cand.slots) if txt is not None]
                rows.append(RawRow("row", ln.no, label, vals))
                pending = []
            prev_no, prev_kind = ln.no, kind
        return rows
