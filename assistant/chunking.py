"""Chunking by document structure.

Headings are recognised from the shape of the extracted lines: an all-caps line is a major
heading (consecutive all-caps lines are one wrapped heading), a short capitalised line without
final punctuation after a finished sentence is a minor heading. A chunk never crosses a major
heading, is cut only where a sentence, a table row or a list item ends, and its text starts with
the heading trail so that a table or a target list always carries its caption.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from .records import Chunk, Document, Line
from .text import LIST_MARKER

_ENDS_SENTENCE = re.compile(r"[.!?:;]\s*$")
_ENDS_ROW = re.compile(r"(\d|%|\)|-|–)\s*$")
_TOC_ENTRY = re.compile(r"\t\d+\s*$")
_NUMBER = re.compile(r"\d")
_BULLET = re.compile(rf"^\s*{LIST_MARKER}\s+")


# Bumped whenever the chunking rules change, so an incremental ingest re-chunks every file.
CHUNKER_VERSION = 2


@dataclass(frozen=True)
class ChunkerParams:
    max_chars: int = 1400
    min_chars: int = 200

    def as_dict(self) -> dict[str, int]:
        return {"max_chars": self.max_chars, "min_chars": self.min_chars, "version": CHUNKER_VERSION}


def is_major_heading(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    if len(letters) < 4 or len(text) > 90 or "\t" in text:
        return False
    upper = sum(c.isupper() for c in letters)
    return upper / len(letters) > 0.9 and not _BULLET.match(text)


def is_minor_heading(text: str, previous: str | None) -> bool:
    if len(text) > 70 or "\t" in text or _ENDS_SENTENCE.search(text) or _TOC_ENTRY.search(text):
        return False
    if not text[:1].isupper() or _BULLET.match(text) or text.endswith(("-", ",")):
        return False
    words = text.split()
    if len(words) > 9 or len(_NUMBER.findall(text)) > 4:
        return False
    return previous is None or bool(_ENDS_SENTENCE.search(previous)) or is_major_heading(previous)


def _can_cut_after(text: str) -> bool:
    """A line that ends a sentence or a row; never one ending in ":", which introduces what follows."""
    if text.rstrip().endswith(":"):
        return False
    return bool(_ENDS_SENTENCE.search(text) or _ENDS_ROW.search(text))


@dataclass
class _Section:
    trail: tuple[str, ...]
    lines: list[Line]
    major_start: bool  # starts at a major heading: never merged into the previous chunk


def split_sections(lines: list[Line]) -> list[_Section]:
    sections: list[_Section] = []
    major = ""
    current = _Section((), [], True)
    previous_text: str | None = None
    i = 0
    while i < len(lines):
        text = lines[i].text
        if is_major_heading(text):
            heading_lines = [lines[i]]
            while i + 1 < len(lines) and is_major_heading(lines[i + 1].text):
                i += 1
                heading_lines.append(lines[i])
            major = _title(" ".join(l.text for l in heading_lines))
            sections.append(current)
            current = _Section((major,), list(heading_lines), True)
        elif is_minor_heading(text, previous_text):
            sections.append(current)
            trail = (major, text) if major else (text,)
            current = _Section(trail, [lines[i]], False)
        else:
            current.lines.append(lines[i])
        previous_text = lines[i].text
        i += 1
    sections.append(current)
    return [s for s in sections if s.lines]


def _title(text: str) -> str:
    """All-caps headings read badly in citations: "HÄLSO- OCH SJUKVÅRD" -> "Hälso- och sjukvård"."""
    text = re.sub(r"\s+", " ", text).strip()
    return text[:1].upper() + text[1:].lower() if text.isupper() else text


def chunk_document(doc: Document, params: ChunkerParams = ChunkerParams()) -> list[Chunk]:
    pieces: list[tuple[tuple[str, ...], list[Line]]] = []
    for section in split_sections(doc.lines):
        for k, group in enumerate(_pack(section.lines, params.max_chars)):
            if k == 0 and _merges_into_previous(pieces, section, group, params):
                pieces[-1] = (pieces[-1][0], pieces[-1][1] + group)
            else:
                pieces.append((section.trail, group))
    return [_make_chunk(doc, n, trail, group) for n, (trail, group) in enumerate(pieces)]


def _merges_into_previous(pieces, section: _Section, group: list[Line], params: ChunkerParams) -> bool:
    """A tiny minor section joins the chunk before it, within the same major section."""
    if not pieces or section.major_start:
        return False
    trail, previous = pieces[-1]
    return (
        trail[:1] == section.trail[:1]
        and _size(previous) < params.min_chars
        and _size(previous) + _size(group) <= params.max_chars
    )


def _size(lines: list[Line]) -> int:
    return sum(len(l.text) + 1 for l in lines)


def _pack(lines: list[Line], max_chars: int) -> list[list[Line]]:
    """Greedy packing that cuts only after a line that ends a sentence, row or list item.

    With no such line a group may grow to twice the size before it is cut anyway.
    """
    groups: list[list[Line]] = []
    current: list[Line] = []
    last_cut = 0
    for line in lines:
        current.append(line)
        if _can_cut_after(line.text):
            last_cut = len(current)
        if _size(current) <= max_chars:
            continue
        if last_cut:
            cut = last_cut
        elif _size(current) <= 2 * max_chars:
            continue
        else:
            cut = len(current)
        groups.append(current[:cut])
        current = current[cut:]
        last_cut = max((k + 1 for k, l in enumerate(current) if _can_cut_after(l.text)), default=0)
    if current:
        groups.append(current)
    return groups


def _make_chunk(doc: Document, n: int, trail: tuple[str, ...], lines: list[Line]) -> Chunk:
    trail = tuple(t for t in trail if t)
    text = "\n".join(l.text for l in lines)
    pages = [l.page for l in lines if l.page is not None]
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Chunk(
        id=f"{doc.file}#{n:04d}",
        file=doc.file,
        text=text,
        section=trail,
        line_start=lines[0].no,
        line_end=lines[-1].no,
        kind=_kind(lines),
        page_start=min(pages) if pages else None,
        page_end=max(pages) if pages else None,
        sha256=digest,
        lines=tuple(l.no for l in lines),
    )


def _kind(lines: list[Line]) -> str:
    numeric = sum(1 for l in lines if len(_NUMBER.findall(l.text)) >= 2 and len(l.text) < 80)
    bullets = sum(1 for l in lines if _BULLET.match(l.text))
    if numeric >= max(3, len(lines) // 2):
        return "table"
    if bullets >= max(2, len(lines) // 3):
        return "list"
    return "text"


def embedding_text(chunk: Chunk, title: str) -> str:
    """What is embedded and BM25-indexed: document title and heading trail, then the text."""
    head = " > ".join((title,) + chunk.section)
    return f"{head}\n{chunk.text}"


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÅÄÖ0-9•–\-])|\s+(?=•)")


def chunk_sentences(chunk: Chunk) -> list[tuple[str, int, int]]:
    """Sentences of a chunk with the source lines they span (the unit that answers quote and that
    the semantic index embeds)."""
    texts = chunk.text.split("\n")
    numbers = list(chunk.lines) if len(chunk.lines) == len(texts) else list(range(chunk.line_start, chunk.line_start + len(texts)))
    joined, offsets = "", []
    for no, text in zip(numbers, texts):
        offsets.append((len(joined), no))
        joined += text + " "
    sentences = []
    start = 0
    for match in list(_SENTENCE_END.finditer(joined)) + [None]:
        end = match.start() if match else len(joined)
        sentence = joined[start:end].strip()
        if len(sentence) >= 3:
            sentences.append((sentence, _line_at(offsets, start), _line_at(offsets, max(start, end - 1))))
        start = match.end() if match else end
    return sentences


def _line_at(offsets: list[tuple[int, int]], position: int) -> int:
    line = offsets[0][1]
    for offset, no in offsets:
        if offset > position:
            break
        line = no
    return line
