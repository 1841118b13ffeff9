"""Privacy and security: login guards everything, no file outside the corpus can be read, nothing
leaves the machine, and feedback and exports are deleted when their retention has passed.

The app tests start the app without an index on a free localhost port (fast). The slow test at the
end runs `python -m assistant ingest`, `python -m assistant ask` and `app.py` under
`strace -f -e trace=connect` and fails on any connect() to an address that is not this machine.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from web_data import hostile_corpus

from assistant.offline import OFFLINE_ENV
from assistant.settings import PROJECT_ROOT, Settings

CORPUS = PROJECT_ROOT / "corpus"
PROGRAMME = "hallbarhetsprogram-2024-2028.txt"
TARGET_LINE = "- sjukfrånvaron vara max 4,5 procent."
QUESTION = "Vad är målvärdet för sjukfrånvaro 2028?"
USER, PASSWORD = "anna", "hemligt"
PYPROJECT_MARK = "[build-system]"  # what pyproject.toml contains
PASSWD_MARK = "root:"  # what /etc/passwd contains


# --- helpers --------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _no_index(mode=None):
    from assistant.chat import AssistantUnavailable

    raise AssistantUnavailable("Indexet saknas. Kör `python -m assistant ingest` för att bygga det.")


def _serve(settings: Settings):
    from assistant.web.app import build_app, launch_options

    port = _free_port()
    demo = build_app(_no_index, settings.with_(port=port))
    demo.queue(default_concurrency_limit=4).launch(
        **launch_options(settings.with_(port=port), prevent_thread_lock=True, quiet=True))
    return demo, f"http://127.0.0.1:{port}/"


def _request(opener, url: str, data: bytes | None = None, json_body: dict | None = None) -> tuple[int, str, str]:
    """(status, final URL, body) without raising on HTTP errors."""
    headers = {}
    if json_body is not None:
        data, headers = json.dumps(json_body).encode(), {"Content-Type": "application/json"}
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.geturl(), response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, url, exc.read().decode("utf-8", "replace")


def _base_settings(tmp_path: Path, **changes) -> Settings:
    values = dict(corpus_dir=CORPUS, index_dir=tmp_path / "index", export_dir=tmp_path / "exports",
                  feedback_db=tmp_path / "feedback.sqlite3")
    return Settings(**{**values, **changes})


def _gradio_cache_file(name: str, text: str) -> Path:
    """A file where Gradio keeps what it serves for downloads (its cache), as an export's copy would be."""
    from gradio.utils import get_upload_folder

    folder = Path(get_upload_folder()) / f"kb-test-{os.getpid()}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# --- 1. login protects everything ---------------------------------------------------------------------

