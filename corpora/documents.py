"""Files -> Documents: pdf (pypdf), md, txt and html (trafilatura).

A folder is walked recursively. A file that cannot be read (corrupt, encrypted,
binary, empty, not UTF-8, unsupported type) is skipped with the reason and
reported; it never stops a run.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from pathlib import Path

from benchmint.errors import SourceError
from benchmint.records import Document, SkippedSource, sha256_text

SUPPORTED = {".pdf": "pdf", ".md": "md", ".markdown": "md", ".txt": "txt", ".html": "html", ".htm": "html"}


class Unreadable(Exception):
    """A file that cannot become a Document; the message is the reason."""


def iter_files(sources: Iterable[str]) -> tuple[list[Path], list[SkippedSource]]:
    """Expand files, folders (recursively) and globs, in a stable order."""
    files: list[Path] = []
    missing: list[SkippedSource] = []
    for src in sources:
        p = Path(src).expanduser()
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*") if f.is_file() and not _hidden(f.relative_to(p))))
        elif p.is_file():
            files.append(p)
        elif any(ch in src for ch in "*?["):
            matched = sorted(Path().glob(src)) if not p.is_absolute() else sorted(Path("/").glob(src.lstrip("/")))
            matched = [m for m in matched if m.is_file()]
            if not matched:
                missing.append(SkippedSource(source=src, reason="the pattern matches no file"))
            files.extend(matched)
        else:
            missing.append(SkippedSource(source=src, reason="no such file or folder"))
    seen: set[Path] = set()
    unique = [f for f in files if not (f.resolve() in seen or seen.add(f.resolve()))]
    return unique, missing


def _hidden(rel: Path) -> bool:
    return any(part.startswith(".") for part in rel.parts)


def load_file(path: Path) -> Document:
    fmt = SUPPORTED.get(path.suffix.lower())
    if fmt is None:
        raise Unreadable(f"unsupported file type '{path.suffix or '(none)'}'; benchmint reads pdf, md, txt and html")
    if fmt == "pdf":
        title, text = _read_pdf(path)
    else:
        raw = path.read_bytes()
        if not raw.strip():
            raise Unreadable("the file is empty")
        if b"\x00" in raw[:8192]:
            raise Unreadable("binary content (NUL bytes), not text")
        try:
            decoded = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise Unreadable(f"not UTF-8 (byte {exc.start}); re-save the file as UTF-8") from None
        title, text = _read_html(decoded) if fmt == "html" else (_markdown_title(decoded) if fmt == "md" else "", decoded)
    text = _clean(text)
    if len(text.split()) < 5:
        raise Unreadable("no usable text (fewer than 5 words)" + (" — a scanned PDF needs OCR first" if fmt == "pdf" else ""))
    return Document(id=sha256_text(text), title=title or path.stem, source=str(path), text=text, format=fmt)


def _read_pdf(path: Path) -> tuple[str, str]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    if path.stat().st_size == 0:
        raise Unreadable("the file is empty")
    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except Exception:  # noqa: BLE001 - pypdf raises several types here
                ok = 0
            if not ok:
                raise Unreadable("encrypted PDF; save an unencrypted copy")
        pages = [page.extract_text() or "" for page in reader.pages]
        meta_title = ""
        if reader.metadata is not None and reader.metadata.title:
            meta_title = str(reader.metadata.title).strip()
    except Unreadable:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError, IndexError, RecursionError) as exc:
        raise Unreadable(f"corrupt or unreadable PDF ({type(exc).__name__}: {str(exc)[:120]})") from None
    except Exception as exc:  # noqa: BLE001 - pypdf can raise almost anything on a broken file
        raise Unreadable(f"corrupt or unreadable PDF ({type(exc).__name__})") from None
    return meta_title, "\n\n".join(p.strip() for p in pages if p.strip())


def _read_html(html: str) -> tuple[str, str]:
    import trafilatura

    text = trafilatura.extract(html, include_comments=False, include_tables=True, favor_recall=True,
                               output_format="txt", with_metadata=False) or ""
    m = re.search(r"<title[^>]*>(.*?)</title>", html, re.I | re.S)
    title = re.sub(r"\s+", " ", m.group(1)).strip() if m else ""
    if not title:
        meta = trafilatura.extract_metadata(html)
        title = (meta.title if meta is not None else None) or ""
    return title, text


def _markdown_title(text: str) -> str:
    m = re.search(r"^#\s+(.+)$", text, re.M)
    return m.group(1).strip() if m else ""


def _clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    text = re.sub(r"[ \t\f\v]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def load_documents(sources: Iterable[str]) -> tuple[list[Document], list[SkippedSource]]:
    """All readable documents under `sources`, and every skipped file with its reason."""
    files, skipped = iter_files(sources)
    docs: list[Document] = []
    by_id: dict[str, str] = {}
    for f in files:
        try:
            doc = load_file(f)
        except Unreadable as exc:
            skipped.append(SkippedSource(source=str(f), reason=str(exc)))
            continue
        except OSError as exc:
            skipped.append(SkippedSource(source=str(f), reason=f"cannot read: {exc.strerror or exc}"))
            continue
        if doc.id in by_id:
            skipped.append(SkippedSource(source=str(f), reason=f"same content as {by_id[doc.id]}"))
            continue
        by_id[doc.id] = str(f)
        docs.append(doc)
    if not docs and not files and skipped and all(s.reason.startswith(("no such", "the pattern")) for s in skipped):
        raise SourceError(f"source {skipped[0].source!r}: {skipped[0].reason}; name an existing file or folder")
    return docs, skipped
