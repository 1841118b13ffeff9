"""The web app: a Swedish chat over the governance documents, built with Gradio.

    demo = build_app(lambda mode=None: Assistant.load(settings), settings)
    demo.queue(default_concurrency_limit=4).launch(**launch_options(settings))

The assistant is made by a factory so that the app starts without an index and says which
command builds it; loading is retried on the next question and on every page load. Everything a
conversation owns (its turns, its answers, its feedback) lives in per-session `gr.State`, never in
module globals, so many people can chat at once. The API endpoint `/ask` takes a question and the
earlier turns as JSON and returns the same JSON as `python -m assistant ask --json`.
"""

from __future__ import annotations

import atexit
import html
import inspect
import json
import logging
import os
import re
import shutil
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from .offline import enforce_offline

enforce_offline()  # gradio reads GRADIO_ANALYTICS_ENABLED at import time

import gradio as gr  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402

from . import prompts  # noqa: E402
from .api import AnswerModel, Turn, TurnsError, parse_turns  # noqa: E402
from .chat import AssistantUnavailable, clean_question, input_problem  # noqa: E402
from .feedback import FeedbackStore, PurgeReport, purge_expired  # noqa: E402
from .records import DocumentInfo  # noqa: E402
from .settings import Settings  # noqa: E402

log = logging.getLogger(__name__)

TITLE = "Kronoberg-assistenten"
EXAMPLES = [  # one for each kind of document
    "Vad är målvärdet för sjukfrånvaro 2028?",
    "Vilken driftram har hälso- och sjukvårdsnämnden i Allians för Kronobergs budget 2025?",
    "Vad var sjukfrånvaron i Region Kronoberg under Q1 2024?",
    "Vilken skattesats fastställs för 2021?",
    "Vilket år gäller målbilden i Nära Kronobergaren?",
]
ALL_YEARS = "Alla år"
MODE_LABELS = {
    "extractive": "extraktivt – meningar och tabellvärden direkt ur dokumenten",
    "local": "lokal språkmodell, kontrollerad mot källorna",
    "openai": "språkmodell via OpenAI-kompatibel tjänst, kontrollerad mot källorna",
}
SEARCHING = "Söker i dokumenten …"
WRITING = "Skriver svar …"
HISTORY_FORMAT = 'Historiken ska vara en JSON-lista av {"role": "user"|"assistant", "content": "…"}.'
HISTORY_LIST_FORMAT = 'Historiken ska vara en lista av {"role": "user"|"assistant", "content": "…"}.'
API_QUESTION_TYPE = "Frågan ska vara en text."
API_DOCUMENTS_TYPE = "documents ska vara en lista av filnamn, som i svarets källor (\"file\"), eller tom."
API_UNKNOWN_DOCUMENTS = "Dokumenten finns inte bland underlaget: {names}. Ange filnamn som i svarets källor (\"file\")."
FEEDBACK_THANKS = "Tack! Ditt omdöme är sparat. Skriv gärna en kommentar nedan."
FEEDBACK_FIRST = "Ge först tummen upp eller ned under ett svar; kommentaren kopplas sedan till det svaret."
SOURCE_OPEN = "Visa i sammanhang"
SOURCE_PANEL_TITLE = "Källan i sitt sammanhang"
SOURCE_PANEL_HINT = "Klicka på en källa ([1], [2] …) eller på ”Visa i sammanhang” för att se de citerade raderna här."
SOURCE_BAD_REQUEST = "Källan kunde inte visas. Klicka på källan igen."
SOURCE_PANEL_CONTEXT = 6  # lines shown before and after the cited ones
SOURCE_PANEL_EMPTY = f'<p class="kb-source-hint">{SOURCE_PANEL_HINT}</p>'

_YEAR = re.compile(r"\b(19\d\d|20\d\d)\b")
_MARKER = re.compile(r"\[(\d{1,2})\]")
_CODE = re.compile(r"`([^`]+)`")
_TOKEN = re.compile(r"\d+(?:[,.]\d+)?|[^\W\d_]+", re.UNICODE)
_STOPWORDS = set("""
och att det som för med till den de en ett är var vara ska skall har hade inte om på av i år åren
vad vilken vilket vilka hur när där här man sig sin sitt sina men eller så kan får bli blir blev
enligt mot per från under efter över än också alla allt detta dessa denna the of and in to for what
is are was which how about och samma
""".split())

CSS = """
#kb-header h1 { margin-bottom: 0.2em; }
.kb-banner { border-radius: 8px; padding: 0.7em 1em; margin: 0.3em 0; }
.kb-banner.kb-error { background: #fdecea; border: 1px solid #f5c2c0; color: #611a15; }
.kb-banner.kb-info { background: #fff8e1; border: 1px solid #ffe08a; color: #5f4b00; }
.kb-answer sup.kb-ref { font-size: 0.75em; color: #1f5fa8; font-weight: 600; }
.kb-notice { margin-top: 0.5em; padding: 0.4em 0.7em; background: #fff8e1; border-left: 3px solid #f0b400; font-size: 0.92em; }
.kb-meta { margin-top: 0.4em; font-size: 0.8em; opacity: 0.75; }
.kb-sources { margin-top: 0.8em; border-top: 1px solid rgba(128,128,128,0.35); padding-top: 0.5em; }
.kb-sources-title { font-weight: 600; font-size: 0.95em; margin-bottom: 0.3em; }
.kb-sources ol { margin: 0; padding-left: 0; list-style: none; }
.kb-source { margin: 0 0 0.6em 0; font-size: 0.92em; }
.kb-source-where, .kb-source-status { font-size: 0.88em; opacity: 0.85; }
.kb-quote { margin: 0.25em 0 0 0; padding: 0.3em 0.7em; border-left: 3px solid #9bb7d9; font-style: normal; }
.kb-quote mark { background: #ffe58a; color: inherit; padding: 0 1px; border-radius: 2px; }
table.kb-cells { border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }
table.kb-cells caption { caption-side: top; text-align: left; font-weight: 600; padding-bottom: 0.2em; }
table.kb-cells th, table.kb-cells td { border: 1px solid rgba(128,128,128,0.4); padding: 0.2em 0.5em; text-align: left; }
table.kb-cells td.kb-value { text-align: right; white-space: nowrap; font-weight: 600; }
.kb-pending { opacity: 0.7; font-style: italic; }
.kb-doc { border: 1px solid rgba(128,128,128,0.35); border-radius: 8px; padding: 0.8em 1em; margin-bottom: 0.8em; }
.kb-doc h3 { margin: 0 0 0.3em 0; }
.kb-doc dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.15em 1em; margin: 0.4em 0; }
.kb-doc dt { font-weight: 600; }
.kb-doc dd { margin: 0; }
.kb-badge { display: inline-block; font-size: 0.8em; padding: 0.05em 0.5em; border-radius: 10px; background: #e3ecf7; color: #1f3f66; margin-left: 0.4em; }
#kb-status { min-height: 1.5em; }
.kb-open-source { margin-top: 0.3em; font-size: 0.85em; padding: 0.1em 0.6em; border: 1px solid #9bb7d9;
  border-radius: 6px; background: #eef4fb; color: #1f3f66; cursor: pointer; }
.kb-open-source:hover, .kb-open-source:focus { background: #dce8f7; }
.kb-answer sup.kb-ref { cursor: pointer; }
.kb-hidden { display: none !important; }
.kb-source-view { border: 1px solid rgba(128,128,128,0.35); border-radius: 8px; padding: 0.6em 0.8em; }
.kb-source-view-head { margin-bottom: 0.4em; font-size: 0.92em; }
.kb-source-lines { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.85em;
  max-height: 24em; overflow-y: auto; white-space: pre-wrap; }
.kb-line { display: grid; grid-template-columns: 4em 1fr; gap: 0.6em; padding: 0 0.2em; }
.kb-line-no { text-align: right; opacity: 0.6; user-select: none; }
.kb-line.kb-cited { background: #fff3c4; border-left: 3px solid #f0b400; }
.kb-line.kb-cited mark { background: transparent; color: inherit; font-weight: 600; }
.kb-source-hint { font-size: 0.88em; opacity: 0.75; }
"""

