"""Ingest: read the corpus files and their manifest, and clean the PDF-extraction damage.

Cleaning keeps every line's number in the source file (and its page for PDFs), so a citation
can always point back at the file.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .records import Document, DocumentInfo, Line
from .text import without_control, without_markup

SUPPORTED_SUFFIXES = (".txt", ".md", ".pdf", ".docx")
MANIFEST_NAME = "manifest.toml"
MAX_FILE_MB = 20.0  # the default of Settings.max_file_mb; index.py passes the setting

# Words after which a line-final hyphen is a suspended compound ("hälso- och sjukvård").
_SUSPENDED_FOLLOWERS = {"och", "eller", "samt", "respektive", "resp", "som", "till", "men", "med"}
_HYPHEN_END = re.compile(r"(\w*[^\W\d_])-\s*$")
_FIRST_WORD = re.compile(r"^\s*([^\W\d_]+)")
# A footnote number glued to a lower-case word: "växthusgaser11 ska" -> "växthusgaser ska".
_GLUED_FOOTNOTE = re.compile(r"(?<=[a-zåäöé]{3})\d{1,2}(?=[\s.,;:)]|$)")
# Part of the index key: a change in how lines are cleaned changes every chunk after it.
# 2: block markup (<p>, <br>) is cleaned like inline markup, through assistant.text.
CLEANER_VERSION = 2


class SkippedFile(Exception):
    """A corpus file that cannot be ingested; the message names the file and the reason."""


@dataclass(frozen=True)
class CorpusScan:
    documents: list[Document]
    skipped: list[str]  # one message per skipped file


def load_manifest(corpus_dir: Path) -> dict[str, DocumentInfo]:
    path = corpus_dir / MANIFEST_NAME
    if not path.is_file():
        return {}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    infos = {}
    for entry in data.get("document", []):
        info = DocumentInfo(**{**entry, "aliases": tuple(entry.get("aliases", ())),
                                "current_state": tuple(entry.get("current_state", ())), "in_manifest": True})
        infos[info.file] = info
    return infos


def info_without_manifest(path: Path) -> DocumentInfo:
    title = re.sub(r"[_-]+", " ", path.stem).strip().capitalize() or path.name
    return DocumentInfo(
        file=path.name,
        source_file=path.name,
        cite=title,
        title=title,
        kind="document",
        kind_label="dokument utan uppgifter i korpusmanifestet",
        in_manifest=False,
    )


def corpus_files(corpus_dir: Path) -> list[Path]:
    return sorted(
        p for p in corpus_dir.iterdir()
        if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES and not p.name.startswith(".")
        and p.name.lower() != "readme.md"
    )


def scan_corpus(corpus_dir: Path, max_file_mb: float = MAX_FILE_MB) -> CorpusScan:
    manifest = load_manifest(corpus_dir)
    documents, skipped = [], []
    for path in corpus_files(corpus_dir):
        try:
            documents.append(read_document(path, manifest.get(path.name) or info_without_manifest(path),
                                           max_file_mb))
        except SkippedFile as exc:
            skipped.append(str(exc))
    return CorpusScan(documents, skipped)


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_document(path: Path, info: DocumentInfo, max_file_mb: float = MAX_FILE_MB) -> Document:
    data = _read_bytes(path, max_file_mb)
    pages = _extract_pages(path, data)
    raw_lines: list[str] = []
    page_of_line: list[int | None] = []
    for page_no, page_text in pages:
        for line in page_text.splitlines():
            raw_lines.append(line)
            page_of_line.append(page_no)
    lines = clean_lines(raw_lines, page_of_line)
    if not lines:
        raise SkippedFile(f"{path.name}: hoppas över – filen innehåller ingen text")
    return Document(info=info, path=path, sha256=hashlib.sha256(data).hexdigest(),
                    raw_lines=raw_lines, lines=lines)


def _read_bytes(path: Path, max_file_mb: float = MAX_FILE_MB) -> bytes:
    try:
        size = path.stat().st_size
        if size == 0:
            raise SkippedFile(f"{path.name}: hoppas över – filen är tom")
        if size > max_file_mb * 2**20:
            raise SkippedFile(f"{path.name}: hoppas över – filen är {size / 2**20:.1f} MB, större än gränsen "
                              f"{max_file_mb:g} MB (inställningen max_file_mb)")
        return path.read_bytes()
    except OSError as exc:
        raise SkippedFile(f"{path.name}: hoppas över – kan inte läsas ({exc.strerror or exc})") from exc


def _extract_pages(path: Path, data: bytes) -> list[tuple[int | None, str]]:
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return _pdf_pages(path, data)
    if suffix == ".docx":
        return [(None, _docx_text(path, data))]
    return [(None, _decode_text(path, data))]


def _decode_text(path: Path, data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise SkippedFile(f"{path.name}: hoppas över – filen ser ut att vara binär, inte text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SkippedFile(
            f"{path.name}: hoppas över – filen är inte UTF-8 (byte {exc.start}); spara den som UTF-8"
        ) from exc


def _pdf_pages(path: Path, data: bytes) -> list[tuple[int | None, str]]:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [(i + 1, page.extract_text() or "") for i, page in enumerate(reader.pages)]
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise SkippedFile(f"{path.name}: hoppas över – PDF-filen kan inte läsas ({exc})") from exc
    return pages


def _docx_text(path: Path, data: bytes) -> str:
    import io
    import zipfile

    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise SkippedFile(f"{path.name}: hoppas över – Word-filen kan inte läsas ({exc})") from exc
    return "\n".join(docx_lines(document))


def docx_lines(document) -> list[str]:
    """The body of a Word document in reading order: each paragraph a line, each table row a line of
    tab-separated cells, where they stand (a table's caption stays on the line above it). A cell's
    own paragraphs are joined by spaces, so a row stays one line; a cell merged across columns is
    repeated, as python-docx gives it, so every row has all its columns."""
    from docx.table import Table

    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                lines.append("\t".join(" ".join(cell.text.split("\n")).strip() for cell in row.cells))
        else:
            lines.extend(block.text.split("\n"))  # a line break inside a paragraph starts a line
    return lines


def clean_lines(raw_lines: list[str], pages: list[int | None] | None = None) -> list[Line]:
    """Clean line by line, keeping source line numbers; blank lines are dropped."""
    pages = pages or [None] * len(raw_lines)
    texts = [_clean_line(t) for t in raw_lines]
    texts = join_hyphenated(texts)
    return [Line(no=i + 1, text=t, page=pages[i]) for i, t in enumerate(texts) if t]


def _clean_line(text: str) -> str:
    text = without_markup(without_control(text))
    text = _GLUED_FOOTNOTE.sub("", text)
    return re.sub(r"[ \u00a0]+", " ", text).strip()


def join_hyphenated(texts: list[str]) -> list[str]:
    """Join words split at line ends ("håll-" / "barhet") onto the first line.

    A hyphen before "och", "eller" ... is a suspended compound and stays ("hälso- och").
    Blank lines between the halves (a layout with blank lines between all lines) are skipped.
    """
    out = list(texts)
    for i, text in enumerate(out):
        m = _HYPHEN_END.search(text)
        if not m:
            continue
        j = i + 1
        while j < len(out) and not out[j]:
            j += 1
        if j >= len(out):
            continue
        first = _FIRST_WORD.match(out[j])
        if not first or not first.group(1)[0].islower():
            continue
        word = first.group(1)
        if word.lower() in _SUSPENDED_FOLLOWERS:
            out[i] = text.rstrip()[:-1].rstrip() + "-"  # "utvecklings- " -> "utvecklings-"
            continue
        # Continue with whatever is glued to the word ("barhet," / "barhet.")
        rest = out[j][first.end():]
        tail = re.match(r"^\S*", rest).group(0)
        out[i] = text[: m.end(1)] + word + tail
        out[j] = rest[len(tail):].strip()
    return out
