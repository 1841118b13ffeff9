"""How a table value is shown: the one formatter of cell values (answers, the CLI; the UI at merge)."""

from __future__ import annotations

from ..records import Cell

# A printed value containing one of these already says its comparator ("Över 50 %", "max 4,5 procent").
_COMPARATOR_WORDS = ("max", "högst", "minst", "över", "under", "mer än", "mindre än", "at least", "at most")


def format_cell_value(cell: Cell) -> str:
    """The value as printed, with its comparator and unit when the print lacks them ("max 4,5 procent")."""
    text = cell.value_text.strip()
    lowered = text.lower()
    comparator = cell.comparator if cell.comparator and not any(w in lowered for w in _COMPARATOR_WORDS) else ""
    if any(c.isalpha() for c in text):
        return " ".join(p for p in (comparator, text) if p)  # already a phrase: "4,5 procent"
    unit = cell.unit if cell.unit and cell.unit not in text else ""
    return " ".join(p for p in (comparator, text, unit) if p)