# Runs once when the page loads: the page's language, and clicks on a source ([n] in an answer or the
# "Visa i sammanhang" button under it) fill the hidden request box, whose input event asks the server
# for the source panel.
PAGE_JS = """
() => {
  document.documentElement.lang = "sv";
  if (window.kbSourceClicks) { return; }
  window.kbSourceClicks = true;
  document.addEventListener("click", (event) => {
    let target = event.target.closest(".kb-open-source, sup.kb-ref");
    if (!target) { return; }
    if (target.matches("sup.kb-ref")) {
      const answer = target.closest(".kb-answer");
      const n = (target.textContent.match(/\\d+/) || [""])[0];
      target = answer ? answer.querySelector('.kb-open-source[name="kb-source-' + n + '"]') : null;
      if (!target) { return; }
    }
    event.preventDefault();
    const box = document.querySelector("#kb-source-request textarea, #kb-source-request input");
    if (!box) { return; }
    let source;
    try { source = JSON.parse(target.value); } catch (error) { return; }
    box.value = JSON.stringify(Object.assign(source, {at: Date.now()}));
    box.dispatchEvent(new Event("input", {bubbles: true}));
  });
}
"""


# --- the assistant, loaded lazily --------------------------------------------------------------

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
                    self.notice = (f"Språkmodellen kunde inte startas ({exc}). Svaren sammanställs därför "
                                   "direkt ur dokumenten (extraktivt läge).")
                self._assistant, self.error = assistant, ""
                threading.Thread(target=self._warm, args=(assistant,), daemon=True, name="kb-warm-up").start()
        return self._assistant

    def _warm(self, assistant) -> None:
        try:
            self._warm_result = _warm_up(assistant)
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


def _warm_up(assistant) -> tuple[bool, bool]:
    """Answer one question in the background so that the models are loaded before the first user asks;
    in local mode also load the LLM and cache its system prompt (after the extractive answer, so
    that extractive answers are ready first). Returns whether each worked (for /readyz)."""
    try:
        assistant.ask(EXAMPLES[0], [], mode="extractive")
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


# --- documents and periods ----------------------------------------------------------------------

def document_years(info: DocumentInfo) -> tuple[int, int] | None:
    """The years a document covers: its period, or from when it was written to a single target year."""
    years = [int(y) for y in _YEAR.findall(info.period)]
    written = [int(y) for y in _YEAR.findall(info.written)]
    if not years:
        years = written
    if not years:
        return None
    lo, hi = min(years), max(years)
    if lo == hi and written and min(written) < lo:
        lo = min(written)
    return lo, hi


def year_choices(documents: dict[str, DocumentInfo]) -> list[tuple[str, str]]:
    spans = [s for s in (document_years(d) for d in documents.values()) if s]
    if not spans:
        return [(ALL_YEARS, ALL_YEARS)]
    choices = [(ALL_YEARS, ALL_YEARS)]
    for year in range(min(lo for lo, _ in spans), max(hi for _, hi in spans) + 1):
        n = sum(lo <= year <= hi for lo, hi in spans)
        if n:
            choices.append((f"{year} ({n} dokument)", str(year)))
    return choices


def document_choices(documents: dict[str, DocumentInfo]) -> list[tuple[str, str]]:
    return [(info.cite or info.title or file, file) for file, info in documents.items()]


def filter_documents(documents: dict[str, DocumentInfo], chosen: list[str] | None,
                     year: str | None) -> tuple[list[str] | None, str]:
    """Files to search (None: all) and a description of the filter ("" when there is none)."""
    files = [f for f in (chosen or []) if f in documents]
    parts = []
    if files:
        parts.append(", ".join(documents[f].cite for f in files))
    if year and year != ALL_YEARS:
        y = int(year)
        covering = [f for f, d in documents.items() if (s := document_years(d)) and s[0] <= y <= s[1]]
        files = [f for f in files if f in covering] if files else covering
        parts.append(f"år {year}")
        if not files:
            return [], " och ".join(parts)
    return (files or None), " och ".join(parts)


# --- rendering ----------------------------------------------------------------------------------

def _terms(text: str) -> set[str]:
    return {t for t in (m.group(0).lower() for m in _TOKEN.finditer(text or ""))
            if t not in _STOPWORDS and (len(t) >= 3 or t[0].isdigit())}


def _matches(token: str, terms: set[str]) -> bool:
    if token in terms:
        return True
    if token[0].isdigit() or len(token) < 5:
        return False
    return any(len(t) >= 5 and (t.startswith(token) or token.startswith(t)) and abs(len(t) - len(token)) <= 3
               for t in terms if not t[0].isdigit())


def highlight(quote: str, terms: set[str]) -> str:
    """The quote, escaped, with the words that also occur in `terms` wrapped in <mark>."""
    out, last = [], 0
    for m in _TOKEN.finditer(quote):
        out.append(html.escape(quote[last:m.start()]))
        word = m.group(0)
        escaped = html.escape(word)
        out.append(f"<mark>{escaped}</mark>" if _matches(word.lower(), terms) else escaped)
        last = m.end()
    out.append(html.escape(quote[last:]))
    return "".join(out)


def answer_terms(data: dict[str, Any]) -> set[str]:
    """Words that support a quote: the answer's own words (quotes taken out) and the question's."""
    text = _MARKER.sub(" ", data.get("answer", ""))  # citation markers are not words of the answer
    for c in data.get("citations", []):
        if c.get("quote"):
            text = text.replace(c["quote"], " ")
    for doc_label in {c.get("cite", "") for c in data.get("citations", [])} | \
            {c.get("kind_label", "") for c in data.get("citations", [])}:
        if doc_label:
            text = text.replace(doc_label, " ")
    return _terms(text) | _terms(data.get("question", "")) | _terms(data.get("standalone_question", ""))


