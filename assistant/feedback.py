"""Feedback on answers: thumbs up or down and an optional comment, kept in a local SQLite file.

    store = FeedbackStore(settings.feedback_path)
    store.add(1, question, json.dumps(answer.to_json(), ensure_ascii=False), "bra svar", session_id)

Each call opens its own connection (SQLite connections must not be shared between threads) and
the database runs in WAL mode with a busy timeout, so many app workers can write at once and
every record is kept. Nothing here leaves the machine.

Retention: `purge_expired(settings)` deletes feedback and the app's conversation exports older
than `settings.feedback_retention_days` (0 keeps them). Deleted rows are overwritten
(`secure_delete`) and the write-ahead log is checkpointed and truncated, so a purged question is
not left readable in the database files.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, TypeVar

T = TypeVar("T")

MAX_COMMENT_CHARS = 4000
_BUSY_TIMEOUT_S = 30.0
_RETRIES = 8

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,              -- UTC, ISO 8601
    rating INTEGER NOT NULL,            -- 1 up, -1 down
    question TEXT NOT NULL,
    answer TEXT NOT NULL,               -- the answer text, for reading without parsing JSON
    answer_json TEXT NOT NULL,          -- Answer.to_json(): text, citations (sources), cells, mode
    sources TEXT NOT NULL,              -- the citations as JSON, for quick queries
    comment TEXT NOT NULL DEFAULT '',
    session_id TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS feedback_created ON feedback(created);
"""


@dataclass(frozen=True)
class Feedback:
    id: int
    created: str
    rating: int
    question: str
    answer: str
    answer_json: str
    sources: str
    comment: str
    session_id: str

    @property
    def answer_data(self) -> dict[str, Any]:
        try:
            return json.loads(self.answer_json)
        except ValueError:
            return {}


class FeedbackStore:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._retrying(self._create_schema)

    def _create_schema(self) -> None:
        with closing(self._connect()) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout={int(_BUSY_TIMEOUT_S * 1000)}")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA secure_delete=ON")  # deleted questions and comments are overwritten, not left in free pages
        return conn

    def _write(self, sql: str, params: tuple) -> tuple[int, int]:
        """Run one write in its own transaction; return (lastrowid, rowcount)."""
        def run() -> tuple[int, int]:
            with closing(self._connect()) as conn:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    cursor = conn.execute(sql, params)
                    result = (cursor.lastrowid or 0, cursor.rowcount)
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                return result
        return self._retrying(run)

    @staticmethod
    def _retrying(operation: Callable[[], T]) -> T:
        """Run `operation`, retrying while another writer holds the database.

        The busy timeout covers ordinary writes, but SQLite reports some lock conflicts at once
        (switching to WAL while another process opens the file, BEGIN IMMEDIATE upgrades), so
        those are retried here with a growing pause.
        """
        delay = 0.05
        for attempt in range(_RETRIES):
            try:
                return operation()
            except sqlite3.OperationalError as exc:
                if ("locked" not in str(exc) and "busy" not in str(exc)) or attempt == _RETRIES - 1:
                    raise
                time.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    def add(self, rating: int, question: str, answer_json: str | dict, comment: str = "",
            session_id: str = "") -> int:
        """Store one judgement and return its id. `rating` is 1 (up) or -1 (down)."""
        rating = int(rating)
        if rating not in (1, -1):
            rating = 1 if rating > 0 else -1
        if not isinstance(answer_json, str):
            answer_json = json.dumps(answer_json, ensure_ascii=False)
        try:
            data = json.loads(answer_json)
        except ValueError:
            data = {}
        answer = data.get("answer", "") if isinstance(data, dict) else ""
        sources = json.dumps(data.get("citations", []) if isinstance(data, dict) else [], ensure_ascii=False)
        created = datetime.now(timezone.utc).isoformat(timespec="seconds")
        row_id, _ = self._write(
            "INSERT INTO feedback (created, rating, question, answer, answer_json, sources, comment, session_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (created, rating, question or "", answer, answer_json, sources,
             (comment or "").strip()[:MAX_COMMENT_CHARS], session_id or ""))
        return int(row_id)

    def update(self, feedback_id: int, rating: int | None = None, comment: str | None = None) -> bool:
        """Change the rating (the user switched thumbs) or add the comment; False if the id is unknown."""
        sets, params = [], []
        if rating is not None:
            sets.append("rating = ?")
            params.append(1 if int(rating) > 0 else -1)
        if comment is not None:
            sets.append("comment = ?")
            params.append(comment.strip()[:MAX_COMMENT_CHARS])
        if not sets:
            return False
        return self._write(f"UPDATE feedback SET {', '.join(sets)} WHERE id = ?", (*params, int(feedback_id)))[1] > 0

    def delete(self, feedback_id: int) -> bool:
        """Remove one judgement (the user withdrew it)."""
        removed = self._write("DELETE FROM feedback WHERE id = ?", (int(feedback_id),))[1] > 0
        if removed:
            self._checkpoint()
        return removed

    def all(self) -> list[Feedback]:
        with closing(self._connect()) as conn:
            rows = conn.execute(
                "SELECT id, created, rating, question, answer, answer_json, sources, comment, session_id"
                " FROM feedback ORDER BY id").fetchall()
        return [Feedback(*row) for row in rows]

    def purge(self, older_than_days: float) -> int:
        """Delete feedback older than the given number of days; return how many were deleted."""
        if older_than_days < 0:
            raise ValueError("antalet dagar kan inte vara negativt")
        cutoff = (datetime.now(timezone.utc) - timedelta(days=older_than_days)).isoformat(timespec="seconds")
        removed = self._write("DELETE FROM feedback WHERE created < ?", (cutoff,))[1]
        if removed:
            self._checkpoint()
        return removed

    def _checkpoint(self) -> None:
        """Move the write-ahead log into the database and empty it, so deleted rows leave no copy there."""
        def run() -> None:
            with closing(self._connect()) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._retrying(run)