def test_login_protects_page_api_and_files(tmp_path):
    from gradio_client import Client

    from assistant.passwords import hash_password
    from assistant.prompts import EXAMPLES
    from assistant.web.retention import write_export

    settings = _base_settings(tmp_path, users=((USER, hash_password(PASSWORD)),))
    export = write_export(settings.exports_path / "app-test", "ab12",
                          [{"question": QUESTION, "answer": {"answer": "HEMLIGT SVAR 4,5"}, "text": ""}])
    cached = _gradio_cache_file("kronoberg-samtal-test.md", "HEMLIG KOPIA AV SAMTALET")
    corpus_file = CORPUS / PROGRAMME
    demo, url = _serve(settings)
    try:
        anonymous = urllib.request.build_opener()
        # The page itself is only the login form: no component, example question or document text.
        status, _, page = _request(anonymous, url)
        assert status in (200, 302, 303, 401, 403)
        if status == 200:
            assert '"auth_required":true' in page.replace(" ", "")
        for secret in (*EXAMPLES, "kb-question", TARGET_LINE, "HEMLIG"):
            assert secret not in page, secret

        refused = {
            "config": _request(anonymous, url + "config"),
            "api info": _request(anonymous, url + "gradio_api/info"),
            "openapi": _request(anonymous, url + "gradio_api/openapi.json"),
            "ask": _request(anonymous, url + "gradio_api/call/ask", json_body={"data": [QUESTION, "[]"]}),
            "source": _request(anonymous, url + "gradio_api/call/source", json_body={"data": [PROGRAMME, 458, 458, 3]}),
            "run ask": _request(anonymous, url + "gradio_api/run/ask", json_body={"data": [QUESTION, "[]"]}),
            "queue": _request(anonymous, url + "gradio_api/queue/join",
                              json_body={"data": [QUESTION, "[]"], "fn_index": 0, "session_hash": "x1"}),
            "corpus file": _request(anonymous, url + f"gradio_api/file={corpus_file}"),
            "export file": _request(anonymous, url + f"gradio_api/file={export}"),
            "cached export": _request(anonymous, url + f"gradio_api/file={cached}"),
            "upload": _request(anonymous, url + "gradio_api/upload", data=b"x"),
        }
        for what, (status, final_url, body) in refused.items():
            assert status in (401, 403) or (status in (302, 303) and "login" in final_url), (what, status)
            for secret in ("HEMLIG", TARGET_LINE, "4,5 procent"):
                assert secret not in body, (what, secret)

        # A wrong password is refused; the right one gives a session cookie that opens the app.
        assert _request(anonymous, url + "login", data=urllib.parse.urlencode(
            {"username": USER, "password": "fel"}).encode())[0] == 400
        session = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        status, _, _ = _request(session, url + "login", data=urllib.parse.urlencode(
            {"username": USER, "password": PASSWORD}).encode())
        assert status == 200
        status, _, page = _request(session, url)
        assert status == 200 and "kb-question" in page and EXAMPLES[0] in page
        assert _request(session, url + "config")[0] == 200
        assert _request(session, url + "gradio_api/info")[0] == 200
        # The download route works once logged in (so the refusal above was the login's doing) ...
        status, _, body = _request(session, url + f"gradio_api/file={cached}")
        assert status == 200 and "HEMLIG KOPIA" in body
        # ... but still serves no corpus file and no export that Gradio did not hand out itself.
        for path in (corpus_file, export):
            status, _, body = _request(session, url + f"gradio_api/file={path}")
            assert status == 403 and TARGET_LINE not in body and "HEMLIGT SVAR" not in body
        source = json.loads(Client(url, auth=(USER, PASSWORD), verbose=False).predict(
            PROGRAMME, 458, 458, 1, api_name="/source"))
        assert TARGET_LINE in [line["text"].strip() for line in source["lines"] if line["cited"]]
    finally:
        demo.close()
        shutil.rmtree(cached.parent, ignore_errors=True)


# --- 2. the source viewer and file routes refuse everything outside the corpus ------------------------------

@pytest.fixture()
def corpus(tmp_path) -> Path:
    return hostile_corpus(tmp_path)  # the source viewer's own tests: tests/test_web_sources.py


def test_file_routes_and_source_api_serve_nothing_outside_the_corpus(tmp_path, corpus):
    from gradio_client import Client

    settings = _base_settings(tmp_path, corpus_dir=corpus)
    demo, url = _serve(settings)
    opener = urllib.request.build_opener()
    try:
        attempts = [
            "gradio_api/file=/etc/passwd", "gradio_api/file=../../pyproject.toml",
            "gradio_api/file=..%2F..%2Fpyproject.toml", "gradio_api/file=%2Fetc%2Fpasswd",
            f"gradio_api/file={PROJECT_ROOT / 'pyproject.toml'}", "gradio_api/file=pyproject.toml",
            "gradio_api/file/etc/passwd", "gradio_api/file//etc/passwd", "file=/etc/passwd", "file=../../pyproject.toml",
            f"gradio_api/file={corpus / PROGRAMME}", f"gradio_api/file={corpus / 'lank-ut.txt'}",
            f"gradio_api/file={tmp_path / 'outside.txt'}",
        ]
        for attempt in attempts:
            status, _, body = _request(opener, url + attempt)
            assert status in (403, 404), (attempt, status)
            for mark in (PASSWD_MARK, PYPROJECT_MARK, "HEMLIG", TARGET_LINE):
                assert mark not in body, (attempt, mark)
        # A URL in the file route would make Gradio fetch it from the server: refused before Gradio sees it.
        for attempt in ("gradio_api/file=http://127.0.0.1:9/etc/passwd", "gradio_api/file=https%3A%2F%2Fexample.org%2F",
                        "gradio_api/file=HTTPS://example.org/", "gradio_api/file/http://example.org/x",
                        "gradio_api/proxy=http://example.org/"):
            status, _, body = _request(opener, url + attempt)
            assert status == 403 and "Filer från andra adresser hämtas inte" in body, (attempt, status, body)

        client = Client(url, verbose=False)
        for name in ("../pyproject.toml", "/etc/passwd", "..%2f..%2fetc%2fpasswd", "corpus/../../etc/passwd",
                     "lank-ut.txt", "../outside.txt"):
            with pytest.raises(Exception) as err:
                client.predict(name, 1, 3, 3, api_name="/source")
            assert "finns inte bland dokumenten" in str(err.value), name
            assert PASSWD_MARK not in str(err.value) and "HEMLIG" not in str(err.value)
        shown = json.loads(client.predict(PROGRAMME, 1, 1, 0, api_name="/source"))
        assert shown["file"] == PROGRAMME and len(shown["lines"]) == 1
    finally:
        demo.close()


