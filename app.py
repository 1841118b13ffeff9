"""Start the web app: `python app.py [--host H] [--port P] [--mode extractive|local|openai] [--config FIL]`,
installed as the console script `kronoberg-app`.

Serves on localhost by default; login is on when the settings name users. Nothing leaves the
machine: no share link, no analytics. The UI itself is built in assistant/web/. Invalid settings
stop the start with a Swedish message naming each (exit code 2); logging is configured here, once.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from assistant.offline import enforce_offline

enforce_offline()  # before gradio, chromadb or sentence-transformers are imported


def _parser() -> argparse.ArgumentParser:
    from assistant.cli import swedish_argparse

    swedish_argparse()
    parser = argparse.ArgumentParser(prog="kronoberg-app", description="Kronoberg-assistenten i webbläsaren")
    parser.add_argument("--host", help="adress att lyssna på (standard 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (standard 7860)")
    parser.add_argument("--mode", choices=("extractive", "local", "openai"), help="svarsläge")
    parser.add_argument("--config", type=Path, help="TOML-fil med inställningar")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from assistant.settings import Settings, SettingsError

    try:
        settings = Settings.load(args.config, host=args.host, port=args.port, mode=args.mode)
    except SettingsError as exc:
        print(exc.message(), file=sys.stderr)
        return 2
    from assistant.logs import configure_logging

    configure_logging(settings.log_level)

    from assistant.chat import Assistant
    from assistant.web.app import build_app, launch_options

    def factory(mode: str | None = None) -> Assistant:
        return Assistant.load(settings.with_(mode=mode) if mode else settings)

    demo = build_app(factory, settings)  # also purges feedback and exports past the retention
    login = "på" if settings.users else "av"
    print(f"Kronoberg-assistenten: http://{settings.host}:{settings.port}/ (läge {settings.mode}, inloggning {login})")
    print(demo.purge_report.summary())
    if not settings.users and settings.host not in LOOPBACK:
        from assistant import prompts

        print(prompts.OPEN_WITHOUT_LOGIN.format(host=settings.host), file=sys.stderr)
    # SIGTERM (systemd, docker stop, kill) stops the server like Ctrl-C, so that Gradio deletes its cached
    # copies of exported conversations and this process's export folder is removed.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        demo.queue(default_concurrency_limit=4).launch(**launch_options(settings))
    except KeyboardInterrupt:  # stopped while still starting; once serving, launch() handles it itself
        demo.close()
    return 0


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
