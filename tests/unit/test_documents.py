from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from benchmint.errors import SourceError
from benchmint.records import sha256_text
from corpora.documents import load_documents

FACTS = [
    "The Orrin-7 pump delivers 340 litres per minute at a head of 12 metres.",
    "Maintenance crews replace the Orrin-7 impeller every 1,800 operating hours.",
    "The pump was designed by Elspeth Marrow at the Dunmere works in 2024.",
]


def test_reads_every_format_recursively(tmp_path, pdf_factory):
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / "a.md").write_text("# Pump notes\n\n" + " ".join(FACTS), encoding="utf-8")
    (tmp_path / "sub" / "b.txt").write_text("Plain notes. " + FACTS[1], encoding="utf-8")
    (tmp_path / "sub" / "deeper" / "c.html").write_text(
        "<html><head><title>Pump page</title></head><body><h1>Pump</h1><p>" + " ".join(FACTS) + "</p></body></html>",
        encoding="utf-8")
    pdf = pdf_factory("d.pdf", FACTS, title="Orrin-7 datasheet")
    pdf.rename(tmp_path / "sub" / "d.pdf")
    docs, skipped = load_documents([str(tmp_path)])
    assert skipped == []
    by_fmt = {d.format: d for d in docs}
    assert set(by_fmt) == {"md", "txt", "html", "pdf"}
    assert by_fmt["md"].title == "Pump notes"
    assert by_fmt["html"].title == "Pump page"
    assert by_fmt["pdf"].title == "Orrin-7 datasheet"
    assert "340 litres per minute" in by_fmt["pdf"].text
    assert "1,800 operating hours" in by_fmt["html"].text
    for d in docs:
        assert d.id == sha256_text(d.text)


def test_bad_files_are_skipped_with_reasons(tmp_path, pdf_factory):
    good = tmp_path / "good.md"
    good.write_text("# Good\n\n" + " ".join(FACTS), encoding="utf-8")
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "blob.bin").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02PK\x03\x04" * 100)
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 au lait costs 3 euros in the Dunmere canteen.".encode("latin-1"))
    (tmp_path / "corrupt.pdf").write_bytes(b"%PDF-1.7\n1 0 obj<<>>garbage\n%%EOF" + bytes(range(200)))
    src = pdf_factory("plain.pdf", FACTS)
    writer = PdfWriter()
    for page in PdfReader(str(src)).pages:
        writer.add_page(page)
    writer.encrypt(user_password="secret", owner_password="owner")
    with open(tmp_path / "locked.pdf", "wb") as fh:
        writer.write(fh)
    src.unlink()

    docs, skipped = load_documents([str(tmp_path)])
    # latin-1 is read as cp1252 (its superset for printable text), not refused
    assert [Path(d.source).name for d in docs] == ["good.md", "latin1.txt"]
    assert docs[1].text.startswith("Café au lait") and docs[1].metadata == {"encoding": "cp1252"}
    reasons = {Path(s.source).name: s.reason for s in skipped}
    assert set(reasons) == {"empty.txt", "blob.bin", "binary.txt", "corrupt.pdf", "locked.pdf"}
    assert "empty" in reasons["empty.txt"]
    assert "unsupported file type" in reasons["blob.bin"]
    assert "binary" in reasons["binary.txt"]
    assert "PDF" in reasons["corrupt.pdf"]
    assert "encrypted" in reasons["locked.pdf"]


def test_duplicate_content_is_reported_once(tmp_path):
    for name in ("one.txt", "two.txt"):
        (tmp_path / name).write_text("Same words in both files, about the Orrin-7 pump.", encoding="utf-8")
    docs, skipped = load_documents([str(tmp_path)])
    assert len(docs) == 1 and len(skipped) == 1 and "same content" in skipped[0].reason


def test_missing_source_is_a_clear_error(tmp_path):
    with pytest.raises(SourceError, match="no such file or folder"):
        load_documents([str(tmp_path / "nope")])
