"""Settings are validated at start-up; every error names the setting and where it came from; the CLI and
the app refuse to start on one, with a Swedish message and no traceback; login never switches off
because of a malformed `users` value; passwords are stored as scrypt hashes."""

from __future__ import annotations

import io
import logging
import os
import sqlite3
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from assistant.passwords import HashFormatError, Verifier, hash_password, parse_hash, verify_password
from assistant.settings import PROJECT_ROOT, Settings, SettingsError

HASH = hash_password("rätt-lösenord")


@pytest.fixture()
def clean_env(monkeypatch, tmp_path):
    """No KRONOBERG_* variable from outside, and a working directory without kronoberg.toml."""
    for name in list(os.environ):
        if name.startswith("KRONOBERG_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kronoberg.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _error(**kwargs) -> SettingsError:
    with pytest.raises(SettingsError) as err:
        Settings.load(**kwargs)
    return err.value


# --- sources and precedence ---------------------------------------------------------------------

def test_defaults_file_environment_and_options_in_that_order(clean_env, tmp_path):
    assert Settings.load() == Settings()  # no file, no variables: the defaults
    _config(tmp_path, 'top_k = 4\nport = 8000\nmode = "local"\n[users]\n"anna" = "' + HASH + '"\n')
    clean_env.setenv("KRONOBERG_PORT", "9000")
    clean_env.setenv("KRONOBERG_LOG_LEVEL", "debug")
    settings = Settings.load(mode="extractive")
    assert (settings.top_k, settings.port, settings.mode, settings.log_level) == (4, 9000, "extractive", "DEBUG")
    assert settings.users == (("anna", HASH),)


def test_a_named_config_file_must_exist(clean_env, tmp_path):
    clean_env.setenv("KRONOBERG_CONFIG", str(tmp_path / "saknas.toml"))
    assert "saknas.toml finns inte (KRONOBERG_CONFIG)" in str(_error())
    clean_env.delenv("KRONOBERG_CONFIG")
    assert "finns inte (--config)" in str(_error(path=tmp_path / "annan.toml"))
    assert "är ingen fil" in str(_error(path=tmp_path))


def test_a_toml_syntax_error_names_the_file_and_line(clean_env, tmp_path):
    path = _config(tmp_path, 'top_k = 4\nmode = local\n')
    message = str(_error(path=path))
    assert str(path) in message and "inte giltig TOML (rad 2" in message


# --- every rule, with the setting and its origin in the message ------------------------------------

@pytest.mark.parametrize("variable, value, expected", [
    ("MODE", "lokal", "mode (miljövariabeln KRONOBERG_MODE): ska vara ett av 'extractive', 'local', 'openai', "
                      "inte 'lokal'"),
    ("PORT", "abc", "port (miljövariabeln KRONOBERG_PORT): ska vara ett heltal, inte 'abc'"),
    ("PORT", "70000", "port (miljövariabeln KRONOBERG_PORT): får vara högst 65535"),
    ("TOP_K", "-1", "top_k (miljövariabeln KRONOBERG_TOP_K): ska vara minst 1"),
    ("TOP_K", "6.5", "top_k (miljövariabeln KRONOBERG_TOP_K): ska vara ett heltal"),
    ("MAX_FILE_MB", "nan", "max_file_mb (miljövariabeln KRONOBERG_MAX_FILE_MB): ska vara ett ändligt tal"),
    ("MAX_FILE_MB", "0", "max_file_mb (miljövariabeln KRONOBERG_MAX_FILE_MB): ska vara större än 0"),
    ("OPENAI_TIMEOUT_S", "snabbt", "openai_timeout_s (miljövariabeln KRONOBERG_OPENAI_TIMEOUT_S): ska vara ett tal"),
    ("FEEDBACK_RETENTION_DAYS", "-5", "feedback_retention_days (miljövariabeln KRONOBERG_FEEDBACK_RETENTION_DAYS): "
                                      "ska vara minst 0"),
    ("LOG_LEVEL", "pratig", "log_level (miljövariabeln KRONOBERG_LOG_LEVEL): ska vara ett av 'DEBUG', 'INFO'"),
    ("CORPUS_DIR", " ", "corpus_dir (miljövariabeln KRONOBERG_CORPUS_DIR): får inte vara tom"),
    ("OPENAI_BASE_URL", "gpu:8000", "openai_base_url (miljövariabeln KRONOBERG_OPENAI_BASE_URL): ska vara en adress"),
    ("CHROMA_COLLECTION", "x", "chroma_collection (miljövariabeln KRONOBERG_CHROMA_COLLECTION): ska vara 3–60 tecken"),
    ("MODEE", "local", "modee (miljövariabeln KRONOBERG_MODEE): okänd inställning; menade du mode?"),
])
def test_invalid_environment_values_are_refused_by_name(clean_env, variable, value, expected):
    clean_env.setenv(f"KRONOBERG_{variable}", value)
    assert expected in str(_error())


@pytest.mark.parametrize("line, expected", [
    ("top_k = 6.5", "top_k (filen {path}): ska vara ett heltal, utan decimaler, inte 6.5"),
    ("top_k = true", "top_k (filen {path}): ska vara ett tal, inte true/false"),
    ("top_k = 0", "top_k (filen {path}): ska vara minst 1, inte 0"),
    ('chroma_host = 5', "chroma_host (filen {path}): ska vara en text"),
    ("chunk_min_chars = 2000", "chunk_min_chars (filen {path}) och chunk_max_chars (standardvärdet): "
                               "chunk_min_chars (2000) ska vara mindre än chunk_max_chars (1400)"),
    ('mode = "openai"', "mode (filen {path}) och openai_base_url (standardvärdet): mode = \"openai\" kräver "
                        "openai_base_url"),
    ("llm_max_tokens = 5000", "llm_max_tokens (filen {path}) och llm_context_tokens (standardvärdet)"),
    ("tpo_k = 3", "tpo_k (filen {path}): okänd inställning; menade du top_k?"),
])
def test_invalid_file_values_are_refused_by_name(clean_env, tmp_path, line, expected):
    path = _config(tmp_path, line + "\n")
    assert expected.format(path=path) in str(_error())


def test_every_problem_is_listed_and_an_option_names_its_flag(clean_env):
    clean_env.setenv("KRONOBERG_MODE", "lokal")
    clean_env.setenv("KRONOBERG_TOP_K", "x")
    err = _error(port=0)
    assert sorted(p.name for p in err.problems) == ["mode", "port", "top_k"]
    assert "port (kommandoraden (--port)): ska vara minst 1" in str(err)
    assert err.message().startswith("Kronoberg-assistenten startar inte: inställningarna är felaktiga.\n- ")


def test_accepted_spellings(clean_env):
    clean_env.setenv("KRONOBERG_MODE", " Local ")
    clean_env.setenv("KRONOBERG_TOP_K", "8")
    clean_env.setenv("KRONOBERG_MAX_FILE_MB", "0.5")
    clean_env.setenv("KRONOBERG_LLM_MODEL_PATH", "")  # empty: the packaged model
    clean_env.setenv("KRONOBERG_INDEX_DIR", "~/kb-index")
    settings = Settings.load()
    assert (settings.mode, settings.top_k, settings.max_file_mb, settings.llm_model_path) == ("local", 8, 0.5, None)
    assert settings.index_dir == Path.home() / "kb-index"


def test_code_is_validated_too():
    with pytest.raises(SettingsError, match="top_k"):
        Settings().with_(top_k=0)
    with pytest.raises(ValueError):  # pydantic's own error when constructed directly
        Settings(mode="lokal")
    assert Settings().with_(top_k=3).top_k == 3


# --- users: a malformed value is an error, never "login off" --------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("anna", "posten nr 1 saknar ':'"),
    ("anna:", "användaren anna saknar lösenordshash"),
    (":" + HASH, "användarnamnet nr 1 är ogiltigt"),
    ("", "är angiven men tom"),
    ("   ", "är angiven men tom"),
    ("anna:hemligt-lösen", "lösenordet för anna står i klartext"),
    (f"anna:{HASH},", "posten nr 2 saknar ':'"),
    (f"anna:{HASH},anna:{HASH}", "användaren anna förekommer mer än en gång"),
    ("anna:scrypt:16384:8:1:kort", "lösenordshashen för anna är trasig"),
    ("anna:scrypt:999:8:1:c2FsdHNhbHRzYWx0:" + "A" * 43, "lösenordshashen för anna är trasig"),
    ("anna:scrypt:1073741824:8:1:c2FsdHNhbHRzYWx0:" + "A" * 43, "utanför det tillåtna"),
])
def test_malformed_users_from_the_environment_are_errors(clean_env, value, expected):
    clean_env.setenv("KRONOBERG_USERS", value)
    err = _error()
    assert f"users (miljövariabeln KRONOBERG_USERS): " in str(err) and expected in str(err)
    assert "hemligt-lösen" not in str(err)  # a password is never repeated


