"""Table extraction (`assistant.tables.extract` and its layouts) measured against a hand-checked gold
file, number parsing, and small documents of each layout.

The gold cells (tests/gold_cells.jsonl) were written by reading the corpus text, not from the
extractor's output. A gold cell is *found* when the extractor gives a cell on the same source
line, for the same row (the gold row's segments appear in the extracted row), in the same column,
with the same value. Where a dropped empty cell makes the column impossible to establish by
reading, the gold cell has "column_established": false and counts as found when a cell with the
same value on that line is marked uncertain. A *wrong* cell is a certain (not uncertain) cell
for a gold row and column with a different value, or a certain cell carrying a gold value in a
different column while the gold column is missing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from assistant.tables import extract_tables, parse_number
from tests.table_fixtures import documents, extracted, same_value

GOLD = Path(__file__).with_name("gold_cells.jsonl")


# --------------------------------------------------------------------------- helpers

def _norm(text: str) -> str:
    text = (text or "").lower().replace("–", "-")
    text = re.sub(r"[^\w%]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def _row_matches(gold_row: str, row: str) -> bool:
    got = _norm(row)
    return all(_norm(seg) in got for seg in gold_row.split(">") if _norm(seg))


def _gold():
    with GOLD.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def evaluate() -> dict:
    """Per-document figures: gold, found, found_uncertain, missing, wrong (+ details)."""
    by_line: dict[tuple[str, int], list] = {}
    for file, (_, cells) in extracted().items():
        for c in cells:
            by_line.setdefault((file, c.line), []).append(c)
    report: dict[str, dict] = {}
    for g in _gold():
        r = report.setdefault(g["source_file"], {"gold": 0, "found": 0, "uncertain": 0, "missing": 0,
                                                  "wrong": 0, "problems": []})
        r["gold"] += 1
        cands = [c for c in by_line.get((g["file"], g["line"]), []) if _row_matches(g["row"], c.row)]
        same_col = [c for c in cands if _norm(c.column) == _norm(g["column"])]
        exact = [c for c in same_col if same_value(c.value, g["value"])]
        if exact:
            r["found"] += 1
            r["uncertain"] += any(c.uncertain for c in exact)
            continue
        if not g.get("column_established", True):
            if any(c.uncertain and same_value(c.value, g["value"]) for c in cands):
                r["found"] += 1
                r["uncertain"] += 1
                continue
        wrong = [c for c in same_col if not c.uncertain] or (
            [c for c in cands if not c.uncertain and same_value(c.value, g["value"])] if not same_col else [])
        if wrong:
            r["wrong"] += 1
            r["problems"].append(("WRONG", g, [(c.row, c.column, c.value_text, c.uncertain) for c in wrong]))
        else:
            r["missing"] += 1
            r["problems"].append(("MISSING", g, [(c.row, c.column, c.value_text, c.uncertain) for c in cands]))
    return report


# --------------------------------------------------------------------------- parse_number

@pytest.mark.parametrize("text,value", [
    ("4,5", 4.5), ("1 515", 1515.0), ("−12,3", -12.3), ("-3", -3.0), ("12 %", 12.0),
    ("5 308 kr", 5308.0), ("-1 416", -1416.0), ("1\u00a0505", 1505.0), ("+18,1", 18.1),
    ("0,34", 0.34), ("300.000 kr", 300000.0), ("4,5 procent", 4.5), ("- 6 853", -6853.0),
])
def test_parse_number(text, value):
    assert parse_number(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["", "Ökande trend", "-", "N/A", "2025-2027", "abc 12", "12 13 4", None])
def test_parse_number_rejects(text):
    assert parse_number(text) is None


# --------------------------------------------------------------------------- extraction vs gold

def test_gold_file_is_large_and_covers_all_documents_and_layouts():
    gold = _gold()
    assert len(gold) >= 150
    assert {g["source_file"][:3] for g in gold} == {"000", "001", "002", "003", "004"}
    assert {"space", "cell_per_line", "tab", "bullets", "indicator_list", "sentence"} <= {g["layout"] for g in gold}
    assert all({"file", "source_file", "line", "row", "column", "value"} <= set(g) for g in gold)


def test_extraction_matches_gold():
    report = evaluate()
    total = sum(r["gold"] for r in report.values())
    found = sum(r["found"] for r in report.values())
    wrong = sum(r["wrong"] for r in report.values())
    problems = [p for r in report.values() for p in r["problems"]]
    detail = "\n".join(f"{kind} {g['source_file']}:{g['line']} {g['row']!r} [{g['column']}]={g['value']} got {got}"
                       for kind, g, got in problems[:40])
    assert wrong == 0, detail
    assert found / total >= 0.98, detail


def test_extraction_is_pure_and_ids_are_stable():
    doc = documents()[0]
    t1, c1 = extract_tables(doc)
    t2, c2 = extract_tables(doc)
    assert [t.id for t in t1] == [t.id for t in t2] and c1 == c2
    stem = Path(doc.file).stem
    assert all(re.fullmatch(re.escape(stem) + r":t\d{2,}", t.id) for t in t1)
    assert len({t.id for t in t1}) == len(t1)


def test_every_table_has_provenance():
    for file, (tables, cells) in extracted().items():
        ids = {t.id for t in tables}
        for t in tables:
            assert t.file == file and 1 <= t.line_start <= t.line_end, t
            assert t.caption, t
        for c in cells:
            assert c.table_id in ids and c.line >= 1 and c.column, c


def test_uncertain_cells_only_where_cells_were_dropped():
    """The clean tab-separated document needs no guessing at all."""
    tables, cells = extracted()["budgetforslag-2025-2027-allians-for-kronoberg.txt"]
    assert cells and not any(c.uncertain for c in cells)


def test_sub_rows_carry_their_parent():
    _, cells = extracted()["budgetforslag-2025-2027-allians-for-kronoberg.txt"]
    koept = [c for c in cells if c.line == 866]
    assert koept and all(c.row.endswith("Resursförändring > Köpt vård") for c in koept)
    assert any(c.row == "Hälsa och sjukvårdsnämnd > Resursförändring > Köpt vård" for c in koept)


def test_indicator_table_has_names_without_values():
    tables, cells = extracted()["nara-kronobergaren-utvecklingsstrategi.txt"]
    assert len(tables) == 1 and tables[0].layout == "indicator_list"
    assert len(cells) >= 30 and all(c.value is None and c.column == "Indikator" for c in cells)


# --------------------------------------------------------------------------- other documents

def _doc(text: str, name: str = "test.txt"):
    from assistant.records import Document, DocumentInfo, Line

    raw = text.split("\n")
    info = DocumentInfo(file=name, source_file=name, cite="Test", title="Test", kind="document",
                        kind_label="testdokument")
    lines = [Line(no=i + 1, text=t.strip()) for i, t in enumerate(raw) if t.strip()]
    return Document(info=info, path=Path(name), sha256="", raw_lines=raw, lines=lines)


def test_space_thousands_split_by_column_count():
    doc = _doc("Mål och mått\n\nMätetal Bokslut 2019 Målvärde 2021 Målvärde 2023 \n"
               "Antal besök 1 515 2 000 2 500 \nKostnad per besök -1 416 -1 347 -69 \n")
    tables, cells = extract_tables(doc)
    assert len(tables) == 1 and tables[0].columns == ("Bokslut 2019", "Målvärde 2021", "Målvärde 2023")
    got = {(c.row, c.column): c.value for c in cells}
    assert got[("Antal besök", "Bokslut 2019")] == 1515 and got[("Antal besök", "Målvärde 2023")] == 2500
    assert got[("Kostnad per besök", "Målvärde 2021")] == -1347 and got[("Kostnad per besök", "Målvärde 2023")] == -69
    assert not any(c.uncertain for c in cells)


def test_tab_table_with_varav_and_empty_cells():
    doc = _doc("Driftramar, mnkr\n\n\tBudget 2025\tPlan 2026\tPlan 2027\n"
               "Nämnd A\t100\t110\t120\nVarav:\t\t\t\n<i>Projekt X</i>\t10\t\t12\nSumma\t100\t110\t120\n")
    _, cells = extract_tables(doc)
    got = {(c.row, c.column): c.value for c in cells}
    assert got[("Nämnd A > Projekt X", "Budget 2025")] == 10 and got[("Nämnd A > Projekt X", "Plan 2027")] == 12
    assert ("Nämnd A > Projekt X", "Plan 2026") not in got and got[("Summa", "Plan 2026")] == 110
    assert all(c.unit == "mnkr" for c in cells)


def test_dropped_cell_is_marked_uncertain():
    doc = _doc("Mätetal \nUtfall \n2024 \n\nUtfall \n2023 \n\nMål 2024  Kommentar \n\nEtt mått \n\n\n"
               " 57 % 71 %  \n\nKommentar text. \n")
    _, cells = extract_tables(doc)
    assert [c.value for c in cells] == [57, 71] and all(c.uncertain for c in cells)


@pytest.mark.parametrize("text", ["", "\n\n", "\t\t\t", "Mätetal 2024 2025\n-\n%", "1 2 3 4 5 6 7 8 9 0 " * 50,
                                  "Tabell 1.\n\nx, y\n\na, b\n\nc, d\n", "• År 2028 ska:\n- \n- x vara max procent"])
def test_odd_documents_do_not_break_extraction(text):
    tables, cells = extract_tables(_doc(text))
    assert all(c.table_id in {t.id for t in tables} for c in cells)


def test_current_state_sections_come_from_the_manifest():
    """The "nuläge" figures are read between the two headings the document's manifest entry names."""
    from dataclasses import replace

    text = ("KOPPLING TILL AGENDA 2030-MÅL\n\nÅr 2022 var andelen förnybara drivmedel 74 procent.\n\n"
            "EXEMPEL PÅ ÖVRIGT ARBETE\n")
    doc = _doc(text)
    assert not [t for t in extract_tables(doc)[0] if t.caption == "Nuläge och utmaningar"]
    doc.info = replace(doc.info, current_state=("KOPPLING TILL AGENDA 2030", "EXEMPEL PÅ ÖVRIGT ARBETE"))
    tables, cells = extract_tables(doc)
    assert [t.caption for t in tables] == ["Nuläge och utmaningar"]
    assert [(c.value, c.unit, c.year, c.column_kind) for c in cells] == [(74.0, "%", 2022, "utfall")]
    programme = next(d for d in documents() if d.file == "hallbarhetsprogram-2024-2028.txt")
    assert programme.info.current_state == ("KOPPLING TILL AGENDA 2030", "EXEMPEL PÅ ÖVRIGT ARBETE")


def test_markup_is_cleaned_as_everywhere_else():
    """`assistant.text` rules: inline tags go without a trace, block tags become a space."""
    doc = _doc("Driftramar, mnkr\n\n\tBudget 2025\tPlan 2026\n<i>Nämnd</i> A\t100\t110\nNämnd<p>B\t1\t2\n")
    _, cells = extract_tables(doc)
    assert {c.row for c in cells} == {"Nämnd A", "Nämnd B"}
