"""Test data the web app's tests share (tests/test_app.py, tests/test_web_*.py): three documents, an
answer with a table cell, a fake assistant that always gives that answer, and a small corpus."""

from __future__ import annotations

import shutil
from pathlib import Path

from assistant.records import DocumentInfo
from assistant.settings import PROJECT_ROOT

EXAMPLE = "Vad är målvärdet för sjukfrånvaro 2028?"

PROGRAMME = DocumentInfo(file="hallbarhetsprogram-2024-2028.txt", source_file="001.txt",
                         cite="Hållbarhetsprogram 2024–2028", title="Hållbarhetsprogram 2024–2028", kind="programme",
                         kind_label="hållbarhetsprogram fastställt av regionfullmäktige", author="Region Kronoberg",
                         period="2024–2028", written="2023", status="Fastställt av regionfullmäktige",
                         description="Program <för> hållbar utveckling.")
STRATEGY = DocumentInfo(file="nara.txt", source_file="004.txt", cite="Nära Kronobergaren", title="Nära Kronobergaren",
                        kind="strategy", kind_label="gemensam utvecklingsstrategi", period="målbild 2036",
                        written="2025-09-30", status="Gemensam strategi")
INTERIM = DocumentInfo(file="delars.txt", source_file="003.txt", cite="Delårsrapport mars 2024", title="Delårsrapport",
                       kind="interim_report", kind_label="delårsrapport", written="april–maj 2024",
                       period="januari–mars 2024, med jämförelser och helårsprognos")
DOCS = {d.file: d for d in (PROGRAMME, STRATEGY, INTERIM)}

CELL_ANSWER = {
    "question": EXAMPLE, "standalone_question": EXAMPLE, "refused": False, "mode": "extractive", "notice": "",
    "answer": "Enligt Hållbarhetsprogram 2024–2028 (hållbarhetsprogram fastställt av regionfullmäktige): "
              "Sjukfrånvaro, Mål 2028: max 4,5 procent [1].",
    "citations": [{"n": 1, "file": PROGRAMME.file, "source_file": "001.txt", "title": PROGRAMME.title,
                   "cite": PROGRAMME.cite, "kind_label": PROGRAMME.kind_label,
                   "section": "Delmål 2028 > Sjukfrånvaro", "line_start": 120, "line_end": 120, "page": None,
                   "quote": "År 2028 ska: - sjukfrånvaron vara max 4,5 procent. <script>alert(1)</script>"}],
    "cells": [{"table_id": "t7", "file": PROGRAMME.file, "line": 120, "row": "Sjukfrånvaro", "column": "Mål 2028",
               "value_text": "4,5", "value": 4.5, "unit": "procent", "year": 2028, "column_kind": "mål",
               "comparator": "max", "uncertain": False, "page": None}],
}
CELL_ANSWER["citations"][0]["cell"] = CELL_ANSWER["cells"][0]  # the citation carries the cell it cites


class FakeAssistant:
    """Answers every question with the cell answer above; records what it was asked."""

    llm = None

    def __init__(self, warm_fails: bool = False) -> None:
        self.documents = DOCS
        self.asked: list = []
        self.warm_fails = warm_fails

    def ask(self, question, history=None, documents=None, mode=None):
        from assistant.records import Answer, Cell, Citation

        self.asked.append((question, history, documents))
        data = CELL_ANSWER
        return Answer(question=question, text=data["answer"], refused=False, mode="extractive",
                      citations=[Citation(**dict(data["citations"][0], cell=Cell(**data["cells"][0])))],
                      cells=[Cell(**data["cells"][0])],
                      standalone_question=question, verification="not_needed", timings={"total_s": 0.01})

    def ask_stream(self, question, history=None, documents=None, mode=None):
        from assistant.chat import StreamEvent

        yield StreamEvent("final", answer=self.ask(question, history, documents, mode))

    def warm_up_llm(self):
        if self.warm_fails:
            raise RuntimeError("the model file is broken")


CORPUS = PROJECT_ROOT / "corpus"
PROGRAMME_FILE = "hallbarhetsprogram-2024-2028.txt"


def hostile_corpus(tmp_path: Path) -> Path:
    """A corpus of one document (the sustainability programme) beside everything a request must not reach:
    a file outside it, symbolic links out of it and into it, a subdirectory, a hidden file."""
    target = tmp_path / "corpus"
    target.mkdir()
    shutil.copy(CORPUS / PROGRAMME_FILE, target / PROGRAMME_FILE)
    shutil.copy(CORPUS / "manifest.toml", target / "manifest.toml")
    (tmp_path / "outside.txt").write_text("HEMLIG FIL UTANFÖR KORPUSEN\n", encoding="utf-8")
    (target / "lank-ut.txt").symlink_to(tmp_path / "outside.txt")
    (target / "lank-in.txt").symlink_to(target / PROGRAMME_FILE)
    (target / "underkatalog").mkdir()
    (target / "underkatalog" / "dold.txt").write_text("HEMLIG I UNDERKATALOG\n", encoding="utf-8")
    (target / ".dold.txt").write_text("HEMLIG DOLD FIL\n", encoding="utf-8")
    return target