def text_html(text: str) -> str:
    escaped = html.escape(text or "")
    escaped = _MARKER.sub(r'<sup class="kb-ref">[\1]</sup>', escaped)
    return escaped.replace("\n", "<br>")


def _where(c: dict[str, Any]) -> str:
    if c.get("page"):
        return f"s. {c['page']}"
    start, end = c.get("line_start"), c.get("line_end")
    if start is None:
        return ""
    return f"rad {start}" if start == end or not end else f"rad {start}–{end}"


def sources_html(data: dict[str, Any], documents: dict[str, DocumentInfo]) -> str:
    citations = data.get("citations") or []
    if not citations:
        return ""
    terms = answer_terms(data)
    title = "Närmast i dokumenten" if data.get("refused") else "Källor"
    items = []
    for c in citations:
        info = documents.get(c.get("file", ""))
        status = info.status if info else ""
        name = html.escape(c.get("cite") or c.get("title", ""))
        head = (f'<span class="kb-n">[{c["n"]}]</span> <strong>{name}</strong>'
                f' · <span class="kb-kind">{html.escape(c.get("kind_label", ""))}</span>')
        where = " · ".join(p for p in (f"Avsnitt: {html.escape(c.get('section') or '–')}", html.escape(_where(c))) if p)
        status_html = f'<div class="kb-source-status">Status: {html.escape(status)}</div>' if status else ""
        items.append(f'<li class="kb-source" id="kb-source-{c["n"]}"><div class="kb-source-head">{head}</div>'
                     f'{status_html}<div class="kb-source-where">{where}</div>'
                     f'<blockquote class="kb-quote">{highlight(c.get("quote", ""), terms)}</blockquote>'
                     f'{open_source_button(c)}</li>')
    return (f'<div class="kb-sources"><div class="kb-sources-title">{title}</div>'
            f'<ol>{"".join(items)}</ol></div>')


def open_source_button(c: dict[str, Any]) -> str:
    """The button under a source that opens it in the source panel. The chat's HTML sanitizer drops data-*
    attributes, so the page's script reads the source from the button's `value` (JSON: file and lines) and
    finds the button of marker [n] by its `name`; the panel is filled by `source_lines`, as /source is."""
    if not c.get("file") or not c.get("line_start"):
        return ""
    target = {"file": c["file"], "start": int(c["line_start"]), "end": int(c.get("line_end") or c["line_start"]),
              "n": int(c["n"])}
    value = html.escape(json.dumps(target, ensure_ascii=False), quote=True)
    return (f'<button type="button" class="kb-open-source" name="kb-source-{int(c["n"])}" value="{value}">'
            f"{SOURCE_OPEN}</button>")


def source_panel_html(source: dict[str, Any], info: DocumentInfo | None = None, n: int | None = None) -> str:
    """The cited lines of a document with the lines around them, the cited ones highlighted."""
    name = html.escape((info.cite or info.title) if info else source["file"])
    kind = f' · <span class="kb-kind">{html.escape(info.kind_label)}</span>' if info and info.kind_label else ""
    marker = f'<span class="kb-n">[{int(n)}]</span> ' if n else ""
    start, end = source["line_start"], source["line_end"]
    lines_label = f"rad {start}" if start == end else f"rad {start}–{end}"
    pages = sorted({line["page"] for line in source["lines"] if line["cited"] and line.get("page")})
    if pages:
        lines_label += f" · s. {pages[0]}" if len(pages) == 1 else f" · s. {pages[0]}–{pages[-1]}"
    rows = []
    for line in source["lines"]:
        text = html.escape(line["text"]) or "&nbsp;"
        css = "kb-line kb-cited" if line["cited"] else "kb-line"
        body = f"<mark>{text}</mark>" if line["cited"] else text
        rows.append(f'<div class="{css}"><span class="kb-line-no">{line["no"]}</span>'
                    f'<span class="kb-line-text">{body}</span></div>')
    return (f'<div class="kb-source-view" role="region" aria-label="{SOURCE_PANEL_TITLE}">'
            f'<div class="kb-source-view-head"><strong>{SOURCE_PANEL_TITLE}:</strong> {marker}<strong>{name}</strong>'
            f'{kind} · {html.escape(source["file"])} · {lines_label}</div>'
            f'<div class="kb-source-lines">{"".join(rows)}</div></div>')


