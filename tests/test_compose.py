"""How an extractive answer reads."""

from assistant.compose import format_cell_value
from assistant.records import Cell


def test_cell_values_read_naturally():
    cell = Cell("t", "a.txt", 1, "Sjukfrånvaro", "Mål 2028", "4,5", 4.5, unit="procent", comparator="max")
    assert format_cell_value(cell) == "max 4,5 procent"
    phrase = Cell("t", "a.txt", 1, "Byggmaterial", "Mål 2028", "minst 95 procent", 95.0, unit="%", comparator="minst")
    assert format_cell_value(phrase) == "minst 95 procent"
