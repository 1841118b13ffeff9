"""The decision's rules over hand-made evidence (fast, no index)."""

from dataclasses import replace

from assistant.decision import Found, Turn, _nearest_year, _years_in, choose_sentences, decide
from assistant.lexical import SwedishTokenizer
from assistant.records import Cell, DocumentInfo, Evidence

INFO = DocumentInfo(file="h.txt", source_file="h.txt", cite="Hållbarhetsprogram 2024–2028", title="Hållbarhetsprogram",
                    kind="programme", kind_label="program")


def _sentence(text: str, score: float = 0.9) -> Evidence:
    return Evidence(text, INFO, "Medarbetare", 10, 10, None, score)


def _turn(question: str, years=(), lang="sv") -> Turn:
    return Turn(question, question, question, lang, (), False, tuple(years))


class _NoFinder:
    """The rules tested here decide before anything asks the build."""

    def __getattr__(self, name):
        raise AssertionError(f"the decision read the build ({name}) before refusing")


def test_a_year_no_evidence_speaks_of_is_refused_naming_the_nearest_year():
    found = Found([], [], [_sentence("Sjukfrånvaron ska vara högst 4,5 procent år 2028.")], None)
    draft, decision = decide(_NoFinder(), _turn("Vad är målet för sjukfrånvaro 2031?", ["2031"]), found)
    assert draft.refused and decision.rule == "refused_year"
    assert draft.text == "Dokumenten anger inget värde för 2031. Närmaste år i de hittade avsnitten: 2028."
    assert draft.evidence  # the nearest passages are shown
    english, _ = decide(_NoFinder(), _turn("What is the sick leave target for 2031?", ["2031"], "en"), found)
    assert english.text.startswith("The documents give no figure for 2031.")


def test_an_unlikely_best_sentence_is_refused_before_anything_else():
    found = Found([], [], [_sentence("Något helt annat.", score=0.01)], None)
    draft, decision = decide(_NoFinder(), _turn("Vad kostar en ny arena 2028?", ["2028"]), found)
    assert draft.refused and decision.rule == "refused_unlikely" and decision.signals["sentence_p"] == 0.01


def test_the_years_of_evidence_come_from_text_heading_document_and_cells():
    cell = Cell("t", "h.txt", 3, "Sjukfrånvaro", "Utfall 2023", "5,4", 5.4, year=2023)
    evidence = [Evidence("5,4", INFO, "Tabell 2022", 3, 3, None, 1.0, cell=cell),
                _sentence("År 2026 ska andelen öka.")]
    assert _years_in(evidence) == {"2023", "2026"}  # a value of a year speaks of that year, not its heading's
    no_year = Cell("t", "h.txt", 3, "Sjukfrånvaro", "Mål", "4,5", 4.5)
    assert _years_in([Evidence("4,5", INFO, "Tabell 2022", 3, 3, None, 1.0, cell=no_year)]) == {"2022"}
    # a value of no year speaks of no year by its document's title; a sentence of that document does
    budget = replace(INFO, title="Budget 2021, plan 2022–2023")
    assert _years_in([Evidence("17", budget, "Tandvård", 3, 3, None, 1.0, cell=no_year)]) == set()
    assert _years_in([Evidence("Ersättningen höjs.", budget, "Tandvård", 3, 3, None, 1.0)]) == {"2021", "2022", "2023"}
    # a period speaks of every year in it: a question about 2026 is not refused for a "2025–2027" plan
    assert _years_in([_sentence("Planen för 2025–27 och perioden 2024-2028.")]) == {str(y) for y in range(2024, 2029)}
    assert _nearest_year(("2025",), {"2022", "2026"}) == "2026" and _nearest_year(("2025",), set()) == ""
    assert all(_nearest_year(("2023",), found) == "2022" for found in ({"2022", "2024"}, {"2024", "2022"}))


class _Scorer:
    tokenizer = SwedishTokenizer()

    def query_terms(self, question, background=""):
        return {}