@pytest.mark.parametrize("toml, expected", [
    ("users = {}", "är angiven men tom"),
    ('users = "anna"', "posten nr 1 saknar ':'"),
    ('users = {anna = "lösen123"}', "lösenordet för anna står i klartext"),
    ("users = {anna = 5}", "ska vara en tabell"),
    ("users = 5", "ska vara en tabell"),
    ('users = [["anna"]]', "ska vara en tabell"),
    ('[users]\n"anna svensson" = "' + HASH + '"', "användarnamnet nr 1 är ogiltigt"),
])
def test_malformed_users_in_the_file_are_errors(clean_env, tmp_path, toml, expected):
    path = _config(tmp_path, toml + "\n")
    err = _error()
    assert f"users (filen {path}): " in str(err) and expected in str(err)
    assert "lösen123" not in str(err)


def test_users_as_a_table_a_list_or_the_environment_form(clean_env, tmp_path):
    other = hash_password("annat-lösenord")
    _config(tmp_path, f'[users]\nanna = "{HASH}"\n"bo.ek@region" = "{other}"\n')
    assert Settings.load().users == (("anna", HASH), ("bo.ek@region", other))
    clean_env.setenv("KRONOBERG_USERS", f" åsa:{HASH} , bo:{other}")
    assert Settings.load().users == (("åsa", HASH), ("bo", other))
    assert Settings(users=[["anna", HASH]]).users == (("anna", HASH),)
    assert Settings().users == () and Settings(users=()).users == ()  # in code, () means no login


