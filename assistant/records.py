"""Small typed records passed between the stages. Each carries its provenance."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class DocumentInfo:
    """What the corpus manifest says about one file (or what we can guess without an entry)."""

    file: str  # name in corpus/
    source_file: str  # original name as delivered (../shared/corpus)
    cite: str  # short citation name, e.g. "Hållbarhetsprogram 2024–2028"
    title: str
    kind: str  # machine-readable kind: budget, budget_proposal, programme, interim_report, strategy, document
    kind_label: str  # Swedish, shown to users beside the cite: "oppositionens förslag, inte den antagna budgeten"
    author: str = ""
    period: str = ""
    written: str = ""
    status: str = ""
    description: str = ""
    kind_label_en: str = ""
    aliases: tuple[str, ...] = ()  # names people use for it: "delårsrapporten", "interim report"
    # headings that open and close the prose sections stating the current situation ("nuläge"):
    # (start, end); the table extractor reads the figures stated there as outcomes
    current_state: tuple[str, ...] = ()
    in_manifest: bool = True


@dataclass(frozen=True)
class Line:
    """One non-empty, cleaned line with its place in the source file."""

    no: int  # 1-based line number in the source file
    text: str
    page: int | None = None  # 1-based page for PDFs


@dataclass
class Document:
    info: DocumentInfo
    path: Path
    sha256: str
    raw_lines: list[str]  # the source file's lines, untouched (index = line number - 1)
    lines: list[Line]  # cleaned, non-empty lines

    @property
    def file(self) -> str:
        return self.info.file


@dataclass(frozen=True)
class Chunk:
    id: str
    file: str
    text: str
    section: tuple[str, ...]
    line_start: int
    line_end: int
    kind: str = "text"  # text | list | table
    page_start: int | None = None
    page_end: int | None = None
    sha256: str = ""
    lines: tuple[int, ...] = ()  # source line number of each line of `text`

    @property
    def section_label(self) -> str:
        return " > ".join(self.section)


@dataclass(frozen=True)
class Cell:
    """One value of a table (or of a numeric target written as prose)."""

    table_id: str
    file: str
    line: int
    row: str  # row label, "Parent > Sub-row" for sub-rows
    column: str
    value_text: str  # as printed
    value: float | None
    unit: str = ""
    year: int | None = None
    column_kind: str = ""  # mål | utfall | budget | plan | prognos | bokslut | ""
    comparator: str = ""  # max | minst | ""
    uncertain: bool = False
    page: int | None = None

    @property
    def empty(self) -> bool:
        """A cell the table leaves empty ("", "-", "*"): it gives no value, so it answers nothing."""
        return not any(ch.isalnum() for ch in self.value_text)


@dataclass(frozen=True)
class Table:
    id: str
    file: str
    caption: str
    section: tuple[str, ...]
    unit: str
    line_start: int
    line_end: int
    columns: tuple[str, ...] = ()
    layout: str = ""  # tab | space | cell_per_line | bullets


@dataclass(frozen=True)
class Context:
    """A retrieved passage handed to the answer stage."""

    chunk: Chunk
    score: float  # fused rank score (reciprocal rank fusion)
    info: DocumentInfo
    dense: float = 0.0  # cosine similarity to the question, 0 when not among the dense hits
    lexical: float = 0.0  # BM25 score, 0 when not among the lexical hits


@dataclass(frozen=True)
class Citation:
    n: int
    file: str
    source_file: str
    title: str
    cite: str
    kind_label: str
    section: str
    line_start: int
    line_end: int
    page: int | None
    quote: str
    cell: Cell | None = None  # the table value cited, when the citation is of a cell


@dataclass(frozen=True)
class Evidence:
    """One citable piece: a sentence of a passage or a table cell, scored for the question."""

    text: str
    info: DocumentInfo
    section: str
    line_start: int
    line_end: int
    page: int | None
    score: float
    cell: Cell | None = None
    caption: str = ""

    def citation(self, n: int) -> Citation:
        return Citation(n=n, file=self.info.file, source_file=self.info.source_file, title=self.info.title,
                        cite=self.info.cite, kind_label=self.info.kind_label, section=self.section,
                        line_start=self.line_start, line_end=self.line_end, page=self.page, quote=self.text,
                        cell=self.cell)


@dataclass(frozen=True)
class Decision:
    """Which rule decided the answer, and the signals it read (for the evaluation and debugging)."""

    rule: str  # one of decision.RULES
    signals: dict[str, Any] = field(default_factory=dict)
    steps: tuple[str, ...] = ()  # rules that changed the draft after it was decided ("complement", …)

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "signals": self.signals, "steps": list(self.steps)}


@dataclass(frozen=True)
class Draft:
    """An answer before its citations are resolved: its text with markers [n] into `evidence`."""

    text: str
    evidence: list[Evidence]
    refused: bool
    verification: str = "not_needed"
    notice: str = ""
    cells: list[Cell] = field(default_factory=list)


@dataclass
class Answer:
    question: str
    text: str
    refused: bool
    mode: str
    citations: list[Citation] = field(default_factory=list)
    contexts: list[Context] = field(default_factory=list)
    cells: list[Cell] = field(default_factory=list)
    standalone_question: str = ""
    verification: str = ""  # passed | regenerated | replaced_by_extractive | not_needed
    notice: str = ""  # a message for the user, e.g. "LLM-tjänsten svarar inte; svaret är extraktivt."
    timings: dict[str, float] = field(default_factory=dict)
    analysis: Any = None  # the turn's QuestionAnalysis (question.py), for the evaluation and debugging
    decision: Decision | None = None  # which rule decided (decision.py)

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "standalone_question": self.standalone_question,
            "answer": self.text,
            "refused": self.refused,
            "mode": self.mode,
            "verification": self.verification,
            "notice": self.notice,
            "citations": [asdict(c) for c in self.citations],
            "contexts": [
                {
                    "text": c.chunk.text,
                    "file": c.chunk.file,
                    "source_file": c.info.source_file,
                    "title": c.info.title,
                    "section": c.chunk.section_label,
                    "line_start": c.chunk.line_start,
                    "line_end": c.chunk.line_end,
                    "page": c.chunk.page_start,
                    "score": round(c.score, 4),
                }
                for c in self.contexts
            ],
            "cells": [asdict(c) for c in self.cells],
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "analysis": self.analysis.to_json() if self.analysis is not None else None,
            "decision": self.decision.to_json() if self.decision is not None else None,
        }
