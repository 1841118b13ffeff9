"""Figures in prose: the numbers of one target sentence ("År 2028 ska sjukfrånvaron vara max 4,5
procent.") or current-state statement ("nuläge"), each with the measure it belongs to, its year, unit
and comparator."""

from __future__ import annotations

import re

from ..lexical import STOPWORDS
from ..records import Cell, Document
from ..text import collapse_spaces
from .lines import YEAR_TOKEN
from .numbers import QUALIFIERS, parse_number


_PROSE_NUM = re.compile(
    r"(?<![\w,./])(?P<cmp>(?:max|högst|minst|över|under|ca|cirka)\s+)?"
    r"(?P<num>[-−]?\d{1,3}(?:[ \u00a0]\d{3})+(?:,\d+)?|[-−]?\d+(?:,\d+)?)"
    r"(?![\w,]*\d)(?!\w)",
    re.IGNORECASE,
)
_PROSE_UNIT = re.compile(
    r"^\s*(?P<unit>procent per år|procent|%|ton/miljon investerad krona|ton CO2e|ton|kW|kilo|"
    r"recept(?:/1000 invånare och år| per 1000 invånare och år)?|år|kemiska produkter)(?![\wåäö])",
    re.IGNORECASE,
)
_TARGET_YEAR = re.compile(
    r"(?:\b[Åå]r\s+|\btill\s+(?:år\s+)?|\bsenast\s+|\b[Ff]ör\s+|^|(?<=procent\s)|(?<=%\s))"
    r"((?:19|20)\d\d)(?:\d{1,2})?\b"
)
_ANY_YEAR_IN_TEXT = re.compile(r"(?<![\d,])((?:19|20)\d\d)(?:\d{1,2})?(?![\d,])")
_LEAD_TIME = re.compile(
    r"^(?:(?:[Åå]r|[Uu]nder|[Ii]|[Tt]ill|[Ff]ör)\s+)?(?:(?:januari|februari|mars|april|maj|juni|juli|"
    r"augusti|september|oktober|november|december|jan–jun|jan-jun)\s+)?(?:19|20)\d\d\d{0,2}\b\s*:?\s*"
)
_FRONT_WORDS = {"ska", "var", "har", "används", "utgjorde", "är", "uppgick", "stod", "köpte", "använde",
                "vi", "och", "så", "att"}
_TRAIL_WORDS = ["nå nationellt uppställda mål om", "ha minskat med", "uppgå till", "uppgick till",
                "ökar med", "minska med", "minskas med", "ska", "vara", "var", "är", "utgöra",
                "utgjorde", "med", "till", "om", "för", "på", "ca", "cirka", "stod", "max", "minst",
                "högst", "över", "under", "nå"]
# words that make no measure on their own: the shared stopwords and the words of "År 2028 ska …"
_STOP = STOPWORDS | {"ska", "år"}
_PREPOSITIONS = ("från ", "av ", "i ", "för ", "och ", "vilket ")


def sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+(?=[A-ZÅÄÖ])", text)
    return [p.strip() for p in parts if p.strip()]


def _strip_front(p: str) -> str:
    p = p.strip(" :,–-")
    for _ in range(4):
        p2 = _LEAD_TIME.sub("", p).strip(" :,")
        words = p2.split(" ", 1)
        if words and words[0].lower() in _FRONT_WORDS:
            p2 = words[1] if len(words) > 1 else ""
        if p2 == p:
            break
        p = p2
    return p.strip(" :,–-")


def _strip_trail(p: str) -> str:
    p = p.strip(" :,–-")
    changed = True
    while changed and p:
        changed = False
        for w in _TRAIL_WORDS:
            if p.lower().endswith(" " + w) or p.lower() == w:
                p = p[: len(p) - len(w)].rstrip(" :,–-")
                changed = True
    return p


def _measure_from(prefix: str, after: str, unit_noun: str = "") -> str:
    """The measure a number belongs to: the words before it, else the words after its unit."""
    p = collapse_spaces(prefix)
    p = re.sub(r"(?<=[a-zåäö]{3})\d{1,2}(?=[\s:,]|$)", "", p)  # glued footnote numbers
    if " så att " in f" {p} ":
        p = re.split(r"\bså att\b", p)[-1]
    p = _strip_front(p)
    if " ska " in f" {p} ":
        p = re.split(r"\s+ska\s+", f" {p} ", maxsplit=1)[0]
    p = _strip_trail(_strip_front(p))
    a = collapse_spaces(after)
    a = re.split(r"\s(?:ska|så att|jämfört med|per år|till|under år|under|senast)\s|[.;]", " " + a + " ")[0].strip(" ,")
    content = [w for w in re.findall(r"[\wåäöÅÄÖ]+", p) if w.lower() not in _STOP and len(w) >= 3]
    verb_like = bool(content) and content[-1].lower().endswith(("a", "å", "s")) and len(content) == 1
    weak = (len(content) < 2 and (not content or verb_like)) or bool(
        re.search(r"\s(av|för|med|om|i|på|från)$", p))
    if weak and (a or unit_noun):
        tail = f"{unit_noun} {a}".strip() if unit_noun else a
        return f"{p} … {tail}" if p else tail
    if a and len(a) <= 70 and a.split(" ", 1)[0].lower() in ("av", "vid", "i", "installerade", "inom"):
        return f"{p} ({a})"
    return p


