"""`python -m assistant tables list|show|find|export` (`assistant.tables.cli`)."""

from __future__ import annotations

import io
import json

from assistant.tables.cli import tables_command
from tests.table_fixtures import db_path, extracted  # noqa: F401 (fixtures)


def _run(argv, db):
    out, err = io.StringIO(), io.StringIO()
    code = tables_command(argv, db, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_cli_list_show_find(db_path):
    code, out, _ = _run(["list"], db_path)
    assert code == 0 and "delarsrapport-mars-2024:t" in out and "tabeller" in out
    code, out, _ = _run(["list", "--document", "hallbarhetsprogram-2024-2028.txt"], db_path)
    assert code == 0 and "hallbarhetsprogram-2024-2028:t" in out and "delarsrapport" not in out
    code, out, _ = _run(["show", "budgetforslag-2025-2027-allians-for-kronoberg:t23"], db_path)
    assert code == 0 and "Preliminära driftsramar" in out and "Trafiknämnd" in out and "485" in out
    code, out, _ = _run(["find", "sjukfrånvaro", "--year", "2028", "--kind", "mål"], db_path)
    assert code == 0 and "4,5" in out and "Hållbarhetsprogram 2024–2028" in out and "rad 458" in out
    code, out, _ = _run(["find", "kontinuitetsindex", "--document", "delårsrapport"], db_path)
    assert code == 0 and "OSÄKER" in out


def test_cli_errors(db_path, tmp_path):
    code, _, err = _run(["show", "finns-inte:t01"], db_path)
    assert code == 1 and "Okänd tabell" in err
    code, _, err = _run(["list"], tmp_path / "saknas.sqlite3")
    assert code != 0 and "Tabellregistret saknas – kör `python -m assistant ingest`" in err
    code, _, err = _run(["find", "sjukfrånvaro", "--year", "abc"], db_path)
    assert code == 2 and "Fel" in err
    code, _, err = _run(["nonsens"], db_path)
    assert code == 2


def test_cli_export(db_path, tmp_path):
    code, out, _ = _run(["export"], db_path)
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == sum(len(c) for _, c in extracted().values())
    assert "Sjukfrånvaro" in out  # ensure_ascii=False: å/ä/ö as written
    target = tmp_path / "cells.jsonl"
    code, _, _ = _run(["export", "--out", str(target)], db_path)
    assert code == 0 and target.read_text(encoding="utf-8").count("\n") == len(rows)