# --- 4. retention -------------------------------------------------------------------------------------------

def _age(path: Path, days: float) -> None:
    then = time.time() - days * 86400
    os.utime(path, (then, then))


def _feedback_with_old_record(settings: Settings, old_question: str = "GAMMAL FRÅGA") -> None:
    from assistant.feedback import FeedbackStore

    store = FeedbackStore(settings.feedback_path)
    old = store.add(1, old_question, {"answer": "gammalt svar"}, "gammal kommentar", "s-old")
    store.add(-1, "NY FRÅGA", {"answer": "nytt svar"}, "", "s-new")
    with sqlite3.connect(settings.feedback_path) as conn:
        conn.execute("UPDATE feedback SET created = '2020-01-01T00:00:00+00:00' WHERE id = ?", (old,))


def _exports(settings: Settings) -> tuple[Path, Path]:
    from assistant.web.retention import write_export

    turn = [{"question": QUESTION, "answer": {"answer": "4,5 procent"}, "text": ""}]
    old = write_export(settings.exports_path / "app-1-dead", "aa", turn)
    new = write_export(settings.exports_path / "app-2-live", "bb", turn)
    _age(old, 400)
    return old, new


def test_purge_expired_removes_old_feedback_and_exports(tmp_path):
    from assistant.feedback import FeedbackStore, purge_expired

    settings = _base_settings(tmp_path)
    _feedback_with_old_record(settings)
    old, new = _exports(settings)
    report = purge_expired(settings)  # the default retention, 365 days
    assert (report.days, report.feedback, report.exports) == (365, 1, 1)
    assert "1 omdömen och 1 exporterade samtal" in report.summary()
    assert [r.question for r in FeedbackStore(settings.feedback_path).all()] == ["NY FRÅGA"]
    assert not old.exists() and not old.parent.parent.exists() and new.exists()

    kept = purge_expired(settings.with_(feedback_retention_days=0))  # 0: keep forever
    assert kept.days is None and "Ingen gallring" in kept.summary()
    assert len(FeedbackStore(settings.feedback_path).all()) == 1 and new.exists()
    everything = purge_expired(settings.with_(feedback_retention_days=0), older_than_days=0)
    assert everything.exports == 1 and not new.exists()
    with pytest.raises(ValueError):
        purge_expired(settings, older_than_days=-1)


def test_purge_command(tmp_path, monkeypatch, capsys):
    from assistant.cli import main
    from assistant.feedback import FeedbackStore

    settings = _base_settings(tmp_path)
    _feedback_with_old_record(settings)
    old, new = _exports(settings)
    _age(new, 40)
    (tmp_path / "none.toml").write_text("", encoding="utf-8")  # a named config file must exist
    for name, value in (("INDEX_DIR", settings.index_dir), ("FEEDBACK_DB", settings.feedback_path),
                        ("EXPORT_DIR", settings.exports_path), ("CONFIG", tmp_path / "none.toml")):
        monkeypatch.setenv(f"KRONOBERG_{name}", str(value))

    assert main(["purge"]) == 0  # the configured retention: 365 days
    assert "1 omdömen och 1 exporterade samtal borttagna" in capsys.readouterr().out
    assert not old.exists() and new.exists()
    assert main(["purge", "--older-than", "30"]) == 0
    assert "0 omdömen och 1 exporterade samtal borttagna" in capsys.readouterr().out
    assert not new.exists() and len(FeedbackStore(settings.feedback_path).all()) == 1
    monkeypatch.setenv("KRONOBERG_FEEDBACK_RETENTION_DAYS", "0")
    assert main(["purge"]) == 0 and "Ingen gallring" in capsys.readouterr().out
    assert main(["purge", "--older-than", "-1"]) == 2