def test_secrets_are_not_repeated_in_messages(clean_env):
    clean_env.setenv("KRONOBERG_OPENAI_API_KEY", "")
    clean_env.setenv("KRONOBERG_USERS", "anna:superhemligt")
    clean_env.setenv("KRONOBERG_TOP_K", "noll")
    message = str(_error())
    assert "superhemligt" not in message and "'noll'" in message


# --- password hashes ------------------------------------------------------------------------------

def test_password_hashes():
    stored = hash_password("korrekt häst batteri")
    assert stored.startswith("scrypt:32768:8:1:") and ":" not in stored.split(":", 5)[5]
    assert not any(c in stored for c in "$,'\" ")  # safe in a shell, a systemd unit, TOML, KRONOBERG_USERS
    assert verify_password("korrekt häst batteri", stored)
    assert not verify_password("korrekt häst", stored)
    assert hash_password("korrekt häst batteri") != stored  # salted
    tampered = stored[:-2] + ("AA" if not stored.endswith("AA") else "BB")
    assert not verify_password("korrekt häst batteri", tampered)
    assert not verify_password("x", "klartext")
    with pytest.raises(HashFormatError):
        parse_hash("scrypt:32768:8:1:salt")
    check = Verifier((("anna", stored),))
    assert check("anna", "korrekt häst batteri") and not check("anna", "fel") and not check("bo", "korrekt häst batteri")


