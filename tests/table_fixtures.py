"""Shared by the table tests: the corpus documents, their extracted tables, and a store built from them."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

from assistant.ingest import scan_corpus
from assistant.tables import TableStore, build_table_store, extract_tables

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"


@lru_cache(maxsize=1)
def documents():
    scan = scan_corpus(CORPUS)
    assert len(scan.documents) == 5, scan.skipped
    return scan.documents


@lru_cache(maxsize=1)
def extracted():
    out = {}
    for doc in documents():
        tables, cells = extract_tables(doc)
        out[doc.file] = (tables, cells)
    return out


def same_value(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= 1e-6 * max(1.0, abs(a))


@pytest.fixture(scope="module")
def db_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tables") / "tables.sqlite3"
    counts = build_table_store(list(documents()), path)
    expected_cells = sum(len(c) for _, c in extracted().values())
    expected_tables = sum(len(t) for t, _ in extracted().values())
    assert counts == {"tables": expected_tables, "cells": expected_cells}
    return path


@pytest.fixture(scope="module")
def store(db_path) -> TableStore:
    s = TableStore.open(db_path)
    yield s
    s.close()