# --- retention ------------------------------------------------------------------------------------

EXPORT_SUFFIX = ".md"


def purge_exports(directory: Path, older_than_days: float) -> int:
    """Delete conversation exports (*.md) under `directory` older than the given number of days and the
    folders left empty; return how many files were deleted. Symbolic links are not followed."""
    if older_than_days < 0:
        raise ValueError("antalet dagar kan inte vara negativt")
    directory = Path(directory)
    if not directory.is_dir():
        return 0
    cutoff = time.time() - older_than_days * 86400
    removed = 0
    for root, dirs, files in os.walk(directory, topdown=False):
        for name in files:
            path = Path(root) / name
            try:
                if path.suffix == EXPORT_SUFFIX and not path.is_symlink() and path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:  # another instance purged it first
                continue
        for name in dirs:
            try:
                (Path(root) / name).rmdir()  # only when empty
            except OSError:
                pass
    return removed


@dataclass(frozen=True)
class PurgeReport:
    days: float | None  # None: nothing was purged, the retention is "keep forever"
    feedback: int = 0
    exports: int = 0

    def summary(self) -> str:
        if self.days is None:
            return "Ingen gallring: feedback_retention_days = 0 (omdömen och exporter sparas tills vidare)."
        return (f"Gallrat det som är äldre än {self.days:g} dagar: {self.feedback} omdömen och "
                f"{self.exports} exporterade samtal borttagna.")


def purge_expired(settings, older_than_days: float | None = None) -> PurgeReport:
    """Delete feedback and conversation exports older than `older_than_days` days.

    Without `older_than_days` the retention is `settings.feedback_retention_days`, where 0 means keep
    forever; an explicit `older_than_days=0` deletes everything written before now."""
    days = settings.feedback_retention_days if older_than_days is None else older_than_days
    if days < 0:
        raise ValueError("antalet dagar kan inte vara negativt")
    if older_than_days is None and days == 0:
        return PurgeReport(None)
    feedback = FeedbackStore(settings.feedback_path).purge(days) if settings.feedback_path.exists() else 0
    return PurgeReport(days, feedback, purge_exports(settings.exports_path, days))
