"""The extractive answer's text: each value or sentence with the document that says it and a
citation marker. What the answer says is decided in `decision.py`; how it reads is decided here,
from the texts in `prompts.py`.
"""

from __future__ import annotations

import re

from . import prompts
from .lexical import URL
from .records import Draft, Evidence
from .tables.format import format_cell_value

_SPACED_URL = re.compile(r"\s*" + URL.pattern)
URL_BLOCK = 2  # a sentence followed by two or more addresses carries a reference list, not an answer


def _kind_label(info, lang: str) -> str:
    return info.kind_label_en if lang == "en" and info.kind_label_en else info.kind_label


def _row_values(evs: list[Evidence], used: list[Evidence], lang: str) -> str:
    """One measure's values side by side: "Sjukfrånvaro: 5,4 % (Utfall 2023), 5 % (Mål 2025)"."""
    values = []
    for ev in evs:
        used.append(ev)
        value = format_cell_value(ev.cell)
        if ev.cell.uncertain:
            value += " " + prompts.UNCERTAIN_CELL[lang]
        values.append(prompts.TABLE_VALUE[lang].format(column=ev.cell.column, value=value, n=len(used)))
    return prompts.TABLE_ROW[lang].format(row=evs[0].cell.row, values=", ".join(values))


def compose_table_answer(cells: list[Evidence], lang: str) -> Draft:
    """Values grouped by document; more than one document means the documents disagree or differ."""
    by_doc: dict[str, list[Evidence]] = {}
    for ev in cells:
        by_doc.setdefault(ev.info.file, []).append(ev)
    lines, used = [], []
    if len(by_doc) > 1 and len({format_cell_value(e.cell) for e in cells}) > 1:
        lines.append(prompts.CONFLICT_INTRO[lang])
    for group in by_doc.values():
        info = group[0].info
        by_row: dict[str, list[Evidence]] = {}
        for ev in group:
            by_row.setdefault(ev.cell.row, []).append(ev)
        rows = [_row_values(evs, used, lang) for evs in by_row.values()]
        lines.append(prompts.ACCORDING_TO[lang].format(cite=info.cite, kind=_kind_label(info, lang))
                     + " " + "; ".join(rows) + ".")
    return Draft("\n".join(lines), used, refused=False, cells=[e.cell for e in used])


def without_url_block(text: str) -> str:
    """The sentence without the run of web addresses the sustainability programme puts after many
    of its sentences (its footnotes' link lists); one address of its own stays."""
    return _SPACED_URL.sub("", text).strip() if len(URL.findall(text)) >= URL_BLOCK else text


def compose_sentence_answer(sentences: list[Evidence], lang: str, start: int = 1) -> Draft:
    lines = []
    for n, ev in enumerate(sentences, start=start):
        lines.append(prompts.ACCORDING_TO[lang].format(cite=ev.info.cite, kind=_kind_label(ev.info, lang))
                     + " " + prompts.QUOTED_SENTENCE[lang].format(text=without_url_block(ev.text)) + f" [{n}]")
    return Draft("\n".join(lines), sentences, refused=False)


def combine(first: Draft, second: Draft) -> Draft:
    """Two drafts as one answer; the second's markers must already be numbered after the first's."""
    return Draft(first.text + "\n" + second.text, first.evidence + second.evidence, refused=False,
                 cells=first.cells + second.cells)


def refusal(nearest: list[Evidence], lang: str) -> Draft:
    return Draft(prompts.REFUSAL[lang], nearest, refused=True)


def year_refusal(asked: tuple[str, ...], nearest_year: str, nearest: list[Evidence], lang: str) -> Draft:
    """"No figure for 2031; the nearest year is 2028": what is missing, and what is there."""
    text = prompts.REFUSAL_YEAR[lang].format(years=" / ".join(asked))
    if nearest_year:
        text += prompts.REFUSAL_YEAR_NEAREST[lang].format(nearest=nearest_year)
    return Draft(text, nearest, refused=True)
