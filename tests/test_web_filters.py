"""assistant/web/filters.py: the years a document covers and the files a filter leaves."""

from __future__ import annotations

from web_data import DOCS, INTERIM, PROGRAMME, STRATEGY


def test_document_years_and_period_filter():
    from assistant.prompts import ALL_YEARS
    from assistant.web.filters import document_years, filter_documents, year_choices

    assert document_years(PROGRAMME) == (2024, 2028)
    assert document_years(STRATEGY) == (2025, 2036)  # written 2025, target picture 2036
    assert document_years(INTERIM) == (2024, 2024)
    years = [value for _, value in year_choices(DOCS)]
    assert years[0] == ALL_YEARS and years[1:] == [str(y) for y in range(2024, 2037)]
    assert filter_documents(DOCS, [], ALL_YEARS) == (None, "")
    files, label = filter_documents(DOCS, [], "2024")
    assert sorted(files) == sorted([PROGRAMME.file, INTERIM.file]) and label == "år 2024"
    assert filter_documents(DOCS, [PROGRAMME.file], "2030") == ([], "Hållbarhetsprogram 2024–2028 och år 2030")
    assert filter_documents(DOCS, [STRATEGY.file, "okänd.txt"], None) == ([STRATEGY.file], "Nära Kronobergaren")