def cell_citations(cells: list[dict[str, Any]], citations: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
    """The citation of each cell: cells and their citations come in the same order, and several cells
    can stand on one source line, so each citation is used once."""
    used: set[int] = set()
    found = []
    for cell in cells:
        match = next((c for c in citations if c.get("n") not in used and c.get("file") == cell.get("file")
                      and c.get("line_start") == cell.get("line")), None)
        if match is not None:
            used.add(match.get("n"))
        found.append(match)
    return found


def table_caption(cell: dict[str, Any], citation: dict[str, Any] | None) -> str:
    """The source table's caption: the citation for a cell has the section "caption > row"."""
    if citation is None:
        return ""
    section = citation.get("section") or ""
    row = cell.get("row") or ""
    if row and section.endswith(" > " + row):
        return section[: -len(row) - 3]
    return section


def _cell_value(cell: dict[str, Any]) -> str:
    """The value as printed, with comparator and unit added only where the printed text lacks them."""
    text = (cell.get("value_text") or "").strip()
    lowered = text.lower()
    comparator = cell.get("comparator") or ""
    unit = cell.get("unit") or ""
    parts = [comparator if comparator and comparator.lower() not in lowered else "", text]
    if unit and unit.lower() not in lowered and unit.replace("%", "procent").lower() not in lowered:
        parts.append(unit)
    return " ".join(p for p in parts if p)


def cells_html(data: dict[str, Any]) -> str:
    cells = data.get("cells") or []
    if not cells:
        return ""
    citations = data.get("citations") or []
    groups: dict[str, list[tuple[dict[str, Any], dict[str, Any] | None]]] = {}
    for cell, citation in zip(cells, cell_citations(cells, citations)):
        groups.setdefault(cell.get("table_id", ""), []).append((cell, citation))
    tables = []
    for group in groups.values():
        first, first_citation = group[0]
        caption = table_caption(first, first_citation)
        cite = next((c.get("cite", "") for c in citations if c.get("file") == first.get("file")), "")
        caption_text = " – ".join(p for p in (caption, cite) if p) or "Tabell"
        rows = []
        for cell, citation in group:
            marker = f' <sup class="kb-ref">[{citation["n"]}]</sup>' if citation else ""
            uncertain = " (osäker)" if cell.get("uncertain") else ""
            rows.append(f"<tr><td>{html.escape(cell.get('row', ''))}</td><td>{html.escape(cell.get('column', ''))}</td>"
                        f'<td class="kb-value">{html.escape(_cell_value(cell))}{uncertain}{marker}</td></tr>')
        tables.append(f'<table class="kb-cells"><caption>{html.escape(caption_text)}</caption>'
                      f"<thead><tr><th>Rad</th><th>Kolumn</th><th>Värde</th></tr></thead>"
                      f'<tbody>{"".join(rows)}</tbody></table>')
    return "".join(tables)


def answer_html(data: dict[str, Any], documents: dict[str, DocumentInfo], filter_label: str = "",
                extra_notice: str = "") -> str:
    parts = [f'<div class="kb-answer"><div class="kb-text">{text_html(data.get("answer", ""))}</div>']
    notices = [n for n in (data.get("notice", ""), extra_notice) if n]
    for notice in notices:
        parts.append(f'<div class="kb-notice">{html.escape(notice)}</div>')
    parts.append(cells_html(data))
    parts.append(sources_html(data, documents))
    meta = []
    if data.get("mode") in MODE_LABELS:
        meta.append("Svarsläge: " + MODE_LABELS[data["mode"]])
    if filter_label:
        meta.append("Avgränsat till " + html.escape(filter_label))
    standalone = data.get("standalone_question", "")
    if standalone and standalone != data.get("question"):
        meta.append("Tolkad fråga: " + html.escape(standalone))
    if meta:
        parts.append(f'<div class="kb-meta">{" · ".join(meta)}</div>')
    parts.append("</div>")
    return "".join(parts)


def with_code(text: str) -> str:
    """Escaped text with `command` shown as code."""
    return _CODE.sub(r"<code>\1</code>", html.escape(text))


def message_html(text: str, css_class: str = "kb-answer") -> str:
    return f'<div class="{css_class}">{with_code(text)}</div>'


def banner_html(loader: AssistantLoader) -> str:
    if loader.error:
        return f'<div class="kb-banner kb-error">⚠️ {with_code(loader.error)}</div>'
    if loader.notice:
        return f'<div class="kb-banner kb-info">ℹ️ {html.escape(loader.notice)}</div>'
    return ""


def documents_html(documents: dict[str, DocumentInfo] | None, error: str = "") -> str:
    intro = (
        "<p>Assistenten svarar bara utifrån dokumenten nedan och visar alltid varifrån svaret kommer. "
        "Dokumenten är av olika slag: en antagen budget, ett fastställt program och en gemensam strategi "
        "gäller som beslut, medan ett <em>budgetförslag från oppositionen</em> bara är ett förslag och en "
        "<em>delårsrapport</em> beskriver läget vid en viss tidpunkt. Varje svar anger därför dokumentets "
        "slag och status.</p>"
        "<p>Det som inte står i dokumenten kan assistenten inte svara på; då säger den det och visar de "
        "närmaste ställena i stället.</p>")
    if not documents:
        message = with_code(error or "Inga dokument är inlästa ännu.")
        return f'<div class="kb-docs">{intro}<div class="kb-banner kb-error">⚠️ {message}</div></div>'
    cards = []
    for file, info in sorted(documents.items(), key=lambda kv: (document_years(kv[1]) or (9999, 9999), kv[1].cite)):
        rows = [("Slag", info.kind_label), ("Författare", info.author), ("Period", info.period),
                ("Skrivet", info.written), ("Status", info.status), ("Fil", file)]
        dl = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in rows if v)
        badge = (f'<span class="kb-badge">{html.escape(info.cite)}</span>'
                 if info.cite and info.cite != info.title else "")
        description = f"<p>{html.escape(info.description)}</p>" if info.description else ""
        missing = "" if info.in_manifest else "<p><em>Dokumentet saknar uppgifter i manifestet.</em></p>"
        cards.append(f'<div class="kb-doc"><h3>{html.escape(info.title or file)}{badge}</h3>'
                     f"{description}<dl>{dl}</dl>{missing}</div>")
    return (f'<div class="kb-docs">{intro}<p><strong>{len(documents)} dokument</strong> finns i underlaget:</p>'
            f'{"".join(cards)}</div>')


# --- Markdown export ----------------------------------------------------------------------------

def conversation_markdown(turns: list[dict[str, Any]]) -> str:
    lines = [f"# Samtal med {TITLE}", "", f"Exporterat {datetime.now().strftime('%Y-%m-%d %H:%M')}.", ""]
    for n, turn in enumerate(turns, start=1):
        data = turn.get("answer") or {}
        lines += [f"## {n}. {turn.get('question', '')}", ""]
        if turn.get("filter"):
            lines += [f"*Avgränsat till {turn['filter']}.*", ""]
        lines += [data.get("answer", turn.get("text", "")), ""]
        if data.get("notice"):
            lines += [f"> {data['notice']}", ""]
        if data.get("cells"):
            lines += ["| Rad | Kolumn | Värde |", "|---|---|---|"]
            for cell in data["cells"]:
                lines.append(f"| {_md_cell(cell.get('row', ''))} | {_md_cell(cell.get('column', ''))} | "
                             f"{_md_cell(_cell_value(cell))} |")
            lines.append("")
        if data.get("citations"):
            lines += ["**Närmast i dokumenten:**" if data.get("refused") else "**Källor:**", ""]
            for c in data["citations"]:
                lines.append(f"{c['n']}. {c.get('cite', '')} ({c.get('kind_label', '')}), "
                             f"{c.get('section') or '–'}, {_where(c)}: ”{c.get('quote', '')}”")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


# --- the source in context -----------------------------------------------------------------------

SOURCE_CONTEXT_MAX = 20
SOURCE_LINES_MAX = 200


class SourceRefused(ValueError):
    """The requested source is not a document in the corpus; the message says so in Swedish."""


def corpus_document(corpus_dir: Path, file: str) -> Path:
    """The path of `file` if it names a document directly inside `corpus_dir`, else SourceRefused.

    Only a plain file name is accepted: no directory parts ("/", "\\", ".."), no absolute path, no NUL
    byte, no hidden file; the file, with symbolic links resolved, must lie directly in the corpus
    directory, and the name must be one of the documents the index reads (.txt, .md, .pdf, .docx)."""
    from .ingest import corpus_files

    shown = file[:100] if isinstance(file, str) else file
    refused = SourceRefused(f"Källan {shown!r} finns inte bland dokumenten. Ange filnamnet på ett dokument i "
                            "underlaget, till exempel som det står i svarets källa (\"file\").")
    if not isinstance(file, str) or not file or "\x00" in file or "/" in file or "\\" in file \
            or file in (".", "..") or file.startswith(".") or Path(file).is_absolute():
        raise refused
    root = Path(corpus_dir).resolve()
    candidate = root / file
    try:
        resolved = candidate.resolve(strict=True)
    except (OSError, RuntimeError, ValueError):
        raise refused from None
    if resolved.parent != root or not resolved.is_file():  # a symbolic link must stay in the corpus
        raise refused
    if file not in {p.name for p in corpus_files(root)}:
        raise refused
    return resolved


