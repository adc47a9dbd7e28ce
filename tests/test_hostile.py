"""Hostile input to the loader: the corpus written by examples/hostile/make_corpus.py (99 entries: links
that break, loop or leave the folder, FIFOs, sockets, devices, dot-files, files over the cap, control
characters, base64 and hex, UTF-16/32, cp1252, nested and unclosed HTML, broken and encrypted PDFs,
file names that are not UTF-8 or hold a newline...). Every entry must come back loaded or reported by
name with its reason, with no exception; a real CLI build from it must end without a traceback.
Speed (linear time) is measured in bench/loader_linear.py, not here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from benchmint.config import load_config
from benchmint.errors import ConfigError
from corpora.clean import clean_text, clean_title
from corpora.decode import decode_text
from corpora.documents import load_documents
from corpora.skip import KINDS
from corpora.walk import display_name
from examples.hostile.make_corpus import make_corpus, para, pdf_bytes
from tests.fixtures import REPO


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile") / "corpus"
    expect = make_corpus(root)
    yield root, expect
    if (root / "locked").exists():
        os.chmod(root / "locked", 0o755)  # so that pytest can remove it when not root


@pytest.fixture(scope="module")
def loaded(corpus):
    root, _ = corpus
    docs, skipped = load_documents([str(root)])
    prefix = display_name(root) + "/"
    assert all(x.source.startswith(prefix) for x in [*docs, *skipped])
    docs_by = {d.source.removeprefix(prefix): d for d in docs}
    skipped_by = {s.source.removeprefix(prefix): s for s in skipped}
    return docs_by, skipped_by, skipped


def test_every_entry_is_loaded_or_reported_by_name_with_its_reason(corpus, loaded):
    _, expect = corpus
    docs, skipped, skipped_list = loaded
    assert len(expect) >= 60
    assert len(skipped_list) == len(skipped), "an entry was reported twice"
    assert not set(docs) & set(skipped)
    got = {**{name: "loaded" for name in docs}, **{name: s.kind for name, s in skipped.items()}}
    assert set(got) == set(expect)
    wrong = {name: (want, got[name]) for name, want in expect.items()
             if got[name] != want and not (want == "skipped" and got[name] != "loaded")}
    assert wrong == {}
    for s in skipped.values():
        assert s.kind in KINDS and len(s.reason) > 10 and "\n" not in s.reason


def test_reasons_say_what_is_wrong(loaded):
    _, skipped, _ = loaded
    reason = {name: s.reason for name, s in skipped.items()}
    assert "/etc/passwd, outside the walked folder; not followed" in reason["outside-file.txt"]
    assert "not followed" in reason["outside-dir"] and "not followed" in reason["parent-link"]
    assert "inside the walked folder" in reason["sub/up"]
    assert "loop" in reason["loop-a.md"] and "loop" in reason["self-loop.txt"]
    assert "broken symbolic link" in reason["broken-link.md"] and "no-such-file.md" in reason["broken-link.md"]
    assert "FIFO" in reason["fifo.txt"] and "FIFO" in reason["link-to-fifo.md"]
    assert reason[".git"].startswith("hidden folder") and reason[".hidden.md"].startswith("hidden file")
    assert reason["huge.txt"].startswith("60.0 MB, over the cap of 50.0 MB per file (loader.max_file_mb)")
    assert reason["control.txt"].startswith("control characters (16384 of 16384")
    assert "base64" in reason["base64.txt"] and "base64" in reason["base64-oneline.md"]
    assert "hex dump" in reason["hexdump.txt"]
    assert "minified code or very long tokens" in reason["minified.txt"]
    assert "NUL" in reason["nul-bytes.txt"]
    assert "byte-order mark" in reason["utf16-broken.txt"]
    assert reason["empty.txt"] == "the file is empty" and "whitespace" in reason["spaces.txt"]
    assert "encrypted" in reason["encrypted.pdf"]
    assert "OCR" in reason["blank.pdf"]
    assert "unsupported file type '.docx'" in reason["notes.docx"]
    assert reason["link-to-good.txt"].endswith("/good.txt") and "same file" in reason["link-to-good.txt"]
    assert "same content" in reason["same-as-good.txt"]


def test_loaded_documents_are_safe_to_write_and_show(loaded):
    docs, skipped, _ = loaded
    # every record can be written as UTF-8 JSON (the old loader let a non-UTF-8 name crash publish)
    json.dumps([d.model_dump(mode="json") for d in docs.values()], ensure_ascii=False).encode("utf-8")
    json.dumps([s.model_dump() for s in skipped.values()], ensure_ascii=False).encode("utf-8")
    assert "caf\\xe9-latin1-name.md" in docs and "evil\\x0a# heading name.md" in docs and "\\u202etxt.md" in docs
    for d in docs.values():
        assert d.source.isprintable() and d.title.isprintable() and d.title.strip() == d.title
        assert "root:x:0:0" not in d.text  # the link to /etc/passwd was not followed
        assert "\u200b" not in d.text and "\x1b" not in d.text and "\x00" not in d.text
    assert docs["title-newline.pdf"].title == "Datasheet # Injected heading > quote"
    assert docs["title-newline.html"].title == "Report # Injected heading - item"
    assert docs["good.pdf"].title == "Orrin-7 datasheet" and docs["good.html"].title == "Pump page"
    for name, enc in [("utf16le-bom.txt", "utf-16-le"), ("utf16be-bom.md", "utf-16-be"), ("utf16le-nobom.txt", "utf-16-le"),
                      ("utf32-bom.txt", "utf-32-le"), ("latin1.txt", "cp1252"), ("cp1252.txt", "cp1252")]:
        assert "Orrin-7 pump delivers 340 litres" in docs[name].text and docs[name].metadata == {"encoding": enc}
    assert docs["latin1.txt"].text.startswith("Café crème à Dunmere.")
    assert docs["cp1252.txt"].text.startswith("“Quoted” — and dashed…")
    assert not docs["utf8-bom.md"].text.startswith("\ufeff")
    for name in ("nested-div.html", "nested-deep.html", "nested-table.html", "unclosed-tags.html",
                 "unclosed-title-prose.html", "unclosed-script.html", "attr-bomb.html"):
        assert "Orrin-7 pump delivers 340 litres" in docs[name].text, name
        assert len(docs[name].text) < 1000, name  # the prose, not the markup
    assert len(docs["spaces-then-prose.txt"].text) < 1000


def test_a_file_past_the_time_budget_is_stopped_and_the_next_one_is_read(tmp_path):
    (tmp_path / "bomb.pdf").write_bytes(pdf_bytes([], title="Bomb", compress_to=64 * 2**20))  # ~10 s in pypdf
    (tmp_path / "next.md").write_text(para(1), encoding="utf-8")
    docs, skipped = load_documents([str(tmp_path)], max_file_seconds=1.0)
    assert [Path(d.source).name for d in docs] == ["next.md"]
    assert [(Path(s.source).name, s.kind) for s in skipped] == [("bomb.pdf", "timeout")]
    assert "1 s budget per file (loader.max_file_seconds)" in skipped[0].reason


def test_loader_limits_are_config_keys(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "doc.md").write_text(para(2), encoding="utf-8")
    cfg_file = tmp_path / "b.yaml"
    cfg_file.write_text(f"name: x\nsources: [{tmp_path / 'docs'}]\nloader: {{max_file_mb: 0.0001, max_file_seconds: 5}}\n")
    cfg = load_config(cfg_file, {})
    assert (cfg.loader.max_file_mb, cfg.loader.max_file_seconds) == (0.0001, 5)
    docs, skipped = load_documents(cfg.sources, cfg.loader.max_file_mb, cfg.loader.max_file_seconds)
    assert docs == [] and skipped[0].kind == "too-large"
    assert "over the cap of 104 bytes per file (loader.max_file_mb)" in skipped[0].reason
    cfg_file.write_text(f"name: x\nsources: [{tmp_path / 'docs'}]\nloader: {{max_file_mb: 0}}\n")
    with pytest.raises(ConfigError, match="loader.max_file_mb"):
        load_config(cfg_file, {})


_AS_NOBODY = """
import json, os, sys
sys.path.insert(0, {repo!r})
from corpora.documents import load_documents  # imported first: the interpreter's files are root's
import corpora.reader  # noqa: F401
os.setgid(65534); os.setuid(65534)
docs, skipped = load_documents([{root!r}], max_file_seconds=0)
print(json.dumps({{"docs": [d.source for d in docs], "skipped": [[s.source, s.kind, s.reason] for s in skipped]}}))
"""


def test_unreadable_files_and_folders_are_reported():
    """Root reads files whatever their mode, so as root the check runs in a child that drops to `nobody`
    (after importing: the interpreter lives in root's home). Without that privilege it is skipped, saying so."""
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        root = Path(tmp)
        root.chmod(0o755)
        (root / "ok.txt").write_text(para(3), encoding="utf-8")
        (root / "secret.txt").write_text(para(4), encoding="utf-8")
        (root / "locked").mkdir()
        (root / "locked" / "inside.md").write_text(para(5), encoding="utf-8")
        (root / "secret.txt").chmod(0)
        (root / "locked").chmod(0)
        try:
            if os.geteuid() == 0:
                r = subprocess.run([sys.executable, "-c", _AS_NOBODY.format(repo=str(REPO), root=str(root))],
                                   capture_output=True, text=True, timeout=300)
                if r.returncode != 0 and "Operation not permitted" in r.stderr:
                    pytest.skip("running as root without the right to drop to nobody: unreadable entries untestable")
                assert r.returncode == 0, r.stderr
                out = json.loads(r.stdout)
                docs, skipped = out["docs"], out["skipped"]
            else:
                d, s = load_documents([str(root)], max_file_seconds=0)
                docs, skipped = [x.source for x in d], [[x.source, x.kind, x.reason] for x in s]
        finally:
            (root / "locked").chmod(0o755)
    assert [Path(x).name for x in docs] == ["ok.txt"]
    assert sorted((Path(src).name, kind, reason) for src, kind, reason in skipped) == [
        ("locked", "unreadable", "cannot read folder: Permission denied; nothing in it was read"),
        ("secret.txt", "unreadable", "cannot read: Permission denied"),
    ]


def test_decoding_cleaning_and_names():
    text = "Pump notes, café — “ok”"
    assert decode_text(b"\xef\xbb\xbf" + text.encode()) == (text, "utf-8")
    assert decode_text(b"\xff\xfe" + text.encode("utf-16-le")) == (text, "utf-16-le")
    assert decode_text(b"\xfe\xff" + text.encode("utf-16-be")) == (text, "utf-16-be")
    assert decode_text(text.encode("utf-16-be")) == (text, "utf-16-be")
    assert decode_text(b"\xff\xfe\x00\x00" + text.encode("utf-32-le")) == (text, "utf-32-le")
    assert decode_text(text.encode("cp1252")) == (text, "cp1252")
    assert clean_text("a  \t\n\n\n\n b\r\nc\x00\x07 d" + " " * 50 + "e\u200b") == "a\n\n b\nc d e"
    assert clean_title("  Line one\n# Two\x1b[0m\t ") == "Line one # Two[0m"
    assert len(clean_title("x" * 500)) == 200
    assert display_name(os.fsdecode(b"/d/caf\xe9\n.md")) == "/d/caf\\xe9\\x0a.md"
    assert display_name("/d/\u202egnp.md") == "/d/\\u202egnp.md" and display_name("/d/été.md") == "/d/été.md"


def test_a_real_build_from_the_hostile_corpus_ends_without_a_traceback(corpus, tmp_path, cache_dir):
    """The CLI `build` on the SmolLM2 model: it publishes, or says in one line that nothing was accepted."""
    root, expect = corpus
    cfg = tmp_path / "hostile.yaml"
    cfg.write_text(f"name: hostile\nsources: [{root}]\nquestions: 1\ncache_dir: {cache_dir}\n"
                   f"output_dir: {tmp_path / 'out'}\n"
                   "models: {generator: {model: 'local:smollm2-135m', max_tokens: 200}}\n"
                   "generation: {questions_per_chunk: 1, batch_chunks: 1}\ncontamination: {builtin: false}\n"
                   "adaptive: {max_tokens: 150}\n")  # one generation step: the loader is what is under test
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    r = subprocess.run([sys.executable, "-m", "benchmint.cli", "build", "--config", str(cfg)], cwd=tmp_path,
                       env=env, capture_output=True, text=True, timeout=1800)
    assert "Traceback" not in r.stdout + r.stderr
    if r.returncode != 0:
        assert r.returncode == 1 and "nothing was published" in r.stderr, r.stderr[-2000:]
        return
    release = tmp_path / "out" / "hostile" / "v1"
    manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    prefix = display_name(root) + "/"
    reported = {s["source"].removeprefix(prefix) for s in manifest["sources"]["skipped"]}
    assert reported == {name for name, outcome in expect.items() if outcome != "loaded"}
    card = (release / "README.md").read_text(encoding="utf-8") if (release / "README.md").exists() else ""
    assert not any(line.startswith("# Injected") for line in card.splitlines())