def test_passwd_prints_a_hash_the_settings_accept(clean_env, monkeypatch, capsys):
    from assistant.cli import main

    clean_env.setenv("KRONOBERG_USERS", "anna")  # broken settings do not stop passwd: it is how they are fixed
    monkeypatch.setattr(sys, "stdin", io.StringIO("ett långt lösenord\n"))
    assert main(["passwd", "åsa", "--stdin"]) == 0
    out, err = capsys.readouterr()
    line = out.strip()
    assert "ett långt lösenord" not in out + err
    users = tomllib.loads("[users]\n" + line + "\n")["users"]
    assert list(users) == ["åsa"] and verify_password("ett långt lösenord", users["åsa"])
    assert Settings.from_dict({"users": users}).users == (("åsa", users["åsa"]),)
    assert "[users]" in err and f"KRONOBERG_USERS='åsa:{users['åsa']}'" in err

    monkeypatch.setattr(sys, "stdin", io.StringIO("kort\n"))
    assert main(["passwd", "åsa", "--stdin"]) == 2
    assert "för kort" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert main(["passwd", "åsa", "--stdin"]) == 2
    assert "Inget lösenord" in capsys.readouterr().err
    assert main(["passwd", "anna:x", "--stdin"]) == 2
    assert "ogiltigt" in capsys.readouterr().err


def test_passwd_asks_twice(monkeypatch, capsys):
    import getpass

    from assistant.cli import main

    answers = iter(["ett långt lösenord", "ett annat lösenord"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(answers))
    assert main(["passwd", "anna"]) == 2
    assert "inte lika" in capsys.readouterr().err
    answers = iter(["ett långt lösenord"] * 2)
    assert main(["passwd", "anna"]) == 0
    assert capsys.readouterr().out.startswith('"anna" = "scrypt:')


# --- the CLI and the app refuse to start ----------------------------------------------------------

def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("KRONOBERG_")}
    base["PYTHONPATH"] = str(PROJECT_ROOT)
    return subprocess.run([sys.executable, *args], env={**base, **env}, cwd=cwd, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("env, expected", [
    ({"KRONOBERG_USERS": "anna"}, "users (miljövariabeln KRONOBERG_USERS): posten nr 1 saknar ':'"),
    ({"KRONOBERG_MODE": "lokal"}, "mode (miljövariabeln KRONOBERG_MODE): ska vara ett av"),
    ({"KRONOBERG_PORT": "abc"}, "port (miljövariabeln KRONOBERG_PORT): ska vara ett heltal"),
])
def test_app_and_cli_refuse_to_start(tmp_path, env, expected):
    for args in ([str(PROJECT_ROOT / "app.py")], ["-m", "assistant", "ask", "Vad är målvärdet?"]):
        done = _run(args, env, tmp_path)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert done.stderr.startswith("Kronoberg-assistenten startar inte: inställningarna är felaktiga.")
        assert expected in done.stderr and "Traceback" not in done.stderr
        assert "http://" not in done.stdout  # the app never started serving


def test_a_broken_config_file_refuses_to_start(tmp_path):
    (tmp_path / "kronoberg.toml").write_text('users = {anna = "lösen"}\n', encoding="utf-8")
    done = _run([str(PROJECT_ROOT / "app.py")], {}, tmp_path)
    assert done.returncode == 2 and "lösenordet för anna står i klartext" in done.stderr
    assert "kronoberg.toml" in done.stderr and "Traceback" not in done.stderr and "lösen\"" not in done.stderr
    done = _run(["-m", "assistant", "ask", "x", "--mode", "lokal"], {}, tmp_path)
    assert done.returncode == 2 and "ogiltigt val: 'lokal'" in done.stderr  # argparse, in Swedish


# --- logging --------------------------------------------------------------------------------------

def test_logging_is_configured_once_from_the_setting(tmp_path, monkeypatch):
    from assistant.feedback import FeedbackStore
    from assistant.logs import configure_logging
    from assistant.web.retention import start_retention

    monkeypatch.delenv("HF_HUB_DISABLE_PROGRESS_BARS", raising=False)  # restored after the test
    root = logging.getLogger()
    before = list(root.handlers), root.level
    stream = io.StringIO()
    try:
        configure_logging("INFO", stream)
        configure_logging("INFO", stream)  # again: still one handler of ours
        assert sum(h.get_name() == "kronoberg" for h in root.handlers) == 1
        assert os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] == "1"
        # The daily purge's summary is an INFO message: it reaches the log now.
        settings = Settings(index_dir=tmp_path, export_dir=tmp_path / "exports")
        store = FeedbackStore(settings.feedback_path)
        old = store.add(1, "GAMMAL FRÅGA", {"answer": "gammalt svar"}, "", "s-old")
        with sqlite3.connect(settings.feedback_path) as conn:
            conn.execute("UPDATE feedback SET created = '2020-01-01T00:00:00+00:00' WHERE id = ?", (old,))
        start_retention(settings)
        assert "INFO assistant.web.retention: Gallrat det som är äldre än 365 dagar: 1 omdömen" in stream.getvalue()
        logging.getLogger("assistant.web.retention").info("ett INFO-meddelande")
        assert "INFO assistant.web.retention: ett INFO-meddelande" in stream.getvalue()
        logging.getLogger("transformers.modeling_utils").info("brus")
        assert "brus" not in stream.getvalue()
        configure_logging("WARNING", stream)
        logging.getLogger("assistant.web.retention").info("tyst")
        assert "tyst" not in stream.getvalue()
    finally:
        for handler in list(root.handlers):
            if handler not in before[0]:
                root.removeHandler(handler)
        root.setLevel(before[1])


