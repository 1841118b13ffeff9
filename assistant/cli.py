"""Command line: a thin layer over the Python API. Installed as the console script `kronoberg`;
`python -m assistant …` is the same program.

    kronoberg ingest                 build or update the index
    kronoberg ask "fråga" [--json]   answer one question
    kronoberg chat                   a conversation in the terminal
    kronoberg tables list|show|find|export
    kronoberg models                 prepare the embedded models (done by setup)
    kronoberg purge [--older-than D] delete feedback and conversation exports older than D days
    kronoberg passwd NAME [--stdin]  print a password hash for the app's login (`users`)
    kronoberg config                 check the settings; print what applies and where it came from

Settings are validated before anything runs: an invalid one stops the command with a Swedish
message naming it and where it came from (exit code 2). Logging is configured here, once.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import prompts
from .offline import enforce_offline
from .settings import Settings, SettingsError

PASSWORD_MIN_CHARS = 10


def _parser() -> argparse.ArgumentParser:
    swedish_argparse()
    parser = argparse.ArgumentParser(prog="kronoberg", description="Kronoberg-assistenten")
    parser.add_argument("--config", type=Path, help="TOML-fil med inställningar")
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser("ingest", help="bygg eller uppdatera indexet från corpus/")
    ingest.add_argument("--quiet", action="store_true", help="ingen förloppsindikator")

    ask = sub.add_parser("ask", help="ställ en fråga")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="skriv svaret som JSON")
    ask.add_argument("--history", type=Path, help='tidigare turer som JSON: [{"role": "user", "content": "…"}, …]')
    ask.add_argument("--mode", choices=("extractive", "local", "openai"))
    ask.add_argument("--document", action="append", help="begränsa till ett dokument (filnamn); kan upprepas")

    chat = sub.add_parser("chat", help="samtal i terminalen")
    chat.add_argument("--mode", choices=("extractive", "local", "openai"))

    tables = sub.add_parser("tables", help="tabellregistret: list, show, find, export")
    tables.add_argument("args", nargs=argparse.REMAINDER)

    sub.add_parser("models", help="förbered de inbäddade modellerna (inbäddning och lokal LLM)")

    purge = sub.add_parser("purge", help="ta bort omdömen och exporterade samtal som är äldre än gallringstiden")
    purge.add_argument("--older-than", type=float, metavar="DAGAR",
                       help="ta bort det som är äldre än så många dagar (standard: feedback_retention_days; "
                            "0 tar bort allt)")

    sub.add_parser("config", help="kontrollera inställningarna och visa vad som gäller och varifrån (hemligheter dolda)")

    passwd = sub.add_parser("passwd", help="skriv ut en lösenordshash för inloggningen (inställningen users)")
    passwd.add_argument("name", metavar="NAMN", help="användarnamnet")
    passwd.add_argument("--stdin", action="store_true",
                        help="läs lösenordet från standard in (en rad, utan bekräftelse), till exempel i ett skript")
    return parser


def main(argv: list[str] | None = None) -> int:
    enforce_offline()
    args = _parser().parse_args(argv)
    if args.command == "passwd":  # needs no settings: it is how broken users settings get fixed
        return _passwd(args)
    try:
        values, origins = Settings.gather(args.config, mode=getattr(args, "mode", None))
        settings = Settings.from_dict(values, origins)
    except SettingsError as exc:
        print(exc.message(), file=sys.stderr)
        return 2
    if args.command == "config":
        print("\n".join(settings.describe(origins)))
        return 0
    from .logs import configure_logging

    configure_logging(settings.log_level)
    handler = {"ingest": _ingest, "ask": _ask, "chat": _chat, "tables": _tables, "models": _models,
               "purge": _purge}[args.command]
    return handler(args, settings)


def _ingest(args, settings: Settings) -> int:
    from .embedding import make_embedder
    from .index import IndexError_, build_index
    from .vectorstore import VectorStoreError

    try:
        report = build_index(settings, make_embedder(settings), progress=not args.quiet,
                             log=lambda m: print(m, file=sys.stderr))
    except (IndexError_, VectorStoreError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Avbrutet; det tidigare indexet gäller fortfarande.", file=sys.stderr)
        return 130
    print(report.summary())
    return 0


def _tables(args, settings: Settings) -> int:
    from .tables.cli import tables_command

    return tables_command(args.args, settings.live_index / "tables.sqlite3")


def _models(args, settings: Settings) -> int:
    from .embedding import resolve_model_path
    from .llm import LLMUnavailable, ensure_local_gguf, local_llm_installed

    print(f"Inbäddningsmodell: {resolve_model_path(settings.embedding_model, settings.models_dir)}")
    if not local_llm_installed() and not settings.llm_model_path:
        # The default install has no LLM stack; only mode = "local" needs it.
        print("Lokal LLM: inte installerad (behövs bara för mode = \"local\"; installera med `make llm`)")
        return 0
    try:
        print(f"Lokal LLM: {ensure_local_gguf(settings)}")
    except LLMUnavailable as exc:
        print(f"Lokal LLM: {exc}", file=sys.stderr)
        return 1
    return 0


def _purge(args, settings: Settings) -> int:
    from .feedback import purge_expired

    if args.older_than is not None and args.older_than < 0:
        print("--older-than kan inte vara negativt.", file=sys.stderr)
        return 2
    report = purge_expired(settings, args.older_than)
    print(report.summary())
    return 0


def _passwd(args) -> int:
    """Ask for a password twice (or read one line from stdin) and print its scrypt hash as a line for the
    [users] table of kronoberg.toml; how to use it goes to stderr, so stdout can be appended to a file."""
    from getpass import getpass

    from .passwords import hash_password
    from .settings import valid_user_name

    name = args.name
    if not valid_user_name(name):
        print(prompts.USERS_BAD_NAME.format(n=1).capitalize() + ".", file=sys.stderr)
        return 2
    try:
        if args.stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = getpass(prompts.PASSWD_PROMPT.format(user=name))
            if password and getpass(prompts.PASSWD_AGAIN) != password:
                print(prompts.PASSWD_MISMATCH, file=sys.stderr)
                return 2
    except EOFError:
        password = ""
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    if not password:
        print(prompts.PASSWD_NO_INPUT, file=sys.stderr)
        return 2
    if len(password) < PASSWORD_MIN_CHARS:
        print(prompts.PASSWD_TOO_SHORT.format(n=PASSWORD_MIN_CHARS), file=sys.stderr)
        return 2
    stored = hash_password(password)
    print(f'"{name}" = "{stored}"')
    print(prompts.PASSWD_HOW.format(user=name, hash=stored), file=sys.stderr)
    return 0


def swedish_argparse() -> None:
    """argparse's own messages ("usage:", "invalid choice", …) in Swedish, for this CLI and app.py."""
    argparse._ = lambda text: prompts.ARGPARSE.get(text, text)  # argparse looks `_` up at call time


