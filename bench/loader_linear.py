"""Is the loader linear? Time to read one pathological file at 1x and 10x its size.

Goal (issue 12): 10x the input takes at most 12x the time, on every case. Each case is written to a
temporary folder and read with corpora.documents.load_file in this process (the worker process and its
time budget are left out: they cost the same at every size). CPU time; the ratio is the median over
rounds of the 10x time over the 1x time measured back to back; the times shown are the fastest runs.
The loaded text is also chunked (corpora.chunking), timed apart (not part of the goal: shown because
every loaded text goes there next).

    .venv/bin/python bench/loader_linear.py [--rounds 7] [--only NAME]

Before this issue: 80 KB of spaces took 17.6 s and 12k unclosed <title> tags 12.6 s, growing with the
square of the size.
"""

from __future__ import annotations

import argparse
import base64
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from corpora.chunking import chunk_document  # noqa: E402
from corpora.documents import load_file  # noqa: E402
from corpora.skip import Unreadable  # noqa: E402

SENT = "The Orrin-7 pump delivers 340 litres per minute at a head of 12 metres, said the crew chief. "
_rng = random.Random(7)

# name -> (file suffix, builder of the content for size factor k: 1 for 1x, 10 for 10x)
CASES: dict[str, tuple[str, Callable[[int], str | bytes]]] = {
    "80 KB of spaces (+ prose)": (".txt", lambda k: " " * (80_000 * k) + SENT * 3),
    "spaces inside a line": (".md", lambda k: ("word " + " " * 200) * (400 * k)),
    "12k unclosed <title>": (".html", lambda k: "<title>" * (12_000 * k) + f"<p>{SENT * 3}</p>"),
    "unclosed <title x (no >)": (".html", lambda k: "<title x" * (12_000 * k) + f"<p>{SENT * 3}</p>"),
    "5k nested <div>": (".html", lambda k: "<div>" * (5_000 * k) + f"<p>{SENT * 3}</p>" + "</div>" * (5_000 * k)),
    "20k unclosed inline tags": (".html", lambda k: "<p><span><b>" * (20_000 * k) + SENT * 3),
    "unclosed <script>/<!--": (".html", lambda k: f"<p>{SENT * 3}</p>" + "<script>x<!--y" * (10_000 * k)),
    "'<' soup": (".html", lambda k: "<" * (100_000 * k) + SENT * 3),
    "html, many <p>": (".html", lambda k: "<html><body>" + "".join(f"<p>{i}: {SENT}</p>" for i in range(2_000 * k))),
    "16 KB control chars": (".txt", lambda k: bytes(_rng.choice(range(1, 9)) for _ in range(16_384 * k))),
    "long line (prose)": (".txt", lambda k: SENT * (1_200 * k)),
    "one long token": (".txt", lambda k: "x" * (100_000 * k) + " " + SENT),
    "many small paragraphs": (".md", lambda k: "\n\n".join(f"Line {i}: {SENT}" for i in range(2_000 * k))),
    "'#' heading lines": (".md", lambda k: "#\n" * (40_000 * k) + "# " + " " * (40_000 * k) + "\n" + SENT * 3),
    "base64 blob": (".txt", lambda k: base64.encodebytes(_rng.randbytes(60_000 * k))),
    "UTF-16 prose": (".txt", lambda k: b"\xff\xfe" + (SENT * (1_000 * k)).encode("utf-16-le")),
}


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    t = time.process_time()  # CPU time: the machine is shared, wall time would measure the neighbours
    out = fn()
    return time.process_time() - t, out


def load(path: Path) -> object:
    try:
        return load_file(path)
    except Unreadable as exc:
        return exc


def measure(small: Path, large: Path, rounds: int) -> tuple[float, float, float, float, float, float, str]:
    """Load and chunk times of the 1x and the 10x file (the fastest run of each), and the ratios: the
    median over rounds of 10x/1x, each round timing the two sizes back to back so that both see the
    same load on a shared machine."""
    loads: list[tuple[float, float]] = []
    chunkings: list[tuple[float, float]] = []
    doc10: object = None
    chunks: list = []
    for _ in range(rounds):
        t1, doc1 = timed(lambda: load(small))
        t10, doc10 = timed(lambda: load(large))
        loads.append((t1, t10))
        if not isinstance(doc10, Unreadable) and not isinstance(doc1, Unreadable):
            c1, _ = timed(lambda: chunk_document(doc1))
            c10, chunks = timed(lambda: chunk_document(doc10))
            chunkings.append((c1, c10))
    load_ratio = statistics.median(b / max(a, 1e-6) for a, b in loads)
    l1, l10 = min(a for a, _ in loads), min(b for _, b in loads)
    if isinstance(doc10, Unreadable) or not chunkings:
        return l1, l10, load_ratio, 0.0, 0.0, 0.0, f"skipped: {getattr(doc10, 'kind', '?')}"
    chunk_ratio = statistics.median(b / max(a, 1e-6) for a, b in chunkings)
    c1, c10 = min(a for a, _ in chunkings), min(b for _, b in chunkings)
    return l1, l10, load_ratio, c1, c10, chunk_ratio, f"loaded, {len(chunks)} chunks"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7, help="back-to-back runs of the two sizes")
    ap.add_argument("--only", default="", help="run the cases whose name contains this")
    args = ap.parse_args()
    worst = 0.0
    print("| case | 1x size | 1x load | 10x load | ratio | 1x chunk | 10x chunk | ratio | outcome (10x) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, (suffix, build) in CASES.items():
            if args.only and args.only not in name:
                continue
            paths = []
            for k in (1, 10):
                data = build(k)
                path = Path(tmp) / f"case{k}{suffix}"
                path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
                paths.append(path)
            l1, l10, ratio, c1, c10, cratio, out10 = measure(paths[0], paths[1], args.rounds)
            worst = max(worst, ratio)
            chunk_cols = f"{c1 * 1000:.1f} ms | {c10 * 1000:.1f} ms | {cratio:.1f}x" if c1 else "- | - | -"
            print(f"| {name} | {paths[0].stat().st_size / 1024:.0f} KB | {l1 * 1000:.1f} ms | {l10 * 1000:.1f} ms | "
                  f"{ratio:.1f}x | {chunk_cols} | {out10} |", flush=True)
    print(f"\nworst load ratio: {worst:.1f}x (goal <= 12x)")


if __name__ == "__main__":
    main()