class _SmallFinder:
    """What the steps after the first rule read of a table answer: the tokenizer and the terms."""

    lines: dict = {}
    scorer = _Scorer()

    def row_read_as_prose(self, sentence, meaning):
        return []  # running text, not a table read as prose

    def same_measure_elsewhere(self, cells, years):
        return []  # no other document gives the measure

    def year_forecasts(self, cells, years):
        return []  # no interim report's forecast


def _cell(column: str, text: str, value: float, year: int) -> Evidence:
    cell = Cell("t", "h.txt", 3, "Sjukfrånvaro", column, text, value, unit="procent", year=year)
    return Evidence(text, INFO, "Medarbetare", 3, 3, None, 0.9, cell=cell)


def test_a_question_about_a_change_gets_it_computed_for_one_document():
    cells = [_cell("Utfall 2022", "7,2", 7.2, 2022), _cell("Utfall 2024", "5,5", 5.5, 2024)]
    turn = Turn("Hur har sjukfrånvaron förändrats?", "x", "x", "sv", (), False, asks_change=True)
    draft, decision = decide(_SmallFinder(), turn, Found(cells, [], [], None))
    assert decision.rule == "table_value" and decision.steps == ("change",)
    assert draft.text.endswith("Förändring från Utfall 2022 till Utfall 2024: 5,5 − 7,2 = −1,7 procentenheter [1] [2].")
    two = Turn("Hur skiljer sig sjukfrånvaron mellan dokumenten?", "x", "x", "sv", ("h.txt", "b.txt"), False,
               asks_change=True)
    assert "Förändring" not in decide(_SmallFinder(), two, Found(cells, [], [], None))[0].text


OTHER = DocumentInfo(file="b.txt", source_file="b.txt", cite="Budgetförslag 2025–27", title="Budgetförslag",
                     kind="budget_proposal", kind_label="oppositionens förslag")


class _FinderWithOtherDocument(_SmallFinder):
    def __init__(self):
        self.asked = []

    def same_measure_elsewhere(self, cells, years):
        self.asked.append(years)
        cell = Cell("b:t1", "b.txt", 7, "Sjukfrånvaro %", "Bokslut 2023", "5,4 %", 5.4, unit="procent", year=2023)
        return [Evidence("5,4 %", OTHER, "Mål", 7, 7, None, 0.9, cell=cell)]


def test_a_value_is_given_with_the_same_measures_value_in_another_document_unless_one_is_named():
    cells = [_cell("Utfall 2023", "6 %", 6.0, 2023)]
    finder = _FinderWithOtherDocument()
    turn = Turn("Vad var sjukfrånvaron 2023?", "x", "x", "sv", (), False, ("2023",))
    draft, decision = decide(finder, turn, Found(cells, [], [], None))
    assert decision.steps == ("other_documents",) and finder.asked == [("2023",)]
    assert draft.text.startswith("Dokumenten anger olika värden:")
    assert "Budgetförslag 2025–27" in draft.text and "5,4 %" in draft.text and len(draft.evidence) == 2
    named = Turn("Vad var sjukfrånvaron 2023 i programmet?", "x", "x", "sv", ("h.txt",), False, ("2023",))
    draft, decision = decide(_FinderWithOtherDocument(), named, Found(cells, [], [], None))
    assert "other_documents" not in decision.steps and "5,4" not in draft.text


def test_a_comparison_of_two_named_documents_gives_the_same_measures_value_in_the_other_not_a_quote():
    cells = [_cell("Utfall 2023", "6 %", 6.0, 2023)]
    both = Turn("Sjukfrånvaron 2023 i programmet jämfört med budgetförslaget?", "x", "x", "sv", ("h.txt", "b.txt"),
                False, ("2023",))
    quote = Evidence("Mätetal Bokslut 2023 Sjukfrånvaro % 5,4 % 5 %", OTHER, "Mål", 7, 7, None, 0.9)
    draft, decision = decide(_FinderWithOtherDocument(), both, Found(cells, [], [quote], None))
    assert decision.rule == "table_value" and len(draft.evidence) == 2
    assert "Budgetförslag 2025–27" in draft.text and "5,4 % procent (Bokslut 2023)" in draft.text
    assert "Mätetal" not in draft.text  # the value, not the table pasted as prose