def _clean_lead(lead: str) -> str:
    if not lead:
        return ""
    t = collapse_spaces(lead).rstrip(":")
    sents = sentences(t)
    if sents and len(t) > 70:
        t = sents[-1]
    t = re.sub(r"(?:\b[Åå]r\s+)?(?:19|20)\d\d\d{0,2}\b", " ", t)
    t = re.sub(r"(?<=[a-zåäö]{3})\d{1,2}(?=[\s:,]|$)", "", t)
    t = collapse_spaces(t)
    t = re.sub(r"\s+(ska|var|har)$", "", t)
    t = _strip_front(t)
    t = re.sub(r"^(?:I|Under)\s+(?:januari|februari|mars|april|maj|juni|juli|augusti|september|oktober|"
               r"november|december)?\s*$", "", t, flags=re.IGNORECASE).strip(" :")
    content = [w for w in re.findall(r"[\wåäöÅÄÖ]+", t) if w.lower() not in _STOP and len(w) >= 3]
    return t if content else ""


def _year_of(context: str, mode: str) -> int | None:
    """The year a target ("mål": "År 2028 ska …") or a current-state statement is about."""
    pattern = _TARGET_YEAR if mode == "mål" else _ANY_YEAR_IN_TEXT
    for m in pattern.finditer(context):
        before = context[max(0, m.start() - 16):m.start()].lower()
        if "jämfört" in before:
            continue
        return int(m.group(1))
    return None


def prose_cells(sentence: str, lead: str, mode: str, line_of, table_id: str, doc: Document,
                 pages: dict[int, int], sentence_offset: int, year_context: str = "") -> list[Cell]:
    """Cells for the numbers of one target ("mål") or current-state ("nuläge") sentence."""
    cells: list[Cell] = []
    year = _year_of(collapse_spaces(f"{lead} {year_context or sentence}"), mode)
    lead_clean = _clean_lead(lead)
    prev_end = 0
    first_measure = ""
    for m in _PROSE_NUM.finditer(sentence):
        num = m.group("num")
        if YEAR_TOKEN.match(num) or re.match(r"^(?:19|20)\d{4}$", num):
            continue  # a year (with a glued footnote number), not a value
        if re.search(r"(?:\bper|/)\s*$", sentence[max(0, m.start() - 5):m.start()]):
            continue
        um = _PROSE_UNIT.match(sentence[m.end():])
        if um:
            unit_word, unit_end = um.group("unit"), um.end()
        else:
            # a bare number is kept when it has a comparator ("vara minst 81") or ends the
            # sentence ("hållbart medarbetarindex 79,7.")
            has_cmp = bool(m.group("cmp")) or re.search(
                r"\b(max|högst|minst|över|under)\s*$", sentence[max(0, m.start() - 12):m.start()].lower())
            if not (has_cmp or re.fullmatch(r"\s*[.]?\s*", sentence[m.end():])):
                continue
            unit_word, unit_end = "", 0
        prefix = sentence[prev_end:m.start()]
        if unit_word.lower() == "år" and "ålder" not in prefix.lower():
            continue
        after = sentence[m.end() + unit_end:]
        noun = unit_word if unit_word.lower() in ("kemiska produkter", "kilo", "recept") else ""
        measure = _measure_from(prefix, after, noun)
        if first_measure and (not measure or measure.lower().startswith(_PREPOSITIONS)):
            measure = f"{first_measure} – {measure}".strip(" –")
        if not first_measure:
            first_measure = measure
        if lead_clean:
            measure = f"{lead_clean}: {measure}" if measure else lead_clean
        cmp = (m.group("cmp") or "").strip().lower()
        if not cmp:
            cm = re.search(r"\b(max|högst|minst|över|under)\s*$", sentence[max(0, m.start() - 12):m.start()].lower())
            cmp = cm.group(1) if cm else ""
        comparator = QUALIFIERS.get(cmp, "")
        unit = {"procent": "%", "procent per år": "% per år"}.get(unit_word.lower(), unit_word)
        if not unit and re.search(r"\bindex\b|index\b|\(hme\)", measure.lower()):
            unit = "index"
        col = ("Mål" if mode == "mål" else "Nuläge") + (f" {year}" if year else "")
        line = line_of(sentence_offset + m.start("num"))
        cells.append(Cell(table_id=table_id, file=doc.file, line=line,
                          row=measure or collapse_spaces(sentence), column=col,
                          value_text=collapse_spaces(f"{'ca ' if cmp in ('ca', 'cirka') else ''}{num} {unit_word}"),
                          value=parse_number(num),
                          unit=unit, year=year, column_kind="mål" if mode == "mål" else "utfall",
                          comparator=comparator, page=pages.get(line)))
        prev_end = m.end() + unit_end
    return cells


class TargetGroups:
    """Cells found in prose, grouped by the heading or statement they come under (one table each),
    with the source lines each group spans."""

    def __init__(self) -> None:
        self.cells: dict[tuple[str, int], list[Cell]] = {}
        self.lines: dict[tuple[str, int], list[int]] = {}

    def add(self, key: tuple[str, int], cells: list[Cell], lines: list[int]) -> None:
        self.cells.setdefault(key, []).extend(cells)
        self.lines.setdefault(key, []).extend(lines)
