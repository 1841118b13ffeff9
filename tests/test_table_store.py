"""The table store (`assistant.tables.store`): schema, build, read-only access, the schema version."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from assistant.tables import build_table_store
from tests.table_fixtures import db_path, documents, extracted, store  # noqa: F401 (fixtures)


def test_store_schema_and_rebuild(db_path, tmp_path):
    con = sqlite3.connect(db_path)
    try:
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
        assert {"documents", "tables", "cells"} <= names
        cols = {r[1] for r in con.execute("PRAGMA table_info(cells)")}
        assert {"norm_row", "norm_context", "value_text", "value", "uncertain", "line"} <= cols
        doc = con.execute("SELECT source_file, cite, kind_label FROM documents WHERE file = ?",
                          ("hallbarhetsprogram-2024-2028.txt",)).fetchone()
        assert doc[0] == "001_d436ddedb8252149.txt" and doc[1] == "Hållbarhetsprogram 2024–2028" and doc[2]
        n = con.execute("SELECT COUNT(*) FROM cells").fetchone()[0]
    finally:
        con.close()
    # rebuilding from scratch gives the same store and leaves no temporary files behind
    copy = tmp_path / "t.sqlite3"
    copy.write_bytes(b"not a database")
    counts = build_table_store(list(documents()), copy)
    assert counts["cells"] == n
    assert [p.name for p in tmp_path.iterdir()] == ["t.sqlite3"]


def test_store_is_read_only(store):
    with pytest.raises(sqlite3.OperationalError):
        with store._lock:
            store._con.execute("DELETE FROM cells")


def test_store_is_thread_safe(store):
    expected = [(h.cell.file, h.cell.line, h.cell.column) for h in store.lookup("trafiknämnd", year=2026)]
    results, errors = [], []

    def work():
        try:
            for _ in range(5):
                results.append([(h.cell.file, h.cell.line, h.cell.column)
                                for h in store.lookup("trafiknämnd", year=2026)])
                store.table("budgetforslag-2025-2027-allians-for-kronoberg:t23")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 40 and all(r == expected for r in results)


def test_tables_and_table(store):
    all_tables = store.tables()
    assert len(all_tables) == sum(len(t) for t, _ in extracted().values())
    interim = store.tables("Delårsrapport mars 2024")
    assert interim and all(t.file == "delarsrapport-mars-2024.txt" for t in interim)
    table, cells = store.table(interim[0].id)
    assert table.id == interim[0].id and cells and all(c.table_id == table.id for c in cells)
    with pytest.raises(KeyError):
        store.table("finns-inte:t99")


def test_export_rows(store):
    rows = list(store.export_rows())
    assert len(rows) == sum(len(c) for _, c in extracted().values())
    keys = {"file", "source_file", "line", "table", "row", "column", "value_text", "value", "unit", "uncertain"}
    assert all(keys <= set(r) for r in rows)
    sick = [r for r in rows if r["file"] == "hallbarhetsprogram-2024-2028.txt" and r["line"] == 458]
    assert sick and sick[0]["source_file"] == "001_d436ddedb8252149.txt" and sick[0]["value"] == 4.5


def test_store_of_another_schema_version_is_refused(db_path, tmp_path):
    """A store written with another SCHEMA_VERSION raises TableStoreOutdated (a TableStoreMissing, so
    Index.open reports the index as damaged and the next ingest rebuilds it)."""
    from assistant.tables import SCHEMA_VERSION, TableStore, TableStoreMissing, TableStoreOutdated

    old = tmp_path / "old.sqlite3"
    old.write_bytes(db_path.read_bytes())
    con = sqlite3.connect(old)
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (SCHEMA_VERSION + "-old",))
    con.commit()
    con.close()
    with pytest.raises(TableStoreOutdated) as err:
        TableStore.open(old)
    assert isinstance(err.value, TableStoreMissing) and "python -m assistant ingest" in str(err.value)
    with pytest.raises(TableStoreOutdated):
        TableStore.check(old)
