"""The console scripts from a fresh (non-editable) install: `kronoberg …` and `kronoberg-app`.

The project is copied, built and installed with pip into a new directory (no dependencies: they are
this venv's), and the scripts pip wrote there are run from an empty working directory, so nothing of
the checkout is used: not its modules, not its corpus or index.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.settings import PROJECT_ROOT

SOURCES = ("pyproject.toml", "README.md", "app.py", "assistant", "evals")


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("install")
    source = root / "source"
    source.mkdir()
    for name in SOURCES:
        path = PROJECT_ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "out", "*.pyc"))
        else:
            shutil.copy(path, source / name)
    target = root / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
                           "--disable-pip-version-check", "--quiet", "--target", str(target), str(source)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    env = {k: v for k, v in os.environ.items() if not k.startswith("KRONOBERG_")}
    env["PYTHONPATH"] = str(target)  # before the venv's site-packages (and its editable finder)
    return target, env


def _run(installed, args: list[str], cwd: Path, stdin: str = "", **env) -> subprocess.CompletedProcess:
    target, base = installed
    return subprocess.run(args, cwd=cwd, env={**base, **env}, input=stdin, capture_output=True, text=True,
                          timeout=300)


def test_console_scripts_from_a_fresh_install(installed, tmp_path):
    target, _ = installed
    bin_dir = target / "bin"
    assert (bin_dir / "kronoberg").is_file() and (bin_dir / "kronoberg-app").is_file()

    # every subpackage is installed, not only found in the checkout: the app imports them all
    where = _run(installed, [sys.executable, "-c", "import assistant, app, assistant.chat, assistant.tables, "
                             "assistant.web.app; print(assistant.__file__); print(app.__file__); "
                             "print(assistant.tables.__file__)"], tmp_path)
    assert where.returncode == 0 and all(line.startswith(str(target)) for line in where.stdout.split()), where.stdout

    usage = _run(installed, [str(bin_dir / "kronoberg"), "--help"], tmp_path)
    assert usage.returncode == 0 and usage.stdout.startswith("användning: kronoberg")
    for command in ("ingest", "ask", "chat", "tables", "purge", "passwd"):
        assert command in usage.stdout
    assert _run(installed, [sys.executable, "-m", "assistant", "--help"], tmp_path).stdout == usage.stdout

    # Defaults are relative to the working directory of an installed package: ./index, ./corpus.
    ask = _run(installed, [str(bin_dir / "kronoberg"), "ask", "Vad är målvärdet för sjukfrånvaro 2028?"], tmp_path)
    assert ask.returncode == 1 and f"Indexet saknas i {tmp_path / 'index'}" in ask.stderr, ask.stderr
    purge = _run(installed, [str(bin_dir / "kronoberg"), "purge"], tmp_path)
    assert purge.returncode == 0 and "borttagna" in purge.stdout, purge.stderr

    passwd = _run(installed, [str(bin_dir / "kronoberg"), "passwd", "anna", "--stdin"], tmp_path,
                  stdin="ett långt lösenord\n")
    assert passwd.returncode == 0 and passwd.stdout.startswith('"anna" = "scrypt:')

    app_usage = _run(installed, [str(bin_dir / "kronoberg-app"), "--help"], tmp_path)
    assert app_usage.returncode == 0 and app_usage.stdout.startswith("användning: kronoberg-app")
    refused = _run(installed, [str(bin_dir / "kronoberg-app")], tmp_path, KRONOBERG_USERS="anna")
    assert refused.returncode == 2 and "users (miljövariabeln KRONOBERG_USERS)" in refused.stderr
    assert "Traceback" not in refused.stderr
