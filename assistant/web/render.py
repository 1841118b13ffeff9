"""A typed answer rendered for people: HTML for the chat and Markdown for the export, from one place.

An answer arrives as its JSON (`Answer.to_json()`). The pieces both renderings show are written once
here: where a source stands (`where`), the title over the sources (`sources_title`), a table cell's
value (`cell_value`, which is the answer's own `format_cell_value`), the table's columns and which
citation that carries each cell (`cited_cells`). The page's CSS and the script that opens a source in the
source panel live here too, beside the HTML they style and read.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import MISSING, fields
from datetime import datetime
from typing import Any

from .. import prompts
from ..tables.format import format_cell_value
from ..lexical import STOPWORDS, words
from ..records import Cell, DocumentInfo
from ..text import CITATION_MARKER
from .filters import document_years

_CODE = re.compile(r"`([^`]+)`")
# The units a quote is marked in: a number with its decimals ("4,5") is one, everything else is a
# word as lexical.words reads it ([^\W_]+).
_DECIMAL = re.compile(r"\d+[,.]\d+")
_UNIT = re.compile(rf"{_DECIMAL.pattern}|[^\W_]+")
# Words the answer's template adds ("Enligt … (…):"): not words of the answer's content.
_TEMPLATE_WORDS = {w for t in prompts.ACCORDING_TO.values() for w in words(t.format(cite="", kind=""))}
TABLE_HEAD = ("Rad", "Kolumn", "Värde")
SOURCE_PANEL_EMPTY = f'<p class="kb-source-hint">{prompts.SOURCE_PANEL_HINT}</p>'


# --- the pieces both renderings share ------------------------------------------------------------

def where(c: dict[str, Any]) -> str:
    """Where a citation stands: its page, else its lines ("rad 120", "rad 120–122")."""
    if c.get("page"):
        return f"s. {c['page']}"
    start, end = c.get("line_start"), c.get("line_end")
    if start is None:
        return ""
    return f"rad {start}" if start == end or not end else f"rad {start}–{end}"


def sources_title(data: dict[str, Any]) -> str:
    return "Närmast i dokumenten" if data.get("refused") else "Källor"


def cell_value(cell: dict[str, Any]) -> str:
    """A cell's value as the answer writes it (`assistant.tables.format.format_cell_value`)."""
    known = {f.name: f for f in fields(Cell)}
    values = {name: cell[name] for name in known if name in cell}
    for name, f in known.items():  # a partial cell (an old export) still shows its printed value
        if name not in values and f.default is MISSING:
            values[name] = None if name == "value" else 0 if name == "line" else ""
    return format_cell_value(Cell(**values))