def source_lines(corpus_dir: Path, file: str, line_start: int, line_end: int | None = None,
                 context: int = 3) -> dict[str, Any]:
    """The cited lines of a corpus document with `context` lines around them.

    Returns {"file", "line_start", "line_end", "first", "last", "lines": [{"no", "text", "cited", "page"}]}.
    Line numbers are the ones citations use (1-based lines of the source file; for PDFs the lines of the
    extracted text, each with its page). Anything that is not a document in the corpus is refused
    with SourceRefused."""
    from .ingest import SkippedFile, info_without_manifest, read_document

    path = corpus_document(corpus_dir, file)
    try:
        start = int(line_start)
        end = int(line_end) if line_end not in (None, "") else start
        context = int(context)
    except (TypeError, ValueError):
        raise SourceRefused("Raderna ska anges som heltal, till exempel 120 och 122.") from None
    if start < 1 or end < start:
        raise SourceRefused("Raderna ska vara positiva och den sista får inte komma före den första.")
    if end - start + 1 > SOURCE_LINES_MAX:
        raise SourceRefused(f"Högst {SOURCE_LINES_MAX} rader kan visas åt gången.")
    context = max(0, min(context, SOURCE_CONTEXT_MAX))
    try:
        document = read_document(path, info_without_manifest(path))
    except SkippedFile as exc:
        raise SourceRefused(f"Källan kan inte läsas: {exc}") from None
    raw = document.raw_lines
    if start > len(raw):
        raise SourceRefused(f"{file} har bara {len(raw)} rader.")
    end = min(end, len(raw))
    pages = {line.no: line.page for line in document.lines}
    first, last = max(1, start - context), min(len(raw), end + context)
    return {"file": file, "line_start": start, "line_end": end, "first": first, "last": last,
            "lines": [{"no": no, "text": raw[no - 1], "cited": start <= no <= end, "page": pages.get(no)}
                      for no in range(first, last + 1)]}


# --- the app ------------------------------------------------------------------------------------

def launch_options(settings: Settings, **overrides: Any) -> dict[str, Any]:
    """Arguments for `demo.launch()`: local only, no share link, no analytics, login when users are set."""
    options = dict(
        server_name=settings.host,
        server_port=settings.port,
        auth=login_check(settings.users) if settings.users else None,
        auth_message=prompts.LOGIN_MESSAGE,
        share=False,
        inbrowser=False,
        show_error=False,
        footer_links=["api"],
        run_history=False,
        enable_monitoring=False,
        pwa=False,
        mcp_server=False,
        ssr_mode=False,
        theme=gr.themes.Default(),
        css=CSS,
        js=PAGE_JS,
        app_kwargs={"middleware": [Middleware(ServiceRoutes), Middleware(NoRemoteFiles)]},
    )
    options.update(overrides)
    return options


FAILED_LOGIN_DELAY_S = 0.5


def login_check(users: tuple[tuple[str, str], ...]):
    """Gradio's `auth`: checks a login against the users' scrypt hashes, off the event loop (a check takes
    about 0.1 s), and answers a failed attempt after a short pause. A failure is logged with the user
    name, never the password."""
    import anyio

    from .passwords import Verifier

    verify = Verifier(users)

    async def check(username: str, password: str) -> bool:
        ok = await anyio.to_thread.run_sync(verify, username, password)
        if not ok:
            log.warning(prompts.LOGIN_FAILED_LOG, username[:100])
            await anyio.sleep(FAILED_LOGIN_DELAY_S)
        return ok

    return check


class ServiceRoutes:
    """ASGI middleware for what an operator's tools need, answered before Gradio (so without login):

    - `GET /healthz`: 200 {"status": "ok"} while the process serves;
    - `GET /readyz`: 200 {"status": "ready"} when the index is open and the models (the configured LLM
      too) are loaded, else 503 {"status": "not ready"};
    - HTML pages (the app and the login form) get `<html lang="sv">`.

    The answers carry nothing else: no version, mode, path or error."""

    HEALTH, READY = "/healthz", "/readyz"

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        path = _route_path(scope)
        if path in (self.HEALTH, self.READY):
            await self._probe(scope, send, path)
            return
        await self.app(scope, receive, _swedish_html(send))

    async def _probe(self, scope, send, path: str) -> None:
        method = scope.get("method", "GET")
        if method not in ("GET", "HEAD"):
            await _respond(send, 405, b'{"status": "method not allowed"}', method, [(b"allow", b"GET, HEAD")])
        elif path == self.HEALTH:
            await _respond(send, 200, b'{"status": "ok"}', method)
        elif _ready(scope):
            await _respond(send, 200, b'{"status": "ready"}', method)
        else:
            await _respond(send, 503, b'{"status": "not ready"}', method)


def _route_path(scope) -> str:
    from urllib.parse import unquote

    path = unquote(scope.get("path") or "")
    root = scope.get("root_path") or ""
    if root and path.startswith(root):
        path = path[len(root):]
    return path.rstrip("/") or "/"


def _ready(scope) -> bool:
    try:
        loader = getattr(scope["app"].get_blocks(), "kb_loader", None)
    except Exception:  # not a Gradio app, or no Blocks yet
        return False
    return bool(loader is not None and loader.ready())


async def _respond(send, status: int, body: bytes, method: str, headers: list | None = None) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"cache-control", b"no-store"),
                            (b"content-length", str(len(body)).encode()), *(headers or [])]})
    await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})


