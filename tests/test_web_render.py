"""assistant/web/render.py: an answer as HTML (text, table, sources, source panel) and a conversation as Markdown."""

from __future__ import annotations

import re

from web_data import CELL_ANSWER, DOCS, EXAMPLE, PROGRAMME

from assistant.settings import PROJECT_ROOT


def test_answer_html_escapes_documents_and_marks_supporting_words():
    from assistant.web.render import answer_html

    page = answer_html(CELL_ANSWER, DOCS, filter_label="år 2028")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert '<sup class="kb-ref">[1]</sup>' in page
    assert "<mark>4,5</mark>" in page and "<mark>sjukfrånvaron</mark>" in page and "<mark>2028</mark>" in page
    assert "<mark>ska</mark>" not in page  # stop words stay unmarked
    assert "Status: Fastställt av regionfullmäktige" in page and "rad 120" in page
    assert '<table class="kb-cells"><caption>Delmål 2028 – Hållbarhetsprogram 2024–2028</caption>' in page
    assert "max 4,5 procent" in page and "Avgränsat till år 2028" in page
    assert "\n\n" not in page  # one HTML block for the chat's Markdown renderer


def test_refusal_shows_nearest_passages_and_page_numbers():
    from assistant.web.render import answer_html

    data = dict(CELL_ANSWER, refused=True, answer="Det framgår inte av dokumenten.\nNärmast i dokumenten: [1]",
                cells=[], citations=[dict(CELL_ANSWER["citations"][0], page=4)])
    data["citations"][0]["quote"] = "Fallskador bland personer 80+, 3-årsm, antal/1 000 inv."
    page = answer_html(data, DOCS)
    assert "Närmast i dokumenten" in page and "s. 4" in page and "rad 120" not in page
    assert "<mark>" not in page  # the markers [1] are not words to mark


def test_documents_page_lists_every_document_and_says_how_to_build_a_missing_index():
    from assistant.web.render import documents_html

    page = documents_html(DOCS)
    assert "3 dokument" in page
    for info in DOCS.values():
        assert info.title in page
    assert "Program &lt;för&gt; hållbar utveckling." in page
    missing = documents_html({}, "Indexet saknas i /x. Kör `python -m assistant ingest` för att bygga det.")
    assert "<code>python -m assistant ingest</code>" in missing


def test_conversation_markdown_export():
    from assistant.web.render import conversation_markdown

    text = conversation_markdown([{"question": EXAMPLE, "answer": CELL_ANSWER, "filter": ""}])
    assert text.startswith("# Samtal med Kronoberg-assistenten")
    assert f"## 1. {EXAMPLE}" in text and "max 4,5 procent [1]" in text
    assert "| Sjukfrånvaro | Mål 2028 | max 4,5 procent |" in text
    assert "1. Hållbarhetsprogram 2024–2028 (hållbarhetsprogram fastställt av regionfullmäktige)" in text


def test_sources_open_in_the_source_panel():
    from assistant.web.render import answer_html, source_panel_html
    from assistant.web.sources import source_lines

    page = answer_html(CELL_ANSWER, DOCS)
    assert ('<button type="button" class="kb-open-source" name="kb-source-1" value="{&quot;file&quot;: '
            '&quot;hallbarhetsprogram-2024-2028.txt&quot;, &quot;start&quot;: 120, &quot;end&quot;: 120, '
            '&quot;n&quot;: 1}">Visa i sammanhang</button>') in page
    source = source_lines(PROJECT_ROOT / "corpus", PROGRAMME.file, 458, 458, 2)
    panel = source_panel_html(source, PROGRAMME, 1)
    assert "Källan i sitt sammanhang" in panel and "[1]" in panel and PROGRAMME.cite in panel and "rad 458" in panel
    cited = re.findall(r'<div class="kb-line kb-cited"><span class="kb-line-no">(\d+)</span>'
                       r'<span class="kb-line-text"><mark>([^<]*)</mark>', panel)
    assert cited == [("458", "- sjukfrånvaron vara max 4,5 procent.")]
    assert re.findall(r'<span class="kb-line-no">(\d+)</span>', panel) == ["456", "457", "458", "459", "460"]
    hostile = dict(source, file="<x>.txt", lines=[dict(source["lines"][0], text="<script>alert(1)</script>")])
    assert "<script>" not in source_panel_html(hostile)


