"""Tables and numeric targets of the corpus: extraction, the SQLite store, the lookup and the CLI.

Imports inside the package run one way, from the bottom up:

- `numbers`, `lines`, `labels`, `headings`, `rows`, `value_tokens`, `prose_figures`: shared helpers
  (numbers as printed, raw-line cleaning, column labels and header lines, headings, row assembly);
- one module per layout: `tabbed` (tab-separated), `spaced` (space-separated and one cell per line),
  `lists` (one-column amount lists), `indicators` (indicator lists), `bullet_targets` and `prose`
  (figures in bullets and prose);
- `extract`: `extract_tables(doc)` and `EXTRACTOR_VERSION`;
- `vocabulary`, `similarity`: the words of a lookup and how alike two words are;
- `store`: schema, build, read access, `SCHEMA_VERSION`;
- `matcher`: `TableStore.lookup` and its scoring;
- `format` (the one formatter of cell values) and `cli` (`python -m assistant tables`).
"""

from .extract import EXTRACTOR_VERSION, extract_tables
from .format import format_cell_value
from .labels import column_kind_and_year
from .matcher import MAX_MEASURE_CHARS, STRONG_MATCH, CellHit, TableStore
from .numbers import parse_cell_value, parse_number
from .store import MISSING_MESSAGE, SCHEMA_VERSION, TableStoreMissing, TableStoreOutdated, build_table_store
from .vocabulary import measure_tokens, normalize_text, requested_kinds

__all__ = [
    "CellHit", "EXTRACTOR_VERSION", "MAX_MEASURE_CHARS", "MISSING_MESSAGE", "SCHEMA_VERSION", "STRONG_MATCH",
    "TableStore", "TableStoreMissing", "TableStoreOutdated", "build_table_store", "column_kind_and_year",
    "extract_tables", "format_cell_value", "measure_tokens", "normalize_text", "parse_cell_value",
    "parse_number", "requested_kinds",
]
