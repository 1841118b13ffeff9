"""assistant/web/sources.py: the source viewer shows a corpus document's cited lines and refuses anything else.

The same viewer behind the app's /source endpoint and its file routes: tests/test_privacy.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from web_data import CORPUS, PROGRAMME_FILE as PROGRAMME, hostile_corpus

TARGET_LINE = "- sjukfrånvaron vara max 4,5 procent."


@pytest.fixture()
def corpus(tmp_path) -> Path:
    return hostile_corpus(tmp_path)


def test_source_lines_shows_the_cited_lines_in_context(corpus):
    from assistant.web.sources import source_lines

    lines = (corpus / PROGRAMME).read_text(encoding="utf-8").splitlines()
    cited = next(i for i, t in enumerate(lines, 1) if t.strip() == TARGET_LINE)
    shown = source_lines(corpus, PROGRAMME, cited, cited, context=3)
    assert (shown["first"], shown["last"]) == (cited - 3, cited + 3)
    assert [line["no"] for line in shown["lines"]] == list(range(cited - 3, cited + 4))
    assert [line["text"] for line in shown["lines"]] == lines[cited - 4:cited + 3]
    assert [line["no"] for line in shown["lines"] if line["cited"]] == [cited]
    assert "År 2028 ska" in " ".join(line["text"] for line in shown["lines"])
    first = source_lines(corpus, PROGRAMME, 1, 2, context=5)  # no lines before the first
    assert first["first"] == 1 and first["lines"][0]["no"] == 1
    last = source_lines(corpus, PROGRAMME, len(lines), len(lines) + 10, context=5)
    assert last["last"] == len(lines) and last["line_end"] == len(lines)
    # A symbolic link to a document in the corpus is that document.
    assert source_lines(corpus, "lank-in.txt", cited, cited, context=0)["lines"] == shown["lines"][3:4]


@pytest.mark.parametrize("name", [
    "../pyproject.toml", "/etc/passwd", "..%2f..%2fetc%2fpasswd", "corpus/../../etc/passwd", "..", ".", "",
    "../outside.txt", str(CORPUS / PROGRAMME), "underkatalog/dold.txt", ".dold.txt", "manifest.toml",
    "lank-ut.txt", PROGRAMME + "\x00.png", "..\\outside.txt", "saknas.txt", "~/.bashrc",
])
def test_source_lines_refuses_anything_but_a_corpus_document(corpus, name):
    from assistant.web.sources import SourceRefused, source_lines

    with pytest.raises(SourceRefused) as err:
        source_lines(corpus, name, 1, 5)
    message = str(err.value)
    assert "finns inte bland dokumenten" in message
    assert "HEMLIG" not in message and "root:" not in message


def test_source_lines_rejects_bad_ranges(corpus):
    from assistant.web.sources import SourceRefused, source_lines

    for start, end in ((0, 1), (5, 2), (1, 1000), ("x", 2), (10**6, 10**6)):
        with pytest.raises(SourceRefused):
            source_lines(corpus, PROGRAMME, start, end)
    assert len(source_lines(corpus, PROGRAMME, 100, 100, context=10**6)["lines"]) <= 41  # context is capped