PROGRESS_PROBE = """
import sys
sys.path.insert(0, {root!r})
from assistant.offline import enforce_offline
enforce_offline()
if {quiet}:
    from assistant.logs import configure_logging
    configure_logging("INFO")
from assistant.embedding import make_embedder
from assistant.settings import Settings
make_embedder(Settings(models_dir={models!r})).embed_queries(["sjukfrånvaro"])
"""


@pytest.mark.slow
def test_no_progress_bar_when_a_model_loads(tmp_path):
    """transformers draws "Loading weights" on stderr when the embedding model loads (in `ask` and in the
    app); with logging configured at the edge it does not. The first run shows the probe can see it."""
    models = str(PROJECT_ROOT / "index" / "models")
    outputs = {}
    for quiet in (False, True):
        code = PROGRESS_PROBE.format(root=str(PROJECT_ROOT), quiet=quiet, models=models)
        env = {k: v for k, v in os.environ.items() if k != "HF_HUB_DISABLE_PROGRESS_BARS"}
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, cwd=tmp_path,
                              env=env)
        assert done.returncode == 0, done.stderr[-2000:]
        outputs[quiet] = done.stderr
    assert "Loading weights" in outputs[False]
    assert "Loading weights" not in outputs[True] and "it/s" not in outputs[True], outputs[True][-2000:]


def test_config_command_shows_what_applies_and_hides_secrets(clean_env, tmp_path, capsys):
    from assistant.cli import main

    path = _config(tmp_path, f'top_k = 4\n[users]\nanna = "{HASH}"\n')
    clean_env.setenv("KRONOBERG_OPENAI_API_KEY", "sk-hemlig")
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert f"top_k = 4  # filen {path}" in out and "port = 7860  # standardvärdet" in out
    assert 'users = {anna = "scrypt:•••"}' in out and "openai_api_key = \"•••\"  # miljövariabeln" in out
    assert HASH not in out and "sk-hemlig" not in out
    clean_env.setenv("KRONOBERG_TOP_K", "fyra")
    assert main(["config"]) == 2
    assert "top_k (miljövariabeln KRONOBERG_TOP_K)" in capsys.readouterr().err
