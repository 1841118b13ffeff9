"""The assistant: one object the CLI, the app and the evaluation use.

    assistant = Assistant.load(settings)
    answer = assistant.ask("Vad är målvärdet för sjukfrånvaro 2028?", history=[])
    for event in assistant.ask_stream(question, history): ...

A question follows the stages in order: it is cleaned and checked (`question`), made standalone
when it is a follow-up (`conversation`), analysed (`question.analyse`), passages are retrieved
(`retrieval`), table cells and sentences are found and scored (`finder`, `evidence`), the answer is
decided by named rules (`decision`) and written (`compose`), optionally rephrased by an LLM and
verified (`generation`), and returned with its citations resolved (`citations`). Conversations
keep no state here: the caller passes the history, so two conversations never share anything.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from typing import Iterator

import numpy as np

from . import prompts
from .citations import resolve_citations
from .conversation import Rewrite, already_given, bounded_history, readings
from .decision import Found, Turn, decide
from .embedding import Embedder, make_embedder
from .evidence import prefer_answer_type, rank_sentences
from .finder import Finder
from .generation import MAX_LLM_EVIDENCE, PASSED, VerifiedRelease, by_document, llm_messages, released, stream_llm
from .glossary import swedish_terms
from .index import Index, IndexError_, live_build
from .llm import LLM, LLMUnavailable, LocalModelServer, make_llm
from .question import (QuestionAnalysis, analyse, asks_change, asks_full_year, clean_question, detect_language,
                       expected_answer,
                       input_problem, is_list_question, values_in)
from .records import Answer, Decision, Draft
from .retrieval import RetrievalParams, retrieve
from .settings import Settings
from .spelling import Speller
from .synonyms import SYNONYMS_FILE, Synonyms, SynonymsError
from .vectorstore import VectorStoreError




def _likelihood(draft: Draft, decision: Decision | None) -> tuple[bool, float]:
    """How well a reading of the question is answered: an answer before a refusal, then the calibrated
    probability of its best table value or sentence."""
    signals = decision.signals if decision else {}
    best = max(signals.get("cell_p") or 0.0, signals.get("sentence_p") or 0.0)
    return (not draft.refused, best)


class AssistantUnavailable(RuntimeError):
    """The assistant cannot start; the message says which command fixes it."""


@dataclass(frozen=True)
class StreamEvent:
    kind: str  # draft | delta | final
    text: str = ""
    answer: Answer | None = None


@dataclass
class _Work:
    """One question on its way through the stages: what the final answer is built from."""

    question: str  # as read: misspelt words of the documents corrected (spelling.py)
    started: float
    asked: str = ""  # as the user wrote it
    rewrite: Rewrite | None = None
    analysis: QuestionAnalysis | None = None
    contexts: list | None = None
    sentences: list | None = None
    decision: Decision | None = None
    timings: dict[str, float] = field(default_factory=dict)


class Assistant:
    def __init__(self, settings: Settings, index: Index, embedder: Embedder, llm: LLM | None) -> None:
        self.settings = settings
        self.embedder = embedder
        self.llm = llm
        self._lock = threading.Lock()
        self._signal_log: list | None = None
        self.synonyms = Synonyms.load(settings.corpus_dir / SYNONYMS_FILE)
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
        try:
            return cls(settings, index, embedder or make_embedder(settings), llm)
        except SynonymsError as exc:
            raise AssistantUnavailable(str(exc)) from exc

    def _use(self, index: Index) -> None:
        self.index = index
        self.finder = Finder(index)
        self.speller = Speller.from_texts((c.text for c in index.chunks.values()), self.synonyms.stems())
        self.finder.signal_log = self._signal_log

    @property
    def signal_log(self) -> list | None:
        """When a list, every candidate's signals are appended to it (`python -m evals calibrate`)."""
        return self._signal_log

    @signal_log.setter
    def signal_log(self, log: list | None) -> None:
        self._signal_log = self.finder.signal_log = log

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
        asked = clean_question(question)
        problem = input_problem(asked, self.settings.max_question_chars)  # before any work on it
        if problem:
            yield StreamEvent("final", answer=Answer(asked, problem, refused=True, mode="input",
                                                     verification="not_needed", decision=Decision("input")))
            return
        work = _Work(self._read(asked), time.perf_counter(), asked)
        self._refresh()
        draft = self._extractive_draft(work, history or [], documents)
        mode = mode or self.settings.mode
        if mode == "extractive" or draft.refused or self.llm is None:
            yield StreamEvent("final", answer=self._finish(work, draft, "extractive"))
            return
        yield from self._generated(work, draft, mode)

    def _read(self, question: str) -> str:
        """The question with the documents' spelling of its misspelt words; English is left as it is."""
        return self.speller.correct(question) if detect_language(question) == "sv" else question

    def _extractive_draft(self, work: _Work, history: list[dict[str, str]], documents: list[str] | None) -> Draft:
        """The extractive answer of the question's likelier reading in its conversation (one, unless
        it may or may not continue the last turn: `conversation.readings`)."""
        history = [{**turn, "content": self._read(turn.get("content") or "")} if turn.get("role") == "user" else turn
                   for turn in bounded_history(history, self.settings.history_turns)]
        options = readings(work.question, history, self.finder.names)
        if len(options) == 1:
            return self._draft_for(work, options[0], documents)
        tried = []
        for rewrite in options:
            trial = replace(work, timings=dict(work.timings))
            tried.append((self._draft_for(trial, rewrite, documents), trial))
        draft, chosen = max(tried, key=lambda t: _likelihood(t[0], t[1].decision))  # the first on a tie
        work.__dict__.update(chosen.__dict__)
        return draft

    def _draft_for(self, work: _Work, rewrite: Rewrite, documents: list[str] | None) -> Draft:
        """Analysis, retrieval, evidence and the decision for one reading of the question."""
        work.rewrite = rewrite
        analysis = work.analysis = analyse(work.question, rewrite.text, rewrite.focus, self.finder.names)
        files = documents or list(analysis.documents)
        t = time.perf_counter()
        # The question's meaning is read with the documents' own terms for its words (synonyms.py): on
        # the dev split and its rewrites (evals/out/syn-*), expanding the embedded question and the words
        # sentences are scored by got 339 strict answers of 642 against 324 without; also expanding the
        # BM25 query or the table lookup's measure added nothing (339, 339) and lost retrieval recall.
        # A follow-up is read with the earlier answer's words (conversation.earlier_answer): they name
        # the topic in the documents' terms. What it asks (the analysis, the focus) is its own.
        read_as = f"{rewrite.text} {rewrite.context}".strip()
        meaning = self.embedder.embed_queries([self.synonyms.expand(read_as)])[0]
        contexts = self._retrieve(read_as, analysis.lang, files, meaning)
        work.timings["retrieval_s"] = time.perf_counter() - t
        t = time.perf_counter()
        # "vilka är det?" after "hur många yrkesgrupper …?" asks for the names, not the count again
        wants_names = is_list_question(work.question) and rewrite.text != work.question
        cells, other_kind = self._cells(rewrite, analysis, files, meaning, wants_names)
        contexts = work.contexts = self.finder.with_cell_passages(cells, contexts)
        work.timings["tables_s"] = time.perf_counter() - t
        # once retrieval is kept to the documents named, their names say nothing about which sentence answers
        focus = self.finder.without_names(rewrite.focus) if files and not documents else rewrite.focus
        focus = focus or rewrite.focus
        sentences = self._sentences(rewrite, focus, analysis.lang, contexts, files, meaning)
        if rewrite.context:  # the answer just given comes after what is new
            said = f"{rewrite.background} {rewrite.context}"

            def given(e):
                return already_given(e.text, e.cell.value_text if e.cell is not None else None, said)
            cells, sentences = sorted(cells, key=given), sorted(sentences, key=given)
        work.sentences = sentences
        turn = Turn(work.question, rewrite.focus, focus, analysis.lang, tuple(files or []),
                    is_list_question(work.question) or wants_names, analysis.years,
                    expected_answer(rewrite.focus) in ("time", "date"), asks_change(rewrite.focus))
        found = Found(cells, other_kind, sentences, meaning, self._nearness(meaning))
        draft, work.decision = decide(self.finder, turn, found)
        if rewrite.context and not draft.refused and draft.evidence:
            draft = self._not_repeated(work, turn, draft, found, given, bool(rewrite.background))
        return draft

    def _not_repeated(self, work: _Work, turn: Turn, draft: Draft, found: Found, given, new_topic: bool) -> Draft:
        """A follow-up asks for something new: an answer that only says again what the earlier answer
        said is decided again without it. A follow-up with a topic of its own ("och bland allmänheten
        då?") is not answered by the row the earlier answer's value came from, whatever its column."""
        rows = {(e.cell.table_id, e.cell.row) for e in draft.evidence if e.cell is not None and given(e)}

        def told(e):
            return given(e) or new_topic and e.cell is not None and (e.cell.table_id, e.cell.row) in rows
        if not all(map(told, draft.evidence)):
            return draft
        spans = [(e.info.file, e.line_start, e.line_end) for e in draft.evidence]

        def fresh(e):
            return not told(e) and not any(f == e.info.file and a <= e.line_end and e.line_start <= b
                                           for f, a, b in spans)
        again, decision = decide(self.finder, turn, replace(found, cells=[c for c in found.cells if fresh(c)],
                                                            sentences=[s for s in found.sentences if fresh(s)]))
        if again.refused:
            return draft
        work.decision = replace(decision, steps=("not_repeated",) + decision.steps)
        return again

    def _nearness(self, meaning):
        """Cosines of some texts (the pieces of a long quote) with the question's vector."""
        q = meaning / (np.linalg.norm(meaning) or 1.0)
        return lambda texts: (np.asarray(self.embedder.embed_passages(texts), dtype=np.float32) @ q).tolist()

    def _retrieve(self, standalone: str, lang: str, files: list[str], meaning):
        s = self.settings
        params = RetrievalParams(top_k=s.top_k, dense_k=s.dense_k, bm25_k=s.bm25_k, rrf_k=s.rrf_k)
        if files and len(files) > 1:  # a comparison: room for passages from each document named
            params = replace(params, top_k=params.top_k * 2)
        lexical = swedish_terms(standalone) if lang == "en" else None
        return retrieve(self.index, self.embedder, standalone, params, files, lexical, query_vector=meaning)

    def _cells(self, rewrite: Rewrite, analysis: QuestionAnalysis, files: list[str], meaning, wants_names: bool):
        # "alliansens budget" names a document; it does not make the question numeric. A question about a
        # change ("hur har sjukfrånvaron utvecklats?") is answered from values.
        numeric = analysis.numeric or asks_change(rewrite.focus)
        if expected_answer(rewrite.focus) in ("time", "date") and not values_in(rewrite.focus):
            numeric = False  # "när blir tunneln klar?": a table's "Tidplan" cell is another thing's date
        if not numeric or wants_names:
            return [], []
        cells, other_kind = self.finder.cells(rewrite.focus, files, meaning)
        if cells and asks_full_year(rewrite.focus):
            cells = cells + self.finder.full_year_values(cells)
        return cells, other_kind

    def _sentences(self, rewrite: Rewrite, focus: str, lang: str, contexts, files: list[str], meaning):
        terms_text = swedish_terms(focus) if lang == "en" else focus
        terms_text = f"{terms_text} {' '.join(self.synonyms.terms_for(focus))}".strip()
        background = f"{rewrite.background} {rewrite.context}".strip()  # weighed lower than the focus
        sentences = rank_sentences(terms_text, contexts, self.finder.scorer, background)
        sentences = self.finder.scored_sentences(sentences, meaning, lang, files, terms_text, background)
        sentences = prefer_answer_type(rewrite.focus, sentences)
        if is_list_question(rewrite.focus):
            sentences = self.finder.with_lists(sentences)
        return sentences

    def _finish(self, work: _Work, d: Draft, used_mode: str) -> Answer:
        lang = work.analysis.lang
        text, used = resolve_citations(d.text, d.evidence) if not d.refused else (d.text, d.evidence[:3])
        if d.refused and used:
            text = text + "\n" + prompts.NEAREST[lang] + " " + " ".join(f"[{n}]" for n in range(1, len(used) + 1))
        work.timings["total_s"] = time.perf_counter() - work.started
        return Answer(question=work.asked or work.question, text=text, refused=d.refused, mode=used_mode, analysis=work.analysis,
                      citations=[e.citation(n) for n, e in enumerate(used, start=1)], contexts=work.contexts,
                      cells=[e.cell for e in used if e.cell is not None], standalone_question=work.rewrite.text,
                      verification=d.verification, notice=d.notice, timings=work.timings, decision=work.decision)

    def _generated(self, work: _Work, draft: Draft, mode: str) -> Iterator[StreamEvent]:
        """The LLM's answer over the draft's evidence, released sentence by sentence once verified."""
        # What is known already (table values, sources) is shown before the model's prose arrives.
        yield StreamEvent("draft", text=draft.text, answer=self._finish(work, draft, "extractive"))
        standalone = work.rewrite.text
        rest = [s for s in work.sentences if s not in draft.evidence]
        evidence = by_document((draft.evidence + rest)[:MAX_LLM_EVIDENCE])
        # Nothing unverified on screen: what never passes verification is never shown.
        release = VerifiedRelease(evidence, draft, standalone)
        t = time.perf_counter()
        stream = stream_llm(self.llm, standalone, evidence, work.analysis.lang, self.settings.llm_max_tokens)
        try:
            for shown in released(map(release.feed, stream), release.finish):
                if shown:
                    work.timings.setdefault("first_verified_s", time.perf_counter() - work.started)
                    yield StreamEvent("delta", text=shown)
        except LLMUnavailable:
            # The model server died, hung or cannot be reached: the extractive answer, with a notice.
            down = replace(draft, notice=prompts.NOTICE_LLM_DOWN, verification="llm_unavailable")
            work.timings["generation_s"] = time.perf_counter() - t
            yield StreamEvent("final", answer=self._finish(work, down, "extractive"))
            return
        finally:
            stream.close()
        work.timings["generation_s"] = time.perf_counter() - t
        checked = release.result()
        yield StreamEvent("final", answer=self._finish(work, checked, mode if checked.verification in PASSED else "extractive"))