def cited_cells(data: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Each table value of the answer with the citation that carries it, in the answer's order."""
    cited = [(c["cell"], c) for c in data.get("citations") or [] if c.get("cell")]
    if cited:
        return cited
    return [(cell, None) for cell in data.get("cells") or []]


def table_caption(cell: dict[str, Any], citation: dict[str, Any] | None) -> str:
    """The source table's caption: the citation for a cell has the section "caption > row"."""
    if citation is None:
        return ""
    section = citation.get("section") or ""
    row = cell.get("row") or ""
    if row and section.endswith(" > " + row):
        return section[: -len(row) - 3]
    return section


# --- the words that support a quote ---------------------------------------------------------------

def _terms(text: str) -> set[str]:
    """The words of `text` (lexical.words, without lexical.STOPWORDS, three letters or more) and its numbers,
    a number with decimals as one."""
    text = text or ""
    found = set(_DECIMAL.findall(text)) | set(words(_DECIMAL.sub(" ", text)))
    return {t for t in found if t not in STOPWORDS and (len(t) >= 3 or t[0].isdigit())}


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
    for m in _UNIT.finditer(quote):
        out.append(html.escape(quote[last:m.start()]))
        word = m.group(0)
        escaped = html.escape(word)
        out.append(f"<mark>{escaped}</mark>" if _matches(word.lower(), terms) else escaped)
        last = m.end()
    out.append(html.escape(quote[last:]))
    return "".join(out)


def answer_terms(data: dict[str, Any]) -> set[str]:
    """Words that support a quote: the answer's own words (quotes, markers and the template taken out) and
    the question's."""
    text = CITATION_MARKER.sub(" ", data.get("answer", ""))  # citation markers are not words of the answer
    for c in data.get("citations", []):
        if c.get("quote"):
            text = text.replace(c["quote"], " ")
    for doc_label in {c.get("cite", "") for c in data.get("citations", [])} | \
            {c.get("kind_label", "") for c in data.get("citations", [])}:
        if doc_label:
            text = text.replace(doc_label, " ")
    return (_terms(text) - _TEMPLATE_WORDS) | _terms(data.get("question", "")) | \
        _terms(data.get("standalone_question", ""))


# --- HTML ---------------------------------------------------------------------------------------------

def text_html(text: str) -> str:
    escaped = html.escape(text or "")
    escaped = CITATION_MARKER.sub(r'<sup class="kb-ref">[\1]</sup>', escaped)
    return escaped.replace("\n", "<br>")


def pending_html(text: str, status: str = "") -> str:
    """An answer being written: its text so far with a cursor, or with a status line under it."""
    if status:
        return (f'<div class="kb-answer"><div class="kb-text">{text_html(text)}</div>'
                f'<div class="kb-pending">{status}</div></div>')
    return f'<div class="kb-answer"><div class="kb-text">{text_html(text)}▌</div></div>'


def sources_html(data: dict[str, Any], documents: dict[str, DocumentInfo]) -> str:
    citations = data.get("citations") or []
    if not citations:
        return ""
    terms = answer_terms(data)
    items = []
    for c in citations:
        info = documents.get(c.get("file", ""))
        status = info.status if info else ""
        name = html.escape(c.get("cite") or c.get("title", ""))
        head = (f'<span class="kb-n">[{c["n"]}]</span> <strong>{name}</strong>'
                f' · <span class="kb-kind">{html.escape(c.get("kind_label", ""))}</span>')
        place = " · ".join(p for p in (f"Avsnitt: {html.escape(c.get('section') or '–')}", html.escape(where(c))) if p)
        status_html = f'<div class="kb-source-status">Status: {html.escape(status)}</div>' if status else ""
        items.append(f'<li class="kb-source" id="kb-source-{c["n"]}"><div class="kb-source-head">{head}</div>'
                     f'{status_html}<div class="kb-source-where">{place}</div>'
                     f'<blockquote class="kb-quote">{highlight(c.get("quote", ""), terms)}</blockquote>'
                     f'{open_source_button(c)}</li>')
    return (f'<div class="kb-sources"><div class="kb-sources-title">{sources_title(data)}</div>'
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
            f"{prompts.SOURCE_OPEN}</button>")


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
    title = prompts.SOURCE_PANEL_TITLE
    return (f'<div class="kb-source-view" role="region" aria-label="{title}">'
            f'<div class="kb-source-view-head"><strong>{title}:</strong> {marker}<strong>{name}</strong>'
            f'{kind} · {html.escape(source["file"])} · {lines_label}</div>'
            f'<div class="kb-source-lines">{"".join(rows)}</div></div>')


def cells_html(data: dict[str, Any]) -> str:
    pairs = cited_cells(data)
    if not pairs:
        return ""
    citations = data.get("citations") or []
    groups: dict[str, list[tuple[dict[str, Any], dict[str, Any] | None]]] = {}
    for cell, citation in pairs:
        groups.setdefault(cell.get("table_id", ""), []).append((cell, citation))
    head = "".join(f"<th>{h}</th>" for h in TABLE_HEAD)
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
                        f'<td class="kb-value">{html.escape(cell_value(cell))}{uncertain}{marker}</td></tr>')
        tables.append(f'<table class="kb-cells"><caption>{html.escape(caption_text)}</caption>'
                      f"<thead><tr>{head}</tr></thead>"
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
    if data.get("mode") in prompts.MODE_LABELS:
        meta.append("Svarsläge: " + prompts.MODE_LABELS[data["mode"]])
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


def banner_html(loader) -> str:
    """The banner over the chat: the loader's error (no index) or notice (extractive fallback)."""
    if loader.error:
        return f'<div class="kb-banner kb-error">⚠️ {with_code(loader.error)}</div>'
    if loader.notice:
        return f'<div class="kb-banner kb-info">ℹ️ {html.escape(loader.notice)}</div>'
    return ""


def documents_html(documents: dict[str, DocumentInfo] | None, error: str = "") -> str:
    intro = prompts.DOCUMENTS_INTRO
    if not documents:
        message = with_code(error or prompts.NO_DOCUMENTS)
        return f'<div class="kb-docs">{intro}<div class="kb-banner kb-error">⚠️ {message}</div></div>'
    cards = []
    for file, info in sorted(documents.items(), key=lambda kv: (document_years(kv[1]) or (9999, 9999), kv[1].cite)):
        rows = [("Slag", info.kind_label), ("Författare", info.author), ("Period", info.period),
                ("Skrivet", info.written), ("Status", info.status), ("Fil", file)]
        dl = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in rows if v)
        badge = (f'<span class="kb-badge">{html.escape(info.cite)}</span>'
                 if info.cite and info.cite != info.title else "")
        description = f"<p>{html.escape(info.description)}</p>" if info.description else ""
        missing = "" if info.in_manifest else f"<p><em>{prompts.NOT_IN_MANIFEST}</em></p>"
        cards.append(f'<div class="kb-doc"><h3>{html.escape(info.title or file)}{badge}</h3>'
                     f"{description}<dl>{dl}</dl>{missing}</div>")
    return (f'<div class="kb-docs">{intro}<p><strong>{len(documents)} dokument</strong> finns i underlaget:</p>'
            f'{"".join(cards)}</div>')


# --- Markdown --------------------------------------------------------------------------------------------

def conversation_markdown(turns: list[dict[str, Any]]) -> str:
    lines = [f"# Samtal med {prompts.TITLE}", "", f"Exporterat {datetime.now().strftime('%Y-%m-%d %H:%M')}.", ""]
    for n, turn in enumerate(turns, start=1):
        data = turn.get("answer") or {}
        lines += [f"## {n}. {turn.get('question', '')}", ""]
        if turn.get("filter"):
            lines += [f"*Avgränsat till {turn['filter']}.*", ""]
        lines += [data.get("answer", turn.get("text", "")), ""]
        if data.get("notice"):
            lines += [f"> {data['notice']}", ""]
        if data.get("cells"):
            lines += ["| " + " | ".join(TABLE_HEAD) + " |", "|---|---|---|"]
            for cell in data["cells"]:
                lines.append(f"| {_md_cell(cell.get('row', ''))} | {_md_cell(cell.get('column', ''))} | "
                             f"{_md_cell(cell_value(cell))} |")
            lines.append("")
        if data.get("citations"):
            lines += [f"**{sources_title(data)}:**", ""]
            for c in data["citations"]:
                lines.append(f"{c['n']}. {c.get('cite', '')} ({c.get('kind_label', '')}), "
                             f"{c.get('section') or '–'}, {where(c)}: ”{c.get('quote', '')}”")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


# --- the page's style and script ---------------------------------------------------------------------

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