def _cell(**changes) -> dict:
    return dict(CELL_ANSWER["cells"][0], **changes)


def test_the_table_shows_what_the_answer_says():
    """The table under an answer and the exported table write a cell as the answer does
    (assistant.tables.format.format_cell_value): a value printed as a phrase gets no comparator, a unit the
    printed value already has ("3 Mkr", unit "mnkr") is not added again."""
    from assistant.tables.format import format_cell_value
    from assistant.records import Cell
    from assistant.web.render import answer_html, cell_value, conversation_markdown

    phrase = _cell(row="Andel nöjda", value_text="Över 50 %", value=50.0, unit="%", comparator="minst")
    money = _cell(row="Driftram", line=121, value_text="3 Mkr", value=3.0, unit="mnkr", comparator="")
    for cell, shown in ((phrase, "Över 50 %"), (money, "3 Mkr")):
        assert cell_value(cell) == format_cell_value(Cell(**cell)) == shown
    cited = CELL_ANSWER["citations"][0]
    data = dict(CELL_ANSWER, cells=[phrase, money],
                citations=[dict(cited, n=1, cell=phrase), dict(cited, n=2, line_start=121, line_end=121, cell=money)])
    page = answer_html(data, DOCS)
    values = [v.strip() for v in re.findall(r'<td class="kb-value">([^<]*)', page)]  # then the marker [n]
    assert values == ["Över 50 %", "3 Mkr"]
    assert "minst Över" not in page and "Mkr mnkr" not in page
    text = conversation_markdown([{"question": EXAMPLE, "answer": data, "filter": ""}])
    assert "| Andel nöjda | Mål 2028 | Över 50 % |" in text and "| Driftram | Mål 2028 | 3 Mkr |" in text
    # A cell without the optional fields (an older answer's JSON) still shows its printed value.
    assert cell_value({"value_text": "12"}) == "12"


def test_each_cell_comes_with_the_citation_that_carries_it():
    from assistant.web.render import cited_cells

    first = dict(CELL_ANSWER["citations"][0], n=1)
    other_cell = _cell(column="Mål 2027")
    second = dict(CELL_ANSWER["citations"][0], n=2, cell=other_cell)
    prose = dict(CELL_ANSWER["citations"][0], n=3, cell=None)
    pairs = cited_cells({"citations": [first, prose, second], "cells": [first["cell"], other_cell]})
    assert [(cell["column"], citation["n"]) for cell, citation in pairs] == [("Mål 2028", 1), ("Mål 2027", 2)]
    # an answer's JSON without cells on its citations still shows its values, without markers
    assert cited_cells({"citations": [prose], "cells": [other_cell]}) == [(other_cell, None)]


def test_marked_words_are_the_lexical_words():
    """Highlighting reads words as the lexical index does (lexical.words, lexical.STOPWORDS); a number with
    decimals is one unit, so "5" in an answer does not mark the 5 of "4,5"."""
    from assistant.lexical import STOPWORDS, words
    from assistant.web.render import _UNIT, _terms, highlight

    text = "Sjukfrånvaron i Q1 2024 var 5,4 procent enligt CO2-rapporten_2"
    units = [m.group(0).lower() for m in _UNIT.finditer(text)]
    assert units == ["sjukfrånvaron", "i", "q1", "2024", "var", "5,4", "procent", "enligt", "co2", "rapporten", "2"]
    assert [u for u in units if u != "5,4"] == [w for w in words(text) if w not in ("5", "4")]
    assert _terms(text) == {"sjukfrånvaron", "2024", "5,4", "procent", "enligt", "co2", "rapporten", "2"} - STOPWORDS
    assert highlight("max 4,5 procent", {"5"}) == "max 4,5 procent"
    assert highlight("max 4,5 procent", {"4,5"}) == "max <mark>4,5</mark> procent"
