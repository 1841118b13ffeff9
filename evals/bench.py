"""`python -m evals bench`: how fast and how big, written to DIR/bench.json and DIR/bench.md.

Each part runs in its own subprocess so that its peak memory (ru_maxrss) is its own:
    ingest      a full build into a temporary index directory, a re-ingest with nothing changed,
                chunks per second, and query embedding latency (median of 50)
    extractive  answer latency p50/p95 and time to first event on ~30 questions
    local       the local LLM on a few questions (`--llm-questions`): time to the extractive draft,
                time to the first generated token, total time
The index built by the ingest part is the one the other parts answer from, then it is removed.
Not a timed test: figures depend on the machine (2 cores, no GPU here).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from . import metrics
from .runner import load_questions, select

QUERY_EMBEDDINGS = 50


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def _stats(values: list[float]) -> dict[str, float | None]:
    return {"p50": _r(metrics.percentile(values, 50)), "p95": _r(metrics.percentile(values, 95)),
            "max": _r(max(values) if values else None), "n": len(values)}


def _r(v: float | None, digits: int = 3) -> float | None:
    return None if v is None else round(v, digits)


# --- parts (each in its own process) --------------------------------------------------------

def part_ingest(settings, questions: list[dict[str, Any]]) -> dict[str, Any]:
    from assistant.embedding import make_embedder
    from assistant.index import build_index

    t = time.perf_counter()
    embedder = make_embedder(settings)
    embedder.embed_queries(["uppvärmning"])
    load_s = time.perf_counter() - t
    full = build_index(settings, embedder, progress=False, log=lambda m: None)
    again = build_index(settings, embedder, progress=False, log=lambda m: None)
    texts = [q["question"] for q in questions] or ["Vad är målvärdet för sjukfrånvaro 2028?"]
    timings = []
    for i in range(QUERY_EMBEDDINGS):
        t = time.perf_counter()
        embedder.embed_queries([texts[i % len(texts)]])
        timings.append(time.perf_counter() - t)
    return {
        "embedding_model_load_s": _r(load_s),
        "full_build_s": _r(full.seconds),
        "documents": full.documents,
        "chunks": full.chunks,
        "tables": full.tables,
        "cells": full.cells,
        "chunks_per_s": _r(full.chunks / full.seconds if full.seconds else None, 1),
        "reingest_unchanged_s": _r(again.seconds),
        "reingest_was_noop": again.unchanged,
        "query_embedding_median_ms": _r(1000 * statistics.median(timings), 1),
        "query_embedding_p95_ms": _r(1000 * metrics.percentile(timings, 95), 1),
        "peak_rss_mb": peak_rss_mb(),
    }


def _timed_stream(assistant, item: dict[str, Any], mode: str) -> dict[str, Any]:
    started = time.perf_counter()
    first = draft = first_delta = None
    final = None
    chars = 0
    for event in assistant.ask_stream(item["question"], item.get("history") or [], mode=mode):
        now = time.perf_counter() - started
        first = first if first is not None else now
        if event.kind == "draft" and draft is None:
            draft = now
        elif event.kind == "delta":
            first_delta = first_delta if first_delta is not None else now
            chars += len(event.text)
        elif event.kind == "final":
            final = event.answer
    total = time.perf_counter() - started
    return {"id": item["id"], "total_s": _r(total), "first_event_s": _r(first), "draft_s": _r(draft),
            "first_token_s": _r(first_delta), "generated_chars": chars,
            "answer_mode": final.mode if final else None, "verification": final.verification if final else None,
            "correct": metrics.is_correct(item, final.text, final.refused) if final else False}


def part_answers(settings, questions: list[dict[str, Any]], mode: str) -> dict[str, Any]:
    from assistant.chat import Assistant

    t = time.perf_counter()
    assistant = Assistant.load(settings.with_(mode=mode))
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    if mode == "local" and assistant.llm is not None:
        assistant.warm_up_llm()  # loads the model and caches the system prompt, as the app does at start
    else:
        assistant.ask("Vad är målvärdet för sjukfrånvaro 2028?")  # loads the embedding model
    warm_s = time.perf_counter() - t
    rows = [_timed_stream(assistant, item, mode) for item in questions]
    result = {
        "mode": mode,
        "assistant_load_s": _r(load_s),
        "warm_up_s": _r(warm_s),
        "n": len(rows),
        "answer_s": _stats([r["total_s"] for r in rows]),
        # Extractive answers arrive in one event, so their first event is the whole answer.
        "time_to_first_event_s": _stats([r["first_event_s"] for r in rows if r["first_event_s"] is not None]),
        "correct": sum(r["correct"] for r in rows),
        "peak_rss_mb": peak_rss_mb(),
        "questions": rows,
    }
    if mode != "extractive":
        result["time_to_draft_s"] = _stats([r["draft_s"] for r in rows if r["draft_s"] is not None])
        result["time_to_first_token_s"] = _stats([r["first_token_s"] for r in rows if r["first_token_s"] is not None])
        result["llm_used"] = sum(1 for r in rows if r["first_token_s"] is not None)
    return result


def part_main(settings, args) -> int:
    """`python -m evals bench-part PART`: one part, its result as JSON in --json-out."""
    settings = settings.with_(index_dir=args.index_dir)
    questions = load_questions(args.questions)
    if args.part == "ingest":
        result = part_ingest(settings, questions)
    elif args.part == "extractive":
        result = part_answers(settings, select(questions, args.n), "extractive")
    else:
        answerable = [q for q in questions if not metrics.is_unanswerable(q)]
        result = part_answers(settings, select(answerable, args.n), "local")
    args.json_out.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


# --- orchestration --------------------------------------------------------------------------

def main(settings, args) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="kronoberg-bench-"))
    index_dir = tmp / "index"
    parts = [("ingest", 0), ("extractive", args.n_questions)]
    if args.llm_questions > 0:
        parts.append(("local", args.llm_questions))
    results: dict[str, Any] = {}
    started = time.time()
    load_before = [round(x, 2) for x in os.getloadavg()]
    try:
        for part, n in parts:
            print(f"bench: {part}…", file=sys.stderr, flush=True)
            t = time.perf_counter()
            try:
                results[part] = _run_part(settings, args, part, n, index_dir, tmp)
            except Exception as exc:
                results[part] = {"error": f"{type(exc).__name__}: {exc}"}
            results[part]["wall_s"] = _r(time.perf_counter() - t, 1)
            if part == "ingest" and "error" in results[part]:
                break  # nothing to answer from
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report = {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    # Other work on the machine skews every figure (2 torch threads on 2 busy cores: ~15x).
                    "load_average_before": load_before, "load_average_after": [round(x, 2) for x in os.getloadavg()]},
        "settings": {"embedding_model": settings.embedding_model, "llm_threads": settings.llm_threads,
                     "llm_batch_threads": settings.llm_batch_threads,
                     "llm_max_tokens": settings.llm_max_tokens, "top_k": settings.top_k},
        "subprocesses": not args.in_process,
        **results,
    }
    if args.in_process:
        report["peak_rss_mb_all_in_one"] = peak_rss_mb()
    (out / "bench.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (out / "bench.md").write_text(markdown(report), encoding="utf-8")
    print(markdown(report))
    print(f"filer i {out}/")
    return 0 if all("error" not in results.get(p, {}) for p, _ in parts) else 1


def _run_part(settings, args, part: str, n: int, index_dir: Path, tmp: Path) -> dict[str, Any]:
    if args.in_process:
        ns = type("A", (), {"part": part, "index_dir": index_dir, "json_out": tmp / f"{part}.json",
                            "questions": args.questions, "n": n})
        part_main(settings, ns)
    else:
        command = [sys.executable, "-m", "evals"]
        if args.config:
            command += ["--config", str(args.config)]
        command += ["bench-part", part, "--index-dir", str(index_dir), "--json-out", str(tmp / f"{part}.json"),
                    "--questions", str(args.questions), "--n", str(n)]
        done = subprocess.run(command, cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"bench-part {part} avslutades med {done.returncode}: {done.stderr.strip()[-2000:]}")
    return json.loads((tmp / f"{part}.json").read_text(encoding="utf-8"))


def markdown(report: dict[str, Any]) -> str:
    def v(x, unit=""):
        return "–" if x is None else f"{x}{unit}"

    m = report["machine"]
    lines = ["# Prestanda (python -m evals bench)", "",
             f"Körd {report['started_at']} på {m['cpus']} kärnor, Python {m['python']}, {m['platform']}. "
             f"Inbäddning `{report['settings']['embedding_model']}`, LLM-trådar {report['settings']['llm_threads']} "
             f"(promptläsning {report['settings'].get('llm_batch_threads', '–')}). "
             + ("Varje del i egen process (minnet är delens eget)." if report["subprocesses"] else "Allt i en process.")
             + (f" Maskinens last (1/5/15 min) före {m['load_average_before']}, efter {m['load_average_after']}: "
                "annan last på maskinen gör alla tider längre." if "load_average_before" in m else ""),
             ""]
    ing = report.get("ingest", {})
    lines += ["## Inläsning", ""]
    if "error" in ing:
        lines.append(f"Fel: {ing['error']}")
    else:
        lines += ["| mått | värde |", "|---|---:|",
                  f"| full byggnad till tom katalog | {v(ing.get('full_build_s'), ' s')} |",
                  f"| dokument / delar / tabeller / celler | {ing.get('documents')} / {ing.get('chunks')} / "
                  f"{ing.get('tables')} / {ing.get('cells')} |",
                  f"| delar per sekund (full byggnad) | {v(ing.get('chunks_per_s'))} |",
                  f"| ny inläsning utan ändringar | {v(ing.get('reingest_unchanged_s'), ' s')} "
                  f"({'inget byggdes om' if ing.get('reingest_was_noop') else 'byggdes om!'}) |",
                  f"| laddning av inbäddningsmodellen | {v(ing.get('embedding_model_load_s'), ' s')} |",
                  f"| inbäddning av en fråga, median av {QUERY_EMBEDDINGS} | {v(ing.get('query_embedding_median_ms'), ' ms')} |",
                  f"| inbäddning av en fråga, p95 | {v(ing.get('query_embedding_p95_ms'), ' ms')} |",
                  f"| toppminne (ru_maxrss) | {v(ing.get('peak_rss_mb'), ' MB')} |"]
    lines += ["", "## Svar per läge", "",
              "| läge | frågor | rätt | svar p50 | svar p95 | första händelse p50 | utkast p50 | första token p50 | "
              "första token p95 | uppstart | toppminne |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for mode in ("extractive", "local"):
        r = report.get(mode)
        if not r:
            continue
        if "error" in r:
            lines.append(f"| {mode} | fel: {r['error'][:200]} |||||||||")
            continue
        draft = r.get("time_to_draft_s", {})
        tok = r.get("time_to_first_token_s", {})
        lines.append(
            f"| {mode} | {r['n']} | {r['correct']} | {v(r['answer_s']['p50'], ' s')} | {v(r['answer_s']['p95'], ' s')} | "
            f"{v(r['time_to_first_event_s']['p50'], ' s')} | {v(draft.get('p50'), ' s')} | {v(tok.get('p50'), ' s')} | "
            f"{v(tok.get('p95'), ' s')} | {v(r['assistant_load_s'], ' s')} + {v(r['warm_up_s'], ' s')} | "
            f"{v(r['peak_rss_mb'], ' MB')} |")
    if report.get("local") and "error" not in report["local"]:
        r = report["local"]
        lines += ["", f"Lokal LLM: modellen användes på {r.get('llm_used')} av {r['n']} frågor (de övriga avböjdes "
                      "redan i utkastet). Uppstart = Assistant.load + första anropet (laddar GGUF-modellen)."]
    if "peak_rss_mb_all_in_one" in report:
        lines += ["", f"Toppminne, allt i en process: {report['peak_rss_mb_all_in_one']} MB"]
    return "\n".join(lines) + "\n"
