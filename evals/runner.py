"""Runs the question set through a system (our assistant, or the llama-index baseline) and scores it.

    from evals.runner import AssistantSystem, load_questions, run
    summary = run(AssistantSystem(assistant, "extractive"), load_questions(QUESTIONS), Path("evals/out/x"))

Writes `results.jsonl` (one row per question, written as it goes), `summary.json`, `report.md`
and `accuracy_by_category.png` in the output directory.
"""

from __future__ import annotations

import bisect
import json
import time
import traceback
from collections import OrderedDict
from pathlib import Path
from typing import Any, Iterable, Protocol

from . import metrics

EVALS_DIR = Path(__file__).resolve().parent
QUESTIONS = EVALS_DIR / "questions.jsonl"
OUT_DIR = EVALS_DIR / "out"


class System(Protocol):
    name: str  # assistant | baseline
    mode: str  # extractive | local | openai

    def answer(self, item: dict[str, Any]) -> dict[str, Any]:
        """The answer as `Answer.to_json()` lays it out (answer, refused, citations, contexts, ...)."""


class AssistantSystem:
    """The same `Assistant` the app uses; `mode` overrides the settings' mode per question."""

    name = "assistant"

    def __init__(self, assistant, mode: str | None = None) -> None:
        self.assistant = assistant
        self.mode = mode or assistant.settings.mode
        self._numbers: dict[str, list[int]] | None = None
        self._numbers_of: object = None

    def warm_up(self) -> None:
        """Loads the models before the clock runs, so that the first question's latency is its own."""
        self.assistant.ask("Vad är målvärdet för sjukfrånvaro 2028?", [], mode=self.mode)

    def answer(self, item: dict[str, Any]) -> dict[str, Any]:
        answer = self.assistant.ask(item["question"], item.get("history") or [], mode=self.mode)
        data = answer.to_json()
        for c in data["citations"]:
            # The cited passage: the source lines the citation points at (its quote may be a sentence of
            # them); `around` adds the non-empty line before and after, for the looser citation_overlap.
            c["passage"] = self._lines(c["file"], c["line_start"], c["line_end"], 0)
            c["around"] = self._lines(c["file"], c["line_start"], c["line_end"], 1)
        return data

    def _lines(self, file: str, first: int, last: int, extra: int) -> str:
        lines = getattr(self.assistant, "lines", {})
        if self._numbers is None or self._numbers_of is not lines:  # rebuilt after a new index build
            self._numbers, self._numbers_of = {}, lines
            for f, no in lines:
                self._numbers.setdefault(f, []).append(no)
            for numbers in self._numbers.values():
                numbers.sort()
        numbers = self._numbers.get(file, [])
        lo, hi = bisect.bisect_left(numbers, first), bisect.bisect_right(numbers, last)
        return "\n".join(lines[(file, no)] for no in numbers[max(0, lo - extra): hi + extra])


def load_questions(path: Path = QUESTIONS) -> list[dict[str, Any]]:
    items = []
    with Path(path).open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            line = line.strip()
            if not line or line.startswith("//"):
                continue
            try:
                item = json.loads(line)
            except ValueError as exc:
                raise ValueError(f"{path}:{n}: ogiltig JSON ({exc})") from exc
            for key in ("id", "question", "category"):
                if key not in item:
                    raise ValueError(f"{path}:{n}: fältet {key!r} saknas")
            items.append(item)
    return items


