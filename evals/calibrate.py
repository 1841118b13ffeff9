"""Fits the calibrated models of `assistant/calibration.py` on the dev split, its rewrites and the
tune split.

    python -m evals calibrate [--out evals/out/calibration] [--fit-on dev,paraphrases,tune]

Every candidate the assistant considers (table cells, sentences) is logged with its signals and
labelled against the gold of its question: a cell is right when it stands in a gold document and
holds a value a `must_contain` pattern matches; a sentence is right when it holds a gold quote or
lies inside one. Each model is a logistic regression over its signals. The answer thresholds are
then chosen by replaying the decision (cell, else sentence, else refusal) on every question and
counting right answers and right refusals. A set left out of `--fit-on` is held out: its replayed
share right judges the fit. The test split is never read.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from . import metrics

MIN_INSIDE_CHARS = 20  # a sentence this long that lies inside a gold quote is that quote's sentence


def label_cell(item: dict[str, Any], hit) -> bool:
    files = {s["file"] for s in item.get("sources") or []}
    if metrics.is_unanswerable(item) or hit.info.source_file not in files:
        return False
    text = hit.cell.value_text
    return any(re.search(p, text, re.IGNORECASE) for p in item.get("must_contain") or [])


def label_sentence(item: dict[str, Any], ev) -> bool:
    """A gold quote in the sentence or the sentence inside one, or (a quote may span a list intro and
    its item) a sentence that every `must_contain` pattern matches, as the scorer will read it."""
    if metrics.is_unanswerable(item):
        return False
    # what the scorer will count: every pattern in the text (the answer names its document anyway)
    if item.get("must_contain") and not metrics.missing_patterns(item, ev.text):
        return True
    own = metrics.normalise(ev.text)
    for source in item.get("sources") or []:
        if source["file"] != ev.info.source_file:
            continue
        quote = metrics.normalise(source["quote"])
        if quote and (quote in own or (len(own) >= MIN_INSIDE_CHARS and own in quote)):
            return True
    return False


def collect(assistant, items: list[dict[str, Any]], progress: bool = True) -> list[dict[str, Any]]:
    """One row per question: its candidates' signals and labels."""
    from tqdm import tqdm

    rows = []
    for item in tqdm(items, desc="kalibrering", unit="fråga", disable=not progress):
        assistant.signal_log = []
        try:
            assistant.ask(item["question"], item.get("history") or [])
        finally:
            log, assistant.signal_log = assistant.signal_log, None
        candidates = []
        for kind, signals, candidate in log:
            label = label_cell(item, candidate) if kind == "cell" else label_sentence(item, candidate)
            text = (f"{candidate.cell.row} | {candidate.cell.column} | {candidate.cell.value_text}" if kind == "cell"
                    else candidate.text)
            candidates.append({"kind": kind, "signals": signals, "label": label, "text": text[:300],
                               "file": candidate.info.source_file})
        rows.append({"id": item["id"], "category": item["category"],
                     "answerable": not metrics.is_unanswerable(item), "candidates": candidates})
    return rows


def fit(rows: list[dict[str, Any]], kind: str, names: tuple[str, ...]):
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    x = [[c["signals"][n] for n in names] for r in rows for c in r["candidates"] if c["kind"] == kind]
    y = [c["label"] for r in rows for c in r["candidates"] if c["kind"] == kind]
    if not x or len(set(y)) < 2:
        raise ValueError(f"för lite data för {kind}: {len(x)} kandidater, {sum(y)} rätt")
    x = np.array(x, dtype=float)
    # standardised, so that the penalty does not shrink a signal for having a narrow range (cosines
    # differ by hundredths); the weights are turned back into weights of the raw signals
    mean, sd = x.mean(axis=0), x.std(axis=0)
    sd[sd == 0] = 1.0
    model = LogisticRegression(C=1.0, max_iter=1000).fit((x - mean) / sd, np.array(y))
    weights = model.coef_[0] / sd
    bias = model.intercept_[0] - float((model.coef_[0] * mean / sd).sum())
    return tuple(round(float(w), 3) for w in weights), round(float(bias), 3), len(x), int(sum(y))


# What a wrong answer costs against a right one (+1) and a refusal of an answerable question (0):
# a product choice. An invented value misleads a politician; a refusal with the nearest passages
# does not. At 0.5 the replay refused half of the answerable dev rewrites; 0.25 keeps refusals for
# evidence that is really weak.
WRONG_ANSWER_COST = 0.25


