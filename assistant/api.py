"""The typed API: what `/ask_v2` takes and returns, as pydantic models.

`/ask` (kept for existing clients) takes the history as a JSON string and returns a JSON string.
`/ask_v2` takes the history as a list of turns and returns an `AnswerModel`; Gradio publishes
both schemas under `/gradio_api/info`, so `gradio_client` shows them in `view_api()`:

    from gradio_client import Client
    svar = Client(url).predict("Vad är målvärdet för sjukfrånvaro 2028?", [], api_name="/ask_v2")
    svar["answer"], svar["citations"][0]["line_start"]

The fields are those of `python -m assistant ask --json` (records.Answer.to_json).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from . import prompts
from .settings import validation_message


class Turn(BaseModel):
    """One earlier turn of the conversation."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: str = Field(max_length=20_000)


class CitationModel(BaseModel):
    n: int = Field(description="the marker [n] in the answer")
    file: str = Field(description="the document's file name in corpus/ (for /source)")
    source_file: str
    title: str
    cite: str = Field(description="the document's short name")
    kind_label: str = Field(description="the kind of document, in Swedish")
    section: str
    line_start: int
    line_end: int
    page: int | None = Field(description="the page, for PDFs")
    quote: str
    cell: "CellModel | None" = Field(default=None, description="the table value cited, when it is a cell")


class CellModel(BaseModel):
    table_id: str
    file: str
    line: int
    row: str
    column: str
    value_text: str = Field(description="the value as printed")
    value: float | None
    unit: str
    year: int | None
    column_kind: str = Field(description="mål | utfall | budget | plan | prognos | bokslut | ''")
    comparator: str = Field(description="max | minst | ''")
    uncertain: bool
    page: int | None


class ContextModel(BaseModel):
    text: str
    file: str
    source_file: str
    title: str
    section: str
    line_start: int
    line_end: int
    page: int | None
    score: float


class AnalysisModel(BaseModel):
    """The turn's QuestionAnalysis (assistant/question.py)."""

    question: str
    standalone: str
    focus: str
    lang: str
    asks: str = Field(description="value | list | date | time | who | anything")
    numeric: bool
    years: list[str]
    kinds: list[str] = Field(description="value kinds named: mål, utfall, bokslut, prognos, budget, plan")
    documents: list[str]
    follow_up: bool


class DecisionModel(BaseModel):
    """Which rule decided the answer (assistant/decision.py) and the signals it read."""

    rule: str = Field(description="table_value | sentence | refused_unlikely | refused_name | refused_amount | "
                                  "refused_date | refused_kind | input")
    signals: dict[str, Any]
    steps: list[str] = Field(description="what refined the answer after the rule: complement, rows_as_values, …")


class AnswerModel(BaseModel):
    question: str
    standalone_question: str = Field(description="the question as it was searched (follow-ups rewritten)")
    answer: str
    refused: bool = Field(description="true when the documents do not answer the question")
    mode: str = Field(description="extractive | local | openai | input")
    verification: str
    notice: str
    citations: list[CitationModel]
    cells: list[CellModel]
    contexts: list[ContextModel]
    timings: dict[str, float]
    analysis: "AnalysisModel | None" = Field(default=None, description="what the question was read as asking")
    decision: "DecisionModel | None" = Field(default=None, description="which rule decided the answer")

    @classmethod
    def from_answer(cls, answer) -> "AnswerModel":
        return cls.model_validate(answer.to_json())


_TURNS = TypeAdapter(list[Turn])


class TurnsError(ValueError):
    """The history is not a list of turns; the message says where, in Swedish."""


def parse_turns(value: Any) -> list[dict[str, str]]:
    """The history as the plain dicts the assistant takes, or TurnsError."""
    if value is None:
        return []
    try:
        turns = _TURNS.validate_python(value)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        loc = list(first.get("loc", ()))
        where = "historiken"
        if loc and isinstance(loc[0], int):
            where = f"tur {loc[0] + 1}" + (f" ({'.'.join(str(p) for p in loc[1:])})" if loc[1:] else "")
        message = validation_message(first)
        raise TurnsError(prompts.API_TURN_ERROR.format(where=where, message=message)) from None
    return [t.model_dump() for t in turns]
