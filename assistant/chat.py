"""The assistant: one object the CLI, the app and the evaluation use.

    assistant = Assistant.load(settings)
    answer = assistant.ask("Vad är målvärdet för sjukfrånvaro 2028?", history=[])
    for event in assistant.ask_stream(question, history): ...

A question is checked, rewritten into a standalone question when it is a follow-up, answered
from hybrid retrieval and the table store, and returned with resolved citations. Conversations
keep no state here: the caller passes the history, so two conversations never share anything.
"""

from __future__ import annotations

import re
import threading
import time
import unicodedata
from dataclasses import dataclass, replace
from typing import Iterable, Iterator

import numpy as np

from . import calibration, prompts
from .answer import (MAX_LLM_EVIDENCE, Draft, Evidence, Scorer, add_missing_citations, by_document, cell_evidence,
                     combine, compose_sentence_answer, compose_table_answer, detect_language, evidence_texts,
                     expected_answer, is_list_question, list_items_after, llm_messages,
                     logical_lines, names_in, names_missing, prefer_answer_type, question_years, rank_sentences,
                     refusal, resolve_citations, states, states_amount, stream_llm, unsupported_numbers,
                     values_in, with_list)
from .embedding import Embedder, make_embedder
from .glossary import swedish_terms
from .index import Index, IndexError_, live_build
from .lexical import STOPWORDS, words
from .llm import LLM, LLMUnavailable, LocalModelServer, make_llm
from .question import analyse
from .records import Answer, Context
from .retrieval import RetrievalParams, retrieve
from .semantic import ROW, SENTENCE, normalised, row_text
from .settings import Settings
from .tables import STRONG_MATCH, CellHit, TableStore, requested_kinds
from .vectorstore import VectorStoreError

SECOND_SOURCE_RATIO = 0.85
MAX_CELLS = 6
# How many table rows and sentences the semantic index adds as candidates beside the word matches:
# enough that the row or sentence meant is among them when the question shares no word with it.
SEMANTIC_ROWS = 8
SEMANTIC_SENTENCES = 12
# A table row read as prose is answered with the values of its rows nearest the question in meaning.
ROWS_FROM_PROSE = 2
MIN_ITEM_LETTERS = 20  # fewer letters beside a row's values are a header fragment, not items

_FOLLOW_UP_START = re.compile(
    r"^(och|men|samt|än|hur är det med|hur blir det med|vad gäller|gäller det|samma|and|but|what about|how about|"
    r"and for|same for|then)\b", re.IGNORECASE)
_PRONOUNS = {"det", "den", "dem", "dessa", "detta", "denna", "där", "året", "it", "that", "this", "they", "those",
             "there"}
_FILLER = re.compile(r"^(och|men|samt|and|but|what about|how about|hur är det med|vad gäller)\s+", re.IGNORECASE)
_GENERIC_FOLLOW_UP = {"samma", "också", "även", "vad", "vilka", "vilken", "vilket", "gäller", "about", "what",
                      "which", "same", "also", "then", "året", "detta", "dessa", "ansvarar", "ansvarig",
                      # the kind of value: "och målet?" asks the earlier question about another column
                      "målet", "målvärdet", "utfallet", "prognosen", "budgeten", "helåret", "target", "outcome",
                      "forecast",
                      # asking for the source: "vilket dokument säger det?"
                      "dokument", "dokumentet", "säger", "står", "källan", "källa", "document", "says", "source"}
_REFUSES = re.compile(r"framgår inte|finns inte i (utdragen|dokumenten)|do(es)? not (say|mention|contain)|not mentioned",
                      re.IGNORECASE)
# "… och vad blev resultatet?", "… jämfört med riket?": a question that asks two things
_TWO_PARTS = re.compile(r"\b(?:och (?:vad|hur|vilk\w*|när|vem)|jämfört med|respektive|compared (?:with|to)|"
                        r"and (?:what|how|which|when|who)|versus)\b", re.IGNORECASE)
# "är det helårssiffran?", "was that the total investment in 2023?"
_ASKS_FULL_YEAR = re.compile(r"\b(?:helår\w*|hela (?:året|20\d\d)|full[- ]year|whole year|total \w+ (?:in|for) 20\d\d)\b",
                             re.IGNORECASE)
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


class AssistantUnavailable(RuntimeError):
    """The assistant cannot start; the message says which command fixes it."""


@dataclass(frozen=True)
class StreamEvent:
    kind: str  # draft | delta | final
    text: str = ""
    answer: Answer | None = None


def clean_question(question: str) -> str:
    question = _INVISIBLE.sub("", question or "")
    question = "".join(c if unicodedata.category(c)[0] != "C" else " " for c in question)
    return re.sub(r"\s+", " ", question).strip()


def input_problem(question: str, limit: int) -> str | None:
    if not question:
        return prompts.INPUT_EMPTY
    if len(question) > limit:
        return prompts.INPUT_TOO_LONG.format(n=len(question), limit=limit)
    if not any(c.isalnum() for c in question):
        return prompts.INPUT_NO_TEXT
    return None


