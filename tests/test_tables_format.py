"""The one formatter of cell values (`assistant.tables.format`), shared by answers and the CLI."""

from __future__ import annotations

import pytest

from assistant.records import Cell
from assistant.tables.format import format_cell_value


def _cell(value_text: str, unit: str = "", comparator: str = "") -> Cell:
    return Cell(table_id="t:t01", file="t.txt", line=1, row="Rad", column="Mål 2028", value_text=value_text,
                value=1.0, unit=unit, comparator=comparator)


@pytest.mark.parametrize("value_text,unit,comparator,shown", [
    ("4,5", "%", "max", "max 4,5 %"),
    ("4,5 procent", "%", "max", "max 4,5 procent"),
    ("Över 50 %", "%", "minst", "Över 50 %"),  # the print says its comparator already
    ("3 Mkr", "mnkr", "", "3 Mkr"),  # and its unit
    ("4 442", "mnkr", "", "4 442 mnkr"),
    ("12 %", "%", "", "12 %"),
])
def test_values_read_naturally(value_text, unit, comparator, shown):
    assert format_cell_value(_cell(value_text, unit, comparator)) == shown


def test_answers_use_the_same_formatter():
    import assistant.compose
    import assistant.generation

    assert assistant.compose.format_cell_value is format_cell_value
    assert assistant.generation.format_cell_value is format_cell_value