def test_app_start_purges_and_keeps_one_export_per_conversation(tmp_path):
    from assistant.feedback import FeedbackStore
    from assistant.web.app import build_app
    from assistant.web.retention import EXPORT_CACHE_S, write_export

    settings = _base_settings(tmp_path)
    _feedback_with_old_record(settings)
    old, new = _exports(settings)
    demo = build_app(_no_index, settings)
    assert (demo.purge_report.feedback, demo.purge_report.exports) == (1, 1)
    assert [r.question for r in FeedbackStore(settings.feedback_path).all()] == ["NY FRÅGA"]
    assert not old.exists() and new.exists()
    # Gradio's copies of downloads are deleted on a schedule and when the app stops.
    assert demo.delete_cache == (3600, EXPORT_CACHE_S) and EXPORT_CACHE_S <= 86400

    folder = tmp_path / "one"
    first = write_export(folder, "cc", [{"question": "1", "answer": {"answer": "a"}}])
    first.rename(first.with_name("kronoberg-samtal-20200101-0000.md"))
    second = write_export(folder, "cc", [{"question": "1", "answer": {"answer": "a"}},
                                         {"question": "2", "answer": {"answer": "b"}}])
    assert [p.name for p in (folder / "cc").iterdir()] == [second.name]


# --- 3. nothing leaves the machine --------------------------------------------------------------------------

_CONNECT = re.compile(r"connect\(\d+, \{sa_family=(AF_\w+)(.*?)\}")
_IPV4 = re.compile(r'inet_addr\("([^"]+)"\)')
_IPV6 = re.compile(r'inet_pton\(AF_INET6, "([^"]+)"')
_PORT = re.compile(r"sin6?_port=htons\((\d+)\)")


def outbound_connects(trace: str) -> list[str]:
    """The connect() calls in an strace log that go to another machine (or try to).

    Allowed: AF_UNIX sockets, AF_UNSPEC (a disconnect), AF_NETLINK (the kernel), and IPv4/IPv6
    loopback. A DNS query is a connect() to the resolver and counts as outbound."""
    outside = []
    for line in trace.splitlines():
        match = _CONNECT.search(line)
        if not match:
            continue
        family, rest = match.groups()
        if family in ("AF_UNIX", "AF_UNSPEC", "AF_NETLINK"):
            continue
        if family == "AF_INET" and (m := _IPV4.search(rest)) and m.group(1).startswith("127."):
            continue
        if family == "AF_INET6" and (m := _IPV6.search(rest)) and (
                m.group(1) == "::1" or m.group(1).startswith("::ffff:127.")):
            continue
        outside.append(line.strip())
    return outside


def test_outbound_connects_are_recognised():
    trace = "\n".join([
        '12 connect(3, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT',
        '12 connect(5, {sa_family=AF_INET, sin_port=htons(7860), sin_addr=inet_addr("127.0.0.1")}, 16) = 0',
        '12 connect(6, {sa_family=AF_INET6, sin6_port=htons(7860), sin6_flowinfo=htonl(0), '
        'inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0',
        '12 connect(7, {sa_family=AF_UNSPEC, sa_data="..."}, 16) = 0',
        '13 connect(8, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.255.255.53")}, 16) = 0',
        '13 connect(9, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), '
        'inet_pton(AF_INET6, "2a00:1450::1", &sin6_addr), sin6_scope_id=0}, 28 <unfinished ...>',
    ])
    found = outbound_connects(trace)
    assert len(found) == 2 and "10.255.255.53" in found[0] and "2a00:1450::1" in found[1]


STRACE = shutil.which("strace") or "/usr/bin/strace"


def _strace_works() -> bool:
    if not Path(STRACE).exists():
        return False
    probe = subprocess.run([STRACE, "-f", "-e", "trace=connect", "-o", os.devnull, sys.executable, "-c", "pass"],
                           capture_output=True, timeout=60)
    return probe.returncode == 0


def _traced(trace: Path, args: list[str]) -> list[str]:
    return [STRACE, "-f", "--seccomp-bpf", "-e", "trace=connect", "-o", str(trace), *args]