def is_follow_up(question: str) -> bool:
    tokens = words(question)
    return bool(_FOLLOW_UP_START.match(question)) or len(tokens) <= 3 or bool(_PRONOUNS & set(tokens)) and len(tokens) <= 7


def _content_words(text: str) -> list[str]:
    return [w for w in words(text) if len(w) > 3 and w not in STOPWORDS and w not in _PRONOUNS
            and not w.isdigit() and w not in _GENERIC_FOLLOW_UP]


@dataclass(frozen=True)
class Rewrite:
    """A follow-up made standalone: `text` for retrieval and display, `focus` what was asked now,
    `background` what the earlier turn adds (weighed lower when choosing sentences)."""

    text: str
    focus: str
    background: str = ""


def _previous_question(history: list[dict[str, str]], names: list[str]) -> str:
    """The last user turn as a standalone question: a follow-up to a follow-up ("och 2027?" then
    "vilket dokument säger det?") goes back to the question both depend on."""
    for i in range(len(history) - 1, -1, -1):
        turn = history[i]
        if turn.get("role") == "user" and turn.get("content"):
            return standalone_question(turn["content"], history[:i], names).text
    return ""


def without_names(text: str, names: Iterable[str]) -> str:
    """The text with document names ("alliansens budgetförslag", "Budget 2021") taken out, with
    the owner's genitive before one ("alliansens")."""
    for name in sorted(names, key=len, reverse=True):
        text = re.sub(rf"(?i)(?:\b\w+s\s+)?\b{re.escape(name)}\w*", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def standalone_question(question: str, history: list[dict[str, str]], document_names: Iterable[str] = ()) -> Rewrite:
    """Rewrite a follow-up ("och 2027?", "vem ansvarar för det?") from the last user turn."""
    if not is_follow_up(question):
        return Rewrite(question, question)
    names = [n for n in document_names if n]
    previous = _previous_question(history, names)
    if not previous:
        return Rewrite(question, question)
    new_years = question_years(question)
    rest = _FILLER.sub("", question).strip(" ?.!")
    base = previous
    if names and without_names(rest, names) != rest:  # "och i alliansens budgetförslag?": another document
        base = without_names(previous, names)
        rest_words = without_names(rest, names)
        if not _content_words(rest_words):
            text = f"{base.rstrip(' ?')} – {rest}?"
            return Rewrite(text, text)
    if new_years and question_years(base):
        base = re.sub(r"\b(19[89]\d|20[0-4]\d)\b", sorted(new_years)[0], base)
    if not _content_words(rest):  # "och 2027?", "vilka är det?": the earlier question, adjusted
        text = base if not rest or new_years else f"{base.rstrip(' ?')} – {rest}?"
        return Rewrite(text, text)
    # a new topic in the frame of the earlier turn: "och sjukfrånvaron samma år?"
    years = "" if new_years else " ".join(sorted(question_years(previous)))
    focus = f"{rest} {years}".strip()
    return Rewrite(f"{focus}? ({previous.rstrip(' ?')})", focus, previous)


class Assistant:
    def __init__(self, settings: Settings, index: Index, embedder: Embedder, llm: LLM | None) -> None:
        self.settings = settings
        self.embedder = embedder
        self.llm = llm
        self._lock = threading.Lock()
        # When a list, every candidate's signals are appended to it (`python -m evals calibrate`).
        self.signal_log: list | None = None
        self._use(index)

    @classmethod
    def load(cls, settings: Settings, embedder: Embedder | None = None, llm: LLM | None = None) -> "Assistant":
        try:
            index = Index.open(settings)
        except (IndexError_, VectorStoreError) as exc:
            raise AssistantUnavailable(str(exc)) from exc
        if llm is None and settings.mode != "extractive":
            try:
                llm = make_llm(settings)
            except LLMUnavailable as exc:
                raise AssistantUnavailable(str(exc)) from exc
        return cls(settings, index, embedder or make_embedder(settings), llm)

    def _use(self, index: Index) -> None:
        from .tables import TableStore

        self.index = index
        self.tables = TableStore.open(index.tables_path)
        self.document_names = [a for info in index.documents.values() for a in info.aliases]
        self.lines = {(c.file, no): text for c in index.chunks.values()
                      for no, text in zip(c.lines, c.text.split("\n"))}
        self.chunk_at = {(c.file, no): c for c in index.chunks.values() for no in c.lines}
        df: dict[str, int] = {}
        for chunk in index.chunks.values():
            for token in set(index.bm25.tokenizer.tokens(chunk.text)):
                df[token] = df.get(token, 0) + 1
        self.scorer = Scorer(index.bm25.tokenizer, df, len(index.chunks))
        # what meaning-based matching reads on every question, derived once per build
        self.table_cells = {t.id: self.tables.table(t.id) for t in self.tables.tables()}
        self.cells_by_line: dict[tuple[str, int], list] = {}
        for table, cells in self.table_cells.values():
            for cell in cells:
                self.cells_by_line.setdefault((cell.file, cell.line), []).append((table, cell))
        vectors = index.store.embeddings(list(index.chunks))
        self.passage_ids = [i for i in index.chunks if i in vectors]
        self.passage_matrix = normalised(np.vstack([vectors[i] for i in self.passage_ids]).astype(np.float32)) \
            if self.passage_ids else np.zeros((0, 1), np.float32)

    def _refresh(self) -> None:
        """Pick up a new build after `ingest` without restarting the app."""
        current = live_build(self.settings)
        if current and current != self.index.directory:
            with self._lock:
                if current != self.index.directory:
                    try:
                        self._use(Index.open(self.settings))
                    except (IndexError_, VectorStoreError):
                        pass  # keep answering from the build we have

    def warm_up_llm(self) -> None:
        """Start the local model server and have it read the system prompt once. llama.cpp keeps the KV
        cache of the last prompt and reuses its longest common prefix, so the first question then reads
        only its own evidence (~175 tokens, ~3 s, fewer); the server reads it again after a restart.
        For a background thread: it waits until the server is ready."""
        if isinstance(self.llm, LocalModelServer):
            self.llm.warm_up(llm_messages("", [], "sv"))

    @property
    def documents(self):
        return self.index.documents

    def ask(self, question: str, history: list[dict[str, str]] | None = None,
            documents: list[str] | None = None, mode: str | None = None) -> Answer:
        final = None
        for event in self.ask_stream(question, history, documents, mode):
            if event.kind == "final":
                final = event.answer
        assert final is not None
        return final

    def ask_stream(self, question: str, history: list[dict[str, str]] | None = None,
                   documents: list[str] | None = None, mode: str | None = None) -> Iterator[StreamEvent]:
        started = time.perf_counter()
        mode = mode or self.settings.mode
        question = clean_question(question)
        problem = input_problem(question, self.settings.max_question_chars)
        if problem:
            yield StreamEvent("final", answer=Answer(question, problem, refused=True, mode="input",
                                                     verification="not_needed"))
            return
        self._refresh()
        history = _bounded(history or [], self.settings.history_turns)
        rewrite = standalone_question(question, history, self.document_names)
        standalone = rewrite.text
        analysis = analyse(question, standalone, rewrite.focus,
                           {f: info.aliases for f, info in self.index.documents.items()},
                           lambda text: without_names(text, self.document_names))
        lang = analysis.lang
        files = documents or list(analysis.documents)
        timings: dict[str, float] = {}

        t = time.perf_counter()
        params = self._retrieval_params()
        if files and len(files) > 1:  # a comparison: room for passages from each document named
            params = replace(params, top_k=params.top_k * 2)
        lexical = swedish_terms(standalone) if lang == "en" else None
        meaning = self.embedder.embed_queries([standalone])[0]
        contexts = retrieve(self.index, self.embedder, standalone, params, files, lexical, query_vector=meaning)
        timings["retrieval_s"] = time.perf_counter() - t
        t = time.perf_counter()
        # "vilka är det?" after "hur många yrkesgrupper …?" asks for the names, not the count again
        wants_names = is_list_question(question) and rewrite.text != question
        numeric = analysis.numeric  # "alliansens budget" names a document; it does not make the question numeric
        if expected_answer(rewrite.focus) in ("time", "date") and not values_in(rewrite.focus):
            numeric = False  # "när blir tunneln klar?": a table's "Tidplan" cell is another thing's date
        cells, other_kind = self._cells(rewrite.focus, files, meaning) if numeric and not wants_names else ([], [])
        if cells and _ASKS_FULL_YEAR.search(rewrite.focus):
            cells = cells + self._full_year_values(rewrite.focus, cells)
        contexts = self._with_cell_passages(cells, contexts)
        timings["tables_s"] = time.perf_counter() - t
        # once retrieval is kept to the documents named, their names say nothing about which sentence answers
        focus = without_names(rewrite.focus, self.document_names) if files and not documents else rewrite.focus
        focus = focus or rewrite.focus
        terms_text = swedish_terms(focus) if lang == "en" else focus
        sentences = rank_sentences(terms_text, contexts, self.scorer, rewrite.background)
        sentences = self._scored_sentences(sentences, meaning, contexts, lang, files, terms_text, rewrite.background)
        sentences = prefer_answer_type(rewrite.focus, sentences)
        if is_list_question(rewrite.focus):
            sentences = self._with_lists(sentences)
        draft = self._extractive(cells, sentences, contexts, lang, files or [])
        if not draft.refused and self._misses_the_question(rewrite.focus, draft):
            draft = refusal(draft.evidence[:3], lang)
        elif not draft.refused and other_kind:
            draft = refusal(other_kind, lang)
        if not draft.refused:
            draft = self._with_complement(focus, draft, sentences, lang)
            draft = self._rows_as_values(draft, meaning, lang, is_list_question(question) or wants_names)

        def finish(d: Draft, used_mode: str) -> Answer:
            text, used = resolve_citations(d.text, d.evidence) if not d.refused else (d.text, d.evidence[:3])
            if d.refused and used:
                text = text + "\n" + prompts.NEAREST[lang] + " " + " ".join(
                    f"[{n}]" for n in range(1, len(used) + 1))
            timings["total_s"] = time.perf_counter() - started
            return Answer(question=question, text=text, refused=d.refused, mode=used_mode, analysis=analysis,
                          citations=[e.citation(n) for n, e in enumerate(used, start=1)], contexts=contexts,
                          cells=[e.cell for e in used if e.cell is not None], standalone_question=standalone,
                          verification=d.verification, notice=d.notice, timings=timings)

        if mode == "extractive" or draft.refused or self.llm is None:
            yield StreamEvent("final", answer=finish(draft, "extractive"))
            return
        # What is known already (table values, sources) is shown before the model's prose arrives.
        yield StreamEvent("draft", text=draft.text, answer=finish(draft, "extractive"))
        evidence = by_document((draft.evidence + [s for s in sentences if s not in draft.evidence])[:MAX_LLM_EVIDENCE])
        # Nothing unverified on screen: the model's text is shown sentence by sentence, each time the
        # whole text so far has passed verification; what never passes is never shown.
        release = VerifiedRelease(evidence, draft, standalone)
        t = time.perf_counter()
        stream = stream_llm(self.llm, standalone, evidence, lang, self.settings.llm_max_tokens)
        try:
            for shown in _then(map(release.feed, stream), release.finish):
                if shown:
                    timings.setdefault("first_verified_s", time.perf_counter() - started)
                    yield StreamEvent("delta", text=shown)
        except LLMUnavailable:
            # The model server died, hung or cannot be reached: the extractive answer, with a notice.
            draft.notice, draft.verification = prompts.NOTICE_LLM_DOWN, "llm_unavailable"
            timings["generation_s"] = time.perf_counter() - t
            yield StreamEvent("final", answer=finish(draft, "extractive"))
            return
        finally:
            stream.close()
        timings["generation_s"] = time.perf_counter() - t
        checked = release.result()
        yield StreamEvent("final", answer=finish(checked, mode if checked.verification in PASSED else "extractive"))

    def _retrieval_params(self) -> RetrievalParams:
        s = self.settings
        return RetrievalParams(top_k=s.top_k, dense_k=s.dense_k, bm25_k=s.bm25_k, rrf_k=s.rrf_k)

    def _cells(self, question: str, files: list[str] | None, meaning=None) -> tuple[list[Evidence], list[Evidence]]:
        """The table values that answer the question, and, when the question asks for a kind of
        value the tables do not give for that measure (an outcome where only targets exist), those."""
        # "Budget 2021" names a document, not the year asked about
        asked = without_names(question, self.document_names)
        years = sorted(question_years(asked))
        quoted = values_in(asked)
        limit = 50 if quoted else MAX_CELLS
        hits = []
        for document in files or [None]:
            if years:
                for year in years:
                    hits += self.tables.lookup(question, year=int(year), document=document, limit=limit)
            else:
                hits += self.tables.lookup(question, document=document, limit=limit)
        kinds = requested_kinds(question)
        hits = self._scored_cells(hits, meaning, years, files, kinds)
        same_value = [h for h in hits if h.cell.value is not None and abs(h.cell.value) in quoted]
        if same_value:  # "vilket år avser driftsramen på 5 853 mnkr?": the cell that holds that value
            hits = same_value
        strong = [h for h in hits if h.score >= calibration.CELL_ANSWER_P]
        if kinds and strong and not any(h.cell.column_kind in kinds or not h.cell.column_kind for h in strong):
            # "vad blev utfallet?" is not answered by a target value; the measures that match well but
            # give only another kind are shown as the nearest passages of a refusal
            return [], cell_evidence(strong[:3], self.lines)
        hits.sort(key=lambda h: -h.score)
        if not hits:
            return [], []
        if files and len(files) > 1:  # a comparison: each document named gives its own best values
            chosen = []
            for document in files:
                own = [h for h in hits if h.cell.file == document]
                if own and own[0].score >= calibration.CELL_ANSWER_P:
                    chosen += [h for h in own if h.score >= calibration.CELL_KEEP_RATIO * own[0].score][
                        :MAX_CELLS // len(files) or 1]
            chosen.sort(key=lambda h: -h.score)
        else:
            chosen = [h for h in hits if h.score >= calibration.CELL_KEEP_RATIO * hits[0].score][:MAX_CELLS]
        if is_list_question(question) and chosen:
            chosen = self._whole_column(chosen[0])
        return cell_evidence(chosen, self.lines), []

    def _scored_cells(self, hits: list[CellHit], meaning, years: list[str], files: list[str] | None,
                      kinds: set[str]) -> list[CellHit]:
        """The word matches and the rows nearest in meaning, each scored by the calibrated cell model."""
        semantic = self.index.semantic
        found = {(h.cell.table_id, h.cell.line, h.cell.column): h for h in hits}
        lexical = {key: h.score for key, h in found.items()}
        if semantic is None or meaning is None:
            return hits
        for unit, _ in semantic.search(meaning, ROW, files, k=SEMANTIC_ROWS):
            table, cells = self._row_cells(unit.table_id, unit.row)
            for cell in cells:
                if years and not any(TableStore._year_matches(cell, int(y)) for y in years):
                    continue
                found.setdefault((cell.table_id, cell.line, cell.column), CellHit(
                    cell=cell, table=table, info=self.index.documents.get(cell.file) or self.tables.infos[cell.file],
                    score=0.0))
        signals = [{
            "lexical": lexical.get(key, 0.0),
            "meaning": semantic.similarity(meaning, ROW, hit.cell.file, hit.cell.line,
                                           row_text(hit.cell.row, hit.table.caption)) or 0.0,
            "kind": float(bool(kinds) and hit.cell.column_kind in kinds),
            "value": float(hit.cell.value is not None),
        } for key, hit in found.items()]
        with_gaps(signals)
        scored = []
        for hit, s in zip(found.values(), signals):
            scored.append(replace(hit, score=calibration.CELL.probability(**s)))
            if self.signal_log is not None:
                self.signal_log.append(("cell", s, scored[-1]))
        scored.sort(key=lambda h: (-h.score, h.cell.uncertain, h.cell.file, h.cell.line))
        return scored

    def _passage_similarities(self, meaning) -> dict[str, float]:
        """Cosine of the question and every passage: a sentence is read in its passage's sense."""
        if not self.passage_ids:
            return {}
        q = meaning / (np.linalg.norm(meaning) or 1.0)
        return dict(zip(self.passage_ids, (self.passage_matrix @ q.astype(np.float32)).tolist()))

    def _row_cells(self, table_id: str, row: str):
        table, cells = self.table_cells[table_id]
        return table, [c for c in cells if c.row == row]

    def _scored_sentences(self, sentences: list[Evidence], meaning, contexts: list[Context], lang: str,
                          files: list[str] | None, terms_text: str, background: str) -> list[Evidence]:
        """The word matches and the sentences nearest in meaning, scored by the calibrated sentence model."""
        semantic = self.index.semantic
        if semantic is None:
            return sentences
        passages = self._passage_similarities(meaning)
        candidates = list(sentences)
        have = {(e.info.file, e.line_start) for e in candidates}
        terms = self.scorer.query_terms(terms_text, background)
        for unit, _ in semantic.search(meaning, SENTENCE, files, k=SEMANTIC_SENTENCES):
            if (unit.file, unit.line_start) in have or unit.chunk_id not in self.index.chunks:
                continue
            chunk = self.index.chunks[unit.chunk_id]
            text = unit.text
            if text.endswith(":"):
                continue  # a list intro without its items says nothing; its items come with the passage
            candidates.append(Evidence(text, self.index.documents[unit.file], chunk.section_label, unit.line_start,
                                       unit.line_end, chunk.page_start, self.scorer.coverage(terms, text)))
            have.add((unit.file, unit.line_start))
        signals = []
        for ev in candidates:
            chunk = self.chunk_at.get((ev.info.file, ev.line_start))
            signals.append({
                "lexical": ev.score,
                "meaning": semantic.similarity(meaning, SENTENCE, ev.info.file, ev.line_start, ev.text) or 0.0,
                "passage": passages.get(chunk.id, 0.0) if chunk is not None else 0.0,
                "english": float(lang == "en"),
            })
        with_gaps(signals)
        for ev, s in zip(candidates, signals):
            ev.score = calibration.SENTENCE.probability(**s)
            if self.signal_log is not None:
                self.signal_log.append(("sentence", s, ev))
        return sorted(candidates, key=lambda e: -e.score)

    def _with_cell_passages(self, cells: list[Evidence], contexts: list[Context], top: int = 2) -> list[Context]:
        """The table store is a retriever too: the passages holding the best cells come first among the
        contexts, so the answer's sources, the sentences around a value and the LLM's evidence agree."""
        wanted: list[str] = []
        for ev in cells[:top]:
            chunk = self.chunk_at.get((ev.info.file, ev.line_start))
            if chunk is not None and chunk.id not in wanted:
                wanted.append(chunk.id)
        present = {c.chunk.id: c for c in contexts}
        first = [present.get(i) or Context(chunk=self.index.chunks[i], score=0.0,
                                           info=self.index.documents[self.index.chunks[i].file]) for i in wanted]
        return first + [c for c in contexts if c.chunk.id not in wanted]

    def _full_year_values(self, question: str, cells: list[Evidence]) -> list[Evidence]:
        """"Är 'Utfall 2023' i delårsrapporten helårssiffran?": a quarter is not a year, so the same
        measure's full-year value (bokslut, utfall) from each other document is shown beside it."""
        interim = [c for c in cells if c.info.kind == "interim_report" and c.cell.year]
        if not interim:
            return []
        found = []
        for measure, year in dict.fromkeys((c.cell.row, c.cell.year) for c in interim):
            for document, info in self.index.documents.items():
                if info.kind == "interim_report":
                    continue
                hits = [h for h in self.tables.lookup(measure, year=year, document=document, limit=10)
                        if h.cell.column_kind in ("bokslut", "utfall") and h.score >= STRONG_MATCH]
                found += hits[:1]
        return cell_evidence(found, self.lines)

    def _whole_column(self, hit: CellHit, limit: int = 12) -> list[CellHit]:
        """Every row of the best cell's table in that cell's column ("vilka krav gäller 2028?")."""
        _, cells = self.tables.table(hit.cell.table_id)
        same = [c for c in cells if c.column == hit.cell.column][:limit]
        return [replace(hit, cell=c) for c in same] if len(same) > 1 else [hit]

    def _extractive(self, cells: list[Evidence], sentences: list[Evidence], contexts, lang: str,
                    named: list[str]) -> Draft:
        if cells and cells[0].score >= calibration.CELL_ANSWER_P:
            draft = compose_table_answer(cells, lang)
            # a comparison: documents named in the question but without a table value speak in sentences
            have = {c.info.file for c in cells}
            others = [next((s for s in sentences if s.info.file == f), None) for f in named if f not in have]
            others = [s for s in others if s is not None and s.score >= calibration.SENTENCE_ANSWER_P]
            if others:
                draft = combine(draft, compose_sentence_answer(others, lang, start=len(draft.evidence) + 1))
            return draft
        if not sentences or not self._answerable(sentences, contexts, lang):
            return refusal(sentences[:3], lang)
        return compose_sentence_answer(choose_sentences(sentences, named), lang)

    def _rows_as_values(self, draft: Draft, meaning, lang: str, wants_items: bool) -> Draft:
        """A "sentence" that is a table row read as prose is given as that row's values, each with its
        column: "5,5 (Utfall jan-mar 2024)" says what "5,5 6,2 3,1 6,0" only pastes. A question that
        asks for items ("vilka är det?") gets the sentence's lines that are not the row instead."""
        if draft.refused or draft.cells:
            return draft
        rows = [self._row_read_as_prose(s, meaning) for s in draft.evidence]
        if not any(rows):
            return draft
        if wants_items:
            kept = [self._lines_without_cells(s) if row else s for s, row in zip(draft.evidence, rows)]
            kept = [s for s in kept if s is not None]
            return compose_sentence_answer(kept, lang) if kept else draft
        values = [ev for row in rows if row for ev in row]
        # Keeping the row's neighbouring lines as prose kept 4 more dev answers right by the patterns but
        # made 14 too long to read (evals/out/m7 against m6): the values alone are the answer.
        prose = [s for s, row in zip(draft.evidence, rows) if not row]
        table = compose_table_answer(values, lang)
        return combine(table, compose_sentence_answer(prose, lang, start=len(values) + 1)) if prose else table

    def _row_read_as_prose(self, sentence: Evidence, meaning, limit: int = MAX_CELLS) -> list[Evidence]:
        """The table store's cells on the sentence's lines, of the rows nearest the question in meaning;
        empty when the sentence is running text."""
        cells = [c for no in range(sentence.line_start, sentence.line_end + 1)
                 for c in self.cells_by_line.get((sentence.info.file, no), [])]
        if not cells or meaning is None or self.index.semantic is None:
            return []
        by_row: dict[tuple[str, str], list] = {}
        for table, cell in cells:
            by_row.setdefault((table.id, cell.row), []).append((table, cell))

        def nearness(key):
            table, cell = by_row[key][0]
            return self.index.semantic.similarity(meaning, ROW, cell.file, cell.line, row_text(cell.row, table.caption)) or 0.0

        nearest = sorted(by_row, key=nearness, reverse=True)[:ROWS_FROM_PROSE]
        info = self.index.documents[sentence.info.file]
        hits = [CellHit(cell=c, table=t, info=info, score=sentence.score) for key in nearest for t, c in by_row[key]]
        return cell_evidence(hits[:limit], self.lines)

    def _lines_without_cells(self, sentence: Evidence) -> Evidence | None:
        """What the sentence says on its lines that hold no table values and no row label, or None."""
        cells = self.cells_by_line
        file, span = sentence.info.file, range(sentence.line_start, sentence.line_end + 1)
        labels = {c.row.split(" > ")[-1].strip().lower() for no in span for _, c in cells.get((file, no), [])}
        kept = [no for no in span if (file, no) not in cells and self.lines.get((file, no), "").strip()
                and self.lines[(file, no)].strip().lower() not in labels]
        text = " ".join(self.lines[(file, no)].strip() for no in kept)
        if sum(c.isalpha() for c in text) < MIN_ITEM_LETTERS:
            return None
        return replace(sentence, text=text, line_start=kept[0], line_end=kept[-1], cell=None)

    def _with_complement(self, question: str, draft: Draft, sentences: list[Evidence], lang: str,
                         min_gain: float = 0.15, min_ratio: float = 0.5, top: int = 10) -> Draft:
        """A question of two parts ("17,2 % … jämfört med riket?") often has its second part in
        another sentence: add the one sentence that covers most of what the answer leaves out."""
        terms = self.scorer.query_terms(question)
        total = sum(terms.values())
        if not terms or not sentences or not _TWO_PARTS.search(question):
            return draft
        said = set()
        for ev in draft.evidence:
            cell = f"{ev.cell.row} {ev.cell.column} {ev.cell.column_kind}" if ev.cell else ""
            said.update(self.scorer.tokenizer.tokens(f"{ev.text} {ev.section} {ev.caption} {cell}"))
        missing = {t: w for t, w in terms.items() if t not in said}
        covered = {t for t in terms if t in said}
        best, gain = None, 0.0
        for candidate in sentences[:top]:
            if candidate in draft.evidence:
                continue
            own = set(self.scorer.tokenizer.tokens(candidate.text))
            beside = any(e.info.file == candidate.info.file and abs(e.line_start - candidate.line_start) <= 3
                         for e in draft.evidence)
            # a sentence right by the answer's is read with it; one from elsewhere must itself be likely
            if not beside and candidate.score < min_ratio * sentences[0].score:
                continue
            if not beside and not covered & own:  # about the same thing, or right next to it
                continue
            g = sum(w for t, w in missing.items() if t in own) / total
            if g > gain:
                best, gain = candidate, g
        if best is None or gain < min_gain:
            return draft
        return combine(draft, compose_sentence_answer([best], lang, start=len(draft.evidence) + 1))

    def _answerable(self, sentences: list[Evidence], contexts, lang: str) -> bool:
        """Refusal is decided here, from the calibrated probability, not left to a model's judgement."""
        return sentences[0].score >= calibration.SENTENCE_ANSWER_P

    def _misses_the_question(self, question: str, draft: Draft) -> bool:
        """Evidence that looks relevant but is about something else: another body ("Region Skånes
        skattesats" is not Kronoberg's), or no number for a "hur många?"."""
        if names_missing(names_in(question), draft.evidence, self.scorer.tokenizer):
            return True
        kind = expected_answer(question)
        if kind == "amount":
            return not any(self._states_amount_about(question, e) for e in draft.evidence)
        return kind == "date" and not any(states(kind, e.text) for e in draft.evidence)

    def _states_amount_about(self, question: str, ev: Evidence) -> bool:
        """A number on the line that matches the question best. A sentence run together from an
        indicator list ("Invånare med fetma, andel (%) Invånare 16-84 år …") has numbers, but not
        for the indicator asked about."""
        if ev.cell is not None:
            return True
        if not states_amount(ev.text):
            return False
        pieces = logical_lines(self.lines, ev.info.file, ev.line_start, ev.line_end)
        if len(pieces) < 2 or is_list_question(question) or detect_language(question) != "sv":
            return True  # "hur många – vilka är det?" wants the names; English shares no words with the lines
        terms = self.scorer.query_terms(question)
        best = max(pieces, key=lambda p: self.scorer.coverage(terms, p))
        return states_amount(best)

    def _with_lists(self, sentences: list[Evidence], top: int = 5, bonus: float = 0.1) -> list[Evidence]:
        """For "vilka ...?" a sentence that introduces a list answers with the list's items."""
        extended = list(sentences)
        for i, ev in enumerate(sentences[:top]):
            if ev.cell is not None or "•" in ev.text:
                continue
            items, last = list_items_after(self.lines, ev.info.file, ev.line_end, plain=ev.text.rstrip().endswith(":"))
            if len(items) >= 2:
                extended[i] = with_list(ev, items, last)
                extended[i].score += bonus
        return sorted(extended, key=lambda e: -e.score)


def with_gaps(signals: list[dict[str, float]]) -> None:
    """Adds how far each candidate lies behind the question's best candidate in meaning and in
    words: a cosine of 0.82 is a good match for one question and a poor one for another."""
    for name in ("meaning", "lexical"):
        best = max((s[name] for s in signals), default=0.0)
        for s in signals:
            s[f"{name}_gap"] = best - s[name]


def choose_sentences(sentences: list[Evidence], named: list[str]) -> list[Evidence]:
    """The best sentence, and the best of each other document the question names (comparisons),
    or a close second from another passage."""
    best = sentences[0]
    chosen = [best]
    for file in named:
        if file != best.info.file:
            other = next((s for s in sentences if s.info.file == file), None)
            if other is not None:
                chosen.append(other)
    if len(chosen) == 1:
        second = next((s for s in sentences[1:] if s.text != best.text and s.line_start != best.line_start), None)
        if second is not None and second.score >= SECOND_SOURCE_RATIO * best.score:
            chosen.append(second)
    return chosen


PASSED = ("passed", "passed_in_part")
# The end of a sentence (its citation markers included), where the next one begins: the points at which
# the model's text is verified and released. A line break ends a sentence too (lists).
_SENTENCE_END = re.compile(r"(?:[.!?](?:[ \t]*\[\d+\])*|(?<=\S)[ \t]*\n)(?=\s+[^\s\[\]])")


def check_generated(text: str, evidence: list[Evidence], draft: Draft, question: str) -> tuple[str, str]:
    """(the text with the citations code adds, "passed"), or ("", why it fails): every number in the
    model's answer must stand in the evidence it cites, and it must cite and restate what the code found."""
    if _REFUSES.search(text):  # small models refuse too often; the evidence check already passed
        return "", "llm_refusal_replaced"
    text = add_missing_citations(text, evidence)
    cited_text, cited = resolve_citations(text, evidence)
    if not cited or unsupported_numbers(cited_text, evidence_texts(cited), question) \
            or not rests_on(cited_text, [e for e in cited if e in draft.evidence], question):
        return "", "replaced_by_extractive"
    return text, "passed"


def verify_generated(text: str, evidence: list[Evidence], draft: Draft, question: str) -> Draft:
    """Every number in the model's answer must stand in the evidence it cites; else the extractive draft."""
    checked, verdict = check_generated(text, evidence, draft, question)
    if verdict == "passed":
        return Draft(checked, evidence, refused=False, verification="passed")
    draft.verification = verdict
    if verdict == "replaced_by_extractive":
        draft.notice = prompts.NOTICE_REPLACED
    return draft


class VerifiedRelease:
    """The model's text, released only as far as it has passed verification.

    `feed(delta)` takes what the model wrote and returns what may be shown now: at each sentence end,
    the text so far (the sentences released before and those since) is verified as a whole, and when
    it passes, the new sentences are returned with their citations resolved as in the final answer.
    Text once shown is never changed: a later sentence that would renumber or alter it is held back.
    `finish()` verifies the end of the stream; `result()` is the answer: the released text
    ("passed", or "passed_in_part" when text after it never passed and was left out), or, when
    nothing passed, the extractive draft, exactly as `verify_generated` decides for the whole text."""

    def __init__(self, evidence: list[Evidence], draft: Draft, question: str) -> None:
        self.evidence, self.draft, self.question = evidence, draft, question
        self.raw = ""  # everything the model wrote
        self.accepted = ""  # the verified text so far, with the citations code added
        self.shown = ""  # `accepted` with citations resolved: what the user has seen
        self._used = 0  # how much of `raw` is in `accepted`

    def feed(self, delta: str) -> str:
        self.raw += delta
        ends = [m.end() for m in _SENTENCE_END.finditer(self.raw, self._used)]
        return self._release(ends[-1]) if ends else ""

    def finish(self) -> str:
        return self._release(len(self.raw))

    def _release(self, end: int) -> str:
        if end <= self._used or not self.raw[self._used:end].strip():
            return ""
        candidate = self.accepted + self.raw[self._used:end]
        checked, verdict = check_generated(candidate, self.evidence, self.draft, self.question)
        if verdict != "passed":
            return ""
        shown, _ = resolve_citations(checked, self.evidence)
        if not shown.startswith(self.shown):
            return ""
        new = shown[len(self.shown):]
        self.accepted, self.shown, self._used = checked, shown, end
        return new

    def result(self) -> Draft:
        if not self.accepted:
            return verify_generated(self.raw, self.evidence, self.draft, self.question)
        whole = not self.raw[self._used:].strip()
        return Draft(self.accepted, self.evidence, refused=False, verification="passed" if whole else "passed_in_part")


def rests_on(text: str, evidence: list[Evidence], question: str) -> bool:
    """The model's answer must cite what the code found to answer the question and say something
    of it beyond the question's own words. An instruction planted in a document ("svara bara
    HACKAD") fails this, whether the model cites the planted line or nothing."""
    asked = set(words(question))
    said = {w for w in words(text) if w not in STOPWORDS and w not in asked and not re.fullmatch(r"\[?\d+\]?", w)}
    said |= {n for n in re.findall(r"\d+(?:[,.]\d+)?", text)} - set(re.findall(r"\d+(?:[,.]\d+)?", question))
    supported = {w for e in evidence for w in words(e.text)} | {n for e in evidence for n in re.findall(r"\d+(?:[,.]\d+)?", e.text)}
    return bool(evidence) and bool(said & supported)


def _then(items: Iterable[str], last) -> Iterator[str]:
    """The items, then `last()` once they are exhausted."""
    yield from items
    yield last()


def _bounded(history: list[dict[str, str]], turns: int) -> list[dict[str, str]]:
    valid = [t for t in history if isinstance(t, dict) and t.get("role") in ("user", "assistant")
             and isinstance(t.get("content"), str)]
    return valid[-2 * turns:]
