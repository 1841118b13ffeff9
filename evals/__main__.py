"""Command line of the evaluation.

    python -m evals run [--split dev|tune|test|dev,tune,test] [--paraphrases] [--show-items]
                        [--questions PATH] [--mode extractive|local|openai] [--system assistant|baseline]
                        [--limit N] [--ids q001,q002] [--category C] [--out DIR] [--compare DIR]
    python -m evals report DIR [--compare DIR]      rewrite report.md and the chart from a run's files
    python -m evals bench [--out DIR] [--questions N] [--llm-questions N]
    python -m evals load [--conversations 8] [--turns 3] [--url URL] [--mode M] [--compare] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from assistant.offline import enforce_offline

from .runner import OUT_DIR, QUESTIONS, SEALED_SPLITS, SPLITS


def _fitting_commands(sub) -> None:
    """The commands that fit the engine to dev, its rewrites and tune: calibrate and finetune."""
    calibrate = sub.add_parser("calibrate", help="anpassa de kalibrerade modellerna på dev, omskrivningarna och tune")
    calibrate.add_argument("--out", type=Path, default=OUT_DIR / "calibration")
    calibrate.add_argument("--quiet", action="store_true")
    calibrate.add_argument("--reuse", action="store_true", help="anpassa på en tidigare körnings signals.jsonl")
    calibrate.add_argument("--dev-only", action="store_true",
                           help="anpassa på de 214 dev-frågorna utan omskrivningar, som då prövar anpassningen")
    calibrate.add_argument("--fit-on", help="frågemängder att anpassa på, kommaseparerade bland dev, paraphrases, tune "
                                            "(standard: alla tre); de övriga prövar anpassningen")

    finetune = sub.add_parser("finetune", help="träna inbäddningsmodellens adapter på dev, omskrivningar, tune och synonymer")
    finetune.add_argument("--out", type=Path, required=True, help="adapterns .npz (bredvid den skrivs en .json)")
    finetune.add_argument("--fit-on", default="dev,paraphrases,tune,syn",
                          help="kommaseparerade bland dev, paraphrases, tune, syn; de övriga frågemängderna prövar")
    finetune.add_argument("--evaluate", action="store_true",
                          help="mät de utelämnade mängdernas rang före och efter (bäddar in alla enheter två gånger)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m evals", description="Utvärdering av Kronoberg-assistenten")
    parser.add_argument("--config", type=Path, help="TOML-fil med inställningar")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="kör frågorna och skriv results.jsonl, summary.json, report.md och diagram")
    run.add_argument("--split", default="dev",
                     help="dev (standard), tune (oberoende skrivna, för inställning), test (förseglad: bara summor sparas och visas), kommaseparerade")
    run.add_argument("--paraphrases", action="store_true",
                     help="kör också omskrivningarna av dev-frågorna och mät paraphrase_consistency")
    run.add_argument("--show-items", action="store_true",
                     help="spara och visa testdelens enskilda frågor (bryter förseglingen: skriv sedan en ny testdel)")
    run.add_argument("--questions", type=Path, help="en egen frågefil i stället för --split")
    run.add_argument("--mode", choices=("extractive", "local", "openai"), help="ersätter inställningarnas läge")
    run.add_argument("--system", choices=("assistant", "baseline"), default="assistant",
                     help="assistenten eller llama-index-baslinjen (VectorStoreIndex, top-k 2)")
    run.add_argument("--limit", type=int, help="högst N frågor, kategorierna i tur och ordning")
    run.add_argument("--ids", help="bara dessa frågor (kommaseparerade id)")
    run.add_argument("--category", action="append", help="bara denna kategori; kan upprepas")
    run.add_argument("--out", type=Path, help="utkatalog (standard evals/out/<läge> eller evals/out/baseline)")
    run.add_argument("--compare", type=Path,
                     help="en annan körnings katalog att visa sida vid sida (standard: evals/out/baseline om den finns)")
    run.add_argument("--no-compare", action="store_true", help="ingen jämförelse i rapporten")
    run.add_argument("--baseline-llm", choices=("auto", "llamacpp", "adapter"), default="auto",
                     help="baslinjens LLM: llama-index-llms-llama-cpp, eller vår LocalLlamaCpp bakom en CustomLLM")
    run.add_argument("--quiet", action="store_true", help="ingen förloppsindikator")

    report = sub.add_parser("report", help="skriv om report.md och diagrammet ur en körnings filer")
    report.add_argument("dir", type=Path)
    report.add_argument("--compare", type=Path)
    report.add_argument("--rescore", action="store_true",
                        help="räkna om rätt/fel ur de sparade svaren mot frågefilen (t.ex. efter ändrade must_contain)")
    report.add_argument("--questions", type=Path, default=QUESTIONS)

    bench = sub.add_parser("bench", help="mät inläsning, inbäddning, svarstider och minne")
    bench.add_argument("--out", type=Path, default=OUT_DIR / "bench")
    bench.add_argument("--questions", type=Path, default=QUESTIONS)
    bench.add_argument("--n-questions", type=int, default=30, help="frågor i extraktivt läge")
    bench.add_argument("--llm-questions", type=int, default=5, help="frågor med lokal LLM (0 hoppar över)")
    bench.add_argument("--in-process", action="store_true", help="allt i en process (inget minne per läge)")

    _fitting_commands(sub)

    from .load import add_arguments as load_arguments

    load = sub.add_parser("load", help="lasttest: många samtidiga samtal genom API:t /ask")
    load_arguments(load)

    part = sub.add_parser("bench-part", help=argparse.SUPPRESS)
    part.add_argument("part", choices=("ingest", "extractive", "local"))
    part.add_argument("--index-dir", type=Path, required=True)
    part.add_argument("--json-out", type=Path, required=True)
    part.add_argument("--questions", type=Path, default=QUESTIONS)
    part.add_argument("--n", type=int, default=30)
    return parser


def main(argv: list[str] | None = None) -> int:
    enforce_offline()
    args = _parser().parse_args(argv)
    from assistant.logs import configure_logging
    from assistant.settings import Settings, SettingsError

    try:
        settings = Settings.load(args.config, mode=getattr(args, "mode", None))
    except SettingsError as exc:
        print(exc.message(), file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    if args.command == "run":
        return _run(args, settings)
    if args.command == "report":
        return _report(args)
    if args.command == "calibrate":
        from . import calibrate

        return calibrate.main(settings, args)
    if args.command == "finetune":
        from . import finetune

        return finetune.main(settings, args)
    if args.command == "load":
        from . import load

        return load.main(args, args.config)
    from . import bench

    if args.command == "bench":
        return bench.main(settings, args)
    return bench.part_main(settings, args)


def _run(args, settings) -> int:
    splits = [s.strip() for s in args.split.split(",") if s.strip()]
    unknown = [s for s in splits if s not in SPLITS]
    if unknown or not splits:
        print(f"Okänd del --split {args.split!r}; välj bland {', '.join(SPLITS)} (kommaseparerade).", file=sys.stderr)
        return 2
    if args.questions:
        splits = ["custom"]
    if args.paraphrases and "dev" not in splits:
        print("--paraphrases skriver om dev-frågorna och kräver --split dev.", file=sys.stderr)
        return 2
    try:
        system = _system(args, settings)
    except Exception as exc:  # AssistantUnavailable, a missing index, a missing model
        print(f"Kan inte starta {args.system}: {exc}", file=sys.stderr)
        return 1
    # dev first, so that the test run can be reported beside it (and the gap computed)
    outs: dict[str, Path] = {}
    for split in sorted(splits, key=lambda s: s != "dev"):
        code = _run_split(args, settings, system, split, outs)
        if code:
            return code
    if "dev" in outs and "test" in outs:  # the dev summary learns the gap too, now that test has run
        from .report import write_report
        from .results import read_results
        from .runner import generalisation_gap

        summary, rows = read_results(outs["dev"])
        summary.update(generalisation_gap(summary, outs["test"]))
        (outs["dev"] / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n",
                                                  encoding="utf-8")
        write_report(outs["dev"], summary, rows, outs["test"])
    return 0


def _run_split(args, settings, system, split: str, outs: dict[str, Path]) -> int:
    from .runner import load_paraphrases, load_questions, run, select

    path = args.questions or SPLITS[split]
    if not path.is_file():
        print(f"Frågefilen {path} finns inte.", file=sys.stderr)
        return 1
    questions = select(load_questions(path), args.limit,
                       ids=args.ids.split(",") if args.ids else None, categories=args.category)
    if not questions:
        print("Inga frågor att köra.", file=sys.stderr)
        return 1
    sealed = split in SEALED_SPLITS and not args.show_items
    paraphrases = None
    if args.paraphrases and split == "dev":
        chosen = {q["id"] for q in questions}
        paraphrases = [p for p in load_paraphrases(originals=questions) if p["of"] in chosen]
    name = f"{split}-baseline" if args.system == "baseline" else f"{split}-{settings.mode}"
    out = args.out / split if args.out and len(args.split.split(",")) > 1 else (args.out or OUT_DIR / name)
    compare = args.compare
    if compare is None and "dev" in outs and split == "test":
        compare = outs["dev"]
    if args.no_compare:
        compare = None
    extra = {
        "split": split,
        "code": _git_state(),
        "questions": str(path),
        "limit": args.limit,
        "ids": None if sealed else ([q["id"] for q in questions] if args.limit or args.ids or args.category else None),
        "settings": {"embedding_model": settings.embedding_model, "top_k": settings.top_k,
                     "llm_max_tokens": settings.llm_max_tokens, "index": str(settings.live_index.resolve())},
    }
    if args.system == "baseline":
        extra.update({"baseline": system.llm_kind, "baseline_top_k": 2, "baseline_index_build_s": round(system.build_s, 1)})
    summary = run(system, questions, out, progress=not args.quiet, compare_dir=compare, extra=extra,
                  sealed=sealed, paraphrases=paraphrases)
    outs[split] = out
    print(_headline(summary, out))
    return 0


def _git_state() -> str:
    """The commit the answers came from, '+changes' when the work tree differs from it."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "assistant"], cwd=root, capture_output=True,
                               text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return commit + ("+changes" if dirty else "") if commit else ""