def select(questions: list[dict[str, Any]], limit: int | None = None, ids: Iterable[str] | None = None,
           categories: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """A subset in file order. `limit` takes the categories in turn (round robin), so that a small
    run still covers every category; the same arguments always give the same questions."""
    chosen = questions
    if ids:
        wanted = set(ids)
        chosen = [q for q in chosen if q["id"] in wanted]
    if categories:
        cats = set(categories)
        chosen = [q for q in chosen if q["category"] in cats]
    if limit is None or limit >= len(chosen):
        return list(chosen)
    groups: "OrderedDict[str, list[int]]" = OrderedDict()
    for i, q in enumerate(chosen):
        groups.setdefault(q["category"], []).append(i)
    picked: list[int] = []
    depth = 0
    while len(picked) < limit:
        for members in groups.values():
            if depth < len(members) and len(picked) < limit:
                picked.append(members[depth])
        depth += 1
    return [chosen[i] for i in sorted(picked)]


def cited_texts(answer: dict[str, Any]) -> list[str]:
    texts = []
    for c in answer.get("citations") or []:
        texts += [t for t in (c.get("quote"), c.get("passage")) if t]
    return texts


def score(item: dict[str, Any], answer: dict[str, Any] | None, seconds: float, error: str = "") -> dict[str, Any]:
    """One row of results.jsonl."""
    text = (answer or {}).get("answer", "")
    refused = bool((answer or {}).get("refused", False))
    contexts = [c.get("text", "") for c in (answer or {}).get("contexts") or []]
    row = {
        "id": item["id"],
        "category": item["category"],
        "question": item["question"],
        "expected": item.get("answer", ""),
        "correct": False if error else metrics.is_correct(item, text, refused),
        "refused": refused,
        "retrieval_hit": metrics.retrieval_hit(item, contexts),
        "citation_hit": metrics.citation_hit(item, cited_texts(answer or {})),
        "citation_overlap": metrics.citation_overlap(
            item, [(c.get("quote") or "", c.get("passage") or "", c.get("around") or c.get("passage") or "")
                   for c in (answer or {}).get("citations") or []]),
        "missing": [] if metrics.is_unanswerable(item) else metrics.missing_patterns(item, text),
        "seconds": round(seconds, 3),
        "error": error,
        "answer": answer,
    }
    if item.get("history"):
        row["history"] = item["history"]
    return row


def ask(system: System, item: dict[str, Any]) -> dict[str, Any]:
    """Asks one question; a question that raises is a wrong answer with its error, and the run goes on."""
    started = time.perf_counter()
    try:
        answer = system.answer(item)
        error = ""
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        answer = None
        error = f"{type(exc).__name__}: {exc}\n" + "".join(traceback.format_exc(limit=6))
    return score(item, answer, time.perf_counter() - started, error)


def run(system: System, questions: list[dict[str, Any]], out_dir: Path, progress: bool = True,
        compare_dir: Path | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    from tqdm import tqdm

    from . import report

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    started = time.time()
    warm_up = getattr(system, "warm_up", None)
    if warm_up is not None:
        warm_up()
    with (out_dir / "results.jsonl").open("w", encoding="utf-8") as fh, \
            tqdm(questions, desc=f"{system.name}/{system.mode}", unit="fråga", disable=not progress) as bar:
        for item in bar:
            row = ask(system, item)
            rows.append(row)
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            fh.flush()
            bar.set_postfix(rätt=f"{sum(r['correct'] for r in rows)}/{len(rows)}",
                            fel=sum(1 for r in rows if r["error"]))
    info = {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
        "wall_s": round(time.time() - started, 1),
        "answer_modes": _count(((r["answer"] or {}).get("mode") or "error") for r in rows),
        "verification": _count(((r["answer"] or {}).get("verification") or "-") for r in rows if r["answer"]),
    }
    info.update(extra or {})
    summary = metrics.summarise(rows, system.mode, system.name, extra=info)
    (out_dir / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    report.write_report(out_dir, summary, rows, compare_dir)
    return summary


def read_results(out_dir: Path) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    out_dir = Path(out_dir)
    summary_path, results_path = out_dir / "summary.json", out_dir / "results.jsonl"
    summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.is_file() else None
    rows = []
    if results_path.is_file():
        with results_path.open(encoding="utf-8") as fh:
            rows = [json.loads(line) for line in fh if line.strip()]
    return summary, rows


def _count(values: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))
