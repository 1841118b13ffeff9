"""The lookup (`assistant.tables.matcher`), incl. the sustainability programme's sick-leave target."""

from __future__ import annotations

import pytest

from assistant.tables import CellHit
from tests.table_fixtures import db_path, same_value, store  # noqa: F401 (fixtures)


def _hit(hits, file_prefix, line, value):
    return next((h for h in hits if h.cell.file.startswith(file_prefix) and h.cell.line == line
                 and same_value(h.cell.value, value)), None)


def test_lookup_sick_leave_target_2028(store):
    """The issue's example: "vad är målvärdet för sjukfrånvaro 2028?"."""
    for hits in (store.lookup("sjukfrånvaro", year=2028, kind="mål"),
                 store.lookup("vad är målvärdet för sjukfrånvaro 2028?", year=2028)):
        assert hits, "no hit"
        top = hits[0]
        assert isinstance(top, CellHit)
        assert top.cell.value == pytest.approx(4.5) and top.cell.comparator == "max"
        assert top.cell.unit == "%" and top.cell.year == 2028 and top.cell.column_kind == "mål"
        assert top.info.cite == "Hållbarhetsprogram 2024–2028"
        assert top.info.source_file == "001_d436ddedb8252149.txt"
        assert top.cell.line == 458 and not top.cell.uncertain
        assert "sjukfrånvaro" in top.cell.row.lower() and top.table.file == top.cell.file


# (measure, keyword arguments, expected top hit: file prefix, line, value)
LOOKUPS = [
    ("hur stor är driftramen för trafiknämnden 2026?", {"year": 2026}, ("budgetforslag", 843, 485)),
    ("HME", {"year": 2025}, ("budgetforslag", 247, 80)),
    ("Hållbart medarbetarengagemang (HME)", {"year": 2019}, ("budget-2021", 689, 78)),
    ("faktisk sysselsättningsgrad", {"kind": "utfall", "document": "delårsrapport"}, ("delarsrapport", 1100, 85.6)),
    ("sysselsättningsgrad", {"year": 2028}, ("hallbarhetsprogram", 447, 88)),
    ("antibiotikaförskrivning", {"year": 2023}, ("budget-2021", 299, 250)),
    ("Fysisk aktivitet på recept", {"year": 2019}, ("budget-2021", 302, 1515)),
    ("skatteintäkter", {"year": 2025, "document": "budgetförslag"}, ("budgetforslag", 788, 6233)),
    ("köpt vård", {"year": 2026}, ("budgetforslag", 866, 130)),
    ("vårdersättning", {"year": 2025}, ("budgetforslag", 963, 5560)),
    ("barntandvårdspeng", {"year": 2025}, ("budgetforslag", 973, 1709)),
    ("nöjd kund index buss tåg", {"year": 2027}, ("budgetforslag", 450, 72)),
    ("Hälso- och sjukvårdsnämnd", {"year": 2024, "kind": "avvikelse", "document": "delårsrapport"},
     ("delarsrapport", 1568, -208)),
    ("hyrpersonal sjukhusvård läkare", {"year": 2024}, ("delarsrapport", 2108, 12787)),
    ("pensionsålder", {"year": 2028}, ("hallbarhetsprogram", 448, 66.5)),
    ("soliditet", {"document": "delårsrapport", "kind": "mål"}, ("delarsrapport", 1399, 31)),
    ("Justering orealiserade poster", {"year": 2019}, ("budget-2021", 886, -135)),
    ("Hållbart medarbetarindex", {"kind": "utfall", "document": "budgetforslag-2025-2027-allians-for-kronoberg.txt"},
     ("budgetforslag", 247, 78.5)),
    ("Regionstyrelsen", {"document": "002_b12d27c0afef24ca.txt", "year": 2027}, ("budgetforslag", 848, 788)),
    ("vad är budgeten för kulturnämnden 2025?", {"year": 2025}, ("budgetforslag", 845, 78)),
    ("hur många nyanställda sjuksköterskor", {}, ("delarsrapport", 2710, 44)),
    ("totala utsläppet av växthusgaser", {}, ("hallbarhetsprogram", 531, 71499)),
    ("kollektivtrafikens marknadsandel", {"year": 2030, "document": "budgetförslag"}, ("budgetforslag", 479, 16)),
]


