"""The decision: what the answer says, or that it refuses, as an ordered list of named rules over
the question analysis and the evidence found. The rule that decided and the signals it read are
recorded in `Answer.decision`, and the evaluation report counts them.

Rules, in order (the first that applies decides; the steps after it refine an answer):
  table_value       the best table value is likely enough (calibrated cell model); a comparison naming
                    two documents gets the same measure's values in the other one, else its best sentence
  sentence          the best sentence is likely enough (calibrated sentence model)
  refused_unlikely  neither is: nothing found answers the question
  refused_name      a place or body the question names is in none of the evidence
  refused_amount    "hur många?" and no number about what is asked
  refused_date      "vilket datum?" and no date
  refused_kind      the question asks for a kind of value (an outcome) the matching table rows lack
  refused_year      the year asked is in none of the evidence (its text, heading, document or cells), or
                    in none of the values of the table row a sentence turns out to be (rows_as_values)
Steps: complement (the second part of a two-part question from another sentence), rows_as_values
(a table row read as prose given as its values), other_documents (a table value asked for without
naming a document: the same measure's values for that year in the other documents), items_beside_row (a list question: the lines by
the row, not its values), rows_left_for_time (a "när?" question: the running text, not a row's Tidplan),
year_forecast (an interim report's part-year outcome of the year asked, with its forecast for the
whole year), shortened (a long quote cut to its piece nearest the question in meaning), change (a question about a
change gets it computed from two cited values of one measure).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Sequence

from . import calibration
from .compose import change_line, combine, compose_sentence_answer, compose_table_answer, refusal, year_refusal
from .evidence import (LONG_PIECE_CHARS, joined_short, lines_of, list_items, logical_lines, names_missing, pieces,
                       states, states_amount)
from .finder import Finder
from .question import asks_two_things, detect_language, expected_answer, is_list_question, names_in
from .records import Decision, Draft, Evidence
from .text import YEAR, collapse_spaces, period_years


RULES = ("input", "table_value", "sentence", "refused_unlikely", "refused_name", "refused_amount",
         "refused_date", "refused_kind", "refused_year")
# The complement of a two-part question: it must add this share of the question's weighted terms;
# one from elsewhere than beside the answer must be this likely relative to the best sentence.
COMPLEMENT_MIN_GAIN = 0.15
COMPLEMENT_MIN_RATIO = 0.5
COMPLEMENT_CANDIDATES = 10
BESIDE_LINES = 3  # a sentence within this many lines of the answer's is read with it
# A quote longer than this is cut to its piece nearest the question: an answer is read in a sentence
# or two, and "Enligt <dokument> (<slag>):" before the quote takes a hundred characters more.
MAX_QUOTE_CHARS = LONG_PIECE_CHARS


@dataclass(frozen=True)
class Turn:
    """What the decision reads of the question."""

    question: str  # as asked
    focus: str  # what this turn asks (a follow-up's own part)
    focus_without_names: str  # the focus with the documents' names taken out when retrieval is kept to them
    lang: str
    named: tuple[str, ...]  # the documents the question names or the user chose
    wants_items: bool  # a list question: items, not the values of a row
    years: tuple[str, ...] = ()  # the years asked about (document names' years aside)
    asks_time: bool = False  # "när?", "vilket datum?": a table row's Tidplan is another thing's date
    asks_change: bool = False  # "hur har … förändrats?": the change between the values, computed


@dataclass(frozen=True)
class Found:
    cells: list[Evidence]
    other_kind: list[Evidence]  # rows that match but give only another kind of value than asked
    sentences: list[Evidence]
    meaning: object  # the question's vector
    # how near in meaning each of some texts is to the question (cosines); None: quotes stay whole
    nearness: Callable[[list[str]], Sequence[float]] | None = None


def decide(finder: Finder, turn: Turn, found: Found) -> tuple[Draft, Decision]:
    draft, decision = _first_rule(finder, turn, found)
    if draft.refused:
        return draft, decision
    spoken_of = _years_in(draft.evidence) if turn.years else set()
    if turn.years and not spoken_of & set(turn.years):
        nearest = _nearest_year(turn.years, spoken_of)
        return year_refusal(turn.years, nearest, draft.evidence[:3], turn.lang), Decision("refused_year", decision.signals)
    refused = _misses(finder, turn.focus, draft) or ("refused_kind" if found.other_kind else "")
    if refused:
        nearest = draft.evidence[:3] if refused != "refused_kind" else found.other_kind
        return refusal(nearest, turn.lang), Decision(refused, decision.signals)
    steps = []
    completed = _with_complement(finder, turn.focus_without_names, draft, found.sentences, turn.lang)
    if completed is not draft:
        draft, steps = completed, steps + ["complement"]
    as_values, step = _rows_as_values(finder, draft, found.meaning, turn.lang, turn.wants_items, turn.asks_time,
                                      turn.years)
    if step:
        draft, steps = as_values, steps + [step]
        # the row's values are what is given now: a row without the year asked has no value for it
        given = _years_in(draft.evidence) if step == "rows_as_values" and turn.years else set()
        if given and not given & set(turn.years):
            return year_refusal(turn.years, _nearest_year(turn.years, given), draft.evidence[:3], turn.lang), \
                Decision("refused_year", decision.signals, tuple(steps))
    with_others = _with_other_documents(finder, draft, turn)
    if with_others is not draft:
        draft, steps = with_others, steps + ["other_documents"]
    forecasts = _with_year_forecasts(finder, draft, turn)
    if forecasts is not draft:
        draft, steps = forecasts, steps + ["year_forecast"]
    shortened = _shortened(finder, draft, turn, found.nearness)
    if shortened is not draft:
        draft, steps = shortened, steps + ["shortened"]
    # one document's change over time; documents that differ are answered each with its own values
    change = change_line(draft, turn.lang) if turn.asks_change and len(turn.named) < 2 else ""
    if change:
        draft, steps = replace(draft, text=f"{draft.text}\n{change}"), steps + ["change"]
    return draft, Decision(decision.rule, decision.signals, tuple(steps))


def _first_rule(finder: Finder, turn: Turn, found: Found) -> tuple[Draft, Decision]:
    cells, sentences = found.cells, found.sentences
    signals = {"cell_p": round(cells[0].score, 4) if cells else None,
               "sentence_p": round(sentences[0].score, 4) if sentences else None}
    if cells and cells[0].score >= calibration.CELL_ANSWER_P:
        # a comparison: a named document the table lookup did not reach gives the same measure's values
        # (rows linked at ingest), else it speaks in sentences
        have = {c.info.file for c in cells}
        if len(turn.named) > 1:
            cells = cells + [c for c in finder.same_measure_elsewhere(cells, turn.years)
                             if c.info.file in turn.named and c.info.file not in have]
            have = {c.info.file for c in cells}
        draft = compose_table_answer(cells, turn.lang)
        others = [next((s for s in sentences if s.info.file == f), None) for f in turn.named if f not in have]
        others = [s for s in others if s is not None and s.score >= calibration.SENTENCE_ANSWER_P]
        if others:
            draft = combine(draft, compose_sentence_answer(others, turn.lang, start=len(draft.evidence) + 1))
        return draft, Decision("table_value", signals)
    if not sentences or sentences[0].score < calibration.SENTENCE_ANSWER_P:
        return refusal(sentences[:3], turn.lang), Decision("refused_unlikely", signals)
    return compose_sentence_answer(choose_sentences(sentences, list(turn.named)), turn.lang), \
        Decision("sentence", signals)


def _years_in(evidence: list[Evidence]) -> set[str]:
    """The years the evidence speaks of: in its text, heading and caption (a period "2025–2027" speaks
    of 2026 too), its document's title; a table value of a year speaks of its own year only (the
    programme 2024–2028's "Mål 2028" is no value for 2026), and a table value of no year (a column
    "Uppräkning") not of its document's title's years either: Budget 2021, plan 2022–2023's row of
    prices for 2020 and 2021 gives no value for 2023 (tune: 2 unanswerable questions more refused,
    none fewer answered; dev and rewrites unchanged, evals/out/exT against s14-final)."""
    years = set()
    for ev in evidence:
        own = YEAR.findall(f"{ev.cell.year or ''} {ev.cell.column}") if ev.cell is not None else []
        if own:
            years.update(own)
            continue
        title = ev.info.title if ev.cell is None else ""
        text = f"{ev.text} {ev.section} {ev.caption} {title}"
        years.update(str(y) for y in period_years(text))
    return years


def _nearest_year(asked: tuple[str, ...], found: set[str]) -> str:
    if not found:
        return ""
    return min(found, key=lambda y: (min(abs(int(y) - int(a)) for a in asked), y))  # a tie: the earlier year


def choose_sentences(sentences: list[Evidence], named: list[str]) -> list[Evidence]:
    """The best sentence, and the best of each other document the question names (comparisons).
    A close second from another passage is not given beside it: it was given until 2026-12-02 (when
    nearly as likely, 0.85 of the best) and was more often unrelated than the answer; without it dev
    strict went 81.8 -> 82.2 %, rewrites 216 -> 216 of 428, tune 45.0 -> 46.3 %, unanswerable refused
    on tune 51.4 -> 62.9 % (the refusal checks read the best sentence alone; evals/out/s13-nosecond)."""
    chosen = [sentences[0]]
    for file in named:
        if file != sentences[0].info.file:
            other = next((s for s in sentences if s.info.file == file), None)
            if other is not None:
                chosen.append(other)
    return chosen


def _misses(finder: Finder, question: str, draft: Draft) -> str:
    """The refusal rule for evidence that looks relevant but is about something else: another body
    ("Region Skånes skattesats" is not Kronoberg's), or no number for a "hur många?"; else ""."""
    if names_missing(names_in(question), draft.evidence, finder.scorer.tokenizer):
        return "refused_name"
    kind = expected_answer(question)
    if kind == "amount" and not any(_states_amount_about(finder, question, e) for e in draft.evidence):
        return "refused_amount"
    if kind == "date" and not any(states(kind, e.text) for e in draft.evidence):
        return "refused_date"
    return ""


def _states_amount_about(finder: Finder, question: str, ev: Evidence) -> bool:
    """A number on the line that matches the question best. A sentence run together from an
    indicator list ("Invånare med fetma, andel (%) Invånare 16-84 år …") has numbers, but not
    for the indicator asked about."""
    if ev.cell is not None:
        return True
    if not states_amount(ev.text):
        return False
    pieces = logical_lines(finder.lines, ev.info.file, ev.line_start, ev.line_end)
    if len(pieces) < 2 or is_list_question(question) or detect_language(question) != "sv":
        return True  # "hur många – vilka är det?" wants the names; English shares no words with the lines
    terms = finder.scorer.query_terms(question)
    best = max(pieces, key=lambda p: finder.scorer.coverage(terms, p))
    return states_amount(best)


def _with_complement(finder: Finder, question: str, draft: Draft, sentences: list[Evidence], lang: str) -> Draft:
    """A question of two parts ("17,2 % … jämfört med riket?") often has its second part in
    another sentence: add the one sentence that covers most of what the answer leaves out."""
    scorer = finder.scorer
    terms = scorer.query_terms(question)
    if not terms or not sentences or not asks_two_things(question):
        return draft
    said = set()
    for ev in draft.evidence:
        cell = f"{ev.cell.row} {ev.cell.column} {ev.cell.column_kind}" if ev.cell else ""
        said.update(scorer.tokenizer.tokens(f"{ev.text} {ev.section} {ev.caption} {cell}"))
    missing = {t: w for t, w in terms.items() if t not in said}
    covered = {t for t in terms if t in said}
    total = sum(terms.values())
    best, gain = None, 0.0
    for candidate in sentences[:COMPLEMENT_CANDIDATES]:
        if candidate in draft.evidence:
            continue
        own = set(scorer.tokenizer.tokens(candidate.text))
        beside = any(e.info.file == candidate.info.file and abs(e.line_start - candidate.line_start) <= BESIDE_LINES
                     for e in draft.evidence)
        # a sentence right by the answer's is read with it; one from elsewhere must itself be likely
        if not beside and candidate.score < COMPLEMENT_MIN_RATIO * sentences[0].score:
            continue
        if not beside and not covered & own:  # about the same thing, or right next to it
            continue
        g = sum(w for t, w in missing.items() if t in own) / total
        if g > gain:
            best, gain = candidate, g
    if best is None or gain < COMPLEMENT_MIN_GAIN:
        return draft
    return combine(draft, compose_sentence_answer([best], lang, start=len(draft.evidence) + 1))


def _with_other_documents(finder: Finder, draft: Draft, turn: Turn) -> Draft:
    """A table value asked for without naming a document, with the same measure's values for that
    year in the other documents (`Finder.same_measure_elsewhere`): documents that differ are named."""
    if turn.named or turn.wants_items or not draft.evidence or any(e.cell is None for e in draft.evidence):
        return draft
    elsewhere = finder.same_measure_elsewhere(draft.evidence, turn.years)
    return compose_table_answer(draft.evidence + elsewhere, turn.lang) if elsewhere else draft


def _with_year_forecasts(finder: Finder, draft: Draft, turn: Turn) -> Draft:
    """An interim report's outcome for part of the year asked, with its forecast for the whole year
    (`Finder.year_forecasts`)."""
    if not turn.years or not draft.evidence or any(e.cell is None for e in draft.evidence):
        return draft
    forecasts = finder.year_forecasts(draft.evidence, turn.years)
    return compose_table_answer(draft.evidence + forecasts, turn.lang) if forecasts else draft


def _rows_as_values(finder: Finder, draft: Draft, meaning, lang: str, wants_items: bool,
                    asks_time: bool = False, years: tuple[str, ...] = ()) -> tuple[Draft, str]:
    """A "sentence" that is a table row read as prose is given as that row's values, each with its
    column: "5,5 (Utfall jan-mar 2024)" says what "5,5 6,2 3,1 6,0" only pastes. A question that
    asks for items ("vilka är det?") gets the sentence's lines that are not the row instead. A
    question that asks when gets the running text beside such a row, when there is any: a row's
    Tidplan is the schedule of the task in that row, not the time asked about (as for cells)."""
    if draft.refused or draft.cells:
        return draft, ""
    rows = [finder.row_read_as_prose(s, meaning) for s in draft.evidence]
    if not any(rows):
        return draft, ""
    if wants_items:
        kept = [finder.lines_without_cells(s) if row else s for s, row in zip(draft.evidence, rows)]
        kept = [s for s in kept if s is not None]
        return (compose_sentence_answer(kept, lang), "items_beside_row") if kept else (draft, "")
    prose = [s for s, row in zip(draft.evidence, rows) if not row]
    if asks_time and prose:
        return compose_sentence_answer(prose, lang), "rows_left_for_time"
    values = _of_years([ev for row in rows if row for ev in row], years)
    # Keeping the row's neighbouring lines as prose kept 4 more dev answers right by the patterns but
    # made 14 too long to read (evals/out/m7 against m6): the values alone are the answer.
    table = compose_table_answer(values, lang)
    if prose:
        table = combine(table, compose_sentence_answer(prose, lang, start=len(values) + 1))
    return table, "rows_as_values"


def _shortened(finder: Finder, draft: Draft, turn: Turn, nearness) -> Draft:
    """A quote too long to read as an answer (a paragraph kept whole, a list intro with its items) cut
    to its piece nearest the question in meaning, citing that piece's lines. A question asking for a
    kind of answer (an amount, a date, a body) gets the nearest piece that states one, if any does.
    Lists are the answer to a list question and stay whole."""
    if draft.refused or draft.cells or nearness is None:
        return draft
    too_long = [_too_long(ev.text, turn.wants_items) for ev in draft.evidence]
    if not any(too_long):
        return draft
    kind = expected_answer(turn.focus)
    kept = [_nearest_piece(finder, ev, nearness, kind) if long else ev for ev, long in zip(draft.evidence, too_long)]
    return compose_sentence_answer(kept, turn.lang)


def _too_long(quote: str, list_asked: bool) -> bool:
    """Longer than an answer reads, and not a list: items under an intro are read together, whatever
    the question's words (a list is often asked for without "vilka"). A list question keeps dash
    items together too; a paragraph that happens to hold one bullet is not a list."""
    items = list_items(quote) if list_asked else quote.count("•")
    return len(quote) > MAX_QUOTE_CHARS and items < 2


def _nearest_piece(finder: Finder, ev: Evidence, nearness, kind: str) -> Evidence:
    parts = _line_pieces(finder, ev) or pieces(ev.text)
    if len(parts) < 2:
        return ev
    fitting = [p for p in parts if states(kind, p)] if kind else parts
    candidates = fitting or parts
    best = max(zip(nearness(candidates), candidates), key=lambda t: t[0])[1]
    first, last = lines_of(best, finder.lines, ev.info.file, ev.line_start, ev.line_end)
    return replace(ev, text=best, line_start=first, line_end=last)


def _of_years(values: list[Evidence], years: tuple[str, ...]) -> list[Evidence]:
    """A question about a year gets that year's values of a row, not its other columns ("Utfall
    jan-mar 2023" beside "Utfall jan-mar 2024"); values of no year (a "Tidplan", an "Ansvarig nämnd")
    stay. When no value is of the year asked, all stay: the refusal rules judge that."""
    asked = {int(y) for y in years}
    if not asked or not any(v.cell.year in asked for v in values):
        return values
    return [v for v in values if v.cell.year is None or v.cell.year in asked]


def _line_pieces(finder: Finder, ev: Evidence) -> list[str]:
    """The pieces of a quote over several source lines, cut at its lines first: a table read as
    prose ("… den palliativa vården 2021 HSN En utredning … 2030 2021 HSN") has no full stops, and a
    row's trailing cells (its Tidplan and Ansvarig, "2021 HSN") stand on a line after its task."""
    quote = collapse_spaces(ev.text)
    lines = [line for line in logical_lines(finder.lines, ev.info.file, ev.line_start, ev.line_end)
             if collapse_spaces(line) in quote]
    return joined_short([p for line in lines for p in pieces(line)], to_next=False) if len(lines) > 1 else []
