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
from .text import period_years

_SPACED_URL = re.compile(r"\s*" + URL.pattern)
URL_BLOCK = 2  # a sentence followed by two or more addresses carries a reference list, not an answer
FUTURE = 9999  # a column without a year ("Ansvarig nämnd") comes after the dated ones


def _kind_label(info, lang: str) -> str:
    return info.kind_label_en if lang == "en" and info.kind_label_en else info.kind_label


def _row_values(evs: list[Evidence], used: list[Evidence], lang: str) -> str:
    """One measure's values side by side, oldest first: "Sjukfrånvaro: 5,4 % (Utfall 2023), 5 % (Mål 2025)"."""
    values, said = [], set()
    for ev in sorted(evs, key=lambda e: e.cell.year or FUTURE):  # stable: one year's columns keep their order
        # the same figure of the same kind and year in a second table of the document says nothing new
        # ("Skatteintäkter 1 444 mnkr" in the report's result and financing tables)
        if ev.cell.value is not None:
            same = (ev.cell.value, ev.cell.year, ev.cell.column_kind)
            if same in said:
                continue
            said.add(same)
        used.append(ev)
        value = format_cell_value(ev.cell)
        if ev.cell.uncertain:
            value += " " + prompts.UNCERTAIN_CELL[lang]
        values.append(prompts.TABLE_VALUE[lang].format(column=_column(ev, lang), value=value, n=len(used)))
    return prompts.TABLE_ROW[lang].format(row=evs[0].cell.row, values=", ".join(values))


def _column(ev: Evidence, lang: str) -> str:
    """The column as printed; an interim report's column for a year before its own period is marked
    as the comparison it is ("Utfall 2023" in the report per March 2024 is not 2023's result)."""
    own = period_years(ev.info.period)
    if ev.info.kind == "interim_report" and ev.cell.year and own and ev.cell.year < min(own):
        return f"{ev.cell.column}, {prompts.COMPARISON_PERIOD[lang]}"
    return ev.cell.column


def change_line(draft: Draft, lang: str) -> str:
    """"Förändring från Utfall 2022 till Utfall 2024: 5,5 − 7,2 = −1,7 procentenheter [1] [3]." for
    the first measure of the answer with values of two years, computed from the cited cells; "" when
    there is none."""
    by_row: dict[tuple[str, str, str], list[tuple[int, Evidence]]] = {}
    for n, ev in enumerate(draft.evidence, start=1):
        if ev.cell is not None and ev.cell.value is not None and ev.cell.year:
            by_row.setdefault((ev.info.file, ev.cell.row, _value_family(ev.cell.column_kind)), []).append((n, ev))
    # how a measure has developed is read from what it was: where outcomes are cited, only outcomes
    if any(family == "outcome" for _, _, family in by_row):
        by_row = {key: values for key, values in by_row.items() if key[2] == "outcome"}
    for values in by_row.values():
        values.sort(key=lambda v: v[1].cell.year)
        (na, a), (nb, b) = values[0], values[-1]
        if a.cell.year == b.cell.year or _unit(a) != _unit(b):
            continue
        da, db = _decimals(a.cell.value_text), _decimals(b.cell.value_text)
        diff = _number(b.cell.value - a.cell.value, max(da, db), lang)
        unit = prompts.PERCENTAGE_POINTS[lang] if _unit(a) == "%" else _unit(a)
        return prompts.CHANGE[lang].format(first=_column(a, lang), last=_column(b, lang), a=_number(a.cell.value, da, lang),
                                           b=_number(b.cell.value, db, lang), diff=diff,
                                           unit=f" {unit}" if unit else "", refs=f"[{na}] [{nb}]")
    return ""


# Kinds of value a change is computed within: a target minus an outcome is the gap to the target, not
# a change, and a budget is neither (the table store's column kinds, tables/extract.py).
VALUE_FAMILIES = {"bokslut": "outcome", "utfall": "outcome", "mål": "target", "budget": "plan", "plan": "plan"}


def _value_family(column_kind: str) -> str:
    return VALUE_FAMILIES.get(column_kind, column_kind or "other")


def _unit(ev: Evidence) -> str:
    text = f"{ev.cell.value_text} {ev.cell.unit}".lower()
    return "%" if "%" in text or "procent" in text else (ev.cell.unit or "").strip()


def _decimals(text: str) -> int:
    digits = re.search(r"[.,](\d+)", text)
    return len(digits.group(1)) if digits else 0


def _number(value: float, decimals: int, lang: str) -> str:
    text = f"{value:,.{decimals}f}".replace(",", " ")
    text = text.replace(".", ",") if lang == "sv" else text
    return text.replace("-", "−")


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
