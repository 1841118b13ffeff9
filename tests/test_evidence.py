"""Evidence: sentences with their lines, list items, what a piece of evidence states."""

from assistant.chunking import chunk_sentences
from assistant.evidence import (joined_short, lines_of, list_items_after, logical_lines, names_missing, pieces, prefer_answer_type,
                               states, states_amount, with_list)
from assistant.lexical import SwedishTokenizer
from assistant.question import expected_answer, names_in
from assistant.records import Chunk, Context, DocumentInfo, Evidence

INFO = DocumentInfo(file="a.txt", source_file="000.txt", cite="Dok A", title="Dokument A", kind="programme",
                    kind_label="program")


def _evidence(text: str) -> Evidence:
    return Evidence(text, INFO, "Avsnitt", 10, 10, None, 1.0)


def _scored(text: str, score: float, line: int) -> Evidence:
    return Evidence(text, INFO, "Avsnitt", line, line, None, score)


def test_sentences_keep_their_source_lines():
    chunk = Chunk(id="a#0", file="a.txt", text="Första meningen slutar här. Andra\nmeningen fortsätter.\n• En punkt",
                  section=("Avsnitt",), line_start=3, line_end=9, lines=(3, 5, 9))
    sentences = chunk_sentences(chunk)
    assert sentences == [("Första meningen slutar här.", 3, 3), ("Andra meningen fortsätter.", 3, 5),
                         ("• En punkt", 9, 9)]


def test_list_items_are_read_after_the_intro_across_a_heading():

    lines = {("a.txt", 10): "bryts dessa ner i riktningsmål.", ("a.txt", 11): "Riktningsmål",
             ("a.txt", 13): "1. Öka fokus på person", ("a.txt", 14): "och relation",
             ("a.txt", 15): "2. Arbeta proaktivt", ("a.txt", 17): "• Stärka samordning",
             ("a.txt", 18): "Uppföljning sker årligen."}
    items, last = list_items_after(lines, "a.txt", 10)
    assert items == ["Öka fokus på person och relation", "Arbeta proaktivt", "Stärka samordning"]
    assert last == 17
    extended = with_list(Evidence("bryts dessa ner i riktningsmål.", INFO, "Avsnitt", 10, 10, None, 1.0), items, last)
    assert extended.line_end == 17 and "• Arbeta proaktivt" in extended.text
    # prose after the intro is not a list
    assert list_items_after({("a.txt", 2): "Vanlig text.", ("a.txt", 3): "Mer text.", ("a.txt", 4): "Ännu mer.",
                             ("a.txt", 5): "Och mer."}, "a.txt", 1)[0] == []


def test_names_in_the_question_must_be_in_the_evidence():
    from assistant.lexical import SwedishTokenizer

    tokenizer = SwedishTokenizer()
    assert names_in("Vad är Region Skånes skattesats 2025?") == {"Skånes"}
    evidence = [_evidence("Skattesatsen i Region Kronoberg för 2025 fastställs till 12,00 procent.")]
    assert names_missing({"Skånes"}, evidence, tokenizer) == {"Skånes"}
    assert names_missing(names_in("Hur många AT-läkare anställdes i Växjö?"),
                         [_evidence("I Växjö anställdes 20 AT-läkare.")], tokenizer) == set()
    tunnel = [_evidence("Fehmarn Bält-tunneln förväntas vara klar 2029.")]
    assert names_missing({"Fehmarn", "Belt"}, tunnel, tokenizer) == set()  # one letter spelt otherwise
    assert names_missing({"Malmö"}, [_evidence("Möte i Malung om trafiken.")], tokenizer) == {"Malmö"}


def test_a_sentence_stating_what_is_asked_comes_first_among_close_ones():
    best = _scored("Tunneln skapar nya möjligheter när den är klar.", 0.60, 10)
    dated = _scored("Tunneln förväntas vara klar 2029.", 0.55, 40)
    far_below = _scored("Allt ska vara klart 2030.", 0.20, 50)
    assert prefer_answer_type("När blir tunneln klar?", [best, dated, far_below])[0] is dated
    assert prefer_answer_type("Vad gör tunneln?", [best, dated])[0] is best
    assert prefer_answer_type("När blir tunneln klar?", [best, far_below])[0] is best


def test_a_number_is_preferred_only_right_by_the_best_sentence():
    best = _scored("Urval och intervju av utbildningstjänster pågår.", 0.96, 10)
    next_to_it = _scored("Ca 140 personer har sökt utbildningstjänst.", 0.71, 11)
    elsewhere = _scored("Låneram på 500 mnkr.", 0.90, 300)
    assert prefer_answer_type("Hur många sökte?", [best, next_to_it])[0] is next_to_it
    assert prefer_answer_type("Hur många sökte?", [best, elsewhere])[0] is best


def test_wrapped_lines_join_but_list_rows_stay_apart():
    lines = {("a.txt", 1): "Ca 140 personer", ("a.txt", 2): "", ("a.txt", 3): "har sökt utbildningstjänst.",
             ("a.txt", 4): "Invånare med fetma, andel (%)", ("a.txt", 5): "Invånare 16-84 år, andel (%)"}
    assert logical_lines(lines, "a.txt", 1, 5) == ["Ca 140 personer har sökt utbildningstjänst.",
                                                    "Invånare med fetma, andel (%)", "Invånare 16-84 år, andel (%)"]
    assert expected_answer("Vilket värde har indikatorn?") == "amount"
    assert expected_answer("Vad blev utfallet för antalet recept?") == "amount"


