"""Write a hostile-input corpus: every kind of entry a walked source folder can hold that is not a plain,
readable document (and some that are, in odd shapes).

    python examples/hostile/make_corpus.py OUT_FOLDER

`make_corpus(folder)` returns what it wrote: each top-level-reportable name (relative to the folder, as
the loader reports it: corpora.walk.display_name) -> the expected outcome, "loaded", a skip kind
(corpora.skip.KINDS), or "skipped" where more than one reason is right (a truncated PDF may read as
corrupt or as empty). Entries that need a privilege or OS feature that is missing are left out of the
map (and of the folder). Nothing is downloaded; the PDFs are written by hand (pypdf encrypts one).
"""

from __future__ import annotations

import base64
import codecs
import io
import os
import random
import socket
import stat
import sys
import zipfile
import zlib
from pathlib import Path

PROSE = (
    "The Orrin-7 pump delivers 340 litres per minute at a head of 12 metres. Maintenance crews replace the "
    "impeller every 1,800 operating hours, and the seals every second service. The pump was designed by "
    "Elspeth Marrow at the Dunmere works in 2024, after the old units failed during the spring floods."
)
OTHER = [
    "The Kestrel valve closes in 0.4 seconds when the line pressure drops below 2 bar.",
    "Technicians at the Hallam depot log every valve test in the blue ledger kept by the door.",
    "A spare Kestrel valve is stored in crate 17, next to the gasket kits and the torque wrench.",
    "The Dunmere works switched to recycled steel for the pump housings in the autumn of 2025.",
    "Night shifts at the Hallam depot end at six, when the morning crew takes over the pumps.",
    "The blue ledger records the date, the technician, the valve number and the measured closing time.",
]


def para(i: int) -> str:
    """A distinct paragraph of prose (documents must differ, or they are duplicates)."""
    return f"Section {i}. " + OTHER[i % len(OTHER)] + " " + PROSE + f" This note is number {i} of the set."


