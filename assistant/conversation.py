"""Follow-up questions made standalone from the conversation.

A short question, one that starts like a continuation ("och 2027?", "what about …") or one that
points back ("vem ansvarar för det?") is read in the frame of the last user turn: its years
replace the earlier ones, another document named replaces the earlier document, a new topic is
asked with the earlier question as background. The earlier answer's words say what the earlier turn
was about in the documents' own terms ("vad kostar det?" after an answer about the
akutläkarorganisation): they are read with a follow-up's meaning and retrieval, never as what it
asks. A question that may or may not continue the last turn has two readings (`readings`), and the
evidence each finds decides between them. The history is the caller's: nothing is kept here, so two
conversations never share anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .citations import numbers_in
from .document_names import DocumentNames
from .lexical import STOPWORDS, words
from .prompts import NEAREST, REFUSAL, REFUSAL_YEAR
from .question import asks_about_now, question_years
from .text import CITATION_MARKER, YEAR, collapse_spaces

# "o" is how "och" is typed in a chat ("o 2027 då?")
_FOLLOW_UP_START = re.compile(
    r"^(och|o|men|samt|än|hur är det med|hur blir det med|vad gäller|gäller det|samma|and|but|what about|how about|"
    r"and for|same for|then)\b", re.IGNORECASE)
# Words that can only point back ("samma nämnd", "… för hela året då?", "that task"): a question holding
# one is read in the frame of the last turn even when it is long.
_POINTING_BACK = {"samma", "dessa", "detta", "denna", "då", "that", "those", "then", "same"}
# Words that point back in a short question but are also articles or fillers in a long one ("det
# ekonomiska resultatet"); _PRONOUNS is both sets (none of them is a topic of its own).
_SHORT_POINTING = {"det", "den", "dem", "där", "året", "it", "this", "they", "there"}
_PRONOUNS = _SHORT_POINTING | _POINTING_BACK
_FILLER = re.compile(r"^(och|o|men|samt|and|but|what about|how about|hur är det med|vad gäller)\s+", re.IGNORECASE)
_GENERIC_FOLLOW_UP = {"samma", "också", "även", "vad", "vilka", "vilken", "vilket", "gäller", "about", "what",
                      "which", "same", "also", "then", "året", "detta", "dessa", "ansvarar", "ansvarig",
                      # the kind of value: "och målet?" asks the earlier question about another column
                      "målet", "målvärdet", "utfallet", "prognosen", "budgeten", "helåret", "target", "outcome",
                      "forecast",
                      # asking for the source: "vilket dokument säger det?"
                      "dokument", "dokumentet", "säger", "står", "källan", "källa", "document", "says", "source"}
# A follow-up has at most this many words, or this many when it points back with a pronoun.
_SHORT_FOLLOW_UP_WORDS = 3
_POINTING_FOLLOW_UP_WORDS = 7
# The earlier answer is read up to this length: its first sentences hold the value or passage given,
# what follows (other documents, the sources) says less about the topic.
EARLIER_ANSWER_CHARS = 400
# A sentence with this share of its words in the earlier answer is what that answer said.
ALREADY_GIVEN_SHARE = 0.7
_CITATION_MARK = re.compile(r"\s*" + CITATION_MARKER.pattern)
# "Enligt Budget 2021 (Alliansen) (budget med plan …):" names the document, not the topic
_ACCORDING_TO = re.compile(r"(?:Enligt|According to) [^:\n]{0,200}\):\s*")
# an answer that refused says nothing about the topic
_REFUSAL_STARTS = tuple(t.split("{")[0] for d in (REFUSAL, REFUSAL_YEAR, NEAREST) for t in d.values())


@dataclass(frozen=True)
class Rewrite:
    """A follow-up made standalone: `text` for retrieval and display, `focus` what was asked now,
    `background` what the earlier turn adds (weighed lower when choosing sentences)."""

    text: str
    focus: str
    background: str = ""
    context: str = ""  # the earlier answer's words, for the meaning and retrieval of a follow-up


def bounded_history(history: list[dict[str, str]], turns: int) -> list[dict[str, str]]:
    """The last `turns` exchanges of well-formed turns; anything else in the history is ignored."""
    valid = [t for t in history if isinstance(t, dict) and t.get("role") in ("user", "assistant")
             and isinstance(t.get("content"), str)]
    return valid[-2 * turns:]


def is_follow_up(question: str) -> bool:
    tokens = words(question)
    return bool(_FOLLOW_UP_START.match(question)) or len(tokens) <= _SHORT_FOLLOW_UP_WORDS \
        or bool(_SHORT_POINTING & set(tokens)) and len(tokens) <= _POINTING_FOLLOW_UP_WORDS \
        or bool(_POINTING_BACK & set(tokens))


def _content_words(text: str) -> list[str]:
    return [w for w in words(text) if len(w) > 3 and w not in STOPWORDS and w not in _PRONOUNS
            and not w.isdigit() and w not in _GENERIC_FOLLOW_UP]


def _previous_question(history: list[dict[str, str]], names: DocumentNames | None) -> str:
    """The last user turn as a standalone question: a follow-up to a follow-up ("och 2027?" then
    "vilket dokument säger det?") goes back to the question both depend on."""
    for i in range(len(history) - 1, -1, -1):
        turn = history[i]
        if turn.get("role") == "user" and turn.get("content"):
            return standalone_question(turn["content"], history[:i], names).text
    return ""


def standalone_question(question: str, history: list[dict[str, str]], names: DocumentNames | None = None) -> Rewrite:
    """Rewrite a follow-up ("och 2027?", "vem ansvarar för det?") from the last user turn."""
    if not is_follow_up(question):
        return Rewrite(question, question)
    previous = _previous_question(history, names)
    if not previous:
        return Rewrite(question, question)
    return in_frame(question, previous, names, earlier_answer(history))


def readings(question: str, history: list[dict[str, str]], names: DocumentNames | None = None) -> list[Rewrite]:
    """The ways a question may be meant in its conversation. A follow-up by its words ("och 2027?",
    "vem ansvarar för det?") has one. A question that does not say it continues (one naming "the
    task" or "the base year" in words of its own) may still mean the last turn's topic: it is read
    both as it stands and in the frame of the last turn, and the evidence each reading finds decides
    (`chat.py`). Without an earlier turn there is one reading."""
    previous = _previous_question(history, names)
    if not previous:
        return [Rewrite(question, question)]
    framed = in_frame(question, previous, names, earlier_answer(history))
    return [framed] if is_follow_up(question) else [Rewrite(question, question), framed]


def earlier_answer(history: list[dict[str, str]]) -> str:
    """The answer to the last user turn, without citation marks, or "" when there is none or it refused."""
    last_user = max((i for i, t in enumerate(history) if t.get("role") == "user"), default=-1)
    answer = next((t.get("content") or "" for t in history[last_user + 1:] if t.get("role") == "assistant"), "")
    answer = _CITATION_MARK.sub("", answer).strip()
    if not answer or answer.startswith(_REFUSAL_STARTS):
        return ""
    return _ACCORDING_TO.sub("", answer)[:EARLIER_ANSWER_CHARS].strip()


def already_given(text: str, value: str | None, answer: str) -> bool:
    """Whether a candidate is what the earlier answer already said: its value (a table cell's) stands in
    it, or most of its words and all its numbers do (a row read as prose may hold a value not yet
    given: the cost beside the number of posts). A follow-up asks for something new ("och bland
    allmänheten då?" after the customers' figure), so such a candidate comes after the others."""
    if not answer:
        return False
    said_words, said_numbers = _said(answer)
    if value:
        shown = numbers_in(value)
        return shown <= said_numbers if shown else value.strip() in answer
    own = {w for w in words(text) if len(w) > 3 and w not in STOPWORDS}
    if not own or len(own & said_words) / len(own) < ALREADY_GIVEN_SHARE:
        return False
    return numbers_in(text) <= said_numbers


@lru_cache(maxsize=8)
def _said(answer: str) -> tuple[frozenset[str], frozenset[str]]:
    """The earlier turn's words and numbers, read once for all the candidates compared with it."""
    return frozenset(words(answer)), frozenset(numbers_in(answer))


def in_frame(question: str, previous: str, names: DocumentNames | None = None, answer: str = "") -> Rewrite:
    """The question read in the frame of the earlier one: its years replace the earlier ones, another
    document named replaces the earlier document, a new topic is asked with the earlier question (and
    the earlier answer's words, `answer`) as background."""
    new_years = question_years(question)
    rest = _FILLER.sub("", question).strip(" ?.!")
    base = previous
    if names and names.named(rest):  # "och i alliansens budgetförslag?": another document
        # the earlier question's years that the document now named does not speak of are not asked of it:
        # "samma som i budgeten för 2021?" after "skattesats 2025?" asks for that budget's own rate
        named = names.named(rest)
        base = YEAR.sub(lambda m: m.group() if names.speak_of(named, int(m.group())) else "", names.without(previous))
        base = collapse_spaces(base).replace(" ?", "?")
        rest_words = names.without(rest)
        if not _content_words(rest_words):
            text = f"{base.rstrip(' ?')} – {rest}?"
            return Rewrite(text, text, context=answer)
    if new_years and question_years(base):
        base = YEAR.sub(sorted(new_years)[0], base)
    if not _content_words(rest):  # "och 2027?", "vilka är det?": the earlier question, adjusted
        # the earlier question has the new year in place of its own; one without a year gets this turn's words
        adjusted = new_years and new_years <= question_years(base)
        text = base if not rest or adjusted else f"{base.rstrip(' ?')} – {rest}?"
        return Rewrite(text, text, context=answer)
    # a new topic in the frame of the earlier turn: "och sjukfrånvaron samma år?"
    # "hur mycket har de installerat redan?" after "… fram till 2028?" asks about now, not the target year
    years = "" if new_years or asks_about_now(rest) else " ".join(sorted(question_years(previous)))
    focus = f"{rest} {years}".strip()
    return Rewrite(f"{focus}? ({previous.rstrip(' ?')})", focus, previous, answer)
