"""A build on a Dask cluster of 1, 2 and 4 local worker processes against a latency-bound endpoint (issue 14).

The build of bench/concurrency.py (48 generation steps of examples/docs, its generator the latency
endpoint: a real SmolLM2 run's replies, each after a fixed 2 s), with max_concurrency 16 (the endpoint's
limit, held as one Prefect global concurrency limit for the endpoint: `runner.endpoint_limits`), run

- on threads at concurrency 1 (for the non-model time of the ideal, as bench/concurrency.py defines it),
- on threads at 16, and
- on a Dask LocalCluster of 1, 2 and 4 worker processes at 16,

each in its own process with a fresh response cache. Reported per run: the wall time of the build, the
span at the endpoint (first request to last reply), the cluster's start-up (wall minus what the thread
build at 16 took besides its span), the ideal (48 x 2 s / 16 + the non-model time at concurrency 1), the
ratio (goal <= 1.3), the Dask runner's overhead vs the thread runner at the same concurrency (goal <= 10%),
the most requests in flight (never above 16) and the release's content hash (one at every size).

    .venv/bin/python bench/dask_scaling.py [--sizes 1,2,4] [--delay 2] [--skip-serial] [--scheduler] [--repeat 3]

`--scheduler`: the Dask builds go to a scheduler at an address (`runner.address`), as on a team's
cluster: before each, `dask scheduler` and N `dask worker` processes (16/N threads each, as the
LocalCluster would have) start, are waited for and import benchmint's step code, outside the timed
build; so the wall time holds no cluster start-up.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from benchmint.env import apply_offline_defaults  # noqa: E402

apply_offline_defaults(PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL="WARNING")

from concurrency import RECORDING, STEPS, build_config  # noqa: E402
from latency_endpoint import LatencyEndpoint, load_replies  # noqa: E402

from tests.fixtures import dask_cli_cluster  # noqa: E402

LIMIT = 16


def child(url: str, concurrency: int, workers: int, out: Path, address: str | None = None) -> None:
    """One build in this process (workers 0: threads), on a Prefect server of its own; figures to `out`."""
    from prefect.testing.utilities import prefect_test_harness

    from benchmint.config import cache_root
    from flows.build import build_benchmark

    with tempfile.TemporaryDirectory() as tmp, prefect_test_harness(server_startup_timeout=180):
        tmp_p = Path(tmp)
        (tmp_p / "cache").mkdir()
        models = cache_root() / "models"
        models.mkdir(parents=True, exist_ok=True)
        (tmp_p / "cache" / "models").symlink_to(models)
        cfg = build_config(url, concurrency, tmp_p)
        cfg["runner"] = ({"kind": "dask", "address": address, "endpoint_limits": True} if address
                         else {"kind": "dask", "workers": workers, "endpoint_limits": True} if workers
                         else {"kind": "thread", "endpoint_limits": True})
        t0 = time.monotonic()
        summary = build_benchmark(cfg)
        wall = time.monotonic() - t0
        manifest = json.loads((Path(summary["release"]) / "manifest.json").read_text(encoding="utf-8"))
    out.write_text(json.dumps({
        "concurrency": concurrency, "workers": workers, "wall_s": wall,
        "model_s": summary.get("timing", {}).get("model_s"), "steps": summary.get("chunks_used"),
        "accepted": summary.get("accepted"), "content_hash": manifest.get("content_hash"),
        "processes": len(summary.get("workers") or {}),
    }), encoding="utf-8")


def _warm() -> None:
    import pipeline.generation  # noqa: F401  (what a worker imports to run a generation step)


def run_child(ep: LatencyEndpoint, concurrency: int, workers: int, scheduler: bool = False) -> dict:
    cluster = dask_cli_cluster(workers, math.ceil(LIMIT / workers), _warm) if scheduler and workers else None
    with cluster or contextlib.nullcontext((None, [])) as (address, _):
        ep.first_in = ep.last_out = None
        ep.most_in_flight = 0
        hits0 = ep.hits
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "result.json"
            subprocess.run([sys.executable, __file__, "child", "--url", ep.url, "--concurrency", str(concurrency),
                            "--workers", str(workers), "--out", str(out),
                            *(["--address", address] if address else [])], check=True, cwd=ROOT)
            r = json.loads(out.read_text(encoding="utf-8"))
    r.update(requests=ep.hits - hits0, most_in_flight=ep.most_in_flight,
             span_s=(ep.last_out - ep.first_in) if ep.first_in is not None and ep.last_out is not None else None)
    return r


def measure(sizes: list[int], delay: float, port: int, serial: bool, scheduler: bool = False, repeat: int = 1) -> None:
    """Every configuration `repeat` times, in turns (the concurrency-1 build, threads, then each size, then again),
    so that drift in the machine's load falls on all of them; the ideal's non-model time is the median of the
    concurrency-1 builds (one sample moved it by 4.5 s between sessions)."""
    runs: dict[tuple[int, int], list[dict]] = {}
    with LatencyEndpoint(load_replies(RECORDING), delay, port=port) as ep:
        plan = ([(1, 0)] if serial else []) + [(LIMIT, 0)] + [(LIMIT, w) for w in sizes]
        for rep in range(repeat):
            for concurrency, workers in plan:
                r = run_child(ep, concurrency, workers, scheduler)
                runs.setdefault((concurrency, workers), []).append(r)
                where = (f"Dask, {workers} workers" + (" (scheduler at an address)" if scheduler else "")
                         if workers else "threads")
                print(f"  [{rep + 1}/{repeat}] {where}, max_concurrency {concurrency}: {r['wall_s']:.1f} s (endpoint "
                      f"span {r['span_s']:.1f} s, {r['requests']} requests, at most {r['most_in_flight']} at once)",
                      flush=True)
    outside = [r["wall_s"] - r["model_s"] for r in runs.get((1, 0), []) if r["model_s"]]
    non_model = median(outside) if outside else None
    threads = runs[(LIMIT, 0)]
    thread_other = median([r["wall_s"] - r["span_s"] for r in threads])  # the thread build's time outside the endpoint
    ideal = STEPS * delay / LIMIT + non_model if non_model is not None else None
    print(f"\n{STEPS} steps wanted, {delay:g} s a request, limit {LIMIT}; non-model time at concurrency 1: "
          + (f"{non_model:.1f} s (median of {len(outside)}: {', '.join(f'{x:.1f}' for x in outside)}); ideal at "
             f"{LIMIT}: {ideal:.1f} s" if ideal else "(not measured: --skip-serial)"))
    print(f"{repeat} run(s) a configuration: medians, the range in brackets; wall / threads pairs each run with the "
          "thread build of its turn")
    print("| runner | runs | most in flight | wall s | endpoint span s | start-up vs threads s "
          "| wall / ideal | wall / threads | content hashes |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (concurrency, workers), rs in runs.items():
        where = (f"Dask, {workers} worker{'s' if workers > 1 else ''}" if workers
                 else f"threads (concurrency {concurrency})")
        walls = [r["wall_s"] for r in rs]
        wall = median(walls)
        startup = median([r["wall_s"] - r["span_s"] for r in rs]) - thread_other
        ratio = f"{wall / ideal:.2f} [{min(walls) / ideal:.2f}-{max(walls) / ideal:.2f}]" \
            if ideal and concurrency == LIMIT else "-"
        paired = [r["wall_s"] / t["wall_s"] for r, t in zip(rs, threads)]
        vs = f"{median(paired):.2f} [{min(paired):.2f}-{max(paired):.2f}]" if concurrency == LIMIT else \
            f"{wall / median([t['wall_s'] for t in threads]):.2f}"
        print(f"| {where} | {len(rs)} | {max(r['most_in_flight'] for r in rs)} | {wall:.1f} [{min(walls):.1f}-"
              f"{max(walls):.1f}] | {median([r['span_s'] for r in rs]):.1f} | {startup:+.1f} | {ratio} | {vs} "
              f"| {len({r['content_hash'] for r in rs})} |")
    hashes = {r["content_hash"] for rs in runs.values() for r in rs}
    print(f"\nsame content hash everywhere: {'yes' if len(hashes) == 1 and None not in hashes else 'NO'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", nargs="?", default="measure", choices=["measure", "child"])
    ap.add_argument("--sizes", default="1,2,4")
    ap.add_argument("--delay", type=float, default=2.0)
    ap.add_argument("--port", type=int, default=18431, help="the endpoint's port: the one the recording was made on")
    ap.add_argument("--skip-serial", action="store_true", help="no concurrency-1 build (about 100 s)")
    ap.add_argument("--url")
    ap.add_argument("--concurrency", type=int, default=LIMIT)
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--address", help="child: the scheduler's address")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each configuration, in turns (medians reported)")
    ap.add_argument("--scheduler", action="store_true",
                    help="Dask builds on a scheduler and workers started beforehand (no cluster start-up timed)")
    args = ap.parse_args()
    if args.mode == "child":
        child(args.url, args.concurrency, args.workers, args.out, args.address)
    else:
        measure([int(x) for x in args.sizes.split(",")], args.delay, args.port, not args.skip_serial, args.scheduler,
                args.repeat)


if __name__ == "__main__":
    main()
