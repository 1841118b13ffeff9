"""How an extractive answer reads: each value with its column and document, grouped by measure."""

from assistant.compose import change_line, compose_sentence_answer, compose_table_answer, without_url_block
from assistant.records import Cell, DocumentInfo, Evidence

PROGRAMME = DocumentInfo(file="h.txt", source_file="h.txt", cite="Hållbarhetsprogram", title="H", kind="programme",
                         kind_label="program")
INTERIM = DocumentInfo(file="d.txt", source_file="d.txt", cite="Delårsrapport", title="D", kind="interim_report",
                       kind_label="delårsrapport")


def _value(info, column, text, value, line):
    cell = Cell("t", info.file, line, "Sjukfrånvaro", column, text, value, unit="procent")
    return Evidence(text, info, "Medarbetare", line, line, None, 0.9, cell=cell)


def test_one_measure_reads_as_one_row_with_each_column_named():
    draft = compose_table_answer([_value(PROGRAMME, "Mål 2028", "4,5", 4.5, 3),
                                  _value(PROGRAMME, "Nuläge 2022", "6,1", 6.1, 3)], "sv")
    assert draft.text == "Enligt Hållbarhetsprogram (program): Sjukfrånvaro: 4,5 procent (Mål 2028) [1], " \
                         "6,1 procent (Nuläge 2022) [2]."
    assert len(draft.cells) == 2 and not draft.refused


def test_documents_that_differ_are_introduced_as_differing_and_named_each():
    draft = compose_table_answer([_value(PROGRAMME, "Mål 2028", "4,5", 4.5, 3),
                                  _value(INTERIM, "Utfall 2023", "6,0", 6.0, 9)], "sv")
    lines = draft.text.split("\n")
    assert lines[0] == "Dokumenten anger olika värden:"
    assert lines[1].startswith("Enligt Hållbarhetsprogram (program):") and lines[2].startswith("Enligt Delårsrapport")


def test_a_sentence_loses_its_link_list_but_keeps_its_citation():
    text = "Målet är nått. https://a.se/x https://b.se/y"
    assert without_url_block(text) == "Målet är nått."
    draft = compose_sentence_answer([Evidence(text, PROGRAMME, "", 1, 1, None, 0.5)], "sv", start=2)
    assert draft.text == "Enligt Hållbarhetsprogram (program): Målet är nått. [2]"


def test_an_english_answer_quotes_the_documents_swedish_words():
    english = DocumentInfo(file="h.txt", source_file="h.txt", cite="Hållbarhetsprogram", title="H", kind="programme",
                           kind_label="program", kind_label_en="programme")
    sentence = compose_sentence_answer([Evidence("Sjukfrånvaron ska vara högst 4,5 procent.", english, "", 1, 1,
                                                 None, 0.5)], "en")
    assert sentence.text == "According to Hållbarhetsprogram (programme): “Sjukfrånvaron ska vara högst 4,5 procent.” [1]"
    table = compose_table_answer([_value(english, "Mål 2028", "4,5", 4.5, 3)], "en")
    assert table.text == "According to Hållbarhetsprogram (programme): “Sjukfrånvaro”: 4,5 procent (“Mål 2028”) [1]."


def _dated(info, column, text, value, year, line, unit="procent", kind=""):
    cell = Cell("t", info.file, line, "Sjukfrånvaro", column, text, value, unit=unit, year=year, column_kind=kind)
    return Evidence(text, info, "Medarbetare", line, line, None, 0.9, cell=cell)


INTERIM_2024 = DocumentInfo(file="d.txt", source_file="d.txt", cite="Delårsrapport", title="D", kind="interim_report",
                            kind_label="delårsrapport", period="januari–mars 2024")


