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

from . import metrics, report
from .results import read_results

EVALS_DIR = Path(__file__).resolve().parent
QUESTIONS = EVALS_DIR / "questions.jsonl"
TEST_QUESTIONS = EVALS_DIR / "test_questions.jsonl"
PARAPHRASES = EVALS_DIR / "paraphrases.jsonl"
TUNE_QUESTIONS = EVALS_DIR / "tune_questions.jsonl"
OUT_DIR = EVALS_DIR / "out"

# dev: written from the documents, tuned on. tune: written independently in users' words, like the
# test split, and tuned on. test: sealed; whoever changes the engine reads only its aggregates
# (evals/README.md).
SPLITS = {"dev": QUESTIONS, "tune": TUNE_QUESTIONS, "test": TEST_QUESTIONS}
SEALED_SPLITS = frozenset({"test"})


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
        lines = self.assistant.finder.lines  # the build's source lines, by (file, line number)
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


def load_paraphrases(path: Path = PARAPHRASES, originals: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The rewrites of the dev questions, each carrying its original's gold (answer, must_contain,
    sources, category) and history, so it is scored exactly like the original."""
    by_id = {q["id"]: q for q in (originals if originals is not None else load_questions(QUESTIONS))}
    items = []
    for rewrite in load_jsonl(path):
        original = by_id.get(rewrite.get("of"))
        if original is None:
            raise ValueError(f"{path}: {rewrite.get('id')} skriver om en fråga som inte finns ({rewrite.get('of')!r})")
        item = {k: v for k, v in original.items() if k not in ("id", "question", "lang")}
        item.update({k: v for k, v in rewrite.items() if k in ("id", "of", "question", "lang", "style", "history")})
        items.append(item)
    return items


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    with Path(path).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip() and not line.startswith("//")]


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
        "strict_correct": False if error else metrics.is_strict_correct(item, text, refused),
        "strict_problems": [] if refused or error else metrics.strict_problems(item, text),
        "dump": not refused and not error and metrics.is_dump(metrics.answer_body(text)),
        "seconds": round(seconds, 3),
        "error": error,
        "answer": answer,
    }
    if item.get("history"):
        row["history"] = item["history"]
    if item.get("of"):
        row["of"] = item["of"]
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
        compare_dir: Path | None = None, extra: dict[str, Any] | None = None, sealed: bool = False,
        paraphrases: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Asks every question (and every paraphrase, when given) and writes the run's files. A sealed
    run keeps no per-question file and its report holds aggregates only."""
    from tqdm import tqdm

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    started = time.time()
    warm_up = getattr(system, "warm_up", None)
    if warm_up is not None:
        warm_up()
    results_path = out_dir / "results.jsonl"
    if sealed:
        results_path.unlink(missing_ok=True)  # an earlier run's items must not stay readable beside it
        (out_dir / "paraphrase_results.jsonl").unlink(missing_ok=True)
    with (open(results_path, "w", encoding="utf-8") if not sealed else _Discard()) as fh, \
            tqdm(questions, desc=f"{system.name}/{system.mode}", unit="fråga", disable=not progress) as bar:
        for item in bar:
            row = ask(system, item)
            rows.append(row)
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            fh.flush()
            bar.set_postfix(rätt=f"{sum(r['correct'] for r in rows)}/{len(rows)}",
                            fel=sum(1 for r in rows if r["error"]))
    para_rows = _run_paraphrases(system, paraphrases, out_dir, progress, sealed) if paraphrases else []
    info = {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
        "wall_s": round(time.time() - started, 1),
        "answer_modes": _count(((r["answer"] or {}).get("mode") or "error") for r in rows),
        "verification": _count(((r["answer"] or {}).get("verification") or "-") for r in rows if r["answer"]),
    }
    info.update(extra or {})
    if para_rows:
        info.update(paraphrase_figures(rows, para_rows))
    summary = metrics.summarise(rows, system.mode, system.name, extra=info)
    summary["sealed"] = sealed
    if compare_dir is not None:
        summary.update(generalisation_gap(summary, Path(compare_dir)))
    (out_dir / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    report.write_report(out_dir, summary, [] if sealed else rows, compare_dir)
    return summary


class _Discard:
    """A file that keeps nothing: a sealed run stores no per-question rows."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def write(self, text: str) -> None:
        return None

    def flush(self) -> None:
        return None


def _run_paraphrases(system: System, paraphrases: list[dict[str, Any]], out_dir: Path, progress: bool,
                     sealed: bool) -> list[dict[str, Any]]:
    from tqdm import tqdm

    rows = [ask(system, item) for item in tqdm(paraphrases, desc="omskrivningar", unit="fråga",
                                                 disable=not progress)]
    if not sealed:
        with (out_dir / "paraphrase_results.jsonl").open("w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    return rows


def paraphrase_figures(rows: list[dict[str, Any]], para_rows: list[dict[str, Any]]) -> dict[str, Any]:
    """How the rewrites fare against their originals: consistency (same verdict), and their own accuracy."""
    regex = {r["id"]: bool(r["correct"]) for r in rows}
    strict = {r["id"]: bool(r.get("strict_correct")) for r in rows}
    para = metrics.summarise(para_rows, "-")
    return {
        "paraphrase_consistency": metrics.paraphrase_consistency(
            regex, [(r["of"], bool(r["correct"])) for r in para_rows]),
        "paraphrase_consistency_strict": metrics.paraphrase_consistency(
            strict, [(r["of"], bool(r.get("strict_correct"))) for r in para_rows]),
        "paraphrase_n": len(para_rows),
        "paraphrase_accuracy": para["answer_accuracy"],
        "paraphrase_strict_accuracy": para["strict_accuracy"],
        "paraphrase_by_category": para["by_category"],
        "paraphrase_false_refusal_rate": para["false_refusal_rate"],
        "paraphrase_refusal_recall": para["refusal_recall"],
    }


def generalisation_gap(summary: dict[str, Any], other_dir: Path) -> dict[str, Any]:
    """Dev minus test, when this run and the compared one are the two splits of the same system."""
    other, _ = read_results(other_dir)
    if not other or {summary.get("split"), other.get("split")} != {"dev", "test"}:
        return {}
    dev, test = (summary, other) if summary.get("split") == "dev" else (other, summary)
    gap = {}
    for key in ("answer_accuracy", "strict_accuracy"):
        if dev.get(key) is not None and test.get(key) is not None:
            gap[key] = round(dev[key] - test[key], 4)
    return {"generalisation_gap": gap, "generalisation_gap_against": str(other_dir),
            "generalisation_gap_code": other.get("code")}


def _count(values: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))
