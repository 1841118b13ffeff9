"""`python -m evals load`: many conversations at once through the `/ask` API.

    python -m evals load [--conversations 8] [--turns 3] [--url URL] [--mode extractive] [--compare]

Without --url, app.py is started on a free loopback port with the real index (the project's settings)
and stopped afterwards. Each conversation is one client (its own gradio_client.Client) in its own
thread; it asks about its own measure, then follow-ups that only make sense with its own history
("Och 2027?", "Vilket dokument säger det?"), sending the history it has itself collected. Checked:
every request is answered (valid answer JSON, no error), and no question interpretation in
conversation i names the topic of another conversation j (history crossing between sessions).
With --compare every request is asked again, alone and in order, with the same history; in extractive
mode the answers must be identical to the ones given under load.

One question is asked before the clock starts (the first answer after a start loads models and
indexes; its time is reported as warm_up_s). Prints the figures as JSON (requests, errors, crossings,
p50/p95/max latency in seconds, measured by the client, queueing included) and writes them with one
row per request to DIR (default evals/out/load/). Not a timed test: latency depends on the machine and
on what else it runs.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import metrics
from .runner import OUT_DIR

PROJECT_ROOT = Path(__file__).resolve().parents[1]
LOAD_DIR = OUT_DIR / "load"


@dataclass(frozen=True)
class Topic:
    question: str
    terms: tuple[str, ...]  # lower-case stems that name this topic and no other


TOPICS = [
    Topic("Vad är målvärdet för sjukfrånvaro 2028?", ("sjukfrånvaro",)),
    Topic("Vilken sysselsättningsgrad ska Region Kronoberg ha 2028?", ("sysselsättningsgrad",)),
    Topic("Vilken skattesats fastställs för 2021?", ("skattesats",)),
    Topic("Vilken driftram har hälso- och sjukvårdsnämnden i Allians för Kronobergs budget 2025?",
          ("driftram",)),
    Topic("Hur hög ska materialåtervinningsgraden vara 2028?", ("materialåtervinning",)),
    Topic("Hur mycket solceller ska installeras till 2028?", ("solcell",)),
    Topic("Vilken genomsnittlig pensionsålder är målet 2028?", ("pensionsålder",)),
    Topic("Vad är målet för andelen förnybara drivmedel 2028?", ("drivmedel",)),
    Topic("Vilket mål finns för fisk och skaldjur 2028?", ("skaldjur",)),
]
FOLLOW_UPS = ["Och 2027?", "Vilket dokument säger det?", "Och 2026?", "Vad står det mer om det?"]


@dataclass
class Request:
    conversation: int
    turn: int
    question: str
    history_turns: int
    seconds: float = 0.0
    error: str = ""
    answer: dict[str, Any] = field(default_factory=dict)

    @property
    def answered(self) -> bool:
        return not self.error and bool(self.answer.get("answer"))


def topic_of(conversation: int) -> Topic:
    return TOPICS[conversation % len(TOPICS)]


def questions_for(conversation: int, turns: int) -> list[str]:
    return [topic_of(conversation).question, *(FOLLOW_UPS[i % len(FOLLOW_UPS)] for i in range(turns - 1))]


def _ask(client, question: str, history: list[dict[str, str]]) -> tuple[dict[str, Any], float, str]:
    started = time.perf_counter()
    try:
        raw = client.predict(question, json.dumps(history, ensure_ascii=False), api_name="/ask")
        data, error = json.loads(raw), ""
        if not isinstance(data, dict):
            data, error = {}, f"not an answer: {raw!r:.200}"
    except Exception as exc:  # the failure is the figure
        data, error = {}, f"{type(exc).__name__}: {exc}"
    return data, time.perf_counter() - started, error


def converse(url: str, conversation: int, turns: int, start: threading.Barrier | None = None) -> list[Request]:
    """One conversation: its own client, its own history, one request after the other."""
    from gradio_client import Client

    requests: list[Request] = []
    try:
        client = Client(url, verbose=False)
    except Exception as exc:
        if start is not None:
            start.abort()
        return [Request(conversation, 0, topic_of(conversation).question, 0, error=f"connect: {exc}")]
    if start is not None:
        try:
            start.wait()
        except threading.BrokenBarrierError:  # another client could not connect: ask anyway
            pass
    history: list[dict[str, str]] = []
    for turn, question in enumerate(questions_for(conversation, turns)):
        data, seconds, error = _ask(client, question, history)
        requests.append(Request(conversation, turn, question, len(history) // 2, round(seconds, 4), error, data))
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": data.get("answer", "")}]
    return requests


def crossings(requests: list[Request]) -> list[dict[str, Any]]:
    """Requests whose interpretation (the standalone question) names another conversation's topic.

    Answers are not searched: a cited passage may mention another measure in passing (a table
    header). That the answers do not depend on other conversations is what `--compare` shows by
    asking every request again alone."""
    found = []
    conversations = sorted({r.conversation for r in requests})
    for r in requests:
        own = topic_of(r.conversation)
        text = r.answer.get("standalone_question", "").lower()
        for other in conversations:
            topic = topic_of(other)
            if topic == own:
                continue
            hits = [t for t in topic.terms if t in text]
            if hits:
                found.append({"conversation": r.conversation, "turn": r.turn, "other": other, "terms": hits,
                              "standalone_question": r.answer.get("standalone_question", ""),
                              "answer": r.answer.get("answer", "")[:300]})
    return found


def _history(requests: list[Request], conversation: int, turn: int) -> list[dict[str, str]]:
    history = []
    for r in sorted((r for r in requests if r.conversation == conversation and r.turn < turn), key=lambda r: r.turn):
        history += [{"role": "user", "content": r.question}, {"role": "assistant", "content": r.answer.get("answer", "")}]
    return history


def _comparable(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k != "timings"}


def compare_sequential(url: str, requests: list[Request]) -> list[dict[str, Any]]:
    """Ask every request again, alone and in order, with the same history; return the differences."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    differences = []
    for r in sorted(requests, key=lambda r: (r.conversation, r.turn)):
        if not r.answered:
            continue
        alone, _, error = _ask(client, r.question, _history(requests, r.conversation, r.turn))
        if error or _comparable(alone) != _comparable(r.answer):
            differences.append({"conversation": r.conversation, "turn": r.turn, "question": r.question,
                                "under_load": r.answer.get("answer", "")[:300],
                                "alone": alone.get("answer", "")[:300] or error})
    return differences