def _load_history(path: Path | None) -> list[dict[str, str]]:
    if path is None:
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, list) or not all(isinstance(t, dict) and "role" in t and "content" in t for t in data):
        raise ValueError('historiken ska vara en JSON-lista av {"role": "user"|"assistant", "content": "…"}')
    return data


def _ask(args, settings: Settings) -> int:
    from .chat import Assistant, AssistantUnavailable

    try:
        history = _load_history(args.history)
    except (OSError, ValueError) as exc:
        print(f"Historiken kan inte läsas: {exc}", file=sys.stderr)
        return 2
    try:
        assistant = Assistant.load(settings)
    except AssistantUnavailable as exc:
        print(str(exc), file=sys.stderr)
        return 1
    answer = assistant.ask(args.question, history, documents=args.document)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
    else:
        print(format_answer(answer))
    return 0


def format_answer(answer) -> str:
    lines = [answer.text]
    if answer.notice:
        lines.append(f"({answer.notice})")
    if answer.citations:
        lines.append("\nKällor:")
        for c in answer.citations:
            where = f"s. {c.page}" if c.page else f"rad {c.line_start}–{c.line_end}"
            lines.append(f"[{c.n}] {c.cite} ({c.kind_label}), {c.section or '–'}, {where}: \"{c.quote}\"")
    return "\n".join(lines)


def _chat(args, settings: Settings) -> int:
    from .chat import Assistant, AssistantUnavailable

    try:
        assistant = Assistant.load(settings)
    except AssistantUnavailable as exc:
        print(str(exc), file=sys.stderr)
        return 1
    history: list[dict[str, str]] = []
    print("Kronoberg-assistenten. Skriv en fråga; tom rad eller Ctrl-D avslutar.")
    while True:
        try:
            question = input("> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not question:
            return 0
        answer = assistant.ask(question, history)
        print(format_answer(answer) + "\n")
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.text}]
