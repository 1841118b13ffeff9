"""Citations resolved in code, and the numbers an answer may state.

An answer's markers [n] point into its evidence list; they are renumbered in order of use and any
that point nowhere are dropped. A number in a generated answer must stand in the evidence it cites.
"""

from __future__ import annotations

import re

from .records import Evidence
from .text import CITATION_MARKER, NUMBER


def resolve_citations(text: str, evidence: list[Evidence]) -> tuple[str, list[Evidence]]:
    """Keep markers that point at evidence, renumber them 1..k in order of use, drop invented ones."""
    order: list[int] = []

    def renumber(match: re.Match) -> str:
        n = int(match.group(1))
        if not 1 <= n <= len(evidence):
            return ""
        if n not in order:
            order.append(n)
        return f"[{order.index(n) + 1}]"

    cleaned = CITATION_MARKER.sub(renumber, text)
    cleaned = re.sub(r"[ \t]+([.,;:])", r"\1", re.sub(r"[ \t]{2,}", " ", cleaned)).strip()
    return cleaned, [evidence[n - 1] for n in order]


def evidence_texts(evidence: list[Evidence]) -> list[str]:
    """What the evidence says: each text, and a cell's value as printed."""
    out = []
    for ev in evidence:
        out.append(ev.text)
        if ev.cell is not None:
            out.append(ev.cell.value_text)
    return out


def normalise_number(text: str) -> str:
    text = text.replace("\u00a0", "").replace(" ", "").replace("−", "-").replace("–", "-").replace(".", ",")
    return text.lstrip("-")


def numbers_in(text: str) -> set[str]:
    return {normalise_number(m.group(0)) for m in NUMBER.finditer(CITATION_MARKER.sub(" ", text))}


def unsupported_numbers(answer: str, evidence_texts: list[str], question: str) -> set[str]:
    supported = numbers_in(question)
    for text in evidence_texts:
        supported |= numbers_in(text)
    return {n for n in numbers_in(answer) if n not in supported and n.rstrip("0").rstrip(",") not in supported}


def add_missing_citations(text: str, evidence: list[Evidence]) -> str:
    """Small models often drop the markers: cite the evidence that holds the answer's numbers,
    or the first item, in code. Nothing is cited that does not contain what it supports."""
    text = re.sub(r"\s*\[(?:n|N|nummer)\]", "", text)
    if CITATION_MARKER.search(text):
        return text
    cited = []
    for number in sorted(numbers_in(text)):
        n = next((i for i, ev in enumerate(evidence, start=1) if number in numbers_in(" ".join(evidence_texts([ev])))), None)
        if n is None:
            return text  # an unsupported number: leave uncited, verification will refuse it
        if n not in cited:
            cited.append(n)
    if not cited and evidence:
        cited = [1]
    return text.rstrip() + " " + "".join(f"[{n}]" for n in cited)