@pytest.mark.parametrize("measure,kwargs,expected", LOOKUPS, ids=[m for m, _, _ in LOOKUPS])
def test_lookup_top_hit(store, measure, kwargs, expected):
    hits = store.lookup(measure, **kwargs)
    assert hits, f"no hit for {measure!r}"
    file_prefix, line, value = expected
    top = hits[0]
    assert top.cell.file.startswith(file_prefix) and top.cell.line == line, (
        [(h.cell.file, h.cell.line, h.cell.row, h.cell.column, h.cell.value_text, h.score) for h in hits[:4]])
    assert top.cell.value == pytest.approx(value)
    assert top.score >= 0.8  # strong enough for the chat to answer from it
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_lookup_filters_are_strict(store):
    assert all(h.cell.year == 2026 or "2026" in h.cell.column for h in store.lookup("trafiknämnd", year=2026))
    assert all(h.cell.column_kind == "mål" for h in store.lookup("sjukfrånvaro", kind="mål"))
    # "utfall" also covers full-year "bokslut" columns
    kinds = {h.cell.column_kind for h in store.lookup("sjukfrånvaro", kind="utfall", limit=50)}
    assert kinds and kinds <= {"utfall", "bokslut"}
    files = {h.cell.file for h in store.lookup("sjukfrånvaro", document="Hållbarhetsprogram", limit=50)}
    assert files == {"hallbarhetsprogram-2024-2028.txt"}
    assert store.lookup("sjukfrånvaro", year=1999) == []
    assert store.lookup("antal elefanter i Växjö") == []


def test_lookup_shows_disagreeing_documents(store):
    """The same measure in several documents: every document's value is returned."""
    files = {h.cell.file for h in store.lookup("faktisk sysselsättningsgrad", limit=30)}
    assert {"budget-2021-plan-2022-2023-alliansen.txt", "budgetforslag-2025-2027-allians-for-kronoberg.txt",
            "delarsrapport-mars-2024.txt", "hallbarhetsprogram-2024-2028.txt"} <= files


def test_uncertain_cells_are_marked(store):
    hits = store.lookup("Förtroendet för hälso- och sjukvården", document="delårsrapport")
    from_interim = [h for h in hits if h.cell.line == 330]
    assert from_interim and all(h.cell.uncertain for h in from_interim)
    hits = store.lookup("kontinuitetsindex", document="delårsrapport")
    assert {h.cell.value for h in hits} == {0.31, 0.35}
    assert all(h.cell.uncertain for h in hits)


def test_indicator_lookup_gives_names_without_values(store):
    hits = store.lookup("Brukarbedömning hemtjänst")
    assert hits and hits[0].cell.file.startswith("nara-kronobergaren") and hits[0].cell.value is None


@pytest.mark.parametrize("bad", ["", "   ", "'; DROP TABLE cells; --", "\" OR 1=1 --", "%", "*", "\x00"])
def test_lookup_bad_text_is_harmless(store, db_path, bad):
    before = db_path.read_bytes()
    assert store.lookup(bad) == []
    assert db_path.read_bytes() == before
    assert store.lookup("sjukfrånvaro", year=2028)  # still works


@pytest.mark.parametrize("kwargs", [
    {"measure": "x" * 20_000}, {"measure": None}, {"measure": "sjukfrånvaro", "year": "tjugo"},
    {"measure": "sjukfrånvaro", "year": 20280}, {"measure": "sjukfrånvaro", "kind": "'; DROP TABLE cells"},
    {"measure": "sjukfrånvaro", "limit": "många"},
])
def test_lookup_bad_arguments_raise_clear_errors(store, kwargs):
    with pytest.raises(ValueError) as info:
        store.lookup(**kwargs)
    assert str(info.value)


def test_word_match_grades_rows_the_lookup_leaves_out(store):
    """A row found by meaning alone is scored by the words it shares with the question, without the
    lookup's floors: "rättspsyk-huset K8" shares "hus" and "K8" with "Nybyggnation hus K8 för
    Rättspsykiatri", which the lookup does not return, and nothing with the sick-leave target."""
    question = "vad kostar nya rättspsyk-huset K8 2025?"
    k8 = next(c for t in store.tables() for c in store.table(t.id)[1] if "hus K8" in c.row and c.year == 2025)
    sick_leave = store.lookup("sjukfrånvaro", year=2028, kind="mål")[0].cell
    assert all(h.cell != k8 for h in store.lookup(question, limit=100))
    got_k8, got_sick_leave = store.word_match(question, [k8, sick_leave])
    assert 0.2 < got_k8 < 0.5 and got_sick_leave == 0.0


def test_word_match_scores_a_hit_as_the_lookup_does(store):
    top = store.lookup("faktisk sysselsättningsgrad")[0]
    assert store.word_match("faktisk sysselsättningsgrad", [top.cell]) == [pytest.approx(top.score, abs=1e-4)]
    assert store.word_match("2025", [top.cell]) == [0.0]  # a bare number is no measure
