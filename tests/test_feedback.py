"""The feedback store: what is written is read back, kept under concurrent writers, and purged by age."""

from __future__ import annotations

import json
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor

from assistant.feedback import FeedbackStore

ANSWER = {
    "question": "Vad är målvärdet för sjukfrånvaro 2028?",
    "answer": "Målvärdet för sjukfrånvaro 2028 är högst 4,5 procent [1].",
    "citations": [{"n": 1, "file": "hallbarhetsprogram-2024-2028.txt", "cite": "Hållbarhetsprogram 2024–2028",
                   "quote": "Sjukfrånvaro ... 4,5"}],
    "mode": "extractive",
}


def test_add_and_read_back(tmp_path):
    store = FeedbackStore(tmp_path / "sub" / "feedback.sqlite3")
    row_id = store.add(1, ANSWER["question"], json.dumps(ANSWER, ensure_ascii=False), "  Bra svar!  ", "s1")
    assert row_id == 1
    [record] = store.all()
    assert record.rating == 1
    assert record.question == ANSWER["question"]
    assert record.answer == ANSWER["answer"]
    assert json.loads(record.sources)[0]["cite"] == "Hållbarhetsprogram 2024–2028"
    assert record.answer_data["mode"] == "extractive"
    assert record.comment == "Bra svar!"
    assert record.session_id == "s1"
    assert record.created.endswith("+00:00")


def test_rating_is_normalised_and_dict_accepted(tmp_path):
    store = FeedbackStore(tmp_path / "f.sqlite3")
    store.add(-5, "fråga", ANSWER)
    store.add(3, "fråga", "inte json")
    ratings = [r.rating for r in store.all()]
    assert ratings == [-1, 1]
    assert store.all()[1].answer == ""


def test_wal_mode(tmp_path):
    path = tmp_path / "f.sqlite3"
    FeedbackStore(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_many_concurrent_writers_keep_every_record(tmp_path):
    path = tmp_path / "f.sqlite3"
    writers, per_writer = 16, 25
    barrier = threading.Barrier(writers, timeout=60)  # a writer that dies breaks the barrier instead of hanging the run

    def write(worker: int) -> list[int]:
        try:
            store = FeedbackStore(path)  # each worker its own store object, as separate app workers would
        except BaseException:
            barrier.abort()
            raise
        barrier.wait()
        return [store.add(1 if i % 2 else -1, f"fråga {worker}-{i}", ANSWER, f"kommentar {i}", f"session-{worker}")
                for i in range(per_writer)]

    with ThreadPoolExecutor(max_workers=writers) as pool:
        ids = [i for batch in pool.map(write, range(writers)) for i in batch]

    records = FeedbackStore(path).all()
    assert len(records) == writers * per_writer
    assert len(set(ids)) == writers * per_writer
    assert {r.question for r in records} == {f"fråga {w}-{i}" for w in range(writers) for i in range(per_writer)}


def test_purge_removes_only_old_records(tmp_path):
    path = tmp_path / "f.sqlite3"
    store = FeedbackStore(path)
    old = store.add(1, "gammal", ANSWER)
    store.add(1, "ny", ANSWER)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE feedback SET created = '2020-01-01T00:00:00+00:00' WHERE id = ?", (old,))
    assert store.purge(older_than_days=30) == 1
    assert [r.question for r in store.all()] == ["ny"]


def test_purged_and_deleted_text_is_not_left_in_the_database_files(tmp_path):
    path = tmp_path / "f.sqlite3"
    store = FeedbackStore(path)
    old = store.add(1, "GAMMAL-FRÅGA-XQ7", {"answer": "GAMMALT-SVAR-XQ7"}, "GAMMAL-KOMMENTAR-XQ7", "s")
    withdrawn = store.add(-1, "ÅNGRAD-FRÅGA-XQ7", ANSWER, "", "s")
    for i in range(20):
        store.add(1, f"ny fråga {i}", ANSWER)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE feedback SET created = '2020-01-01T00:00:00+00:00' WHERE id = ?", (old,))
    assert store.delete(withdrawn)
    assert store.purge(older_than_days=30) == 1
    assert len(store.all()) == 20
    on_disk = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("f.sqlite3"))
    for text in ("GAMMAL-FRÅGA-XQ7", "GAMMALT-SVAR-XQ7", "GAMMAL-KOMMENTAR-XQ7", "ÅNGRAD-FRÅGA-XQ7"):
        assert text.encode() not in on_disk, text


def test_update_and_delete(tmp_path):
    store = FeedbackStore(tmp_path / "f.sqlite3")
    row_id = store.add(1, "fråga", ANSWER)
    assert store.update(row_id, rating=-1, comment="  Fel år  ")
    [record] = store.all()
    assert (record.rating, record.comment) == (-1, "Fel år")
    assert not store.update(999, rating=1)
    assert store.delete(row_id)
    assert store.all() == []
