"""The local model in its own process, supervised by the app.

`mode = "local"` runs llama-cpp-python's OpenAI-compatible server (`python -m llama_cpp.server`) as a
child process on 127.0.0.1 and a free port. The app speaks to it with the same client as
`mode = "openai"` (llm.OpenAICompatible); this module only keeps the process alive:

    stopped --start()--> starting --/v1/models answers, one token written--> ready
    starting --exits, or not ready within start_timeout_s--> backoff --delay--> starting
    ready --exits (crash, SIGKILL), or hangs (a failed request, then /v1/models silent)--> backoff
    any --close()--> closed (the child is stopped and never started again)

A crashed, hung or killed child never takes the app down: the request in flight fails with
LLMUnavailable (the answer falls back to extractive), the watchdog starts a new child, and later
questions use it once it is ready. Restarts back off (0, 1, 2, 4 … 60 s) while a child keeps dying
soon after it started, so a model that cannot run does not spin. The child exits by itself when the
app is gone, even after a SIGKILL of the app (it watches its parent), and it gets none of the
terminal's signals (its own session): the app stops it, at exit (atexit) or by `close()`.

The logic is in `Supervisor.step()`, one tick of the watchdog, with the process, the health probe,
the warm-up and the clock passed in, so that it is tested without a model (tests/test_model_server.py).
"""

from __future__ import annotations

import atexit
import collections
import http.client
import logging
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import weakref
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Protocol

log = logging.getLogger(__name__)

STOPPED, STARTING, READY, BACKOFF, CLOSED = "stopped", "starting", "ready", "backoff", "closed"
MAX_BACKOFF_S = 60.0
STABLE_S = 60.0  # a child that lived this long after becoming ready died of something else: restart at once
PROBE_TIMEOUT_S = 5.0
LOOPBACK = "127.0.0.1"

# Run in the child, before llama_cpp.server: exit when the app is gone (the parent's pid changes when
# it dies, even by SIGKILL), and ignore the server's own environment settings (HOST, PORT, MODEL …,
# read by pydantic-settings and by llama_cpp.server.__main__), so that only the arguments count and
# the server cannot be moved off loopback by an environment variable.
CHILD = """\
import os, sys, threading, time, runpy
parent = int(sys.argv.pop(1))
if os.getppid() != parent:
    sys.exit(0)
def watch():
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
from llama_cpp.server.settings import Settings
for name in list(os.environ):
    if name.lower() in Settings.model_fields or name in ("HOST", "PORT", "CONFIG_FILE"):
        del os.environ[name]
sys.argv[0] = "llama_cpp.server"
runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
"""


class Process(Protocol):
    pid: int

    def poll(self) -> int | None: ...

    def kill(self) -> None: ...

    def terminate(self) -> None: ...

    def wait(self, timeout: float | None = None) -> int: ...


class ServerDown(RuntimeError):
    """The model server is not ready (starting, restarting, or failing to start)."""


def free_port(host: str = LOOPBACK) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def server_command(model: Path, port: int, *, alias: str, n_ctx: int, n_threads: int, n_threads_batch: int,
                   chat_format: str = "", parent_pid: int | None = None) -> list[str]:
    """`python -m llama_cpp.server` for one GGUF on loopback, started through the CHILD prelude."""
    args = [sys.executable, "-c", CHILD, str(parent_pid or os.getpid()),
            "--model", str(model), "--model_alias", alias,
            "--host", LOOPBACK, "--port", str(port),
            "--n_ctx", str(n_ctx), "--n_threads", str(n_threads), "--n_threads_batch", str(n_threads_batch),
            # One request at a time reaches the server (the client holds a lock); a health probe must
            # never cut an answer short, which the server's default (interrupt_requests) would do.
            "--interrupt_requests", "False",
            # The server's defaults differ from llama_cpp.Llama's: logits for every position (2.5 GB
            # for 4 096 tokens of a 152k vocabulary) and mlock. Keep the library's defaults.
            "--logits_all", "False", "--use_mlock", "False",
            "--verbose", "True"]  # llama.cpp's load and timing lines (no prompt text) go to the log tail
    if chat_format:
        args += ["--chat_format", chat_format]
    return args