class _FinderWithRowInProse(_SmallFinder):
    def row_read_as_prose(self, sentence, meaning):
        return [_cell("Mål 2028", "4,5 %", 4.5, 2028), _cell("Nuläge 2022", "6,2 %", 6.2, 2022)]


def test_a_row_read_as_prose_without_the_year_asked_is_refused_naming_its_nearest_year():
    # the programme 2024–2028 speaks of 2026 by its period, but the row it quotes gives 2022 and 2028 only
    programme = DocumentInfo(file="h.txt", source_file="h.txt", cite="Hållbarhetsprogram 2024–2028",
                             title="Hållbarhetsprogram 2024–2028", kind="programme", kind_label="program")
    row = Evidence("• sjukfrånvaron vara max 4,5 procent. Nuläge: 6,2 procent.", programme, "Medarbetare", 10, 10,
                   None, 0.9)
    turn = _turn("Vad är målet för sjukfrånvaron 2026?", ["2026"])
    draft, decision = decide(_FinderWithRowInProse(), turn, Found([], [], [row], None))
    assert draft.refused and decision.rule == "refused_year" and decision.steps == ("rows_as_values",)
    assert draft.text.startswith("Dokumenten anger inget värde för 2026. Närmaste år i de hittade avsnitten: 2028.")
    answered, decision = decide(_FinderWithRowInProse(), _turn("Vad är målet för sjukfrånvaron 2028?", ["2028"]),
                                Found([], [], [row], None))
    assert not answered.refused and decision.rule == "sentence" and "4,5 %" in answered.text
    no_year, decision = decide(_FinderWithRowInProse(), _turn("Vad är målet för sjukfrånvaron?"), Found([], [], [row], None))
    assert not no_year.refused and decision.steps == ("rows_as_values",)


def _nearness_to(word: str):
    """A stand-in for the model's cosines: 1 for a text with the word, 0 else."""
    return lambda texts: [float(word in t) for t in texts]


def test_a_long_quote_is_cut_to_its_piece_nearest_the_question_and_cites_its_line():
    quote = ("Det har varit turbulent den senaste tiden med många nya personer på ledande poster i hela "
             "organisationen under våren. Arbetet med att bromsa kostnadsökningarna fortsätter på alla nivåer "
             "och i alla förvaltningar under året. Henrietta Modig Serrate är ny ordförande i regionstyrelsen. "
             "Resultatet för perioden är negativt och prognosen för helåret visar ett underskott.")
    finder = _SmallFinder()
    finder.lines = {("h.txt", 10): quote[:150], ("h.txt", 11): quote[150:]}
    long = Evidence(quote, INFO, "Sammanfattning", 10, 11, None, 0.9)
    turn = _turn("Vem är ordförande i regionstyrelsen?")
    draft, decision = decide(finder, turn, Found([], [], [long], None, _nearness_to("ordförande")))
    assert decision.rule == "sentence" and decision.steps == ("shortened",)
    assert "Henrietta Modig Serrate är ny ordförande i regionstyrelsen." in draft.text and "turbulent" not in draft.text
    assert (draft.evidence[0].line_start, draft.evidence[0].line_end) == (11, 11)
    whole, _ = decide(finder, turn, Found([], [], [long], None, None))  # without a model the quote stays whole
    assert "turbulent" in whole.text


def test_a_list_stays_whole_however_long():
    items = " ".join(f"• Mål nummer {n} om en hållbar och effektiv verksamhet med hög kvalitet" for n in range(6))
    listed = Evidence(f"Regionen har formulerat fyra långsiktiga mål: {items}", INFO, "Mål", 10, 16, None, 0.9)
    draft, decision = decide(_SmallFinder(), _turn("dom långsiktiga målen?"), Found([], [], [listed], None,
                                                                                      _nearness_to("nummer 3")))
    assert decision.steps == () and "nummer 5" in draft.text


