"""An unchanged refresh, measured against an empty Prefect flow run (goal: <= 1.2x), with its model calls.

Builds (once) a small benchmark from examples/docs, then alternates, in fresh processes on
Prefect's ephemeral API:
- an empty Prefect flow run: `python -c "<a flow that returns 1>"`;
- `benchmint refresh NAME` with the sources unchanged;
and reports the median wall time of each, the ratio, and that the refresh made no model
call and published no version.

    .venv/bin/python bench/refresh.py [--repeats 3] [--name refresh-bench]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
sys.path.insert(0, str(ROOT))
from benchmint.release import versions  # noqa: E402

EMPTY = ("import os\n"
         "for k, v in {'DO_NOT_TRACK': '1', 'PREFECT_SERVER_ANALYTICS_ENABLED': 'false',"
         " 'PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS': '120'}.items(): os.environ.setdefault(k, v)\n"
         "from prefect import flow\n"
         "@flow(name='empty')\n"
         "def empty():\n    return 1\n"
         "assert empty() == 1\n")


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.monotonic()
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    return time.monotonic() - t0, r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--name", default="refresh-bench")
    args = ap.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    bench_dir = ROOT / "outputs" / args.name
    if not (bench_dir / "latest").exists():
        r = subprocess.run([str(BIN / "benchmint"), "build", "examples/docs", "--name", args.name, "--questions", "3"],
                           cwd=ROOT, env=env)
        if r.returncode != 0:
            sys.exit(r.returncode)
    before = versions(bench_dir)
    empty, refresh = [], []
    for _ in range(args.repeats):
        t, r = timed([str(BIN / "python"), "-c", EMPTY], env)
        assert r.returncode == 0, r.stderr[-2000:]
        empty.append(t)
        t, r = timed([str(BIN / "benchmint"), "refresh", args.name], env)
        assert r.returncode == 0, r.stderr[-2000:]
        assert "unchanged" in r.stdout, r.stdout
        refresh.append(t)
    after = versions(bench_dir)
    calls = json.loads((bench_dir / "latest" / "manifest.json").read_text())["token_usage"]
    e, f = statistics.median(empty), statistics.median(refresh)
    print(f"empty Prefect flow run: median {e:.2f}s {[round(x, 2) for x in empty]}")
    print(f"unchanged refresh:      median {f:.2f}s {[round(x, 2) for x in refresh]}")
    print(f"ratio {f / e:.3f}x (goal <= 1.2x); versions before {before}, after {after} "
          f"(no new version: {before == after})")
    print(f"(the refresh reports 'unchanged' and starts no model; the latest build's usage was {calls})")


if __name__ == "__main__":
    main()
