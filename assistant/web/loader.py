"""The assistant, loaded lazily: the app starts without an index and says which command builds it.

Loading is retried on the next question, on every page load and (at most every RETRY_INTERVAL_S)
by /readyz. Once loaded, one question is answered in the background so that the models are warm
before the first user asks.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
from typing import Any, Callable

from .. import prompts
from ..chat import AssistantUnavailable
from ..settings import Settings

log = logging.getLogger(__name__)


class AssistantLoader:
    """Loads the assistant once; on failure keeps the message and tries again on the next call.

    When the configured LLM cannot be loaded but the index can, the assistant runs in extractive
    mode and `notice` says so.
    """

    RETRY_INTERVAL_S = 10.0  # how often /readyz tries again to open a missing index

    def __init__(self, factory: Callable[..., Any], settings: Settings) -> None:
        self._factory = factory
        self._settings = settings
        self._assistant = None
        self._lock = threading.Lock()
        self.error = ""
        self.notice = ""
        self._warmed = threading.Event()
        self._warm_result = (False, False)  # (an extractive answer worked, the configured model loaded)
        self._retrying = False
        self._last_retry = float("-inf")

    def get(self):
        if self._assistant is not None:
            return self._assistant
        with self._lock:
            if self._assistant is None:
                try:
                    assistant = self._factory()
                except AssistantUnavailable as exc:
                    assistant = self._extractive_fallback(exc)
                    if assistant is None:
                        self.error = str(exc)
                        raise
                    self.notice = prompts.LLM_FALLBACK.format(error=exc)
                self._assistant, self.error = assistant, ""
                threading.Thread(target=self._warm, args=(assistant,), daemon=True, name="kb-warm-up").start()
        return self._assistant

    def _warm(self, assistant) -> None:
        try:
            self._warm_result = warm_up(assistant)
        finally:
            self._warmed.set()

    def ready(self) -> bool:
        """Whether this instance should get traffic (/readyz): the index is open, the models are loaded
        and, when a model is configured, it loaded too (not the extractive fallback). When the index
        could not be opened, another attempt starts in the background (at most every RETRY_INTERVAL_S),
        so an instance started before the first ingest becomes ready without a restart."""
        if self._assistant is None:
            self._retry_in_background()
            return False
        if not self._warmed.is_set():
            return False
        answers, model_loaded = self._warm_result
        return answers and model_loaded and not self.notice and llm_ready(self._assistant)

    def _retry_in_background(self) -> None:
        now = time.monotonic()
        if self._retrying or now - self._last_retry < self.RETRY_INTERVAL_S:
            return
        self._retrying, self._last_retry = True, now

        def retry() -> None:
            try:
                self.try_get()
            finally:
                self._retrying = False

        threading.Thread(target=retry, daemon=True, name="kb-ready-retry").start()

    def _extractive_fallback(self, exc: Exception):
        if self._settings.mode == "extractive" or "mode" not in _parameters(self._factory):
            return None
        try:
            return self._factory(mode="extractive")
        except AssistantUnavailable:
            return None

    def try_get(self):
        try:
            return self.get()
        except AssistantUnavailable:
            return None

    def documents(self) -> dict:
        """The documents of the loaded assistant ({} while there is none)."""
        assistant = self.try_get()
        return dict(assistant.documents) if assistant is not None else {}


def warm_up(assistant) -> tuple[bool, bool]:
    """Answer one question in the background so that the models are loaded before the first user asks;
    in local mode also load the LLM and cache its system prompt (after the extractive answer, so
    that extractive answers are ready first). Returns whether each worked (for /readyz)."""
    try:
        assistant.ask(prompts.EXAMPLES[0], [], mode="extractive")
    except Exception:  # only a warm-up; a real question reports its own errors
        log.warning("the warm-up question could not be answered", exc_info=True)
        return False, False
    try:
        warm_llm = getattr(assistant, "warm_up_llm", None)
        if warm_llm is not None:
            warm_llm()
    except Exception:
        log.warning("the language model could not be loaded", exc_info=True)
        return True, False
    return True, True


def llm_ready(assistant) -> bool:
    """A model that reports its own readiness (`ready`, a property or a method) is asked; others count
    as ready once loaded (local) or configured (an OpenAI-compatible server, which is not probed: an
    answer falls back to extractive mode when it does not answer)."""
    probe = getattr(getattr(assistant, "llm", None), "ready", None)
    if probe is None:
        return True
    try:
        return bool(probe() if callable(probe) else probe)
    except Exception:
        log.warning("the language model's readiness check failed", exc_info=True)
        return False


def _parameters(fn: Callable) -> set[str]:
    try:
        return set(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return set()
