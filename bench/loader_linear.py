"""Is the loader linear? Time to read one pathological file at 1x and 10x its size.

Goal (issue 12): 10x the input takes at most 12x the time, on every case. Each case is written to a
temporary folder and read with corpora.documents.load_file in this process (the worker process and its
time budget are left out: they cost the same at every size); the best of --repeat runs is kept. The
loaded text is also chunked (corpora.chunking), timed apart.

    .venv/bin/python bench/loader_linear.py [--repeat 3] [--scale 1.0] [--only NAME]

Before this issue: 80 KB of spaces took 17.6 s and 12k unclosed <title> tags 12.6 s, growing with the
square of the size.
"""

from __future__ import annotations

import argparse
import base64
import random
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


def best(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    """The fastest of `repeat` runs, and of more while they total under 0.5 s (sub-millisecond cases are
    noisy on a shared machine)."""
    times, out, start = [], None, time.process_time()
    while len(times) < repeat or (time.process_time() - start < 0.5 and len(times) < 200):
        t = time.process_time()
        out = fn()
        times.append(time.process_time() - t)
    return min(times), out


def measure(path: Path, repeat: int) -> tuple[float, float, str]:
    def load() -> object:
        try:
            return load_file(path)
        except Unreadable as exc:
            return exc

    t_load, doc = best(load, repeat)
    if isinstance(doc, Unreadable):
        return t_load, 0.0, f"skipped: {doc.kind}"
    t_chunk, chunks = best(lambda: chunk_document(doc), repeat)
    return t_load, t_chunk, f"loaded, {len(chunks)} chunks"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every 1x size (10x stays 10 times it)")
    ap.add_argument("--only", default="", help="run the cases whose name contains this")
    args = ap.parse_args()
    worst = 0.0
    print(f"| case | 1x size | 1x load | 10x load | ratio | 1x chunk | 10x chunk | ratio | outcome (10x) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, (suffix, build) in CASES.items():
            if args.only and args.only not in name:
                continue
            rows = []
            for k in (1, 10):
                data = build(max(1, round(k * args.scale)) if args.scale != 1.0 else k)
                path = Path(tmp) / f"case{k}{suffix}"
                path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
                rows.append((path.stat().st_size, *measure(path, args.repeat)))
            (s1, l1, c1, _), (_, l10, c10, out10) = rows
            ratio = l10 / max(l1, 1e-6)
            cratio = c10 / c1 if c1 > 0 else float("nan")
            worst = max(worst, ratio)
            print(f"| {name} | {s1 / 1024:.0f} KB | {l1 * 1000:.1f} ms | {l10 * 1000:.1f} ms | {ratio:.1f}x | "
                  f"{c1 * 1000:.1f} ms | {c10 * 1000:.1f} ms | {cratio:.1f}x | {out10} |", flush=True)
    print(f"\nworst load ratio: {worst:.1f}x (goal <= 12x)")


if __name__ == "__main__":
    main()