def http_ok(url: str, timeout: float) -> bool:
    """GET url on loopback, without any proxy; True on HTTP 200."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as response:
            return response.status == 200
    except (OSError, http.client.HTTPException, ValueError):  # URLError and timeouts are OSErrors
        return False


class Supervisor:
    """Starts, checks, restarts and stops one model server process. Thread-safe.

    `spawn(port)` starts a process serving on that port; `probe(base_url, timeout)` says whether it
    answers; `warm_up(base_url)` makes it write one token (and read the system prompt), raising on
    failure. Requests go through `request()`, which waits for the server to be ready and keeps the
    watchdog from probing while a request runs (the server answers /v1/models only between requests).
    """

    def __init__(self, spawn: Callable[[int], Process], probe: Callable[[str, float], bool],
                 warm_up: Callable[[str], None] | None = None, *, start_timeout_s: float = 180.0,
                 check_interval_s: float = 10.0, clock: Callable[[], float] = time.monotonic,
                 port: Callable[[], int] = free_port, name: str = "model server", watchdog: bool = True) -> None:
        self._spawn, self._probe, self._warm_up = spawn, probe, warm_up
        self.start_timeout_s, self.check_interval_s = start_timeout_s, check_interval_s
        self._clock, self._port, self.name = clock, port, name
        self.state = STOPPED
        self.base_url = ""
        self.proc: Process | None = None
        self.ready_count = 0  # times a process became ready
        self.starts = 0  # processes started
        self.restarts = 0  # of those, after one had died or hung
        self.last_exit: str = ""  # why the last process ended
        self._failures = 0  # deaths in a row soon after starting (sets the backoff)
        self._next_start = 0.0
        self._started_at = self._ready_at = self._last_check = 0.0
        self._probe_failures = 0
        self._suspect = False
        self._cond = threading.Condition()
        self._busy = threading.Lock()  # held while a request runs
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._watchdog = watchdog  # False: no thread, the caller runs step() (the tests)
        self.log_tail: Callable[[], list[str]] = lambda: []  # the child's last lines of output

    # --- for the client -------------------------------------------------------------------------

    def start(self) -> None:
        """Start supervising (idempotent): the watchdog thread starts the server and keeps it up."""
        with self._cond:
            if self.state == CLOSED or self._thread is not None or not self._watchdog:
                return
            self._thread = threading.Thread(target=self._run, daemon=True, name="kb-model-server")
            self._thread.start()

    def wait_ready(self, timeout: float) -> str:
        """The base URL once the server is ready (and not in doubt after a failed request); ServerDown
        after `timeout` seconds."""
        self.start()
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._usable():
                left = deadline - time.monotonic()
                if self.state == CLOSED or left <= 0:
                    why = self.state + (", being checked" if self.state == READY else "")
                    raise ServerDown(f"{self.name}: {why}" + (f" ({self.last_exit})" if self.last_exit else ""))
                self._cond.wait(min(left, 1.0))
            return self.base_url

    def _usable(self) -> bool:
        return self.state == READY and not self._suspect

    @contextmanager
    def request(self, timeout: float) -> Iterator[str]:
        """`with supervisor.request(30) as base_url:` one request to a ready server. Requests queue here
        one at a time (the model serves one at a time anyway), and the watchdog does not probe while
        one runs. A client whose request fails calls `report_failure()`; until the watchdog has checked
        the server (or replaced it), no request is let through, each waiting up to `timeout`."""
        self.wait_ready(timeout)
        while True:
            self._busy.acquire()  # behind the requests before this one, however long they write
            with self._cond:
                if self._usable():
                    url = self.base_url
                    break
            self._busy.release()  # it died, or a request failed, while this one queued
            self.wait_ready(timeout)
        try:
            yield url
        finally:
            self._busy.release()

    @property
    def busy(self) -> bool:
        """Whether a request is running."""
        return self._busy.locked()

    def alive(self) -> bool:
        proc = self.proc
        return self.state == READY and proc is not None and proc.poll() is None

    def report_failure(self) -> None:
        """A request failed: hold new requests and check the server now rather than at the next interval."""
        with self._cond:
            self._suspect = True
        self._wake.set()

    def close(self) -> None:
        """Stop the server for good (SIGTERM, then SIGKILL after 5 s)."""
        with self._cond:
            self.state = CLOSED
            proc, self.proc = self.proc, None
            self._cond.notify_all()
        self._wake.set()
        if proc is not None:
            _stop(proc)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)

    # --- the watchdog ---------------------------------------------------------------------------

    def _run(self) -> None:
        while self.state != CLOSED:
            try:
                self.step()
            except Exception:  # the watchdog must outlive anything that goes wrong in one tick
                log.exception("%s: supervision step failed", self.name)
            wait = self.check_interval_s if self.state == READY else 0.25
            if self._wake.wait(wait):
                self._wake.clear()

    def step(self) -> None:
        """One tick: notice a dead child, (re)start, check readiness, check health."""
        now = self._clock()
        proc = self.proc
        if self.state == CLOSED:
            return
        if proc is not None and proc.poll() is not None:
            self._ended(f"exited with {proc.poll()}", now)
            proc = None
        if proc is None:
            if now >= self._next_start:
                self._start(now)
            return
        if self.state == STARTING:
            if self._probe(self.base_url, 2.0):
                try:
                    if self._warm_up is not None:
                        self._warm_up(self.base_url)
                except Exception as exc:
                    self._kill(f"warm-up failed ({type(exc).__name__}: {exc})", now)
                    return
                with self._cond:
                    if self.state == STARTING and self.proc is proc:
                        self.state, self._ready_at, self._last_check = READY, self._clock(), self._clock()
                        self.ready_count += 1
                        self._probe_failures, self._suspect = 0, False
                        self._cond.notify_all()
                log.info("%s ready at %s (pid %s)", self.name, self.base_url, proc.pid)
            elif now - self._started_at > self.start_timeout_s:
                self._kill(f"not ready after {self.start_timeout_s:.0f} s", now)
            return
        if self.state == READY and (self._suspect or now - self._last_check >= self.check_interval_s):
            if not self._busy.acquire(blocking=False):
                return  # a request is running: the server is in use, its own timeout watches it
            try:
                ok = self._probe(self.base_url, PROBE_TIMEOUT_S)
            finally:
                self._busy.release()
            self._last_check = self._clock()
            if ok:
                with self._cond:
                    self._probe_failures, self._suspect = 0, False
                    self._cond.notify_all()
                return
            self._probe_failures += 1
            if self._suspect or self._probe_failures >= 2:
                self._kill("did not answer /v1/models (hung)", self._clock())

    def _start(self, now: float) -> None:
        port = self._port()
        proc = self._spawn(port)
        with self._cond:
            if self.state == CLOSED:
                _stop(proc)
                return
            if self.starts:
                self.restarts += 1
            self.starts += 1
            self.proc, self.base_url = proc, f"http://{LOOPBACK}:{port}/v1"
            self.state, self._started_at = STARTING, now
            self._cond.notify_all()
        log.info("%s starting (pid %s, port %s)", self.name, proc.pid, port)

    def _ended(self, why: str, now: float) -> None:
        with self._cond:
            if self.state == CLOSED:
                return
            was_ready = self.state == READY
            self.proc, self.last_exit = None, why
            if was_ready and now - self._ready_at >= STABLE_S:
                self._failures = 1  # it had been running well: restart at once
            else:
                self._failures += 1
            delay = 0.0 if self._failures <= 1 else min(MAX_BACKOFF_S, 2.0 ** (self._failures - 2))
            self.state, self._next_start = BACKOFF, now + delay
            self._cond.notify_all()
        log.warning("%s %s; starting a new one in %.0f s", self.name, why, delay)

    def _kill(self, why: str, now: float) -> None:
        proc = self.proc
        if proc is not None:
            _stop(proc, grace_s=0.0)
        self._ended(why, now)


def _stop(proc: Process, grace_s: float = 5.0) -> None:
    try:
        if grace_s > 0:
            proc.terminate()
            try:
                proc.wait(timeout=grace_s)
                return
            except subprocess.TimeoutExpired:
                pass
        proc.kill()
        proc.wait(timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        pass


class _LogTail:
    """Keeps the last lines the child wrote (for the message when it fails to start)."""

    def __init__(self, stream, lines: int = 40) -> None:
        self.lines: collections.deque[str] = collections.deque(maxlen=lines)
        threading.Thread(target=self._read, args=(stream,), daemon=True, name="kb-model-log").start()

    def _read(self, stream) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip()
            self.lines.append(line)
            log.debug("model server: %s", line)
        stream.close()


_open: "weakref.WeakSet[Supervisor]" = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for supervisor in list(_open):
        supervisor.close()


def llama_cpp_supervisor(model: Path, *, alias: str, n_ctx: int, n_threads: int, n_threads_batch: int,
                         warm_up: Callable[[str], None] | None, start_timeout_s: float,
                         check_interval_s: float, chat_format: str = "") -> Supervisor:
    """A Supervisor of `python -m llama_cpp.server` serving `model`; closed at exit."""
    tails: list[_LogTail] = []

    def spawn(port: int) -> subprocess.Popen:
        cmd = server_command(model, port, alias=alias, n_ctx=n_ctx, n_threads=n_threads,
                             n_threads_batch=n_threads_batch, chat_format=chat_format)
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True, close_fds=True)
        tails[:] = [_LogTail(proc.stdout)]
        return proc

    def probe(base_url: str, timeout: float) -> bool:
        return http_ok(base_url + "/models", timeout)

    supervisor = Supervisor(spawn, probe, warm_up, start_timeout_s=start_timeout_s,
                            check_interval_s=check_interval_s, name="the local model server")
    supervisor.log_tail = lambda: list(tails[0].lines) if tails else []
    _open.add(supervisor)
    return supervisor
