from pathlib import Path

import pytest

from assistant.ingest import (SkippedFile, clean_lines, info_without_manifest, join_hyphenated, load_manifest,
                              read_document, scan_corpus)
from assistant.settings import PROJECT_ROOT

CORPUS = PROJECT_ROOT / "corpus"


def test_manifest_covers_the_five_documents():
    manifest = load_manifest(CORPUS)
    assert len(manifest) == 5
    assert {i.source_file for i in manifest.values()} == {
        "000_9b54efb63f6214a5.txt", "001_d436ddedb8252149.txt", "002_b12d27c0afef24ca.txt",
        "003_993d9c722ecec77e.txt", "004_8de1547e5698a2e5.txt"}
    proposal = next(i for i in manifest.values() if i.source_file.startswith("002"))
    assert "förslag" in proposal.kind_label and "inte den antagna" in proposal.kind_label
    for info in manifest.values():
        assert (CORPUS / info.file).is_file()


@pytest.mark.parametrize("lines, expected", [
    (["främja hälsa, håll-", "barhet och tillväxt"], ["främja hälsa, hållbarhet", "och tillväxt"]),
    (["natio-", "nella mål om miljö"], ["nationella", "mål om miljö"]),
    (["inom hälso-", "och sjukvård"], ["inom hälso-", "och sjukvård"]),
    (["den regionala utvecklings- ", "strategin."], ["den regionala utvecklingsstrategin.", ""]),
    (["håll-", "", "barhet."], ["hållbarhet.", "", ""]),
    (["Covid-", "19 påverkade"], ["Covid-", "19 påverkade"]),
    (["Region Kronoberg -", "en region"], ["Region Kronoberg -", "en region"]),
])
def test_hyphenation(lines, expected):
    assert join_hyphenated([l.strip() for l in lines]) == expected


def test_cleaning_keeps_line_numbers_and_strips_damage():
    raw = ["<i>Varav:</i> hälso-", "", "och sjukvård", "växthusgaser11 ska minska med 4,2 procent", "   "]
    lines = clean_lines(raw)
    assert [(l.no, l.text) for l in lines] == [
        (1, "Varav: hälso-"), (3, "och sjukvård"), (4, "växthusgaser ska minska med 4,2 procent")]


def test_footnote_digits_do_not_eat_numbers():
    lines = clean_lines(["år 2028 ska andelen vara 95 procent", "mål3 och 2,5 mnkr"])
    assert lines[0].text == "år 2028 ska andelen vara 95 procent"
    assert "2,5 mnkr" in lines[1].text


def test_real_corpus_lines_point_at_source():
    scan = scan_corpus(CORPUS)
    assert not scan.skipped and len(scan.documents) == 5
    for doc in scan.documents:
        for line in doc.lines[::25]:
            raw = doc.raw_lines[line.no - 1]
            first_word = line.text.split()[0]
            assert first_word[:3] in raw.replace("<i>", "").replace("</i>", ""), (doc.file, line)


@pytest.mark.parametrize("name, content, reason", [
    ("tom.txt", b"", "tom"),
    ("binar.txt", b"\x00\x01\x02PK\x03\x04" * 100, "binär"),
    ("latin1.txt", "Växjö är en stad".encode("cp1252"), "UTF-8"),
    ("trasig.pdf", b"%PDF-1.4 this is not really a pdf", "PDF"),
    ("trasig.docx", b"PK not a zip", "Word"),
])
def test_bad_files_are_skipped_with_a_message(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(SkippedFile) as err:
        read_document(path, info_without_manifest(path))
    assert name in str(err.value) and reason in str(err.value)


def test_scan_skips_bad_files_and_keeps_the_rest(tmp_path):
    (tmp_path / "bra dokument åäö.txt").write_text("Region Kronoberg har ett mål.\n", encoding="utf-8")
    (tmp_path / "tom.txt").write_bytes(b"")
    (tmp_path / "bild.png").write_bytes(b"\x89PNG")
    scan = scan_corpus(tmp_path)
    assert [d.file for d in scan.documents] == ["bra dokument åäö.txt"]
    assert scan.documents[0].info.title == "Bra dokument åäö" and not scan.documents[0].info.in_manifest
    assert len(scan.skipped) == 1 and "tom.txt" in scan.skipped[0]


def test_pdf_pages_become_page_numbers(tmp_path):
    pypdf = pytest.importorskip("pypdf")
    from pypdf.generic import NameObject, DecodedStreamObject, DictionaryObject

    writer = pypdf.PdfWriter()
    for text in ("Forsta sidan om sjukfranvaro.", "Andra sidan om kollektivtrafik."):
        page = writer.add_blank_page(width=300, height=300)
        font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                                 NameObject("/BaseFont"): NameObject("/Helvetica")})
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
        stream = DecodedStreamObject()
        stream.set_data(f"BT /F1 12 Tf 20 200 Td ({text}) Tj ET".encode())
        page[NameObject("/Contents")] = writer._add_object(stream)
    path = tmp_path / "rapport.pdf"
    with path.open("wb") as fh:
        writer.write(fh)
    doc = read_document(path, info_without_manifest(path))
    assert [(l.page, l.text.split()[0]) for l in doc.lines] == [(1, "Forsta"), (2, "Andra")]


def test_docx_is_read(tmp_path):
    docx = pytest.importorskip("docx")
    document = docx.Document()
    document.add_paragraph("Målet är att sjukfrånvaron ska minska.")
    path = tmp_path / "notat.docx"
    document.save(path)
    doc = read_document(path, info_without_manifest(path))
    assert doc.lines[0].text == "Målet är att sjukfrånvaron ska minska."


def test_docx_is_read_in_document_order(tmp_path):
    """A table between two paragraphs stays between them: its caption on the line above it, its rows next,
    then the paragraph after it (python-docx's `paragraphs` and `tables` would put the table last)."""
    docx = pytest.importorskip("docx")
    from assistant.tables import extract_tables

    document = docx.Document()
    document.add_paragraph("Sjukfrånvaron ska minska under planperioden.")
    document.add_paragraph("Tabell 1. Sjukfrånvaro, procent")
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate([("Indikator", "Utfall 2023", "Mål 2028"), ("Sjukfrånvaro", "5,6", "4,5"),
                             ("Korttidssjukfrånvaro", "2,1", "1,8")]):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    table.cell(2, 0).add_paragraph("(dag 1–14)")  # a cell of two paragraphs stays one line
    document.add_paragraph("Uppföljning sker i delårsrapporterna.")
    path = tmp_path / "plan.docx"
    document.save(path)

    doc = read_document(path, info_without_manifest(path))
    assert [(line.no, line.text) for line in doc.lines] == [
        (1, "Sjukfrånvaron ska minska under planperioden."),
        (2, "Tabell 1. Sjukfrånvaro, procent"),
        (3, "Indikator\tUtfall 2023\tMål 2028"),
        (4, "Sjukfrånvaro\t5,6\t4,5"),
        (5, "Korttidssjukfrånvaro (dag 1–14)\t2,1\t1,8"),
        (6, "Uppföljning sker i delårsrapporterna."),
    ]
    tables, cells = extract_tables(doc)
    assert [(t.caption, t.line_start, t.line_end) for t in tables] == [("Tabell 1. Sjukfrånvaro, procent", 3, 5)]
    target = next(c for c in cells if c.row == "Sjukfrånvaro" and c.column == "Mål 2028")
    assert (target.value_text, target.line) == ("4,5", 4)
