"""The load test (`python -m evals load`): many conversations at once, each answered, none crossing.

The slow test serves the app in this process, in extractive mode, on the index built once per
session from the real corpus (conftest.py), and runs 8 conversations of 2 turns through `/ask` with
evals.load. No timing is asserted: figures depend on the machine.
"""

from __future__ import annotations

import json
import socket

import pytest

from evals.load import Request, TOPICS, crossings, questions_for, topic_of


def test_topics_are_distinct_and_follow_ups_depend_on_history():
    terms = [t for topic in TOPICS for t in topic.terms]
    assert len(terms) == len(set(terms))
    for topic in TOPICS:  # a topic's question names its own terms and no other topic's
        assert any(t in topic.question.lower() for t in topic.terms)
        others = [t for other in TOPICS if other != topic for t in other.terms]
        assert not any(t in topic.question.lower() for t in others), topic.question
    assert questions_for(0, 3)[1:] == ["Och 2027?", "Vilket dokument säger det?"]
    assert topic_of(len(TOPICS)) == topic_of(0)


def test_crossings_are_detected():
    def request(conversation: int, turn: int, standalone: str, answer: str) -> Request:
        return Request(conversation, turn, "Och 2027?", turn,
                       answer={"standalone_question": standalone, "answer": answer})

    clean = [request(0, 1, "Vad är målvärdet för sjukfrånvaro 2027?", "Sjukfrånvaro 2027: 5 %"),
             request(1, 1, "Vilken sysselsättningsgrad ska Region Kronoberg ha 2027?", "88 %")]
    assert crossings(clean) == []
    crossed = clean + [request(1, 2, "Vad är målvärdet för sjukfrånvaro 2027?", "5 %")]
    [found] = crossings(crossed)
    assert (found["conversation"], found["turn"], found["other"], found["terms"]) == (1, 2, 0, ["sjukfrånvaro"])
    # The same topic in two conversations (more conversations than topics) is not a crossing.
    same = [request(0, 1, "sjukfrånvaro 2027", ""), request(len(TOPICS), 1, "sjukfrånvaro 2027", "")]
    assert crossings(same) == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def load_url(settings, assistant, tmp_path_factory):
    from assistant.web.app import build_app, launch_options

    port = _free_port()
    app_settings = settings.with_(mode="extractive", port=port,
                                  feedback_db=tmp_path_factory.mktemp("load-feedback") / "feedback.sqlite3",
                                  export_dir=tmp_path_factory.mktemp("load-exports"))
    demo = build_app(lambda mode=None: assistant, app_settings)
    demo.queue(default_concurrency_limit=4).launch(**launch_options(app_settings, prevent_thread_lock=True, quiet=True))
    yield f"http://127.0.0.1:{port}/"
    demo.close()


@pytest.mark.slow
def test_eight_conversations_at_once_are_all_answered_without_crossing(load_url, tmp_path):
    from evals.__main__ import _parser
    from evals.load import main

    args = _parser().parse_args(["load", "--conversations", "8", "--turns", "3", "--url", load_url, "--compare",
                                 "--out", str(tmp_path)])
    code = main(args)
    summary = json.loads((tmp_path / "load.json").read_text(encoding="utf-8"))
    rows = [json.loads(line) for line in (tmp_path / "requests.jsonl").read_text(encoding="utf-8").splitlines()]
    assert summary["requests"] == summary["answered"] == 24 and summary["errors"] == 0, summary["error_messages"]
    assert summary["crossings"] == 0, summary["crossing_examples"]
    assert summary["differences_from_sequential"] == 0, summary["difference_examples"]  # same answers as alone
    assert code == 0 and summary["ok"]
    assert len(rows) == 24 and {(r["conversation"], r["turn"]) for r in rows} == {(c, t) for c in range(8) for t in (0, 1, 2)}
    # Each follow-up was read with its own conversation's history: its topic carried over, its year changed.
    for r in rows:
        if r["turn"] >= 1:  # "Och 2027?", then "Vilket dokument säger det?" over the first follow-up
            standalone = r["answer"]["standalone_question"].lower()
            assert any(t in standalone for t in topic_of(r["conversation"]).terms), standalone
            assert "2027" in standalone
        assert r["answer"]["answer"]
