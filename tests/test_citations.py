"""Citations resolved in code; numbers must stand in the evidence."""

from assistant.citations import resolve_citations, unsupported_numbers
from assistant.records import DocumentInfo, Evidence

INFO = DocumentInfo(file="a.txt", source_file="000.txt", cite="Dok A", title="Dokument A", kind="programme",
                    kind_label="program")


def _evidence(text: str) -> Evidence:
    return Evidence(text, INFO, "Avsnitt", 10, 10, None, 1.0)


def test_invented_citations_are_dropped_and_the_rest_renumbered():
    evidence = [_evidence("första"), _evidence("andra")]
    text, used = resolve_citations("Värdet är 4,5 [2]. Något annat [7]. Och [2] igen [1].", evidence)
    assert text == "Värdet är 4,5 [1]. Något annat. Och [1] igen [2]."
    assert [e.text for e in used] == ["andra", "första"]


def test_numbers_must_stand_in_the_evidence():
    evidence = ["sjukfrånvaron vara max 4,5 procent", "Driftram 1 515 mnkr"]
    assert not unsupported_numbers("Högst 4.5 procent [1] och 1515 mnkr [2].", evidence, "")
    assert unsupported_numbers("Högst 5,5 procent [1].", evidence, "") == {"5,5"}
    assert not unsupported_numbers("År 2028 gäller 4,5 [1].", evidence, "Vad gäller 2028?")