def replay(rows: list[dict[str, Any]], cell_model, sentence_model, cell_p: float, sentence_p: float) -> float:
    """The utility of answering with the best cell at `cell_p`, else the best sentence at
    `sentence_p`, else refusing: right answers and right refusals count 1, wrong answers cost
    WRONG_ANSWER_COST."""
    right = 0.0
    for r in rows:
        best = {}
        for kind, model in (("cell", cell_model), ("sentence", sentence_model)):
            scored = [(model.probability(**c["signals"]), c["label"]) for c in r["candidates"] if c["kind"] == kind]
            best[kind] = max(scored, default=(0.0, False))
        if best["cell"][0] >= cell_p:
            right += 1.0 if best["cell"][1] else -WRONG_ANSWER_COST
        elif best["sentence"][0] >= sentence_p:
            right += 1.0 if best["sentence"][1] else -WRONG_ANSWER_COST
        else:
            right += not r["answerable"]
    return right


SETS = ("dev", "paraphrases", "tune")


def set_of(question_id: str) -> str:
    """Which question set an id belongs to: q001 dev, q001-p1 its rewrite, anything else tune."""
    if question_id.startswith("q"):
        return "paraphrases" if "-p" in question_id else "dev"
    return "tune"


def _items(sets: tuple[str, ...]) -> list[dict[str, Any]]:
    from .runner import QUESTIONS, TUNE_QUESTIONS, load_paraphrases, load_questions

    dev = load_questions(QUESTIONS)
    items = dev + load_paraphrases(originals=dev)
    if TUNE_QUESTIONS.is_file():
        items += load_questions(TUNE_QUESTIONS)
    return [item for item in items if set_of(item["id"]) in sets]


def fit_sets(args) -> tuple[str, ...]:
    if getattr(args, "dev_only", False):
        return ("dev",)
    chosen = tuple(s.strip() for s in (getattr(args, "fit_on", None) or ",".join(SETS)).split(",") if s.strip())
    unknown = [s for s in chosen if s not in SETS]
    if unknown or not chosen:
        raise ValueError(f"--fit-on: okänd frågemängd {unknown or chosen}; välj bland {', '.join(SETS)}")
    return chosen


def replay_right(rows: list[dict[str, Any]], cell_model, sentence_model, cell_p: float, sentence_p: float) -> int:
    """How many questions the replayed decision gets right (answers and refusals), wrong ones costing nothing."""
    return sum(replay([r], cell_model, sentence_model, cell_p, sentence_p) > 0 for r in rows)


def main(settings, args) -> int:
    from assistant.calibration import CELL_SIGNALS, SENTENCE_SIGNALS, Model
    from assistant.chat import Assistant

    try:
        fitted_on = fit_sets(args)
    except ValueError as exc:
        print(exc)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.reuse and (out / "signals.jsonl").is_file():
        rows = [json.loads(line) for line in (out / "signals.jsonl").read_text(encoding="utf-8").splitlines()]
    else:  # every set is collected, so that a set left out of the fit can judge it
        rows = collect(Assistant.load(settings), _items(SETS), progress=not args.quiet)
        (out / "signals.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                           encoding="utf-8")
    by_set = {name: [r for r in rows if set_of(r["id"]) == name] for name in SETS}
    fit_rows = [r for name in fitted_on for r in by_set[name]]
    cw, cb, cn, cpos = fit(fit_rows, "cell", CELL_SIGNALS)
    sw, sb, sn, spos = fit(fit_rows, "sentence", SENTENCE_SIGNALS)
    label = "+".join(fitted_on)
    cell, sentence = Model(CELL_SIGNALS, cw, cb, label), Model(SENTENCE_SIGNALS, sw, sb, label)
    grid = [round(0.025 * k, 3) for k in range(1, 40)]
    best = max(((replay(fit_rows, cell, sentence, cp, sp), cp, sp) for cp in grid for sp in grid),
               key=lambda t: (t[0], -abs(t[1] - 0.5) - abs(t[2] - 0.5)))
    # the replayed share right per set: a set outside the fit is held out and judges it
    per_set = {name: {"questions": len(part), "fitted": name in fitted_on,
                      "replay_right": round(replay_right(part, cell, sentence, best[1], best[2]) / len(part), 3)}
               for name, part in by_set.items() if part}
    result = {"questions": len(fit_rows), "fitted_on": label, "cell": {"weights": cw, "bias": cb, "candidates": cn, "right": cpos},
              "sentence": {"weights": sw, "bias": sb, "candidates": sn, "right": spos},
              "cell_answer_p": best[1], "sentence_answer_p": best[2], "replay_utility": best[0],
              "wrong_answer_cost": WRONG_ANSWER_COST, "sets": per_set}
    (out / "calibration.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0