def pdf_bytes(lines: list[str], title: str | None = None, compress_to: int = 0) -> bytes:
    """A small valid PDF with one page of Helvetica text (or, with compress_to, a content stream that
    inflates to that many bytes of text operators: a decompression bomb)."""
    def esc(s: str) -> str:
        return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").replace("\n", "\\n").replace("\r", "\\r")

    ops = "BT /F1 10 Tf 40 800 Td 12 TL " + " ".join(f"({esc(line)}) Tj T*" for line in lines) + " ET"
    if compress_to:
        unit = b"(word) Tj T* "
        co = zlib.compressobj(9)
        body = co.compress(b"BT /F1 10 Tf 40 800 Td 12 TL ")
        chunk = unit * (2**20 // len(unit))
        for _ in range(compress_to // len(chunk)):
            body += co.compress(chunk)
        body += co.compress(b" ET") + co.flush()
        stream_dict = f"<< /Length {len(body)} /Filter /FlateDecode >>".encode()
    else:
        body = ops.encode("latin-1", "replace")
        stream_dict = f"<< /Length {len(body)} >>".encode()
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        stream_dict + b"\nstream\n" + body + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Title ({esc(title or 'Untitled')}) >>".encode("latin-1", "replace"),
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body_ in enumerate(objs, 1):
        offsets.append(out.tell())
        out.write(f"{i} 0 obj\n".encode() + body_ + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode())
    for off in offsets:
        out.write(f"{off:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R /Info 6 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def _encrypted(pdf: bytes, user_password: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        writer.add_page(page)
    writer.encrypt(user_password=user_password, owner_password="owner-secret")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def make_corpus(root: str | os.PathLike[str]) -> dict[str, str]:
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    rng = random.Random(12)
    expect: dict[str, str] = {}
    n = iter(range(1000))

    def put(name: str | bytes, data: bytes | str, outcome: str) -> Path:
        raw = name if isinstance(name, bytes) else os.fsencode(name)
        path = Path(os.fsdecode(os.path.join(os.fsencode(root), raw)))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        expect[_name(raw)] = outcome
        return path

    def text(i: int | None = None) -> str:
        return para(next(n) if i is None else i)

    # --- plain documents, and documents in odd encodings and shapes: all loaded
    put("good.md", f"# Pump notes\n\n{text()}\n\n{text()}\n", "loaded")
    put("good.txt", text() + "\n", "loaded")
    put("good.html", f"<html><head><title>Pump page</title></head><body><h1>Pump</h1><p>{text()}</p></body></html>",
        "loaded")
    put("good.pdf", pdf_bytes([text()[i:i + 90] for i in range(0, 270, 90)], title="Orrin-7 datasheet"), "loaded")
    put("UPPER.TXT", text(), "loaded")
    put("utf8-bom.md", codecs.BOM_UTF8 + text().encode(), "loaded")
    put("utf16le-bom.txt", codecs.BOM_UTF16_LE + text().encode("utf-16-le"), "loaded")
    put("utf16be-bom.md", codecs.BOM_UTF16_BE + text().encode("utf-16-be"), "loaded")
    put("utf16le-nobom.txt", text().encode("utf-16-le"), "loaded")
    put("utf32-bom.txt", codecs.BOM_UTF32_LE + text().encode("utf-32-le"), "loaded")
    put("latin1.txt", ("Café crème à Dunmere. " + text()).encode("latin-1"), "loaded")
    put("cp1252.txt", ("“Quoted” — and dashed… " + text()).encode("cp1252"), "loaded")
    put("latin1-meta.html", ('<html><head><meta charset="iso-8859-1"><title>Caf\xe9</title></head><body><p>Caf\xe9 '
                             + text() + "</p></body></html>").encode("latin-1"), "loaded")
    put("mac-cr.txt", text().replace(". ", ".\r"), "loaded")
    put("crlf.md", "# Windows\r\n\r\n" + text().replace(". ", ".\r\n"), "loaded")
    put("tabs-formfeed.txt", text() + "\f\t" + text() + "\f", "loaded")
    put("zero-width.md", text().replace(" ", " \u200b") + " \u200e\u202a done \u202c", "loaded")
    put("spaces-then-prose.txt", " " * 80_000 + text() + " " * 80_000 + "\n" + text(), "loaded")
    put("long-line.txt", " ".join(text() for _ in range(400)).replace("\n", " ") + f" {next(n)}", "loaded")
    put("many-paragraphs.md", "\n\n".join(f"Line {i}: " + OTHER[i % 6] for i in range(20_000)), "loaded")
    put("frontmatter.md", f"---\ntitle: x\ntags: [a, b]\n---\n\n# Front matter\n\n{text()}", "loaded")
    put("heading-control.md", f"# Title \x1b[31mred\x1b[0m\n\n{text()}", "loaded")
    put("title-newline.html", f"<html><head><title>Report\n# Injected heading\n\n- item</title></head><body><p>{text()}"
                              "</p></body></html>", "loaded")
    put("title-newline.pdf", pdf_bytes([text()[:90], "more text about the pump and its crews"],
                                       title="Datasheet\n# Injected heading\n\n> quote"), "loaded")
    put("attr-bomb.html", f'<html><body><img src="data:image/png;base64,{"QUJD" * 250_000}"><p>{text()}</p></body></html>',
        "loaded")
    put("nested-div.html", "<html><body>" + "<div>" * 5000 + f"<p>{text()}</p>" + "</div>" * 5000 + "</body></html>",
        "loaded")
    put("nested-deep.html", "<html><body>" + "<div><span>" * 50_000 + text() + "</body></html>", "loaded")
    put("nested-table.html", "<table><tr><td>" * 600 + text() + "</td></tr></table>" * 600, "loaded")
    put("unclosed-tags.html", "<div><p><span><b><i>" * 20_000 + text(), "loaded")
    put("unclosed-title-prose.html", "<title>" * 12_000 + f"<p>{text()}</p>", "loaded")
    put("unclosed-script.html", f"<p>{text()}</p>" + "<script>var a = 1;" * 10_000, "loaded")
    put("unclosed-comment.html", f"<p>{text()}</p>" + "<!-- open " * 10_000, "loaded")
    put("deep/" + "/".join(f"d{i}" for i in range(30)) + "/deep.md", text(), "loaded")
    put("sub/nested.md", text(), "loaded")
    put(b"caf\xe9-latin1-name.md", text(), "loaded")  # a file name that is not UTF-8
    put("evil\n# heading name.md", text(), "loaded")  # a newline in a file name
    put("\u202etxt.md", text(), "loaded")  # a right-to-left override in a file name
    put("n" * 200 + ".md", text(), "loaded")

    # --- not prose, not text, nothing in it
    put("empty.txt", b"", "empty")
    put("spaces.txt", " " * 80_000, "empty")
    put("newlines.md", "\n" * 80_000, "empty")
    put("control.txt", bytes(rng.choice([*range(1, 9), *range(14, 32)]) for _ in range(16_384)), "not-prose")
    put("ansi-soup.txt", "".join(f"\x1b[{rng.randint(0, 99)}m\x07" for _ in range(4000)) + text(), "not-prose")
    put("base64.txt", base64.encodebytes(rng.randbytes(60_000)), "not-prose")
    put("base64-oneline.md", base64.b64encode(rng.randbytes(150_000)) + b"\n\nSee above, the attached file.", "not-prose")
    put("hexdump.txt", "\n".join(f"{i * 16:08x}: " + " ".join(rng.randbytes(2).hex() for _ in range(8)) + "  ................"
                                  for i in range(3000)), "not-prose")
    put("hexstring.txt", rng.randbytes(50_000).hex(), "not-prose")
    put("minified.txt", "!function(e,t){'use strict';var n=e.document,r=[];" + ";".join(
        f"r.push(function(a,b){{return a*{i}+b.k{i}||n.q{i}}})" for i in range(5000)) + "}(window);", "not-prose")
    put("long-word.txt", "x" * 200_000 + " " + OTHER[0], "not-prose")
    put("tiny.txt", "hello", "too-short")
    put("numbers.txt", "\n".join(",".join(str(rng.randint(0, 9999)) for _ in range(10)) for _ in range(2000)), "not-prose")
    put("emoji.md", "🚀🔥💯 " * 5000, "not-prose")
    put("script-only.html", "<html><head><script>" + "var x = 'the pump and the valve';" * 500 + "</script></head></html>",
        "too-short")
    put("style-only.html", "<html><head><style>" + "p { color: red; }" * 2000 + "</style></head><body></body></html>",
        "too-short")
    put("comment-only.html", "<html><body><!-- " + text() + " --></body></html>", "too-short")
    put("svg-text.html", "<html><body><svg><text>" + text() + "</text></svg></body></html>", "loaded")
    put("unclosed-title-only.html", "<title>" * 12_000, "skipped")
    put("entities.html", "<p>" + "&amp; " * 50_000 + "</p>", "not-prose")
    put("lt-soup.html", "<" * 100_000 + text(), "not-prose")
    put("billion-laughs.html", '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(f'<!ENTITY lol{i} "' + f"&lol{i - 1 if i > 1 else ''};" * 10 + '">' for i in range(1, 10))
        + "]><html><body><p>&lol9;</p></body></html>", "skipped")
    put("nul-bytes.txt", text().replace(" ", " \x00"), "binary")
    put("random.md", rng.randbytes(4096) + b"\x00", "binary")
    put("png-image.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + rng.randbytes(2000), "binary")
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.txt", text())
    put("archive-as.txt", zbuf.getvalue(), "binary")
    put("utf16-broken.txt", codecs.BOM_UTF16_LE + text().encode("utf-16-le") + b"\x00\xd8A", "encoding")
    with open(put("huge.txt", b"", "too-large"), "r+b") as fh:
        fh.truncate(60 * 2**20)  # sparse: over the default 50 MB cap without using the disk

    # --- PDFs that are not documents
    good_pdf = pdf_bytes([text()[:90], "and more words about the valve crews"], title="Fine")
    put("truncated.pdf", good_pdf[: len(good_pdf) // 2], "skipped")
    put("garbage.pdf", rng.randbytes(3000), "corrupt")
    put("html-as.pdf", f"<html><body><p>{text()}</p></body></html>", "corrupt")
    put("blank.pdf", pdf_bytes([], title="Blank"), "too-short")
    put("bomb.pdf", pdf_bytes([], title="Bomb", compress_to=64 * 2**20), "skipped")
    try:
        put("encrypted.pdf", _encrypted(pdf_bytes([text()[:90]], title="Locked"), "secret"), "encrypted")
        put("encrypted-empty-password.pdf", _encrypted(pdf_bytes([text()[:90], "the crews agree"], title="Open"), ""),
            "loaded")
    except ImportError:
        pass

    # --- types benchmint does not read
    put("notes.docx", zbuf.getvalue(), "unsupported")
    put("README", text(), "unsupported")
    put("data.json", '{"pump": "Orrin-7"}', "unsupported")
    put("run.sh", "#!/bin/sh\necho hi\n", "unsupported")

    # --- hidden entries (reported, not read)
    put(".hidden.md", text(), "hidden")
    put(".git/config", "[core]\n", "hidden")
    expect.pop(".git/config")
    expect[".git"] = "hidden"
    put("sub/.env", "OPENAI_API_KEY=sk-not-a-real-key\n", "hidden")

    # --- duplicates: same content, or a second path to the same file
    put("same-as-good.txt", (root / "good.txt").read_bytes(), "duplicate")

    # --- links
    def link(name: str, target: str, outcome: str) -> None:
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, p)
        expect[name] = outcome

    link("broken-link.md", "no-such-file.md", "link-broken")
    link("loop-a.md", "loop-b.md", "link-loop")
    link("loop-b.md", "loop-a.md", "link-loop")
    link("self-loop.txt", "self-loop.txt", "link-loop")
    link("outside-file.txt", "/etc/passwd", "link-outside")
    link("outside-dir", "/etc", "link-outside")
    link("parent-link", "..", "link-outside")
    link("sub/up", "..", "link-folder")
    link("inside-dir", "deep", "link-folder")
    link("link-to-good.txt", "good.txt", "duplicate")
    link(".hidden-link.md", "good.md", "hidden")
    link("sub/link-to-nested.md", "nested.md", "duplicate")

    # --- entries that are not files
    os.mkfifo(root / "fifo.txt")
    expect["fifo.txt"] = "special"
    link("link-to-fifo.md", "fifo.txt", "special")
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(str(root / "socket.md"))
        sock.close()
        expect["socket.md"] = "special"
    except OSError:
        pass
    try:
        os.mknod(root / "device.txt", 0o600 | stat.S_IFCHR, os.makedev(1, 3))
        expect["device.txt"] = "special"
    except (OSError, AttributeError):
        pass

    # --- permissions (root reads them anyway: then they are loaded, and the map says so)
    as_root = os.geteuid() == 0
    os.chmod(put("unreadable.txt", text(), "loaded" if as_root else "unreadable"), 0)
    put("locked/inside.md", text(), "loaded")
    os.chmod(root / "locked", 0)
    if not as_root:
        del expect["locked/inside.md"]
        expect["locked"] = "unreadable"
    return expect


def _name(raw: bytes) -> str:
    from corpora.walk import display_name

    return display_name(os.fsdecode(raw))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    if len(sys.argv) != 2:
        sys.exit("usage: make_corpus.py OUT_FOLDER")
    out = Path(sys.argv[1])
    if out.exists() and any(out.iterdir()):
        sys.exit(f"{out} is not empty; name a new folder")
    made = make_corpus(out)
    print(f"wrote {len(made)} entries to {out}")