@pytest.fixture(scope="module")
def offline_env(tmp_path_factory):
    """A small corpus (the sustainability programme) and the environment for the commands: the project's
    KRONOBERG_* settings and none of the offline variables, which the commands must set themselves."""
    if not _strace_works():
        pytest.skip("strace cannot trace here (no ptrace); run the commands under `unshare -rn` instead")
    root = tmp_path_factory.mktemp("offline")
    (root / "corpus").mkdir()
    shutil.copy(CORPUS / PROGRAMME, root / "corpus" / PROGRAMME)
    (root / "none.toml").write_text("", encoding="utf-8")  # a named config file must exist
    env = {k: v for k, v in os.environ.items() if k not in OFFLINE_ENV}
    env.update(KRONOBERG_CORPUS_DIR=str(root / "corpus"), KRONOBERG_INDEX_DIR=str(root / "index"),
               KRONOBERG_MODELS_DIR=str(PROJECT_ROOT / "index" / "models"), KRONOBERG_CONFIG=str(root / "none.toml"),
               KRONOBERG_EXPORT_DIR=str(root / "exports"), KRONOBERG_MODE="extractive")
    return root, env


@pytest.fixture(scope="module")
def offline_index(offline_env):
    root, env = offline_env
    trace = root / "ingest.strace"
    done = subprocess.run(_traced(trace, [sys.executable, "-m", "assistant", "ingest", "--quiet"]), cwd=root, env=env,
                          capture_output=True, text=True, timeout=1500)
    assert done.returncode == 0, done.stderr[-3000:]
    return trace


@pytest.mark.slow
def test_ingest_connects_to_nothing_outside(offline_index):
    trace = offline_index.read_text()
    assert "connect(" in trace or "+++ exited" in trace  # the trace was written
    assert outbound_connects(trace) == []


@pytest.mark.slow
def test_ask_connects_to_nothing_outside(offline_env, offline_index):
    root, env = offline_env
    trace = root / "ask.strace"
    done = subprocess.run(_traced(trace, [sys.executable, "-m", "assistant", "ask", QUESTION]), cwd=root, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.search(r"(?<!\d)4,5(?!\d)", done.stdout), done.stdout
    assert outbound_connects(trace.read_text()) == []
    assert "Loading weights" not in done.stderr and "it/s]" not in done.stderr  # no progress bar in `ask`


@pytest.mark.slow
def test_app_connects_to_nothing_outside_and_stops_on_sigterm(offline_env, offline_index):
    root, env = offline_env
    trace = root / "app.strace"
    port = _free_port()
    proc = subprocess.Popen(_traced(trace, [sys.executable, str(PROJECT_ROOT / "app.py"), "--port", str(port)]),
                            cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    app_pid = _traced_child(proc.pid)
    try:
        deadline = time.monotonic() + 600
        while True:
            try:
                with urllib.request.urlopen(url, timeout=10) as response:
                    page = response.read().decode("utf-8", "replace")
                    break
            except OSError:
                assert proc.poll() is None, proc.stdout.read()
                assert time.monotonic() < deadline, "app.py did not start"
                time.sleep(1)
        # Gradio's file route fetches http(s) URLs from the server; the app must refuse before connecting.
        remote_status, _, _ = _request(urllib.request.build_opener(),
                                       url + "gradio_api/file=http://93.184.215.14/x.txt")
        os.kill(app_pid, signal.SIGTERM)  # the app, not strace
        output, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:  # strace dying would leave the app running, detached, holding the pipe
            for pid in (app_pid, proc.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            proc.communicate(timeout=60)
    assert outbound_connects(trace.read_text()) == []
    assert "Kronoberg-assistenten" in page
    assert remote_status == 403
    assert proc.returncode == 0, output[-3000:]  # SIGTERM stops the server cleanly
    assert "Loading weights" not in output and "it/s]" not in output  # no progress bar in the app's log


def _traced_child(strace_pid: int, marker: str = "app.py") -> int:
    """The pid of the command strace runs (strace also forks short-lived probes of its own)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for pid in Path(f"/proc/{strace_pid}/task/{strace_pid}/children").read_text().split():
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
            except OSError:  # a probe that has already ended
                continue
            if not argv[0].endswith("strace") and any(a.endswith(marker) for a in argv):  # a probe is a copy of strace
                return int(pid)
        time.sleep(0.2)
    raise AssertionError("strace started no command")
