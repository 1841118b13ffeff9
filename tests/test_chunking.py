import re

from assistant.chunking import ChunkerParams, chunk_document, is_major_heading, split_sections
from assistant.ingest import scan_corpus
from assistant.settings import PROJECT_ROOT

DOCS = scan_corpus(PROJECT_ROOT / "corpus").documents


def test_chunk_line_ranges_point_at_their_text():
    for doc in DOCS:
        by_no = {l.no: l.text for l in doc.lines}
        for chunk in chunk_document(doc):
            texts = chunk.text.split("\n")
            assert len(texts) == len(chunk.lines)
            assert chunk.lines[0] == chunk.line_start and chunk.lines[-1] == chunk.line_end
            for no, text in zip(chunk.lines, texts):
                assert by_no[no] == text


def test_every_line_is_in_exactly_one_chunk():
    for doc in DOCS:
        seen = [no for c in chunk_document(doc) for no in c.lines]
        assert seen == [l.no for l in doc.lines]


def test_no_chunk_crosses_a_major_heading():
    for doc in DOCS:
        for chunk in chunk_document(doc):
            inner = chunk.text.split("\n")[1:]
            headed = [t for t in inner if is_major_heading(t)]
            # a major heading may only open a chunk (or continue a wrapped heading right after it)
            for t in headed:
                idx = inner.index(t)
                assert all(is_major_heading(x) for x in inner[: idx + 1]), (chunk.id, t)


def test_chunks_respect_size_and_cut_at_row_or_sentence_ends():
    params = ChunkerParams(max_chars=1400)
    for doc in DOCS:
        chunks = chunk_document(doc, params)
        for chunk, following in zip(chunks, chunks[1:]):
            assert len(chunk.text) <= 2 * params.max_chars + 200
            last = chunk.text.split("\n")[-1]
            ends_cleanly = re.search(r"[.!?:;\d%)\-–]\s*$", last)
            section_ends = following.section != chunk.section
            assert ends_cleanly or section_ends or len(chunk.text) > params.max_chars, (chunk.id, last)


def test_target_list_keeps_its_heading():
    programme = next(d for d in DOCS if d.info.source_file.startswith("001"))
    chunk = next(c for c in chunk_document(programme) if "max 4,5 procent" in c.text)
    assert chunk.section, "the target list must carry its heading trail"
    assert "sjukfrånvaro" in chunk.text.lower()


def test_sections_have_trails():
    for doc in DOCS:
        sections = split_sections(doc.lines)
        assert sum(1 for s in sections if s.trail) >= len(sections) - 1
