"""The source viewer: the cited lines of a corpus document with the lines around them.

Security-relevant: a request names a file, and only a document directly in the corpus directory,
one the index reads, is ever opened; everything else is refused with SourceRefused, whose
message (in Swedish) names nothing but the request.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import prompts

SOURCE_CONTEXT_MAX = 20
SOURCE_LINES_MAX = 200


class SourceRefused(ValueError):
    """The requested source is not a document in the corpus; the message says so in Swedish."""


def corpus_document(corpus_dir: Path, file: str) -> Path:
    """The path of `file` if it names a document directly inside `corpus_dir`, else SourceRefused.

    Only a plain file name is accepted: no directory parts ("/", "\\", ".."), no absolute path, no NUL
    byte, no hidden file; the file, with symbolic links resolved, must lie directly in the corpus
    directory, and the name must be one of the documents the index reads (.txt, .md, .pdf, .docx)."""
    from ..ingest import corpus_files

    shown = file[:100] if isinstance(file, str) else file
    refused = SourceRefused(prompts.SOURCE_NOT_IN_CORPUS.format(file=shown))
    if not isinstance(file, str) or not file or "\x00" in file or "/" in file or "\\" in file \
            or file in (".", "..") or file.startswith(".") or Path(file).is_absolute():
        raise refused
    root = Path(corpus_dir).resolve()
    candidate = root / file
    try:
        resolved = candidate.resolve(strict=True)
    except (OSError, RuntimeError, ValueError):
        raise refused from None
    if resolved.parent != root or not resolved.is_file():  # a symbolic link must stay in the corpus
        raise refused
    if file not in {p.name for p in corpus_files(root)}:
        raise refused
    return resolved


def line_range(line_start, line_end, context) -> tuple[int, int, int]:
    """(start, end, context) as integers: positive, in order, at most SOURCE_LINES_MAX lines, the context
    capped at SOURCE_CONTEXT_MAX; else SourceRefused."""
    try:
        start = int(line_start)
        end = int(line_end) if line_end not in (None, "") else start
        context = int(context)
    except (TypeError, ValueError):
        raise SourceRefused(prompts.SOURCE_LINES_NOT_NUMBERS) from None
    if start < 1 or end < start:
        raise SourceRefused(prompts.SOURCE_LINES_ORDER)
    if end - start + 1 > SOURCE_LINES_MAX:
        raise SourceRefused(prompts.SOURCE_LINES_TOO_MANY.format(n=SOURCE_LINES_MAX))
    return start, end, max(0, min(context, SOURCE_CONTEXT_MAX))


def source_lines(corpus_dir: Path, file: str, line_start: int, line_end: int | None = None,
                 context: int = 3) -> dict[str, Any]:
    """The cited lines of a corpus document with `context` lines around them.

    Returns {"file", "line_start", "line_end", "first", "last", "lines": [{"no", "text", "cited", "page"}]}.
    Line numbers are the ones citations use (1-based lines of the source file; for PDFs the lines of the
    extracted text, each with its page). Anything that is not a document in the corpus is refused
    with SourceRefused."""
    from ..ingest import SkippedFile, info_without_manifest, read_document

    path = corpus_document(corpus_dir, file)
    start, end, context = line_range(line_start, line_end, context)
    try:
        document = read_document(path, info_without_manifest(path))
    except SkippedFile as exc:
        raise SourceRefused(prompts.SOURCE_UNREADABLE.format(error=exc)) from None
    raw = document.raw_lines
    if start > len(raw):
        raise SourceRefused(prompts.SOURCE_TOO_SHORT.format(file=file, n=len(raw)))
    end = min(end, len(raw))
    pages = {line.no: line.page for line in document.lines}
    first, last = max(1, start - context), min(len(raw), end + context)
    return {"file": file, "line_start": start, "line_end": end, "first": first, "last": last,
            "lines": [{"no": no, "text": raw[no - 1], "cited": start <= no <= end, "page": pages.get(no)}
                      for no in range(first, last + 1)]}
