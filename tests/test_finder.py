"""The finder's links between documents: the same measure in several documents, found by meaning."""

from __future__ import annotations

import numpy as np
import pytest

from types import SimpleNamespace

from assistant.finder import SAME_MEASURE_COSINE, Finder, _same_measure
from assistant.lexical import SwedishTokenizer
from assistant.records import Cell, DocumentInfo, Evidence, Table
from assistant.semantic import ROW, SemanticIndex, Unit
from assistant.tables import CellHit


def _row(file: str, table: str, label: str) -> Unit:
    return Unit(ROW, file, 1, 1, f"{label} – Mål", table_id=table, row=label)


def _unit_vectors(*angles: float) -> np.ndarray:
    """Unit vectors in a plane: the cosine of two is the cosine of their angles' difference."""
    return np.array([[np.cos(a), np.sin(a), 0.0] for a in angles], dtype=np.float32)


def test_rows_of_two_documents_that_are_each_others_nearest_and_near_enough_are_one_measure():
    near = np.arccos(SAME_MEASURE_COSINE) / 2  # well inside the threshold
    units = [_row("a.txt", "a:t1", "Sjukfrånvaro %"), _row("a.txt", "a:t1", "Personalomsättning"),
             _row("b.txt", "b:t1", "Sjukfrånvaron (%)"), _row("c.txt", "c:t1", "Kulturnämnd")]
    semantic = SemanticIndex(units, _unit_vectors(0.0, 1.2, near, 0.6))
    linked = _same_measure(semantic)
    assert linked[("a:t1", "Sjukfrånvaro %")] == [("b:t1", "Sjukfrånvaron (%)")]
    assert linked[("b:t1", "Sjukfrånvaron (%)")] == [("a:t1", "Sjukfrånvaro %")]
    # c's row is some document's nearest, but not near enough; a's second row has no partner
    assert ("c:t1", "Kulturnämnd") not in linked and ("a:t1", "Personalomsättning") not in linked


def test_a_row_is_linked_only_to_its_own_nearest_row_of_the_other_document():
    near = np.arccos(SAME_MEASURE_COSINE) / 4
    # b has two rows near a's; a's row is nearest to the first, so the second is not linked to it
    units = [_row("a.txt", "a:t1", "HME"), _row("b.txt", "b:t1", "HME index"), _row("b.txt", "b:t2", "HME delår")]
    linked = _same_measure(SemanticIndex(units, _unit_vectors(0.0, near, 2 * near)))
    assert linked[("a:t1", "HME")] == [("b:t1", "HME index")]
    assert ("b:t2", "HME delår") not in linked


def test_a_rows_own_label_is_read_apart_from_its_parents():
    finder = SimpleNamespace(scorer=SimpleNamespace(tokenizer=SwedishTokenizer()), _leaf_tokens={})
    asked = set(SwedishTokenizer().tokens("Hur mycket får hälso- och sjukvårdsnämnden 2022?"))
    assert Finder._leaf_asked(finder, "Hälso- och sjukvårdsnämnd", asked) > 0.5
    assert Finder._leaf_asked(finder, "Hälso och sjukvårdsnämnd > Kompensation lönerevision", asked) == 0.0
    assert Finder._leaf_asked(finder, "", asked) == 0.0


def _cell(value_text: str, column: str) -> Cell:
    return Cell("a:t1", "a.txt", 3, "Driftsbidrag", column, value_text, None)


@pytest.mark.parametrize("value_text,empty", [("", True), ("-", True), ("*", True), (" – ", True),
                                              ("12,4", False), ("HSN", False), ("0", False)])
def test_a_cell_with_neither_a_digit_nor_a_letter_is_empty(value_text, empty):
    assert _cell(value_text, "Plan 2025").empty is empty


