"""Files -> Documents: pdf (pypdf), md, txt and html (trafilatura, or a linear scan of odd pages).

A folder is walked recursively (corpora.walk): every entry is read or reported with its reason. A file
that cannot become a document (too large, too slow, corrupt, encrypted, binary, empty, not prose,
unsupported type) is skipped with the reason and reported; it never stops a run. Each file is read in a
worker process that is killed past the time budget (corpora.reader).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from pathlib import Path

from benchmint.errors import SourceError
from benchmint.records import Document, SkippedSource, sha256_text
from corpora.clean import clean_text, clean_title
from corpora.decode import decode_text
from corpora.htmltext import read_html
from corpora.prose import check_control, check_prose
from corpora.skip import Unreadable
from corpora.walk import Entry, display_name, walk_sources

SUPPORTED = {".pdf": "pdf", ".md": "md", ".markdown": "md", ".txt": "txt", ".html": "html", ".htm": "html"}
DEFAULT_MAX_FILE_MB = 50.0
DEFAULT_MAX_FILE_SECONDS = 60.0

__all__ = ["SUPPORTED", "Unreadable", "iter_files", "load_file", "load_documents", "display_name"]


def iter_files(sources: Iterable[str]) -> tuple[list[Path], list[SkippedSource]]:
    """The files to read under `sources` (stable order, each once), and every entry that is not read."""
    entries, skipped = walk_sources(sources)
    return [e.path for e in entries], skipped


def load_file(path: Path, name: str | None = None, max_bytes: int = int(DEFAULT_MAX_FILE_MB * 2**20)) -> Document:
    """One file as a Document (in this process), or Unreadable with the reason."""
    name = name or display_name(path)
    fmt = SUPPORTED.get(path.suffix.lower())
    if fmt is None:
        raise Unreadable(f"unsupported file type '{display_name(path.suffix) or '(none)'}'; benchmint reads pdf, md, "
                         "txt and html", "unsupported")
    size = path.stat().st_size
    if size == 0:
        raise Unreadable("the file is empty", "empty")
    if size > max_bytes:
        raise Unreadable(f"{_size(size)}, over the cap of {_size(max_bytes)} per file (loader.max_file_mb); "
                         "raise the cap or split the file", "too-large")
    encoding = ""
    if fmt == "pdf":
        title, text = _read_pdf(path)
    else:
        with open(path, "rb") as fh:
            raw = fh.read(max_bytes + 1)  # the file may have grown since stat
        if len(raw) > max_bytes:
            raise Unreadable(f"over the cap of {_size(max_bytes)} per file (loader.max_file_mb)", "too-large")
        decoded, encoding = decode_text(raw)
        if not decoded.strip():
            raise Unreadable("the file holds only whitespace", "empty")
        check_control(decoded)
        if fmt == "html":
            title, text = read_html(decoded)
        else:
            title, text = (_markdown_title(decoded) if fmt == "md" else ""), decoded
    check_control(text)
    text = clean_text(text)
    try:
        check_prose(text)
    except Unreadable as exc:
        if fmt == "pdf" and exc.kind == "too-short":
            raise Unreadable(f"{exc} — a scanned PDF needs OCR first", exc.kind) from None
        raise
    meta = {"encoding": encoding} if encoding and encoding != "utf-8" else {}
    return Document(id=sha256_text(text), title=clean_title(title) or clean_title(Path(name).stem), source=name,
                    text=text, format=fmt, metadata=meta)


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 // 10 else f"{n:,} bytes"


def _read_pdf(path: Path) -> tuple[str, str]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except Exception:  # noqa: BLE001 - pypdf raises several types here
                ok = 0
            if not ok:
                raise Unreadable("encrypted PDF; save an unencrypted copy", "encrypted")
        pages = [page.extract_text() or "" for page in reader.pages]
        meta_title = ""
        if reader.metadata is not None and reader.metadata.title:
            meta_title = str(reader.metadata.title)
    except Unreadable:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError, IndexError, RecursionError) as exc:
        raise Unreadable(f"corrupt or unreadable PDF ({type(exc).__name__}: {clean_title(str(exc), 120)})",
                         "corrupt") from None
    except Exception as exc:  # noqa: BLE001 - pypdf can raise almost anything on a broken file
        raise Unreadable(f"corrupt or unreadable PDF ({type(exc).__name__})", "corrupt") from None
    return meta_title, "\n\n".join(p.strip() for p in pages if p.strip())


def _markdown_title(text: str) -> str:
    m = re.search(r"^#[ \t]+(\S.{0,300})", text[:65536], re.M)
    return m.group(1) if m else ""


def load_documents(sources: Iterable[str], max_file_mb: float = DEFAULT_MAX_FILE_MB,
                   max_file_seconds: float = DEFAULT_MAX_FILE_SECONDS) -> tuple[list[Document], list[SkippedSource]]:
    """All readable documents under `sources`, and every entry not loaded with its reason.

    `max_file_seconds` 0 reads in this process, without a time budget.
    """
    from corpora.reader import FileReader

    entries, skipped = walk_sources(sources)
    docs: list[Document] = []
    by_id: dict[str, str] = {}
    with FileReader(int(max_file_mb * 2**20), max_file_seconds) as reader:
        for entry in entries:
            doc = _load_one(reader, entry, skipped)
            if doc is None:
                continue
            if doc.id in by_id:
                skipped.append(SkippedSource(source=entry.name, reason=f"same content as {by_id[doc.id]}",
                                             kind="duplicate"))
                continue
            by_id[doc.id] = entry.name
            docs.append(doc)
    if not docs and not entries and skipped and all(s.kind == "missing" for s in skipped):
        raise SourceError(f"source {skipped[0].source!r}: {skipped[0].reason}; name an existing file or folder")
    return docs, skipped


def _load_one(reader, entry: Entry, skipped: list[SkippedSource]) -> Document | None:  # noqa: ANN001
    try:
        return reader.load(entry)
    except Unreadable as exc:
        skipped.append(exc.skipped(entry.name))
    except OSError as exc:
        skipped.append(SkippedSource(source=entry.name, reason=f"cannot read: {exc.strerror or exc}",
                                     kind="unreadable"))
    return None