def _swedish_html(send):
    """Wrap `send` so that an HTML page's `<html lang="en"` (Gradio's template) becomes lang="sv"."""
    state: dict[str, Any] = {"start": None, "body": []}

    async def wrapped(message) -> None:
        if message["type"] == "http.response.start":
            headers = dict(message.get("headers") or [])
            if headers.get(b"content-type", b"").startswith(b"text/html") and b"content-encoding" not in headers:
                state["start"] = message
                return
        elif message["type"] == "http.response.body" and state["start"] is not None:
            state["body"].append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(state["body"])
            head, rest = body[:400], body[400:]
            body = re.sub(rb'(<html\b[^>]*?\blang=")en(")', rb"\1sv\2", head, count=1) + rest
            start = state["start"]
            headers = [(k, v) for k, v in start.get("headers") or [] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await send(message)

    return wrapped


class NoRemoteFiles:
    """ASGI middleware: refuse Gradio's file route when it names a URL.

    `/gradio_api/file=https://…` makes Gradio fetch the URL from the server and stream it back (it
    resolves the host name first). This app never serves remote files, and a request must not be able
    to make the server contact another machine, so such requests get 403 before Gradio sees them."""

    _FILE_ROUTES = ("/gradio_api/file=", "/gradio_api/file/", "/gradio_api/proxy=", "/file=", "/proxy=")

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope.get("type") == "http" and self._remote(scope):
            body = "Filer från andra adresser hämtas inte.".encode()
            await send({"type": "http.response.start", "status": 403,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)

    @classmethod
    def _remote(cls, scope) -> bool:
        from urllib.parse import unquote

        path = unquote(scope.get("path") or "")
        root = scope.get("root_path") or ""
        if root and path.startswith(root):
            path = path[len(root):]
        for route in cls._FILE_ROUTES:
            if path.startswith(route):
                rest = unquote(path[len(route):]).strip().lower()
                return "://" in rest or rest.startswith(("//", "http:", "https:", "\\\\"))
        return False


def build_app(assistant_factory: Callable[..., Any], settings: Settings) -> gr.Blocks:
    """The Gradio app. `assistant_factory()` returns an Assistant or raises AssistantUnavailable;
    if it accepts `mode=`, it is called with mode="extractive" when the configured LLM cannot load."""
    loader = AssistantLoader(assistant_factory, settings)
    feedback = FeedbackStore(settings.feedback_path)
    purge_report = start_retention(settings)
    # This process's exports: one file per conversation (the latest), removed when the app stops;
    # what a crashed app leaves is removed by the retention purge.
    export_dir = settings.exports_path / f"app-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    atexit.register(shutil.rmtree, export_dir, ignore_errors=True)
    loader.try_get()

    def documents() -> dict[str, DocumentInfo]:
        assistant = loader.try_get()
        return dict(assistant.documents) if assistant is not None else {}

    # --- handlers -------------------------------------------------------------------------

    def respond(question, display, history, turns, doc_filter, year, conversation):
        display, history, turns = list(display or []), list(history or []), list(turns or [])
        conversation = conversation or uuid.uuid4().hex
        no_change = gr.update()
        q = clean_question(question or "")
        problem = input_problem(q, settings.max_question_chars)
        if problem:  # keep the text so it can be corrected
            yield display, history, turns, no_change, f"⚠️ {problem}", no_change, conversation
            return
        display.append({"role": "user", "content": html.escape(q)})
        try:
            assistant = loader.get()
        except AssistantUnavailable as exc:
            display.append({"role": "assistant", "content": message_html(str(exc), "kb-answer kb-error")})
            turns.append({"question": q, "index": len(display) - 1, "answer": None, "text": str(exc)})
            yield display, history, turns, "", f"⚠️ {exc}", no_change, conversation
            return
        docs = dict(assistant.documents)
        files, filter_label = filter_documents(docs, doc_filter, year)
        if files == []:
            msg = f"Inget av de valda dokumenten gäller {filter_label}. Ändra avgränsningen och fråga igen."
            display.append({"role": "assistant", "content": message_html(msg)})
            turns.append({"question": q, "index": len(display) - 1, "answer": None, "text": msg})
            yield display, history, turns, "", f"⚠️ {msg}", no_change, conversation
            return

        display.append({"role": "assistant", "content": f'<span class="kb-pending">{SEARCHING}</span>'})
        yield display, history, turns, "", "", no_change, conversation
        answer, streamed, draft = None, "", ""
        try:
            for event in assistant.ask_stream(q, history, documents=files):
                if event.kind == "draft":
                    draft = event.text
                    display[-1] = {"role": "assistant", "content": (
                        f'<div class="kb-answer"><div class="kb-text">{text_html(draft)}</div>'
                        f'<div class="kb-pending">{WRITING}</div></div>')}
                    yield display, history, turns, no_change, no_change, no_change, conversation
                elif event.kind == "delta":
                    streamed += event.text
                    display[-1] = {"role": "assistant", "content": (
                        f'<div class="kb-answer"><div class="kb-text">{text_html(streamed)}▌</div></div>')}
                    yield display, history, turns, no_change, no_change, no_change, conversation
                elif event.kind == "final":
                    answer = event.answer
        except Exception as exc:  # a clear message in the chat, the traceback in the server log
            # The traceback, not the question: the server log must not become a record of conversations.
            log.exception("a question (%d characters) could not be answered", len(q))
            msg = (f"Något gick fel när frågan skulle besvaras ({type(exc).__name__}). Försök igen; om felet "
                   "kvarstår, kontakta den som förvaltar assistenten.")
            display[-1] = {"role": "assistant", "content": message_html(msg, "kb-answer kb-error")}
            yield display, history, turns, no_change, f"⚠️ {msg}", no_change, conversation
            return
        if answer is None:
            msg = "Assistenten gav inget svar. Försök igen."
            display[-1] = {"role": "assistant", "content": message_html(msg, "kb-answer kb-error")}
            yield display, history, turns, no_change, f"⚠️ {msg}", no_change, conversation
            return
        data = answer.to_json()
        if not streamed and not answer.refused and answer.mode != "input":
            # Extractive answers arrive whole; reveal them in a few steps like streamed ones.
            words = answer.text.split(" ")
            step = max(4, len(words) // 6)
            for end in range(step, len(words), step):
                display[-1] = {"role": "assistant", "content": (
                    f'<div class="kb-answer"><div class="kb-text">{text_html(" ".join(words[:end]))}▌</div></div>')}
                yield display, history, turns, no_change, no_change, no_change, conversation
                time.sleep(0.03)
        extra = loader.notice if answer.mode == "extractive" and not answer.notice else ""
        display[-1] = {"role": "assistant", "content": answer_html(data, docs, filter_label, extra)}
        history += [{"role": "user", "content": q}, {"role": "assistant", "content": answer.text}]
        turns.append({"question": q, "index": len(display) - 1, "answer": data, "filter": filter_label,
                      "text": answer.text})
        path = _write_export(export_dir, conversation, turns)
        yield (display, history, turns, no_change, "", gr.update(value=str(path), interactive=True), conversation)

    def new_conversation():
        # chatbot, display, history, turns, question, status, export, conversation, rated, feedback status,
        # source panel
        return ([], [], [], [], "", "", gr.update(value=None, interactive=False), uuid.uuid4().hex, {}, "",
                SOURCE_PANEL_EMPTY)

    def on_like(turns, rated, conversation, data: gr.LikeData):
        rated = dict(rated or {})
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        turn = next((t for t in (turns or []) if t.get("index") == index and t.get("answer")), None)
        if turn is None:
            return rated, "Det går bara att ge omdöme om svar från assistenten."
        key = str(index)
        if data.liked is True or data.liked is False:
            rating = 1 if data.liked else -1
            if key in rated:
                feedback.update(rated[key], rating=rating)
            else:
                rated[key] = feedback.add(rating, turn["question"], json.dumps(turn["answer"], ensure_ascii=False),
                                          "", conversation or "")
            rated["last"] = rated[key]
            return rated, FEEDBACK_THANKS
        if key in rated:  # the thumb was clicked again: the judgement is withdrawn
            removed = rated.pop(key)
            feedback.delete(removed)
            if rated.get("last") == removed:
                rated.pop("last")
        return rated, "Omdömet är borttaget."

    def on_comment(comment, rated):
        comment = (comment or "").strip()
        rated = dict(rated or {})
        if not comment:
            return gr.update(), "Skriv en kommentar först."
        if "last" not in rated:
            return gr.update(), FEEDBACK_FIRST
        feedback.update(rated["last"], comment=comment)
        return "", "Tack! Kommentaren är sparad tillsammans med ditt omdöme."

    def on_load():
        assistant = loader.try_get()
        docs = dict(assistant.documents) if assistant is not None else {}
        return (banner_html(loader), gr.update(choices=document_choices(docs)),
                gr.update(choices=year_choices(docs)), documents_html(docs, loader.error))

    def api_ask(question: str, history: str = "[]") -> str:
        """Svara på en fråga. `history` är tidigare turer som JSON ([] för inga); svaret är samma JSON som
        `python -m assistant ask --json`."""
        try:
            turns = json.loads(history or "[]")
        except ValueError as exc:
            raise client_error(f"Historiken är inte giltig JSON ({exc}). {HISTORY_FORMAT}") from exc
        if not isinstance(turns, list) or not all(isinstance(t, dict) and "role" in t and "content" in t
                                                  for t in turns):
            raise client_error(HISTORY_FORMAT)
        try:
            assistant = loader.get()
        except AssistantUnavailable as exc:
            raise client_error(str(exc)) from exc
        try:
            answer = assistant.ask(question or "", turns)
        except Exception as exc:  # the client gets a message, the server log the traceback
            log.exception("an API question (%d characters) could not be answered", len(question or ""))
            raise client_error(f"Något gick fel när frågan skulle besvaras ({type(exc).__name__}).") from exc
        return json.dumps(answer.to_json(), ensure_ascii=False)

    def api_ask_v2(question: str, history: list[Turn] | None = None,
                   documents: list[str] | None = None) -> AnswerModel:
        """Svara på en fråga. `history` är tidigare turer, en lista av {"role": "user"|"assistant", "content": "…"}
        ([] för inga); `documents` begränsar till några dokument (filnamn, som i svarets källor; tomt: alla).
        Svaret är ett objekt med samma fält som `python -m assistant ask --json`."""
        if not isinstance(question, str):
            raise client_error(API_QUESTION_TYPE)
        try:
            turns = parse_turns(history)
        except TurnsError as exc:
            raise client_error(f"{HISTORY_LIST_FORMAT} ({exc})") from None
        if documents is not None and (not isinstance(documents, list)
                                      or not all(isinstance(d, str) for d in documents)):
            raise client_error(API_DOCUMENTS_TYPE)
        try:
            assistant = loader.get()
        except AssistantUnavailable as exc:
            raise client_error(str(exc)) from exc
        if documents:
            unknown = [d for d in documents if d not in assistant.documents]
            if unknown:
                raise client_error(API_UNKNOWN_DOCUMENTS.format(names=", ".join(unknown[:5])))
        try:
            answer = assistant.ask(question, turns, documents=documents or None)
        except Exception as exc:  # the client gets a message, the server log the traceback
            log.exception("an API question (%d characters) could not be answered", len(question))
            raise client_error(f"Något gick fel när frågan skulle besvaras ({type(exc).__name__}).") from exc
        return AnswerModel.from_answer(answer).model_dump(mode="json")

    # Gradio reads the return type from the signature, where `from __future__ import annotations` left a
    # string; the class itself gives clients the answer's schema in /gradio_api/info.
    api_ask_v2.__annotations__["return"] = AnswerModel

    def show_source(request: str):
        """The source panel for a click on a citation: {"file", "start", "end", "n"} from the page's script."""
        try:
            data = json.loads(request or "")
            file, start, end = data["file"], int(data["start"]), int(data.get("end") or data["start"])
            n = int(data["n"]) if data.get("n") else None
        except (ValueError, TypeError, KeyError):
            return message_html(SOURCE_BAD_REQUEST, "kb-banner kb-error")
        try:
            source = source_lines(settings.corpus_dir, file, start, end, SOURCE_PANEL_CONTEXT)
        except SourceRefused as exc:
            return message_html(str(exc), "kb-banner kb-error")
        return source_panel_html(source, documents().get(file), n)

    def api_source(file: str, line_start: int, line_end: int = 0, context: int = 3) -> str:
        """Visa en källa i sitt sammanhang: raderna line_start–line_end (0: bara line_start) i dokumentet `file`
        (filnamnet ur svarets källa) och `context` rader runt dem, som JSON. Bara dokument i underlaget visas."""
        try:
            return json.dumps(source_lines(settings.corpus_dir, file, line_start, line_end or None, context),
                              ensure_ascii=False)
        except SourceRefused as exc:
            raise client_error(str(exc)) from exc

    # --- layout ---------------------------------------------------------------------------

    docs0 = documents()
    # Gradio copies each export into its cache to serve the download; those copies are deleted
    # hourly once older than EXPORT_CACHE_S, and all of them when the app stops.
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(3600, EXPORT_CACHE_S)) as demo:
        gr.Markdown(f"# {TITLE}\nFrågor och svar om Region Kronobergs styrdokument. Svaren bygger bara på "
                    "dokumenten och visar alltid sina källor.", elem_id="kb-header")
        banner = gr.HTML(banner_html(loader), elem_id="kb-banner")
        display_state = gr.State([])
        history_state = gr.State([])
        turns_state = gr.State([])
        rated_state = gr.State({})
        conversation_state = gr.State("")
        with gr.Tabs():
            with gr.Tab("Fråga", id="chat", elem_id="kb-tab-chat"):
                with gr.Row():
                    with gr.Column(scale=4):
                        chatbot = gr.Chatbot(
                            label="Samtal", elem_id="kb-chat", height=580, buttons=["copy"],
                            feedback_options=("Like", "Dislike"), latex_delimiters=[],
                            placeholder="**Ställ en fråga** om budgetar, program, strategin eller delårsrapporten "
                                        "– eller välj en exempelfråga nedan.")
                        with gr.Row():
                            question = gr.Textbox(label="Din fråga", elem_id="kb-question", scale=5, lines=1,
                                                  max_lines=6, autofocus=True,
                                                  placeholder="Till exempel: Vad är målvärdet för sjukfrånvaro 2028?")
                            send = gr.Button("Skicka", variant="primary", scale=1, elem_id="kb-send")
                        status = gr.Markdown("", elem_id="kb-status")
                        source_panel = gr.HTML(SOURCE_PANEL_EMPTY, elem_id="kb-source-panel")
                        source_request = gr.Textbox("", elem_id="kb-source-request", elem_classes=["kb-hidden"],
                                                    show_label=False, container=False, lines=1, max_lines=1)
                        gr.Markdown("**Exempelfrågor** – klicka för att fråga:")
                        with gr.Row(elem_id="kb-examples"):
                            example_buttons = [gr.Button(text, size="sm", variant="secondary") for text in EXAMPLES]
                    with gr.Column(scale=1, min_width=260):
                        gr.Markdown("### Avgränsa")
                        doc_filter = gr.Dropdown(choices=document_choices(docs0), value=[], multiselect=True,
                                                 label="Dokument", info="Tomt: alla dokument.",
                                                 elem_id="kb-doc-filter")
                        year_filter = gr.Dropdown(choices=year_choices(docs0), value=ALL_YEARS, label="År",
                                                  info="Bara dokument som gäller året.", elem_id="kb-year-filter")
                        new_chat = gr.Button("Ny konversation", size="md", elem_id="kb-new")
                        export = gr.DownloadButton("Exportera samtalet (.md)", value=None, interactive=False,
                                                   size="md", elem_id="kb-export")
                        gr.Markdown("### Återkoppling\nTumme upp eller ned finns under varje svar.")
                        comment = gr.Textbox(label="Kommentar (valfri)", lines=2, elem_id="kb-comment",
                                             placeholder="Vad var bra eller fel i svaret?")
                        send_comment = gr.Button("Skicka kommentar", size="sm", elem_id="kb-send-comment")
                        feedback_status = gr.Markdown("", elem_id="kb-feedback-status")
            with gr.Tab("Dokument", id="documents", elem_id="kb-tab-documents"):
                gr.Markdown("## Vad assistenten känner till")
                docs_page = gr.HTML(documents_html(docs0, loader.error), elem_id="kb-documents")
            with gr.Tab("Om assistenten", id="about", elem_id="kb-tab-about"):
                gr.Markdown(ABOUT)

        chat_inputs = [question, display_state, history_state, turns_state, doc_filter, year_filter,
                       conversation_state]

        def respond_and_show(question, display, history, turns, doc_filter, year, conversation):
            for display, *rest in respond(question, display, history, turns, doc_filter, year, conversation):
                yield (display, display, *rest)

        outputs = [chatbot, display_state, history_state, turns_state, question, status, export, conversation_state]
        send.click(respond_and_show, chat_inputs, outputs, api_visibility="private", show_progress="hidden")
        question.submit(respond_and_show, chat_inputs, outputs, api_visibility="private", show_progress="hidden")
        for button, text in zip(example_buttons, EXAMPLES):
            button.click(lambda t=text: t, None, question, api_visibility="private", queue=False).then(
                respond_and_show, chat_inputs, outputs, api_visibility="private", show_progress="hidden")
        reset_outputs = [chatbot, display_state, history_state, turns_state, question, status, export,
                         conversation_state, rated_state, feedback_status, source_panel]
        new_chat.click(new_conversation, None, reset_outputs, api_visibility="private", queue=False)
        chatbot.clear(new_conversation, None, reset_outputs, api_visibility="private", queue=False)
        chatbot.like(on_like, [turns_state, rated_state, conversation_state], [rated_state, feedback_status],
                     api_visibility="private")
        send_comment.click(on_comment, [comment, rated_state], [comment, feedback_status], api_visibility="private")
        comment.submit(on_comment, [comment, rated_state], [comment, feedback_status], api_visibility="private")
        demo.load(on_load, None, [banner, doc_filter, year_filter, docs_page], api_visibility="private")
        source_request.change(show_source, source_request, source_panel, api_visibility="private",
                             show_progress="hidden").then(
            None, None, None, js="() => document.querySelector('#kb-source-panel')"
                                 ".scrollIntoView({behavior: 'smooth', block: 'nearest'})")
        gr.api(api_ask, api_name="ask")
        gr.api(api_ask_v2, api_name="ask_v2")
        gr.api(api_source, api_name="source")
    demo.purge_report = purge_report
    demo.kb_loader = loader  # for /readyz (ServiceRoutes)
    return demo


def client_error(message: str) -> gr.Error:
    """An error for an API client: the message in Swedish, and no traceback in the server log (bad input is
    not a fault of the server; an unexpected failure is logged with its traceback where it is caught)."""
    return gr.Error(message, print_exception=False)


def _write_export(directory: Path, conversation: str, turns: list[dict[str, Any]]) -> Path:
    """Write the conversation as Markdown; only the latest export of a conversation is kept."""
    folder = directory / (re.sub(r"[^0-9a-f]", "", conversation)[:32] or "samtal")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"kronoberg-samtal-{datetime.now().strftime('%Y%m%d-%H%M')}.md"
    for old in folder.glob("*.md"):
        if old != path:
            old.unlink(missing_ok=True)
    path.write_text(conversation_markdown([t for t in turns if t.get("answer")]), encoding="utf-8")
    return path


EXPORT_CACHE_S = 24 * 3600
RETENTION_INTERVAL_S = 24 * 3600


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


ABOUT = """
## Så fungerar assistenten
- Frågan söks i dokumenten både med betydelse (inbäddningar) och med ord (BM25); tabellvärden slås upp i ett
  tabellregister.
- Svaret består av meningar och värden ur dokumenten, eller – om en språkmodell är påslagen – av modellens
  text, som kontrolleras mot källorna. Siffror som inte står i källorna ersätts av ett svar direkt ur dokumenten.
- Varje svar har källmarkörer, [1], [2] …, och under svaret visas dokumentet, dess slag och status, avsnittet,
  raderna eller sidan och det citerade stället med de stödjande orden markerade. Klicka på en markör eller på
  **Visa i sammanhang** för att se de citerade raderna i dokumentet, med raderna runt omkring, under samtalet.
- Följdfrågor (”och 2027?”) tolkas utifrån samtalet. **Ny konversation** börjar om.
- Avgränsa till vissa dokument eller ett år i panelen till höger.

## Integritet
Allt körs lokalt: inga frågor, svar eller användningsdata lämnar datorn. Samtalet sparas inte på servern; det finns
bara i din webbläsarsession. Omdömen och kommentarer sparas i en lokal databas tillsammans med frågan, svaret,
källorna och tiden, och tas bort när gallringstiden har gått ut (standard 365 dagar). Ett exporterat samtal sparas
på servern för nedladdningen (bara den senaste exporten av varje samtal) och tas bort när appen stängs, kopian för
nedladdningen senast efter ett dygn.

## Integrationer
API-slutpunkten `/ask_v2` tar frågan och tidigare turer som en lista och svarar med ett objekt med samma fält som
`python -m assistant ask --json` (schemat visas under ”Använd via API” längst ned på sidan):

```python
from gradio_client import Client
client = Client("http://127.0.0.1:7860/")
svar = client.predict("Vad är målvärdet för sjukfrånvaro 2028?", [], None, api_name="/ask_v2")
```

Den äldre slutpunkten `/ask` finns kvar: den tar tidigare turer som en JSON-text och svarar med JSON-text
(`client.predict("Vad är målvärdet för sjukfrånvaro 2028?", "[]", api_name="/ask")`).

Slutpunkten `/source` visar en källa i sitt sammanhang: filnamnet och raderna ur svarets källa, och några rader runt
dem (`client.predict("hallbarhetsprogram-2024-2028.txt", 456, 457, 3, api_name="/source")`). Bara dokument i
underlaget kan visas.
"""
