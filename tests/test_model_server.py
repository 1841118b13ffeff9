"""The model server's supervisor as a state machine, with a fake process, probe and clock (fast), and
the command it starts: loopback only, the app's thread settings, no request interruption."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from assistant import model_server as ms
from assistant.model_server import BACKOFF, CLOSED, READY, STARTING, ServerDown, Supervisor


class FakeProcess:
    def __init__(self, pid: int) -> None:
        self.pid, self.returncode, self.signals = pid, None, []

    def poll(self):
        return self.returncode

    def kill(self):
        self.signals.append("KILL")
        self.returncode = -9

    def terminate(self):
        self.signals.append("TERM")
        self.returncode = -15

    def wait(self, timeout=None):
        return self.returncode

    def crash(self, code: int = -11):
        self.returncode = code


class World:
    """The fakes a Supervisor is built from: `healthy` is what the probe answers, `warm_ok` whether a
    warm-up succeeds; every spawned process and every port handed out is recorded."""

    def __init__(self) -> None:
        self.now, self.healthy, self.warm_ok = 0.0, False, True
        self.procs: list[FakeProcess] = []
        self.ports = iter(range(9001, 9100))
        self.warmed: list[str] = []

    def spawn(self, port):
        proc = FakeProcess(1000 + len(self.procs))
        self.procs.append(proc)
        return proc

    def probe(self, url, timeout):
        return self.healthy

    def warm_up(self, url):
        if not self.warm_ok:
            raise ConnectionError("no token")
        self.warmed.append(url)

    def supervisor(self, **kw) -> Supervisor:
        # no watchdog thread: the test drives step() itself
        return Supervisor(self.spawn, self.probe, self.warm_up, clock=lambda: self.now,
                          port=lambda: next(self.ports), start_timeout_s=kw.get("start_timeout_s", 30.0),
                          check_interval_s=kw.get("check_interval_s", 10.0), watchdog=False)


def _ready(world: World) -> Supervisor:
    sup = world.supervisor()
    sup.step()  # spawn
    world.healthy = True
    sup.step()  # probe + warm-up
    assert sup.state == READY
    return sup


def test_starts_then_is_ready_once_it_answers_and_has_written_a_token():
    world = World()
    sup = world.supervisor()
    assert sup.state == "stopped"
    sup.step()
    assert sup.state == STARTING and len(world.procs) == 1 and sup.base_url == "http://127.0.0.1:9001/v1"
    sup.step()  # not answering yet (loading)
    assert sup.state == STARTING and not world.warmed
    world.healthy = True
    sup.step()
    assert sup.state == READY and world.warmed == ["http://127.0.0.1:9001/v1"]
    assert sup.wait_ready(0.1) == "http://127.0.0.1:9001/v1" and sup.alive()


def test_a_crashed_server_is_restarted_at_once_on_a_new_port():
    world = World()
    sup = _ready(world)
    world.now = 100.0
    world.procs[0].crash()
    assert not sup.alive()
    sup.step()  # notices the death and starts a new one right away (it had run well for a while)
    assert sup.state == STARTING and len(world.procs) == 2 and sup.restarts == 1
    assert sup.base_url.endswith(":9002/v1") and "exited with -11" in sup.last_exit
    with pytest.raises(ServerDown):
        sup.wait_ready(0.05)  # a question now does not wait forever
    sup.step()
    assert sup.state == READY and sup.wait_ready(0.1).endswith(":9002/v1")


def test_a_server_that_keeps_dying_backs_off():
    world = World()
    sup = world.supervisor()
    sup.step()
    delays = []
    for _ in range(9):
        assert sup.state == STARTING
        world.procs[-1].crash()
        sup.step()  # the death is noticed; a new start now, or after a delay
        if sup.state == BACKOFF:
            delays.append(sup._next_start - world.now)
            world.now = sup._next_start - 0.1
            sup.step()
            assert sup.state == BACKOFF  # not before its time
            world.now += 0.1
            sup.step()
        else:
            delays.append(0.0)
    assert delays == [0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]
    assert len(world.procs) == 10


def test_a_start_that_never_becomes_ready_is_killed_and_retried():
    world = World()
    sup = world.supervisor(start_timeout_s=30.0)
    sup.step()
    world.now = 31.0
    sup.step()
    assert world.procs[0].signals == ["KILL"] and sup.state in (BACKOFF, STARTING)
    assert "not ready after 30 s" in sup.last_exit
    world.now = 40.0
    sup.step()
    assert len(world.procs) == 2


def test_a_server_that_answers_but_cannot_write_a_token_is_not_ready():
    world = World()
    world.healthy, world.warm_ok = True, False
    sup = world.supervisor()
    sup.step()
    sup.step()
    assert sup.state != READY and world.procs[0].signals == ["KILL"] and "warm-up failed" in sup.last_exit


def test_a_hung_server_is_killed_after_a_failed_request_and_a_silent_probe():
    world = World()
    sup = _ready(world)
    world.healthy = False  # hung: alive, but /v1/models does not answer
    world.now = 5.0
    sup.step()
    assert sup.state == READY  # not yet time to check
    sup.report_failure()  # a request timed out
    sup.step()
    assert world.procs[0].signals == ["KILL"] and "hung" in sup.last_exit
    sup.step()
    assert len(world.procs) == 2


def test_after_a_failed_request_no_request_goes_through_until_the_server_is_checked():
    world = World()
    sup = _ready(world)
    sup.report_failure()  # e.g. a read timeout, or an HTTP 500
    with pytest.raises(ServerDown, match="being checked"):
        with sup.request(0.05):
            pass
    sup.step()  # the probe answers: it was the request, not the server
    assert not world.procs[0].signals
    with sup.request(0.05) as url:
        assert url.endswith(":9001/v1")


def test_without_a_failed_request_two_silent_probes_are_needed():
    world = World()
    sup = _ready(world)
    world.healthy = False
    world.now = 10.0
    sup.step()
    assert sup.state == READY and not world.procs[0].signals
    world.now = 20.0
    sup.step()
    assert world.procs[0].signals == ["KILL"]


def test_no_probe_while_a_request_runs():
    world = World()
    sup = _ready(world)
    calls = []
    sup._probe = lambda url, timeout: calls.append(url) or False
    world.now = 50.0
    with sup.request(0.1) as url:
        assert url.endswith(":9001/v1")
        sup.report_failure()
        sup.step()
        assert calls == [] and sup.state == READY  # a long answer is not a hang
    sup.step()
    assert calls and world.procs[0].signals == ["KILL"]


def test_requests_queue_one_at_a_time():
    world = World()
    sup = _ready(world)
    order = []

    def second():
        with sup.request(5):
            order.append("second")

    with sup.request(1):
        t = threading.Thread(target=second)
        t.start()
        t.join(0.2)
        order.append("first")
    t.join(5)
    assert order == ["first", "second"]


def test_close_stops_the_server_and_it_is_never_started_again():
    world = World()
    sup = _ready(world)
    sup.close()
    assert sup.state == CLOSED and world.procs[0].signals[0] == "TERM"
    sup.step()
    sup.start()
    assert len(world.procs) == 1
    with pytest.raises(ServerDown):
        sup.wait_ready(0.05)


def test_the_watchdog_thread_brings_a_killed_server_back():
    world = World()
    world.healthy = True
    sup = Supervisor(world.spawn, world.probe, world.warm_up, check_interval_s=0.05)
    try:
        first = sup.wait_ready(5)
        world.procs[0].crash(-9)
        sup.report_failure()
        deadline = 50
        while len(world.procs) < 2 and deadline:
            threading.Event().wait(0.05)
            deadline -= 1
        assert sup.wait_ready(5) != first and sup.restarts == 1
    finally:
        sup.close()


def test_the_command_serves_on_loopback_with_the_app_settings():
    cmd = ms.server_command(Path("/m/q.gguf"), 8123, alias="q", n_ctx=4096, n_threads=1, n_threads_batch=2)
    args = dict(zip(cmd[4::2], cmd[5::2]))
    assert cmd[1] == "-c" and "runpy.run_module(\"llama_cpp.server\"" in cmd[2]
    assert args["--host"] == "127.0.0.1" and args["--port"] == "8123" and args["--model"] == "/m/q.gguf"
    assert args["--n_threads"] == "1" and args["--n_threads_batch"] == "2" and args["--n_ctx"] == "4096"
    assert args["--interrupt_requests"] == "False" and args["--logits_all"] == "False"
    assert "--chat_format" not in args  # the GGUF's own template (Qwen2.5: ChatML), as llama_cpp.Llama uses
    # the child drops HOST/PORT/MODEL … from its environment, so nothing moves it off loopback
    assert '"HOST", "PORT"' in ms.CHILD and "Settings.model_fields" in ms.CHILD
