"""A real build through the endpoint stand-in (tests/endpoint_standin.py) serving a seeded mix of
faults, with good replies from real models' recorded output: the generator's is the real
Qwen2.5-Coder-1.5B's reply on the build's document (tests/data/canary_generator_reply.json), the
targets' are the real SmolLM2 llama.cpp server's.

Pass 1 records: a clean build through the stand-in (no faults), the targets' replies from SmolLM2. Pass 2 is
the fault build: a fresh response cache, the same requests, about 45% of them answered with a
500, a 429 with Retry-After, a 408, truncated JSON, an HTML page, an error object, a reply
trickled slower than timeout_s, a dropped connection (good replies replayed from pass 1 at once).

Reports: whether it published, the faults the manifest counts against those the stand-in served,
the failed steps, the gaps after each 429 against what Retry-After asked, any request sent to the
endpoint before a 429's Retry-After ran out, and whether the key (echoed in some error bodies)
reached any kept file.

    .venv/bin/python bench/faults.py [--seed 7] [--timeout 3]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmint.env import apply_offline_defaults  # noqa: E402

# A Prefect home of its own: the shared ~/.prefect database is contended when other builds run.
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="bench-faults-prefect-"))

apply_offline_defaults(PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL="CRITICAL")

from benchmint.config import BuildConfig, cache_root  # noqa: E402
from benchmint.local_models import resolve_local_gguf  # noqa: E402
from benchmint.local_server import LocalServer  # noqa: E402
from tests.endpoint_standin import (  # noqa: E402
    DECK,
    EndpointStandIn,
    StandInConfig,
    fault_build_config,
    generator_replay,
    write_fault_corpus,
)

KEY = "sk-canary-bench-faults-91d0e4"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--timeout", type=float, default=3.0, help="timeout_s of the fault build")
    args = ap.parse_args()
    from flows.build import build_benchmark

    os.environ["FAULTS_BENCH_KEY"] = KEY
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        write_fault_corpus(tmp / "docs")
        gguf = resolve_local_gguf("local:smollm2-135m", cache_root())
        with LocalServer(gguf, n_ctx=2048, log_path=tmp / "smollm.log") as server, \
                EndpointStandIn(server.base_url, StandInConfig(seed=args.seed, trickle_slow_s=3 * args.timeout,
                                                             replay=generator_replay())) as ep:
            t0 = time.monotonic()
            clean = build_benchmark(BuildConfig.model_validate(fault_build_config(
                "clean", str(tmp / "docs"), ep.url, str(tmp / "out"), str(tmp / "cache1"), "FAULTS_BENCH_KEY",
                300)).model_dump(mode="json"))
            t_clean = time.monotonic() - t0
            recorded = len(ep.events)
            print(f"clean build: {clean['accepted']} accepted, {recorded} requests "
                  f"({sum(e.live for e in ep.events)} forwarded to SmolLM2), {t_clean:.1f}s", flush=True)
            ep.events.clear()
            ep.config.deck = dict(DECK)
            t0 = time.monotonic()
            faulty = build_benchmark(BuildConfig.model_validate(fault_build_config(
                "faulty", str(tmp / "docs"), ep.url, str(tmp / "out"), str(tmp / "cache2"), "FAULTS_BENCH_KEY",
                args.timeout)).model_dump(mode="json"))
            t_faulty = time.monotonic() - t0
            manifest = json.loads((Path(faulty["release"]) / "manifest.json").read_text())
            leaks = [str(p) for p in tmp.rglob("*") if p.is_file() and not p.is_symlink()
                     and KEY.encode() in p.read_bytes()]
        served = ep.served()
        counted = {k: v for k, v in manifest["faults"]["replies"].items() if k != "schema"}
        gaps = ep.gaps_after_429()
        print(f"seed {args.seed}; timeout_s {args.timeout:g}; deck {DECK}")
        print(f"fault build: published {Path(faulty['release']).name}: {faulty['accepted']} accepted, "
              f"{len(ep.events)} requests ({sum(e.live for e in ep.events)} not in the recording), {t_faulty:.1f}s")
        print(f"faults served (by the kind a client records): {dict(sorted(served.items()))}; "
              f"total {sum(served.values())}")
        print(f"faults in the manifest: {manifest['faults']['replies']}; equal to served: {counted == dict(served)}")
        print(f"failed steps: {manifest['faults']['failed_steps']}; generation steps recorded as model_output_errors: "
              f"{[e['kind'] for e in manifest['model_output_errors']]}; missing: {manifest['missing']}")
        print(f"429s retried: {len(gaps)}; Retry-After asked {[round(a, 2) for a, _ in gaps]}")
        print(f"  waited {[round(w, 2) for _, w in gaps]}; every wait >= asked: {all(w >= a - 0.005 for a, w in gaps)}")
        slack = ep.min_gap_any_request_after_429()
        print(f"  least slack between a 429's Retry-After and any later request: "
              f"{'-' if slack is None else f'{slack:+.3f}s'}")
        print(f"key echoed in error bodies {ep.served_raw().get('echo_auth', 0)} times; files holding it: {leaks or 0}")


if __name__ == "__main__":
    main()