def test_a_list_question_answered_by_a_paragraph_gets_its_piece_but_a_dash_list_stays_whole():
    paragraph = ("• Att hålla nere kostnaderna och nå en ekonomi i balans på alla nivåer i organisationen under året. "
                 "Det har varit en orolig vår med många nya chefer i förvaltningarna, i staberna och i ledningsgruppen. "
                 "Efter valet styr nu en majoritet av Moderaterna och Socialdemokraterna tillsammans i Region Kronoberg.")
    asked = Turn("Vilka partier styr regionen?", "x", "Vilka partier styr regionen?", "sv", (), True)
    found = Found([], [], [Evidence(paragraph, INFO, "Inledning", 10, 10, None, 0.9)], None, _nearness_to("majoritet"))
    draft, decision = decide(_SmallFinder(), asked, found)
    assert decision.steps == ("shortened",) and "Moderaterna" in draft.text and "orolig" not in draft.text
    dashes = "Regionen ska under perioden arbeta med: " + " ".join(
        f"- Insats nummer {n} för en bättre och mer tillgänglig vård i hela länet" for n in range(5))
    listed = Found([], [], [Evidence(dashes, INFO, "Mål", 10, 15, None, 0.9)], None, _nearness_to("nummer 3"))
    draft, decision = decide(_SmallFinder(), Turn("Vilka insatser?", "x", "Vilka insatser?", "sv", (), True), listed)
    assert decision.steps == () and "nummer 4" in draft.text


def test_a_question_about_a_year_gets_that_years_values_of_a_row_and_the_values_of_no_year():
    from assistant.decision import _of_years

    values = [_cell("Utfall jan-mar 2023", "6,0", 6.0, 2023), _cell("Utfall jan-mar 2024", "5,5", 5.5, 2024)]
    schedule = Evidence("2025-2027", INFO, "Uppdrag", 3, 3, None, 0.9,
                        cell=Cell("t", "h.txt", 3, "Uppdrag", "Tidplan", "2025-2027", None))
    assert [v.text for v in _of_years(values + [schedule], ("2024",))] == ["5,5", "2025-2027"]
    assert _of_years(values, ("2031",)) == values  # no value of the year asked: the refusal rules judge
    assert _of_years(values, ()) == values


def test_a_table_read_as_prose_is_cut_at_its_rows():
    rows = ["Uppdrag Tidplan Ansvarig", "Sjukhusvården och primärvården ska tillsammans med kommunerna utreda hur "
            "samarbetet kan fördjupas inom den palliativa vården", "2021 HSN", "En utredning ska genomföras som visar hur "
            "många vårdplatser regionen behöver fram till 2030", "2021 HSN", "Hemmonitorering ska införas både inom "
            "primärvården och inom slutenvården på bred front. 2021 HSN"]
    finder = _SmallFinder()
    finder.lines = {("h.txt", 20 + i): row for i, row in enumerate(rows)}
    table = Evidence(" ".join(rows), INFO, "Uppdrag", 20, 25, None, 0.9)
    draft, decision = decide(finder, _turn("Vem ska utreda hur många vårdplatser som behövs?"),
                             Found([], [], [table], None, _nearness_to("vårdplatser")))
    assert decision.steps == ("shortened",) and "fram till 2030 2021 HSN [1]" in draft.text  # the row with its cells
    assert "Hemmonitorering" not in draft.text and "palliativa" not in draft.text
    assert (draft.evidence[0].line_start, draft.evidence[0].line_end) == (23, 24)


def test_the_best_sentence_answers_alone_unless_the_question_names_other_documents():
    other = DocumentInfo(file="d.txt", source_file="d.txt", cite="Delårsrapport", title="D", kind="interim_report",
                         kind_label="delårsrapport")
    best = _sentence("Sjukfrånvaron ska vara högst 4,5 procent.", 0.60)
    close = Evidence("Sjukfrånvaron var 5,5 procent.", other, "Medarbetare", 40, 40, None, 0.59)
    assert choose_sentences([best, close], []) == [best]  # nearly as likely, but another passage
    assert choose_sentences([best, close], ["h.txt", "d.txt"]) == [best, close]  # a comparison names both
