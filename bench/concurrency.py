"""Concurrency against a latency-bound endpoint: does a build's wall time fall with max_concurrency?

A build of 48 generation steps (examples/docs in 48 chunks, one question per chunk) whose generator is
bench/latency_endpoint.py: replies recorded from a real SmolLM2 run, each after a fixed 2 s. Contamination
is off (its corpus index is a one-off cost cached across runs that would skew the first level); quality
and dedup run as usual, grounding with its bars lowered for SmolLM2's loose quotes. At each
max_concurrency level it reports the wall time of the build, the model requests, the ideal (steps x delay
/ concurrency + the non-model time measured at concurrency 1; also with requests in place of steps, as a
repair try is a second request), the ratio to it (goal <= 1.25) and the release's content hash (goal: one
hash at every level).

    .venv/bin/python bench/concurrency.py [--levels 1,4,16] [--delay 2]
    .venv/bin/python bench/concurrency.py record    # re-record bench/data/concurrency-replies.json

Each build runs in its own process with a fresh response cache (every reply comes from the endpoint).
Recording starts the SmolLM2 server (llama.cpp) and runs the same build once against it, serially.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from benchmint.env import apply_offline_defaults  # noqa: E402

apply_offline_defaults(PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL="WARNING")

from latency_endpoint import LatencyEndpoint, load_replies  # noqa: E402

RECORDING = ROOT / "bench" / "data" / "concurrency-replies.json"
MODEL = "smollm2-135m-recorded"  # the generator's name in every request (and so in every key)
STEPS = 48


def build_config(url: str, concurrency: int, tmp: Path) -> dict:
    """The bench build: the same requests at every concurrency (temperature 0, a fixed seed)."""
    return {
        "name": "concurrency", "sources": [str(ROOT / "examples" / "docs")], "questions": 1000, "seed": 7,
        "output_dir": str(tmp / "out"), "cache_dir": str(tmp / "cache"),
        "models": {"generator": {"model": MODEL, "base_url": url, "json_mode": "json_object_schema",
                                 "temperature": 0.0, "max_tokens": 400, "max_concurrency": concurrency,
                                 "max_retries": 1, "timeout_s": 300}},
        "chunking": {"max_tokens": 178, "overlap": 0},  # 48 chunks of examples/docs
        # a batch as wide as the widest level, so a batch never caps the steps in flight
        "generation": {"questions_per_chunk": 1, "kinds": ["open", "mcq"], "batch_chunks": 16},
        "contamination": {"enabled": False},
        # SmolLM2's quotes are seldom verbatim: grounding (no model call) still runs, with its bars lowered so
        # that the release is not empty and has a content hash to compare
        "grounding": {"min_ratio": 0, "min_words": 1, "min_answer_support": 0},
    }


def child(url: str, concurrency: int, out: Path) -> None:
    """One build, in this process; its figures to `out` as JSON."""
    from benchmint.config import cache_root
    from benchmint.errors import NothingToPublish
    from flows.build import build_benchmark

    with tempfile.TemporaryDirectory() as tmp:
        tmp_p = Path(tmp)
        (tmp_p / "cache").mkdir()
        models = cache_root() / "models"
        models.mkdir(parents=True, exist_ok=True)
        (tmp_p / "cache" / "models").symlink_to(models)
        t0 = time.monotonic()
        try:
            summary = build_benchmark(build_config(url, concurrency, tmp_p))
            error = ""
        except NothingToPublish as exc:
            summary, error = {}, str(exc)
        wall = time.monotonic() - t0
        manifest = {}
        if summary.get("release"):
            manifest = json.loads((Path(summary["release"]) / "manifest.json").read_text(encoding="utf-8"))
    out.write_text(json.dumps({
        "concurrency": concurrency, "wall_s": wall, "error": error,
        "model_s": summary.get("timing", {}).get("model_s"), "build_s": summary.get("timing", {}).get("total_s"),
        "steps": summary.get("chunks_used"), "generated": summary.get("generated"),
        "accepted": summary.get("accepted"), "content_hash": manifest.get("content_hash"),
        "failed_steps": (summary.get("faults") or {}),
    }), encoding="utf-8")


def run_child(url: str, concurrency: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        subprocess.run([sys.executable, __file__, "child", "--url", url, "--concurrency", str(concurrency),
                        "--out", str(out)], check=True, cwd=ROOT)
        return json.loads(out.read_text(encoding="utf-8"))


def record() -> None:
    from benchmint.config import cache_root
    from benchmint.local_models import resolve_local_gguf
    from benchmint.local_server import LocalServer

    gguf = resolve_local_gguf("local:smollm2-135m", cache_root())
    with tempfile.TemporaryDirectory() as tmp:
        # one thread: on a busy machine llama.cpp's threads spin at their barriers (issue 13, item 4)
        with LocalServer(gguf, n_ctx=4096, log_path=Path(tmp) / "smollm2.log", n_threads=1) as server, \
                LatencyEndpoint(delay=0.0, upstream=server.base_url, upstream_model="local") as ep:
            r = run_child(ep.url, 1)
    ep.save(RECORDING)
    print(f"recorded {len(ep.replies)} replies to {RECORDING.relative_to(ROOT)} "
          f"({RECORDING.stat().st_size // 1024} KB); build: {r['steps']} steps, {r['accepted']} accepted, "
          f"content hash {r['content_hash']}")


def measure(levels: list[int], delay: float, port: int) -> None:
    replies = load_replies(RECORDING)
    rows = []
    # one port for every level: the endpoint's URL is part of the generator's name in each question
    with LatencyEndpoint(replies, delay, port=port) as ep:
        for c in levels:
            hits0, misses0 = ep.hits, len(ep.misses)
            ep.most_in_flight = 0
            r = run_child(ep.url, c)
            r.update(requests=ep.hits - hits0 + len(ep.misses) - misses0, misses=len(ep.misses) - misses0,
                     most_in_flight=ep.most_in_flight)
            rows.append(r)
            print(f"  max_concurrency {c}: {r['wall_s']:.1f}s, {r['requests']} requests, {r['misses']} misses",
                  flush=True)
    base = next((r for r in rows if r["concurrency"] == 1), None)
    non_model = base["wall_s"] - base["model_s"] if base and base["model_s"] is not None else None
    print(f"\n{STEPS} generation steps wanted; delay {delay:g}s per request; non-model time at concurrency 1: "
          + (f"{non_model:.1f}s" if non_model is not None else "(level 1 not run)"))
    # the ideal as the acceptance states it (steps), and with every request (a repair try is a second request)
    print("| max_concurrency | steps | requests | misses | most in flight | wall s | ideal s (steps) | wall / ideal "
          "| ideal s (requests) | wall / ideal | accepted | content hash |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        cells = []
        for n in (r["steps"] or 0, r["requests"]):
            ideal = n * delay / r["concurrency"] + non_model if non_model is not None else None
            cells += [f"{ideal:.1f}", f"{r['wall_s'] / ideal:.2f}"] if ideal else ["-", "-"]
        print(f"| {r['concurrency']} | {r['steps']} | {r['requests']} | {r['misses']} | {r['most_in_flight']} "
              f"| {r['wall_s']:.1f} | {' | '.join(cells)} | {r['accepted']} "
              f"| {(r['content_hash'] or r['error'] or '-')[:16]} |")
    hashes = {r["content_hash"] for r in rows}
    print(f"\nsame content hash at every level: {'yes' if len(hashes) == 1 and None not in hashes else 'NO'}")
    if any(r["steps"] != STEPS for r in rows):
        print(f"note: a build ran {', '.join(str(r['steps']) for r in rows)} steps, not {STEPS} (did chunking change?)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", nargs="?", default="measure", choices=["measure", "record", "child"])
    ap.add_argument("--levels", default="1,4,16")
    ap.add_argument("--delay", type=float, default=2.0)
    ap.add_argument("--port", type=int, default=18431, help="the latency endpoint's port (the same for every level)")
    ap.add_argument("--url")
    ap.add_argument("--concurrency", type=int, default=1)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    if args.mode == "child":
        child(args.url, args.concurrency, args.out)
    elif args.mode == "record":
        record()
    else:
        measure([int(x) for x in args.levels.split(",")], args.delay, args.port)


if __name__ == "__main__":
    main()
