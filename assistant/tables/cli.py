"""The `python -m assistant tables list|show|find|export` command and the text form of lookup hits."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ..records import Cell
from .format import format_cell_value
from .matcher import CellHit, TableStore
from .store import MISSING_MESSAGE, TableStoreMissing


def format_hit(n: int, hit: CellHit) -> str:
    c = hit.cell
    parts = [f"{n}. {format_cell_value(c) or '–'}"]
    if c.value is None and c.value_text == "":
        parts[0] = f"{n}. (indikator utan värde)"
    parts.append(f"rad: {c.row}")
    parts.append(f"kolumn: {c.column}")
    parts.append(f"tabell: {hit.table.caption} [{hit.table.id}]")
    parts.append(f"källa: {hit.info.cite} – {hit.info.kind_label}, {c.file} rad {c.line}")
    line = " | ".join(parts)
    if c.uncertain:
        line += " | OSÄKER: kolumnen kunde inte fastställas säkert ur texten – ange inte värdet som säkert"
    return line


def format_hits(hits: list[CellHit], measure: str) -> str:
    if not hits:
        return f"Inga tabellvärden hittades för ”{measure[:80]}”."
    return "\n".join(format_hit(n, h) for n, h in enumerate(hits, start=1))


# --------------------------------------------------------------------------- CLI

class _ArgError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # no sys.exit from inside the app
        raise _ArgError(message)


def _cli_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m assistant tables", description="Tabellregistret: tabeller och tal ur dokumenten.")
    sub = p.add_subparsers(dest="cmd")
    ls = sub.add_parser("list", help="lista tabellerna")
    ls.add_argument("--document", "-d")
    sh = sub.add_parser("show", help="visa en tabell")
    sh.add_argument("table_id")
    fd = sub.add_parser("find", help="sök ett mått")
    fd.add_argument("text", nargs="+")
    fd.add_argument("--year", "-y")
    fd.add_argument("--kind", "-k")
    fd.add_argument("--document", "-d")
    fd.add_argument("--limit", "-n", type=int, default=10)
    ex = sub.add_parser("export", help="alla celler som JSON-rader")
    ex.add_argument("--out", "-o")
    return p


def tables_command(argv: list[str], db_path: Path, out=None, err=None) -> int:
    """`python -m assistant tables list|show|find|export`; returns the exit code."""
    out = out or sys.stdout
    err = err or sys.stderr
    parser = _cli_parser()
    try:
        args = parser.parse_args(list(argv))
    except _ArgError as exc:
        print(f"Fel: {exc}", file=err)
        print(parser.format_usage().strip(), file=err)
        return 2
    if not args.cmd:
        print(parser.format_help().strip(), file=err)
        return 2
    try:
        store = TableStore.open(Path(db_path))
    except TableStoreMissing:
        print(MISSING_MESSAGE, file=err)
        return 2
    try:
        if args.cmd == "list":
            return _cli_list(store, args.document, out, err)
        if args.cmd == "show":
            return _cli_show(store, args.table_id, out, err)
        if args.cmd == "find":
            return _cli_find(store, args, out, err)
        return _cli_export(store, args.out, out, err)
    except ValueError as exc:
        print(f"Fel: {exc}", file=err)
        return 2
    except BrokenPipeError:  # the reader went away (`... | head`): stop quietly
        if out is sys.stdout:
            try:
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            except (OSError, ValueError):
                pass
        return 0
    finally:
        store.close()


def _cli_list(store: TableStore, document, out, err) -> int:
    tables = store.tables(document)
    if document and not tables:
        print(f"Inga tabeller för dokumentet ”{document}”.", file=err)
        return 1
    counts = store.cell_counts()
    current = None
    for t in tables:
        if t.file != current:
            current = t.file
            info = store.infos.get(t.file)
            print(f"\n{info.cite if info else t.file} ({t.file})", file=out)
        print(f"  {t.id:<48} rad {t.line_start}–{t.line_end:<5} {counts.get(t.id, 0):>4} celler  "
              f"[{t.layout}] {t.caption[:70]}", file=out)
    print(f"\n{len(tables)} tabeller, {sum(counts.get(t.id, 0) for t in tables)} celler.", file=out)
    return 0


def _cli_show(store: TableStore, table_id: str, out, err) -> int:
    try:
        table, cells = store.table(table_id)
    except KeyError:
        print(f"Okänd tabell: {table_id} – se `python -m assistant tables list`", file=err)
        return 1
    info = store.infos.get(table.file)
    print(f"{table.id}: {table.caption}", file=out)
    print(f"Dokument: {info.cite if info else table.file} – {info.kind_label if info else ''}", file=out)
    print(f"Fil: {table.file} ({info.source_file if info else ''}), rad {table.line_start}–{table.line_end}",
          file=out)
    if table.section:
        print(f"Avsnitt: {' > '.join(table.section)}", file=out)
    if table.unit:
        print(f"Enhet: {table.unit}", file=out)
    columns = list(dict.fromkeys(list(table.columns) + [c.column for c in cells]))
    rows: dict[tuple[int, str], dict[str, Cell]] = {}
    for c in cells:
        rows.setdefault((c.line, c.row), {})[c.column] = c
    width = min(60, max([len("Rad")] + [len(r) for _, r in rows]))
    print("", file=out)
    print(f"{'Rad':<{width}} | " + " | ".join(columns), file=out)
    for (line, row), by_col in sorted(rows.items()):
        vals = []
        for col in columns:
            c = by_col.get(col)
            vals.append("" if c is None else (format_cell_value(c) or "·") + (" (?)" if c.uncertain else ""))
        label = row if len(row) <= width else row[: width - 1] + "…"
        print(f"{label:<{width}} | " + " | ".join(vals) + f"   [rad {line}]", file=out)
    if any(c.uncertain for c in cells):
        print("\n(?) = osäker kolumn: en tom cell föll bort i textutdraget.", file=out)
    return 0


def _cli_find(store: TableStore, args, out, err) -> int:
    text = " ".join(args.text)
    hits = store.lookup(text, year=args.year, kind=args.kind, document=args.document, limit=args.limit)
    if not hits:
        print(f"Inga tabellvärden hittades för ”{text}”.", file=out)
        return 1
    print(format_hits(hits, text), file=out)
    return 0


def _cli_export(store: TableStore, path, out, err) -> int:
    n = 0
    if path:
        target = Path(path)
        with target.open("w", encoding="utf-8") as fh:
            for row in store.export_rows():
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                n += 1
        print(f"{n} celler skrivna till {target}", file=err)
    else:
        for row in store.export_rows():
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return 0
