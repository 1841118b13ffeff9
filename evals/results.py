"""Reading a run's files back: `summary.json` and `results.jsonl` in an output directory.

The runner (evals/runner.py) writes them; the report (evals/report.py), the generalisation gap
and `python -m evals report` read them through `read_results`, so that the report never needs
the runner.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_results(out_dir: Path) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The run's summary (None without `summary.json`) and its per-question rows ([] without
    `results.jsonl`, as for a sealed run)."""
    out_dir = Path(out_dir)
    summary_path, results_path = out_dir / "summary.json", out_dir / "results.jsonl"
    summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.is_file() else None
    rows = []
    if results_path.is_file():
        with results_path.open(encoding="utf-8") as fh:
            rows = [json.loads(line) for line in fh if line.strip()]
    return summary, rows
