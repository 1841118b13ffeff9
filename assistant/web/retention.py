"""Exports and retention: a conversation's Markdown export on disk, and the purge of what has expired.

Each app process writes its exports into a folder of its own, one file per conversation (the latest
export), and removes the folder when it stops; what a crashed app leaves is removed by the purge.
Gradio copies each export into its cache to serve the download: those copies are deleted hourly once
older than EXPORT_CACHE_S (`gr.Blocks(delete_cache=...)`), and all of them when the app stops.
Expired feedback and exports are purged at start and once a day while the app runs.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import shutil
import threading
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from ..feedback import PurgeReport, purge_expired
from ..settings import Settings
from .render import conversation_markdown

log = logging.getLogger(__name__)

EXPORT_CACHE_S = 24 * 3600
RETENTION_INTERVAL_S = 24 * 3600
DELETE_CACHE = (3600, EXPORT_CACHE_S)  # Gradio's cache: checked hourly, copies older than a day deleted


def export_folder(settings: Settings) -> Path:
    """This process's export folder (created on the first export), removed when the process stops."""
    folder = settings.exports_path / f"app-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def write_export(directory: Path, conversation: str, turns: list[dict[str, Any]]) -> Path:
    """Write the conversation as Markdown; only the latest export of a conversation is kept."""
    folder = directory / (re.sub(r"[^0-9a-f]", "", conversation)[:32] or "samtal")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"kronoberg-samtal-{datetime.now().strftime('%Y%m%d-%H%M')}.md"
    for old in folder.glob("*.md"):
        if old != path:
            old.unlink(missing_ok=True)
    path.write_text(conversation_markdown([t for t in turns if t.get("answer")]), encoding="utf-8")
    return path


def start_retention(settings: Settings) -> PurgeReport:
    """Purge expired feedback and exports now, and once a day in a background thread while the app runs."""
    report = _purge_logged(settings)
    if settings.feedback_retention_days:
        def loop() -> None:
            while not _retention_stop.wait(RETENTION_INTERVAL_S):
                _purge_logged(settings)
        threading.Thread(target=loop, daemon=True, name="kb-retention").start()
    return report


_retention_stop = threading.Event()


def _purge_logged(settings: Settings) -> PurgeReport:
    try:
        report = purge_expired(settings)
    except Exception:  # retention must not keep the app from starting; the log says why
        log.exception("the retention purge failed")
        return PurgeReport(None)
    if report.feedback or report.exports:
        log.info(report.summary())
    return report