def run_load(url: str, conversations: int = 8, turns: int = 3, compare: bool = False) -> tuple[dict[str, Any], list[Request]]:
    """Run the conversations at once against `url`; return the summary and every request."""
    if conversations < 1 or turns < 1:
        raise ValueError("conversations and turns must be at least 1")
    warm_up = _warm_up(url)
    results: dict[int, list[Request]] = {}
    start = threading.Barrier(conversations, timeout=300)  # all clients connected, then all ask at once

    def work(i: int) -> None:
        results[i] = converse(url, i, turns, start)

    began = time.perf_counter()
    threads = [threading.Thread(target=work, args=(i,), name=f"load-{i}") for i in range(conversations)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    requests = [r for i in range(conversations) for r in results.get(i, [])]
    seconds = [r.seconds for r in requests if r.answered]
    crossed = crossings(requests)
    follow_ups = [r for r in requests if r.turn == 1]
    on_topic = [r for r in follow_ups
                if any(t in r.answer.get("standalone_question", "").lower() for t in topic_of(r.conversation).terms)]
    summary: dict[str, Any] = {
        "url": url,
        "conversations": conversations,
        "turns": turns,
        "requests": len(requests),
        "expected_requests": conversations * turns,
        "answered": sum(r.answered for r in requests),
        "errors": conversations * turns - sum(r.answered for r in requests),
        "refused": sum(1 for r in requests if r.answer.get("refused")),
        "crossings": len(crossed),
        "first_follow_ups_on_own_topic": f"{len(on_topic)}/{len(follow_ups)}",
        "latency_s": {"p50": _r(metrics.percentile(seconds, 50)), "p95": _r(metrics.percentile(seconds, 95)),
                      "max": _r(max(seconds) if seconds else None), "mean": _r(sum(seconds) / len(seconds) if seconds else None)},
        "wall_s": _r(wall),
        "warm_up_s": warm_up,
        "requests_per_s": _r(len(seconds) / wall if wall else None),
        "load_average_before": _loadavg(),
        "error_messages": sorted({r.error for r in requests if r.error})[:10],
        "crossing_examples": crossed[:5],
    }
    if compare:
        differences = compare_sequential(url, requests)
        summary["differences_from_sequential"] = len(differences)
        summary["difference_examples"] = differences[:5]
    summary["ok"] = (summary["answered"] == summary["expected_requests"] and not crossed
                     and not summary.get("differences_from_sequential"))
    return summary, requests


def _warm_up(url: str) -> float | None:
    """One question before the clock starts: the first answer after a start loads models and indexes."""
    from gradio_client import Client

    try:
        _, seconds, error = _ask(Client(url, verbose=False), "Vilken skattesats gäller?", [])
    except Exception:  # the run itself reports a server that does not answer
        return None
    return None if error else _r(seconds)


def _r(v: float | None, digits: int = 3) -> float | None:
    return None if v is None else round(v, digits)


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


# --- starting the app -----------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(log_path: Path, mode: str = "extractive", config: Path | None = None, timeout_s: float = 600,
              env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """Start app.py on a free loopback port and wait until it serves; return the process and its URL.
    The app's output goes to `log_path`."""
    port = free_port()
    cmd = [sys.executable, str(PROJECT_ROOT / "app.py"), "--host", "127.0.0.1", "--port", str(port), "--mode", mode]
    if config is not None:
        cmd += ["--config", str(config)]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                if response.status == 200:
                    return proc, url
        except OSError:
            pass
        if proc.poll() is not None:
            tail = log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
            raise RuntimeError(f"app.py avslutades med kod {proc.returncode} innan den började svara:\n{tail}")
        if time.monotonic() > deadline:
            stop_app(proc)
            raise RuntimeError(f"app.py svarade inte inom {timeout_s:.0f} s")
        time.sleep(0.5)


def stop_app(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- command line -------------------------------------------------------------------------------------

def add_arguments(parser) -> None:
    parser.add_argument("--conversations", type=int, default=8, help="samtidiga samtal (standard 8)")
    parser.add_argument("--turns", type=int, default=3, help="frågor per samtal (standard 3)")
    parser.add_argument("--url", help="en app som redan kör; annars startas app.py på en ledig port")
    parser.add_argument("--mode", choices=("extractive", "local", "openai"), default="extractive",
                        help="svarsläge för appen som startas (standard extractive)")
    parser.add_argument("--compare", action="store_true",
                        help="ställ varje fråga igen, ensam, och jämför svaren (ska vara lika i extraktivt läge)")
    parser.add_argument("--out", type=Path, default=LOAD_DIR, help="utkatalog (standard evals/out/load)")


def main(args, config: Path | None = None) -> int:
    proc = None
    url = args.url
    try:
        if url is None:
            print(f"Startar app.py ({args.mode}) …", file=sys.stderr)
            started = time.perf_counter()
            proc, url = start_app(args.out / "app.log", args.mode, config)
            print(f"App på {url} efter {time.perf_counter() - started:.1f} s", file=sys.stderr)
        summary, requests = run_load(url, args.conversations, args.turns, compare=args.compare)
    except (RuntimeError, ValueError) as exc:
        print(f"Lasttestet kunde inte köras: {exc}", file=sys.stderr)
        return 1
    finally:
        if proc is not None:
            stop_app(proc)
    summary["mode"] = args.mode if args.url is None else "(--url)"
    summary["command"] = (f"python -m evals load --conversations {args.conversations} --turns {args.turns}"
                          + (f" --url {args.url}" if args.url else f" --mode {args.mode}")
                          + (" --compare" if args.compare else ""))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "load.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    with (args.out / "requests.jsonl").open("w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(asdict(r), ensure_ascii=False) + "\n" for r in requests)
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0 if summary["ok"] else 1