def _system(args, settings):
    if args.system == "baseline":
        from .baseline import BaselineSystem

        print("Bygger baslinjens VectorStoreIndex (bäddar in alla delar)…", file=sys.stderr)
        return BaselineSystem(settings, prefer_llm=args.baseline_llm, progress=not args.quiet,
                              cache_path=OUT_DIR / "baseline-embeddings.json")
    from assistant.chat import Assistant

    from .runner import AssistantSystem

    return AssistantSystem(Assistant.load(settings), settings.mode)


def _headline(summary: dict, out: Path) -> str:
    def pct(key):
        v = summary.get(key)
        return "–" if v is None else f"{100 * v:.1f} %"

    cats = ", ".join(f"{c} {pct_v}" for c, pct_v in
                     ((c, "–" if v is None else f"{100 * v:.0f} %") for c, v in summary["by_category"].items()))
    decisions = ", ".join(f"{rule} {d['n']}" for rule, d in (summary.get("decisions") or {}).items())
    return (f"{summary.get('split', '')} {summary['system']}/{summary['mode']}: {summary['n']} frågor, rätt {pct('answer_accuracy')} "
            f"(retrieval@5 {pct('retrieval_recall_at_5')}, citat {pct('citation_hit_rate')}, "
            f"avböjer obesvarbara {pct('refusal_recall')}, avböjer besvarbara {pct('false_refusal_rate')}, "
            f"p50 {summary['latency_p50_s']} s, p95 {summary['latency_p95_s']} s, fel {summary['errors']})\n"
            f"strikt rätt {pct('strict_accuracy')} (inklistrad tabell/URL {pct('dump_rate')})"
            + (f", omskrivningar: rätt {pct('paraphrase_accuracy')}, samma utslag {pct('paraphrase_consistency')}"
               if summary.get("paraphrase_n") else "")
            + (f", gap dev−test {summary['generalisation_gap']}" if summary.get("generalisation_gap") else "")
            + f"\nper kategori: {cats}"
            + (f"\nbeslut: {decisions}" if decisions else "")
            + f"\nfiler i {out}/")


def _report(args) -> int:
    from .report import write_report
    from .results import read_results

    summary, rows = read_results(args.dir)
    if summary is None:
        print(f"Ingen summary.json i {args.dir}.", file=sys.stderr)
        return 1
    if args.rescore:
        import json

        from .metrics import summarise
        from .runner import load_questions, score

        questions = {q["id"]: q for q in load_questions(args.questions)}
        if summary.get("system") == "baseline":  # its refusals are read from the text: read them again
            from .metrics import looks_like_refusal

            for r in rows:
                if r.get("answer"):
                    r["answer"]["refused"] = looks_like_refusal(r["answer"]["answer"])
        rows = [score(questions[r["id"]], r["answer"], r["seconds"], r.get("error", "")) for r in rows
                if r["id"] in questions]
        kept = {k: v for k, v in summary.items() if k not in summarise([], "-")}
        summary = summarise(rows, summary["mode"], summary["system"], extra=kept)
        with (args.dir / "results.jsonl").open("w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        (args.dir / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n",
                                               encoding="utf-8")
    path = write_report(args.dir, summary, rows, args.compare)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
