"""Document names found the way people write them: inflected, shortened, misspelt, in order."""

from assistant.document_names import MAX_GAP, DocumentNames
from assistant.text import period_years

NAMES = DocumentNames({
    "budget2021.txt": ["budget 2021", "alliansens budget 2021"],
    "program.txt": ["hållbarhetsprogram", "sustainability programme"],
    "forslag.txt": ["budgetförslag", "allians för kronoberg"],
    "delar.txt": ["delårsrapport", "interim report"],
})


def test_inflected_and_compound_forms_name_the_document():
    assert NAMES.named("Vad säger budgeten för 2021 om skatten?") == ("budget2021.txt",)
    assert NAMES.named("enligt hållbarhetsprogrammets delmål") == ("program.txt",)
    assert NAMES.named("i delårsrapporten") == ("delar.txt",)


def test_shortenings_typos_and_two_digit_years():
    assert NAMES.named("hållbarhetsprog mål 2028") == ("program.txt",)
    assert NAMES.named("i delårsraport per mars") == ("delar.txt",)
    assert NAMES.named("budget21 resultat") == ("budget2021.txt",)
    assert NAMES.named("according to the sustainability programe") == ("program.txt",)


def test_a_word_of_its_own_is_not_a_shortening_and_short_words_get_no_typo():
    # "budget" begins "budgetförslag" but is a word of its own; "budget" alone names no document
    assert NAMES.named("Vad är budgeten för kollektivtrafiken?") == ()
    assert NAMES.named("Vad blev utfallet 2021?") == ()


def test_the_words_of_a_name_must_stand_together_in_order():
    assert NAMES.named("budget för år 2021") == ("budget2021.txt",)  # one word between
    far = "budget " + "x " * (MAX_GAP + 1) + "2021"
    assert NAMES.named(far) == ()
    assert NAMES.named("2021 års budget") == ()  # not in the name's order


def test_several_documents_in_manifest_order():
    assert NAMES.named("delårsrapporten jämfört med budget 2021") == ("budget2021.txt", "delar.txt")


def test_without_takes_the_names_out_with_the_owner_before_them():
    assert NAMES.without("Vad säger budgeten för 2021 om skatten?") == "Vad säger om skatten?"
    assert NAMES.without("Vad vill oppositionens budgetförslaget om läkare?") == "Vad vill om läkare?"
    assert NAMES.without("Vad är sjukfrånvaron?") == "Vad är sjukfrånvaron?"


def test_compound_shortenings_and_compounds_that_end_in_a_name():
    assert NAMES.named("max sjukfrånvaro 2028 hållbprog?") == ("program.txt",)
    assert NAMES.named("hållbhetsprog mål") == ("program.txt",)
    assert NAMES.named("enligt hållbarhetsprogrammet") == ("program.txt",)  # doubled consonant, then an ending
    assert NAMES.named("budgetram 2021") == ()  # "ram" is another word, not an ending


SHARED = DocumentNames({"budget2021.txt": ["budget 2021", "alliansen"],
                        "forslag.txt": ["budgetförslag", "alliansen", "oppositionsalliansen"]},
                       {"budget2021.txt": period_years("2021–2023"), "forslag.txt": {2023} | period_years("2025–27")})


def test_a_shared_name_names_the_document_whose_period_holds_the_year():
    assert SHARED.named("alliansens budgeterade resultat 2026") == ("forslag.txt",)
    assert SHARED.named("vad ville alliansen satsa 2022?") == ("budget2021.txt",)
    assert SHARED.named("Vad vill alliansen?") == ()  # the years do not settle it
    assert SHARED.named("alliansens bokslut 2023") == ()  # both speak of 2023
    assert SHARED.named("Vad vill oppositionsalliansen?") == ("forslag.txt",)  # a name of its own
    assert SHARED.named("alliansen i budget 2021 och 2025") == ("budget2021.txt",)  # named outright


def test_a_document_speaks_of_the_years_of_its_period_and_tables():
    assert SHARED.speak_of(["budget2021.txt"], 2022) and not SHARED.speak_of(["budget2021.txt"], 2025)
    assert SHARED.speak_of(["budget2021.txt", "forslag.txt"], 2025)
    assert SHARED.speak_of(["okänd.txt"], 2025)  # a document whose years are not known is taken to