def test_a_measures_values_read_oldest_first_and_an_interim_reports_earlier_columns_compare():
    draft = compose_table_answer([_dated(INTERIM_2024, "Utfall 2024", "5,5", 5.5, 2024, 3),
                                  _dated(INTERIM_2024, "Utfall 2022", "7,2", 7.2, 2022, 3)], "sv")
    assert draft.text == ("Enligt Delårsrapport (delårsrapport): Sjukfrånvaro: 7,2 procent (Utfall 2022, "
                          "jämförelseperiod) [1], 5,5 procent (Utfall 2024) [2].")


def test_a_change_is_computed_from_the_cited_values_with_the_arithmetic():
    draft = compose_table_answer([_dated(PROGRAMME, "Utfall 2024", "5,5", 5.5, 2024, 3),
                                  _dated(PROGRAMME, "Utfall 2022", "7,2", 7.2, 2022, 3)], "sv")
    assert change_line(draft, "sv") == "Förändring från Utfall 2022 till Utfall 2024: 5,5 − 7,2 = −1,7 procentenheter [1] [2]."
    money = compose_table_answer([_dated(PROGRAMME, "Budget 2025", "1 500", 1500.0, 2025, 4, unit="mnkr"),
                                  _dated(PROGRAMME, "Budget 2021", "500", 500.0, 2021, 4, unit="mnkr")], "en")
    assert change_line(money, "en") == "Change from Budget 2021 to Budget 2025: 1 500 − 500 = 1 000 mnkr [1] [2]."
    one_year = compose_table_answer([_dated(PROGRAMME, "Utfall 2024", "5,5", 5.5, 2024, 3)], "sv")
    assert change_line(one_year, "sv") == ""


def test_a_change_is_computed_between_outcomes_not_from_an_outcome_to_a_target():
    outcome_and_target = [_dated(PROGRAMME, "Bokslut 2019", "63", 63.0, 2019, 3, kind="bokslut"),
                          _dated(PROGRAMME, "Målvärde 2023", "68", 68.0, 2023, 3, kind="mål")]
    assert change_line(compose_table_answer(outcome_and_target, "sv"), "sv") == ""
    # nor between two targets when an outcome is cited: what it was, not what it should become
    two_targets = outcome_and_target + [_dated(PROGRAMME, "Målvärde 2021", "65", 65.0, 2021, 3, kind="mål")]
    assert change_line(compose_table_answer(two_targets, "sv"), "sv") == ""
    with_later_outcome = outcome_and_target + [_dated(PROGRAMME, "Utfall 2022", "60", 60.0, 2022, 3, kind="utfall")]
    assert change_line(compose_table_answer(with_later_outcome, "sv"), "sv").startswith(
        "Förändring från Bokslut 2019 till Utfall 2022: 60 − 63 = −3 procentenheter")


def test_the_same_figure_of_the_same_kind_and_year_in_two_tables_is_said_once():
    draft = compose_table_answer([_dated(INTERIM_2024, "Utfall jan-mar 2023", "6,0", 6.0, 2023, 3, kind="utfall"),
                                  _dated(INTERIM_2024, "Periodens utfall 2023", "6,0", 6.0, 2023, 40, kind="utfall"),
                                  _dated(INTERIM_2024, "Mål 2023", "6,0", 6.0, 2023, 3, kind="mål")], "sv")
    assert draft.text.count("6,0 procent") == 2  # the outcome once, and the target beside it
    assert [e.line_start for e in draft.evidence] == [3, 3]
    assert "(Mål 2023, jämförelseperiod) [2]" in draft.text


def test_text_cells_of_one_row_are_all_kept():
    def text_cell(column, text):
        cell = Cell("t", PROGRAMME.file, 5, "Ta fram en strategi", column, text, None)
        return Evidence(text, PROGRAMME, "", 5, 5, None, 0.9, cell=cell)
    draft = compose_table_answer([text_cell("Ansvarig nämnd", "RUN"), text_cell("Tidplan", "2025-2026")], "sv")
    assert "RUN (Ansvarig nämnd) [1], 2025-2026 (Tidplan) [2]" in draft.text
