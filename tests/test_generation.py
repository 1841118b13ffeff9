"""The LLM prompt (the verified release has its own tests)."""

from assistant.generation import by_document, llm_messages
from assistant.records import DocumentInfo, Evidence

INFO = DocumentInfo(file="a.txt", source_file="000.txt", cite="Dok A", title="Dokument A", kind="programme",
                    kind_label="program")


def _evidence(text: str) -> Evidence:
    return Evidence(text, INFO, "Avsnitt", 10, 10, None, 1.0)


def test_the_llm_prompt_names_each_document_once_above_its_items(monkeypatch):
    monkeypatch.setattr("assistant.generation.MAX_LLM_EVIDENCE", 3)
    other = DocumentInfo(file="b.txt", source_file="001.txt", cite="Dok B", title="Dokument B", kind="budget",
                         kind_label="antagen budget")
    first, second, third = _evidence("första"), Evidence("andra", other, "", 1, 1, None, 0.9), _evidence("tredje")
    grouped = by_document([first, second, third])
    assert grouped == [first, third, second]  # the first item stays [1]
    user = llm_messages("Fråga?", grouped, "sv")[1]["content"]
    assert user.count("program") == 1 and user.count("antagen budget") == 1
    assert "Dok A (program):\n[1] första\n[2] tredje\nDok B (antagen budget):\n[3] andra" in user