def test_an_empty_cell_is_no_candidate_for_an_answer():
    table = Table("a:t1", "a.txt", "Bolagen", (), "mnkr", 1, 5)
    hits = [CellHit(_cell(v, c), table, None, 0.9) for v, c in (("*", "Plan 2025"), ("-", "Plan 2026"),
                                                                 ("12,4", "Utfall 2023"))]
    finder = SimpleNamespace(tables=SimpleNamespace(lookup=lambda measure, **filters: hits))
    kept = Finder._lookup_values(finder, "Driftsbidrag")
    assert [h.cell.value_text for h in kept] == ["12,4"]


@pytest.mark.slow
def test_the_real_index_links_the_sick_leave_rows_of_the_budget_proposal_and_the_interim_report(assistant):
    links = assistant.finder.same_measure
    proposal = [k for k in links if k[0].startswith("budgetforslag") and k[1].startswith("Sjukfrånvaro")]
    assert proposal and any(t.startswith("delarsrapport") for t, _ in links[proposal[0]])
    answer = assistant.ask("Vad var sjukfrånvaron 2023?")
    files = {c.file for c in answer.citations}
    assert "other_documents" in answer.decision.steps
    assert len(files) == 2 and "5,4 %" in answer.text and "Bokslut 2023" in answer.text


@pytest.mark.slow
def test_the_real_index_gives_no_empty_cell_as_a_value(assistant):
    finder = assistant.finder
    # The finder keeps only non-empty cells, so the empty ones are read from the store.
    empty = [c for t in finder.tables.tables() for c in finder.tables.table(t.id)[1] if c.empty]
    assert empty  # the documents' tables do leave cells empty ("-", "*")
    for cell in empty[:20]:
        question = f"{cell.row} {cell.column}"
        vector = assistant.embedder.embed_queries([question])[0]
        values, _ = finder.cells(question, [cell.file], vector)
        assert values and not any(ev.cell.empty for ev in values), question


def _report_finder(tables: dict) -> Finder:
    """A finder over hand-made tables of an interim report (no index: the forecast reads only these)."""
    finder = Finder.__new__(Finder)
    finder.table_cells, finder.lines = tables, {}
    return finder


REPORT = DocumentInfo(file="r.txt", source_file="r.txt", cite="Delårsrapport mars 2024", title="Delårsrapport",
                      kind="interim_report", kind_label="januari–mars 2024", period="januari–mars 2024")


def _report_cell(table: str, line: int, row: str, column: str, value: float, kind: str) -> Cell:
    year = int(column[-4:]) if column[-4:].isdigit() else None
    return Cell(table, "r.txt", line, row, column, f"{value:g}", value, "mnkr", year, kind)


def _part_year_value(cell: Cell, table: Table) -> Evidence:
    return Evidence(cell.value_text, REPORT, table.caption, cell.line, cell.line, None, 0.9, cell=cell,
                    caption=table.caption)


def test_a_part_year_outcome_of_the_year_asked_gets_the_reports_forecast_for_the_whole_year():
    results = Table("r:t1", "r.txt", "Resultat per nämnd", (), "mnkr", 1, 5)
    financing = Table("r:t2", "r.txt", "Finansiering", (), "mnkr", 10, 15)
    quarter = _report_cell("r:t1", 2, "Skatteintäkter", "Utfall jan-mar 2024", 1477, "utfall")
    deviation = _report_cell("r:t1", 2, "Skatteintäkter", "Prognos avvik 2024", -7, "prognos")
    twin = _report_cell("r:t2", 11, "Skatter", "Utfall jan-mars 2024", 1477, "utfall")
    forecast = _report_cell("r:t2", 11, "Skatter", "Prognos 2024", 5952, "prognos")
    small = _report_cell("r:t1", 3, "Övriga justeringar", "Utfall jan-mar 2024", 4, "utfall")
    unrelated = _report_cell("r:t2", 12, "Informationsteknik", "Utfall jan-mars 2024", 4, "utfall")
    unrelated_forecast = _report_cell("r:t2", 12, "Informationsteknik", "Prognos 2024", 37, "prognos")
    finder = _report_finder({"r:t1": (results, [quarter, deviation, small]),
                             "r:t2": (financing, [twin, forecast, unrelated, unrelated_forecast])})
    found = finder.year_forecasts([_part_year_value(quarter, results), _part_year_value(deviation, results)], ("2024",))
    # the deviation from the forecast is no forecast; the financing table's row with the same outcome has one
    assert [(ev.cell.row, ev.cell.column, ev.cell.value) for ev in found] == [("Skatter", "Prognos 2024", 5952)]
    assert found[0].info is REPORT
    # another year asked, or a figure small enough to be shared by chance: nothing is added
    assert finder.year_forecasts([_part_year_value(quarter, results)], ("2023",)) == []
    assert finder.year_forecasts([_part_year_value(small, results)], ("2024",)) == []
    # a forecast in the value's own row is the one given
    own = _report_cell("r:t1", 3, "Övriga justeringar", "Prognos 2024", 9, "prognos")
    finder = _report_finder({"r:t1": (results, [small, own])})
    assert [ev.cell.value for ev in finder.year_forecasts([_part_year_value(small, results)], ("2024",))] == [9]


