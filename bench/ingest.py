"""PDF ingest + chunking time vs raw pypdf text extraction on the same file.

Goal (issue 2): benchmint's ingest + chunk <= 1.1x raw pypdf extraction.

    .venv/bin/python bench/ingest.py [PDF] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from corpora.chunking import chunk_document  # noqa: E402
from corpora.documents import load_file  # noqa: E402

DEFAULT_PDF = "/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf"


def raw_pypdf(path: Path) -> str:
    from pypdf import PdfReader

    return "\n\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)


def benchmint_ingest(path: Path) -> int:
    return len(chunk_document(load_file(path)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("pdf", nargs="?", default=DEFAULT_PDF)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    path = Path(args.pdf)
    if not path.is_file():
        sys.exit(f"{path} not found; pass a PDF path (Debian's shared-mime-info package ships the default one)")
    raw_pypdf(path), benchmint_ingest(path)  # warm imports and caches for both
    raw, ours = [], []
    for _ in range(args.repeat):
        t = time.perf_counter(); raw_pypdf(path); raw.append(time.perf_counter() - t)  # noqa: E702
        t = time.perf_counter(); n = benchmint_ingest(path); ours.append(time.perf_counter() - t)  # noqa: E702
    r, o = statistics.median(raw), statistics.median(ours)
    print(f"file: {path} ({path.stat().st_size / 1024:.0f} KiB)")
    print(f"raw pypdf extraction: median {r * 1000:.1f} ms over {args.repeat} runs")
    print(f"benchmint load + chunk ({n} chunks): median {o * 1000:.1f} ms")
    print(f"ratio: {o / r:.3f}x (goal <= 1.1x)")


if __name__ == "__main__":
    main()
