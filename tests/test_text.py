from assistant.ingest import clean_lines
from assistant.text import collapse_spaces, period_years, without_control, without_markup


def test_block_markup_becomes_a_space_and_inline_markup_vanishes():
    assert without_markup("mål<p>utfall<br/>prognos") == "mål utfall prognos"
    assert without_markup("<i>Sjukfrånvaro</i> växthusgaser<sup>11</sup>") == "Sjukfrånvaro växthusgaser11"


def test_control_characters_and_soft_hyphens_go_but_tabs_stay():
    assert without_control("håll\u00adbar\x07het\tmål") == "hållbarhet\tmål"


def test_ingested_lines_carry_no_literal_markup():
    lines = clean_lines(["Målet<p>är nått", "<p>", "växthusgaser<sup>11</sup> ska minska"])
    assert [l.text for l in lines] == ["Målet är nått", "växthusgaser ska minska"]
    assert not any("<" in l.text for l in lines)


def test_collapse_spaces():
    assert collapse_spaces("  a \t b\n c ") == "a b c"


def test_period_years():
    assert period_years("2021–2023") == {2021, 2022, 2023} and period_years("2025–27") == {2025, 2026, 2027}
    assert period_years("januari–mars 2024, med jämförelser") == {2024} and period_years("") == set()