def test_a_wrapped_line_that_starts_with_a_number_continues_its_sentence_but_not_a_row_label():
    lines = {("a.txt", 1): "Vårens pulsmätning visar ett resultat med", ("a.txt", 2): "",
             ("a.txt", 3): "81,6 procents svarsfrekvens.",
             ("a.txt", 4): "Kunder - Avgångstiderna passar mina behov*", ("a.txt", 5): "57 % 62 %"}
    assert logical_lines(lines, "a.txt", 1, 5) == ["Vårens pulsmätning visar ett resultat med 81,6 procents svarsfrekvens.",
                                                    "Kunder - Avgångstiderna passar mina behov*", "57 % 62 %"]


def test_descriptors_are_not_amounts():
    for descriptor in ("Påverkbar slutenvård, antal/100 000 inv.", "Invånare 65+ i hemtjänst", "Invånare 16-84 år",
                       "Elever i åk 9", "Utfall 2023"):
        assert not states_amount(descriptor), descriptor
    for amount in ("Ca 140 personer", "max 4,5 procent", "1 500 miljoner", "-12,4 mnkr"):
        assert states_amount(amount), amount


def test_plain_lines_after_an_intro_ending_in_a_colon_are_items():
    lines = {("a.txt", 1): "I planerade projekt finns bland annat:", ("a.txt", 2): "",
             ("a.txt", 3): "Nybyggnation Bussdepå Norrängen", ("a.txt", 4): "Ombyggnation Dialysavdelning CLV",
             ("a.txt", 5): "", ("a.txt", 6): "- Fler objekt utreds löpande.", ("a.txt", 7): "",
             ("a.txt", 8): "Nästa stycke börjar här och är en vanlig mening om något annat."}
    items, last = list_items_after(lines, "a.txt", 1, plain=True)
    assert items[:2] == ["Nybyggnation Bussdepå Norrängen", "Ombyggnation Dialysavdelning CLV"] and last == 6
    items, _ = list_items_after(lines, "a.txt", 1)  # without the colon the plain lines are not items
    assert "Nybyggnation Bussdepå Norrängen" not in items


def test_who_questions_want_a_body_named():
    assert expected_answer("vem ansvarar för det?") == "who"
    assert states("who", "sjukhusvården. 2021 HSN") and states("who", "hälso- och sjukvårdsnämnden ansvarar")
    assert not states("who", "kan indikatorerna kompletteras med annan statistik")


def test_a_long_quote_is_cut_at_bullets_sentence_ends_and_then_colons():
    text = ("• Att bromsa kostnadsökningarna och få en ekonomi i balans. Vi fick veta att vi nu har en ny "
            "politisk styrning: en majoritet med M och S, med en socialdemokrat som ordförande i regionstyrelsen. "
            "Kort.")
    assert pieces(text) == ["Att bromsa kostnadsökningarna och få en ekonomi i balans.",
                            "Vi fick veta att vi nu har en ny politisk styrning: en majoritet med M och S, med en "
                            "socialdemokrat som ordförande i regionstyrelsen. Kort."]
    long = "Inledning utan punkt " * 14 + "och sedan: det som frågas efter står här, efter kolonet i meningen."
    assert pieces(long)[-1] == "det som frågas efter står här, efter kolonet i meningen."
    assert pieces("År 2028 ska: - Sjukfrånvaron vara max 4,5 procent.") == ["År 2028 ska: Sjukfrånvaron vara max 4,5 procent."]
    row = ["Uppdrag Tidplan", "Omvandla sex vårdplatser till palliativa vårdplatser.", "2021 HSN"]
    assert joined_short(row, to_next=False) == ["Uppdrag Tidplan Omvandla sex vårdplatser till palliativa vårdplatser. 2021 HSN"]
    contents = ["Primärvård, psykiatri, rehabilitering och habilitering 15", "Sjukhusvård 16", "Folktandvård 17",
                "Rättspsykiatri 18", "Systematik för uppföljning av målen 18", "Mål och mått 18"]
    assert joined_short(contents, to_next=False) == [  # headings and pages are not a row's cells
        "Primärvård, psykiatri, rehabilitering och habilitering 15", "Sjukhusvård 16 Folktandvård 17 Rättspsykiatri 18",
        "Systematik för uppföljning av målen 18 Mål och mått 18"]
    assert joined_short(["2021 HSN", "En utredning om vårdplatser ska genomföras i år."]) == [
        "2021 HSN En utredning om vårdplatser ska genomföras i år."]


def test_a_piece_cites_the_lines_it_stands_on():
    lines = {("a.txt", 10): "Första meningen står här.", ("a.txt", 11): "Den andra meningen börjar här",
             ("a.txt", 12): "och slutar på raden efter."}
    assert lines_of("Den andra meningen börjar här och slutar på raden efter.", lines, "a.txt", 10, 12) == (11, 12)
    assert lines_of("Något som inte står i källan alls.", lines, "a.txt", 10, 12) == (10, 12)
