"""The web app as a whole (assistant/web/app.py): served on a free port, fast with a fake assistant, slow in
headless Chromium and via gradio_client. Its parts have their own tests: tests/test_web_*.py.

The slow tests start the app on a free localhost port in this process, against an index built
from the real corpus into a temporary directory (fixtures in conftest.py), in extractive mode.
Chromium is Debian's (/usr/bin/chromium), driven by Playwright's Python package; screenshots go
to tests/artifacts/.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from web_data import CELL_ANSWER, EXAMPLE, PROGRAMME, FakeAssistant

from assistant.passwords import hash_password
from assistant.settings import PROJECT_ROOT, Settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
FOLLOW_UP = "Och 2027?"
ANSWER_TIMEOUT_MS = 120_000


# --- fast: the launch options -------------------------------------------------------------------

def test_launch_options_keep_everything_local_and_login_follows_users():
    from assistant.web.app import launch_options

    options = launch_options(Settings())
    assert options["server_name"] == "127.0.0.1" and options["share"] is False and options["auth"] is None
    assert options["run_history"] is False and options["enable_monitoring"] is False
    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False"
    stored = hash_password("hemligt12")
    shared = launch_options(Settings(host="0.0.0.0", port=8080, users=(("anna", stored),)))
    assert shared["server_port"] == 8080 and shared["auth_message"].startswith("Logga in")
    check = shared["auth"]  # the hash is checked, never compared as text
    assert asyncio.run(check("anna", "hemligt12")) is True
    assert asyncio.run(check("anna", "fel")) is False and asyncio.run(check("bo", "hemligt12")) is False
    assert asyncio.run(check("anna", stored)) is False


def _get(url: str, method: str = "GET") -> tuple[int, bytes, dict]:
    import urllib.error

    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


@pytest.mark.parametrize("login", [False, True], ids=["login off", "login on"])
def test_healthz_and_readyz_answer_without_login_and_reveal_nothing(tmp_path, login):
    from assistant.chat import AssistantUnavailable

    state = {"index": False}

    def factory(mode=None):
        if not state["index"]:
            raise AssistantUnavailable(f"Indexet saknas i {tmp_path}. Kör `python -m assistant ingest`.")
        return FakeAssistant()

    users = (("anna", hash_password("hemligt-lösen")),) if login else ()
    demo, url = _serve(factory, Settings(index_dir=tmp_path, users=users))
    demo.kb_loader.RETRY_INTERVAL_S = 0.2
    try:
        assert _get(url + "healthz")[:2] == (200, b'{"status": "ok"}')
        status, body, headers = _get(url + "readyz")
        assert (status, body) == (503, b'{"status": "not ready"}')  # no index: nothing to answer from
        assert headers.get("cache-control") == "no-store" and headers["content-type"] == "application/json"
        assert _get(url + "config")[0] == (401 if login else 200)  # the rest keeps its login
        assert _get(url + "healthz", "POST")[0] == 405
        state["index"] = True  # an ingest has run: the instance becomes ready without a restart
        deadline = time.monotonic() + 60
        while _get(url + "readyz")[0] != 200:
            assert time.monotonic() < deadline, "readyz did not turn ready"
            time.sleep(0.2)
        assert _get(url + "readyz")[:2] == (200, b'{"status": "ready"}')
        assert _get(url + "readyz", "HEAD")[:2] == (200, b"")
        assert _get(url + "healthz/")[0] == 200
    finally:
        demo.close()


@pytest.mark.parametrize("login", [False, True], ids=["login off", "login on"])
def test_the_page_is_in_swedish(tmp_path, login):
    users = (("anna", hash_password("hemligt-lösen")),) if login else ()
    demo, url = _serve(lambda mode=None: FakeAssistant(), Settings(index_dir=tmp_path, users=users))
    try:
        status, body, headers = _get(url)
        assert status == 200 and int(headers["content-length"]) == len(body)
        page = body.decode("utf-8")
        assert re.search(r'<html\s+lang="sv"', page) and 'lang="en"' not in page[:300]
        assert ("kb-question" in page) is (not login)  # logged out: only the login form
    finally:
        demo.close()


def test_typed_ask_endpoint_takes_turns_and_returns_an_answer_object(tmp_path):
    from gradio_client import Client

    from assistant.api import AnswerModel

    fake = FakeAssistant()
    demo, url = _serve(lambda mode=None: fake, Settings(index_dir=tmp_path))
    try:
        client = Client(url, verbose=False)
        history = [{"role": "user", "content": "Vad är målet?"}, {"role": "assistant", "content": "4,5 procent."}]
        answer = client.predict(EXAMPLE, history, [PROGRAMME.file], api_name="/ask_v2")
        assert isinstance(answer, dict)
        model = AnswerModel.model_validate(answer)
        assert model.citations[0].line_start == 120 and model.cells[0].value == 4.5 and not model.refused
        assert fake.asked[-1] == (EXAMPLE, history, [PROGRAMME.file])
        assert client.predict(EXAMPLE, api_name="/ask_v2")["answer"] == CELL_ANSWER["answer"]  # no history
        assert fake.asked[-1] == (EXAMPLE, [], None)
        # The old endpoint stays: the same answer, as a JSON string.
        assert json.loads(client.predict(EXAMPLE, json.dumps(history), api_name="/ask"))["answer"] == model.answer

        for bad, expected in (([{"role": "bot", "content": "x"}], "tur 1 (role): ska vara ett av 'user', 'assistant'"),
                              ([{"role": "user"}], "tur 1 (content): saknas"),
                              ("[]", "historiken: ska vara en lista")):
            with pytest.raises(Exception) as err:
                client.predict(EXAMPLE, bad, api_name="/ask_v2")
            assert "Historiken ska vara en lista" in str(err.value) and expected in str(err.value)
        with pytest.raises(Exception) as err:
            client.predict(EXAMPLE, [], ["../../etc/passwd"], api_name="/ask_v2")
        assert "finns inte bland underlaget" in str(err.value)

        # The schema is published: clients see the turns and the answer's fields.
        info = json.loads(_get(url + "gradio_api/info")[1])["named_endpoints"]["/ask_v2"]
        turn = info["parameters"][1]["type"]
        assert "role" in json.dumps(turn) and "content" in json.dumps(turn)
        returned = info["returns"][0]["type"]["properties"]
        assert {"answer", "refused", "citations", "cells", "standalone_question"} <= set(returned)
        assert set(returned["citations"]["items"]["properties"]) >= {"file", "line_start", "line_end", "quote"}
    finally:
        demo.close()


# --- slow: the running app ----------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(factory, settings: Settings):
    from assistant.web.app import build_app, launch_options

    port = _free_port()
    demo = build_app(factory, settings.with_(port=port))
    demo.queue(default_concurrency_limit=4).launch(
        **launch_options(settings.with_(port=port), prevent_thread_lock=True, quiet=True))
    return demo, f"http://127.0.0.1:{port}/"


@pytest.fixture(scope="module")
def app_settings(settings, tmp_path_factory):
    return settings.with_(mode="extractive", feedback_db=tmp_path_factory.mktemp("feedback") / "feedback.sqlite3")


@pytest.fixture(scope="module")
def app_url(app_settings, assistant):
    demo, url = _serve(lambda mode=None: assistant, app_settings)
    yield url
    demo.close()


@pytest.fixture(scope="module")
def missing_url(tmp_path_factory, settings, embedder):
    from assistant.chat import Assistant

    empty = settings.with_(index_dir=tmp_path_factory.mktemp("no-index"), mode="extractive")
    demo, url = _serve(lambda mode=None: Assistant.load(empty, embedder=embedder), empty)
    yield url
    demo.close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium (/usr/bin/chromium) is not installed: `apt-get install chromium` (make browser)")
    playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright's Python package is not installed")
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


class Visit:
    """A page in its own browser context (its own Gradio session) that records requests leaving localhost."""

    def __init__(self, browser, url: str) -> None:
        self.url = url
        self.context = browser.new_context(locale="sv-SE", viewport={"width": 1400, "height": 1000},
                                           accept_downloads=True)
        self.page = self.context.new_page()
        self.outside: list[str] = []
        self.page.on("request", self._record)
        self.page.goto(url)
        self.page.wait_for_selector("#kb-question textarea", timeout=60_000)

    def _record(self, request) -> None:
        if not request.url.startswith((self.url, "data:", "blob:", "about:")):
            self.outside.append(request.url)

    def ask(self, question: str) -> str:
        """Type and send a question; return the text of the finished answer."""
        before = self.page.locator("#kb-chat .kb-meta, #kb-chat .kb-error").count()
        self.page.fill("#kb-question textarea", question)
        self.page.click("#kb-send")
        return self.wait_answer(before)

    def wait_answer(self, before: int) -> str:
        finished = self.page.locator("#kb-chat .kb-meta, #kb-chat .kb-error")
        deadline = time.monotonic() + ANSWER_TIMEOUT_MS / 1000
        while finished.count() <= before:
            assert time.monotonic() < deadline, "no answer in time"
            self.page.wait_for_timeout(200)
        return self.last_answer().inner_text()

    def last_answer(self):
        return self.page.locator("#kb-chat [data-testid='bot']").last

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()
        assert self.outside == [], f"requests left the machine: {self.outside}"


@pytest.mark.slow
@pytest.mark.browser
def test_browser_example_follow_up_feedback_export_and_documents(browser, app_url, app_settings, assistant):
    from assistant.feedback import FeedbackStore

    visit = Visit(browser, app_url)
    page = visit.page
    assert "Kronoberg-assistenten" in page.title()

    # The example question, by clicking it: 4,5 with the sustainability programme among the sources.
    page.get_by_role("button", name=EXAMPLE).click()
    text = visit.wait_answer(0)
    answer = visit.last_answer()
    assert re.search(r"(?<!\d)4,5(?!\d)", text), text
    sources = answer.locator(".kb-sources").inner_text()
    assert "Hållbarhetsprogram 2024–2028" in sources and "hållbarhetsprogram" in sources.lower()
    assert "Status:" in sources and re.search(r"rad \d+|s\. \d+", sources)
    assert answer.locator("sup.kb-ref").count() >= 1
    assert answer.locator(".kb-quote mark").count() >= 1
    assert any(re.search(r"4,5", m) for m in answer.locator(".kb-quote mark").all_inner_texts())
    visit.shot("01-example-question")
    assert page.evaluate("document.documentElement.lang") == "sv"

    # The source panel: "Visa i sammanhang" under a source shows the cited lines with the lines around them,
    # highlighted, read from the document by the same code as the /source API.
    button = answer.locator(".kb-source .kb-open-source").first
    target = json.loads(button.get_attribute("value"))
    cited_file, start = target["file"], target["start"]
    button.click()
    panel = page.locator("#kb-source-panel .kb-source-view")
    panel.wait_for(timeout=30_000)
    from assistant.web.sources import source_lines

    expected = source_lines(app_settings.corpus_dir, cited_file, start, target["end"], 6)
    cited = [line["text"].strip() for line in expected["lines"] if line["cited"]]
    highlighted = [t.strip() for t in page.locator("#kb-source-panel .kb-line.kb-cited .kb-line-text").all_inner_texts()]
    assert highlighted == cited and any(re.search(r"(?<!\d)4,5(?!\d)", t) for t in highlighted), highlighted
    numbers = [int(n) for n in page.locator("#kb-source-panel .kb-line-no").all_inner_texts()]
    assert numbers[0] < start <= numbers[-1] and len(numbers) > len(cited)  # context around the cited lines
    assert assistant.documents[cited_file].cite in panel.inner_text()
    visit.shot("01b-source-panel")
    # Clicking the marker [n] in the answer's text asks for that source too.
    request = page.locator("#kb-source-request input, #kb-source-request textarea").first
    before = request.input_value()
    marker = answer.locator(".kb-text sup.kb-ref").first
    n = int(re.search(r"\d+", marker.inner_text()).group(0))
    marker.click()
    page.wait_for_function("(before) => document.querySelector('#kb-source-request input, #kb-source-request "
                           "textarea').value !== before", arg=before, timeout=30_000)
    asked = json.loads(request.input_value())
    assert asked["n"] == n and asked["file"] == json.loads(
        answer.locator(f".kb-open-source[name='kb-source-{n}']").get_attribute("value"))["file"]
    page.wait_for_function(f"document.querySelector('#kb-source-panel').innerText.includes('[{n}]')",
                           timeout=30_000)

    # A follow-up that only makes sense with the first question: the year changes, the subject stays.
    follow = visit.ask(FOLLOW_UP)
    assert "sjukfrånvaro" in follow.lower(), follow
    assert "2027" in follow
    assert "Tolkad fråga" in follow
    visit.shot("02-follow-up")

    # Feedback on the first answer: thumbs up and a comment, stored with question, answer and sources.
    page.locator("#kb-chat button[aria-label='Gilla']").first.click()
    page.wait_for_function("document.querySelector('#kb-feedback-status').innerText.includes('sparat')")
    page.fill("#kb-comment textarea", "Tydligt svar med källa.")
    page.click("#kb-send-comment")
    page.wait_for_function("document.querySelector('#kb-feedback-status').innerText.includes('Kommentaren')")
    records = FeedbackStore(app_settings.feedback_path).all()
    assert len(records) == 1
    record = records[0]
    assert (record.rating, record.question, record.comment) == (1, EXAMPLE, "Tydligt svar med källa.")
    assert "4,5" in record.answer
    assert any(c["file"] == "hallbarhetsprogram-2024-2028.txt" for c in json.loads(record.sources))
    assert record.created and record.session_id
    visit.shot("03-feedback")

    # The conversation as Markdown.
    with page.expect_download() as download:
        page.click("#kb-export")
    exported = Path(download.value.path()).read_text(encoding="utf-8")
    assert download.value.suggested_filename.endswith(".md")
    assert f"## 1. {EXAMPLE}" in exported and f"## 2. {FOLLOW_UP}" in exported and "4,5" in exported
    assert "**Källor:**" in exported

    # The onboarding page lists every document with its kind, author, period and status.
    page.get_by_role("tab", name="Dokument").click()
    docs = page.locator("#kb-documents")
    docs.wait_for()
    listing = docs.inner_text()
    assert f"{len(assistant.documents)} dokument" in listing
    for info in assistant.documents.values():
        assert info.title in listing and info.status in listing and info.author in listing
    assert "oppositionens förslag, inte den antagna budgeten" in listing  # the proposal's kind label
    visit.shot("04-documents")

    # A new conversation forgets the earlier turns, and the source panel is emptied.
    page.get_by_role("tab", name="Fråga").click()
    page.click("#kb-new")
    page.wait_for_function("document.querySelectorAll('#kb-chat [data-testid=bot]').length === 0")
    page.wait_for_function("document.querySelectorAll('#kb-source-panel .kb-line').length === 0")
    visit.close()


@pytest.mark.slow
@pytest.mark.browser
def test_browser_sessions_filters_and_input_messages(browser, app_url):
    first, second = Visit(browser, app_url), Visit(browser, app_url)
    first.ask(EXAMPLE)
    # Another browser session has its own, empty conversation; the same follow-up there has no context.
    assert second.page.locator("#kb-chat [data-testid='bot']").count() == 0
    alone = second.ask(FOLLOW_UP)
    assert "Tolkad fråga" not in alone

    # Empty and too long questions get a message, not an answer.
    page = first.page
    page.fill("#kb-question textarea", "   ")
    page.click("#kb-send")
    page.wait_for_function("document.querySelector('#kb-status').innerText.includes('Skriv en fråga')")
    page.fill("#kb-question textarea", "x" * 2500)
    page.click("#kb-send")
    page.wait_for_function("document.querySelector('#kb-status').innerText.includes('för lång')")
    first.shot("05-too-long")

    # A period filter that no chosen document covers says so.
    page.click("#kb-new")
    page.locator("#kb-year-filter input").click()
    page.get_by_role("option", name=re.compile(r"2036")).click()
    text = first.ask(EXAMPLE)
    assert "Nära Kronobergaren" in text  # only the strategy covers 2036
    first.shot("06-year-filter")
    first.close()
    second.close()


@pytest.mark.slow
@pytest.mark.browser
def test_browser_missing_index_gives_a_clear_message(browser, missing_url):
    visit = Visit(browser, missing_url)
    page = visit.page
    banner = page.locator("#kb-banner")
    banner.wait_for()
    assert "python -m assistant ingest" in banner.inner_text()
    text = visit.ask(EXAMPLE)
    assert "Indexet saknas" in text and "python -m assistant ingest" in text
    assert "Traceback" not in page.content()
    visit.shot("07-index-missing")
    page.get_by_role("tab", name="Dokument").click()
    assert "python -m assistant ingest" in page.locator("#kb-documents").inner_text()
    visit.close()


@pytest.mark.slow
def test_api_ask_two_conversations_at_once(app_url, assistant):
    from gradio_client import Client

    def conversation(results: dict, key: str, history: list) -> None:
        client = Client(app_url, verbose=False)
        results[key] = json.loads(client.predict(FOLLOW_UP, json.dumps(history, ensure_ascii=False),
                                                 api_name="/ask"))

    client = Client(app_url, verbose=False)
    first = json.loads(client.predict(EXAMPLE, "[]", api_name="/ask"))
    expected = assistant.ask(EXAMPLE, []).to_json()
    first.pop("timings"), expected.pop("timings")
    assert first == expected
    typed = client.predict(EXAMPLE, [], api_name="/ask_v2")  # the typed endpoint: the same answer, as an object
    typed.pop("timings")
    assert typed == first
    assert re.search(r"(?<!\d)4,5(?!\d)", first["answer"])
    assert any(c["file"] == "hallbarhetsprogram-2024-2028.txt" for c in first["citations"])

    history = [{"role": "user", "content": EXAMPLE}, {"role": "assistant", "content": first["answer"]}]
    results: dict = {}
    threads = [threading.Thread(target=conversation, args=(results, "with", history)),
               threading.Thread(target=conversation, args=(results, "without", []))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert "sjukfrånvaro" in results["with"]["standalone_question"].lower()
    assert "2027" in results["with"]["standalone_question"]
    assert results["without"]["standalone_question"] == FOLLOW_UP

    for bad in ("inte json", '{"role": "user"}'):
        with pytest.raises(Exception) as err:
            client.predict(EXAMPLE, bad, api_name="/ask")
        assert "Historiken" in str(err.value)
    empty = json.loads(client.predict("   ", "[]", api_name="/ask"))
    assert empty["refused"] and empty["mode"] == "input"


@pytest.mark.slow
def test_api_ask_says_how_to_build_a_missing_index(missing_url):
    from gradio_client import Client

    with pytest.raises(Exception) as err:
        Client(missing_url, verbose=False).predict(EXAMPLE, "[]", api_name="/ask")
    assert "python -m assistant ingest" in str(err.value)


@pytest.mark.slow
def test_app_py_starts_and_serves_without_an_index(tmp_path):
    port = _free_port()
    (tmp_path / "none.toml").write_text("", encoding="utf-8")  # a named config file must exist
    env = dict(os.environ, KRONOBERG_INDEX_DIR=str(tmp_path / "index"), KRONOBERG_CONFIG=str(tmp_path / "none.toml"))
    proc = subprocess.Popen([sys.executable, str(PROJECT_ROOT / "app.py"), "--port", str(port), "--mode", "extractive"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert proc.poll() is None, proc.stdout.read()
                assert time.monotonic() < deadline, "app.py did not start"
                time.sleep(0.5)
        from gradio_client import Client

        with pytest.raises(Exception) as err:
            Client(url, verbose=False).predict(EXAMPLE, "[]", api_name="/ask")
        assert "python -m assistant ingest" in str(err.value)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_login_is_required_when_users_are_configured(tmp_path):
    import urllib.error
    import urllib.parse

    from assistant.chat import AssistantUnavailable

    def no_index(mode=None):
        raise AssistantUnavailable("Indexet saknas. Kör `python -m assistant ingest` för att bygga det.")

    settings = Settings(index_dir=tmp_path, users=(("anna", hash_password("hemligt")),))
    demo, url = _serve(no_index, settings)
    try:
        assert demo.analytics_enabled is False
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(url + "config", timeout=10)
        assert err.value.code == 401

        def login(password: str) -> int:
            data = urllib.parse.urlencode({"username": "anna", "password": password}).encode()
            try:
                return urllib.request.urlopen(url + "login", data=data, timeout=10).status
            except urllib.error.HTTPError as exc:
                return exc.code

        assert login("fel") == 400
        assert login(settings.users[0][1]) == 400  # the stored hash is not a password
        assert login("hemligt") == 200
    finally:
        demo.close()