@pytest.mark.slow
def test_the_real_interim_reports_tax_revenue_for_the_first_quarter_gets_its_forecast_for_2024(assistant):
    finder = assistant.finder
    quarter = [(table, c) for table, cells in finder.table_cells.values() for c in cells
               if c.file.startswith("delarsrapport") and c.row == "Skatteintäkter" and c.year == 2024
               and c.column_kind == "utfall"]
    assert quarter
    table, cell = quarter[0]
    ev = Evidence(cell.value_text, assistant.index.documents[cell.file], table.caption, cell.line, cell.line, None,
                  0.9, cell=cell, caption=table.caption)
    found = finder.year_forecasts([ev], ("2024",))
    assert [(f.cell.column, f.cell.value_text) for f in found] == [("Prognos 2024", "5 952")]


def test_the_kind_asked_is_judged_on_the_hits_near_the_best():
    from assistant.finder import _could_be_given
    table = Table("a:t1", "a.txt", "Mätetal", (), "%", 1, 5)

    def hit(row, column, kind, score):
        return CellHit(Cell("a:t1", "a.txt", 3, row, column, "93 %", 93.0, column_kind=kind), table, None, score)
    target = hit("Punktlighet", "Målvärde 2023", "mål", 0.68)
    weaker_outcome = hit("Marknadsandel", "Utfall 2023", "utfall", 0.43)
    near_outcome = hit("Punktlighet RT", "Utfall 2023", "utfall", 0.62)
    assert _could_be_given([target, weaker_outcome]) == [target]
    assert _could_be_given([target, near_outcome]) == [target, near_outcome]
    assert _could_be_given([hit("Punktlighet", "Mål 2023", "mål", 0.1)]) == []


@pytest.mark.slow
def test_the_real_index_answers_how_many_with_a_count_not_with_money(assistant):
    finder = assistant.finder
    money = finder.cells("hur mycket pengar får arbetet med sms-livräddare?", None)[0]
    assert any("Mkr" in e.cell.value_text for e in money)  # the assignment's financing is there
    counted = finder.cells("hur många sms-livräddare finns det i länet?", None)[0]
    assert not any("Mkr" in e.cell.value_text or "mnkr" in e.cell.unit for e in counted)


@pytest.mark.slow
def test_a_row_found_by_meaning_alone_is_scored_by_the_words_it_shares(assistant):
    """"rättspsyk-huset K8" is no word match of "Nybyggnation hus K8 för Rättspsykiatri"; found by
    meaning, the row's cells carry the words they share, and rows sharing fewer rank below them."""
    finder, question = assistant.finder, "vad kostar nya rättspsyk-huset K8 2025 och 2026?"
    meaning = assistant.embedder.embed_queries([question])[0]
    log = finder.signal_log = []
    try:
        finder.cells(question, None, meaning)
    finally:
        finder.signal_log = None
    k8 = [(s, hit) for kind, s, hit in log if kind == "cell" and "hus K8" in hit.cell.row]
    assert k8 and all(s["lexical"] > 0.2 for s, _ in k8)
    best = max(log, key=lambda t: t[2].score)[2]
    assert "hus K8" in best.cell.row
