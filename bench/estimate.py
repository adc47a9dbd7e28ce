"""The cost estimate against a real build: `benchmint estimate` before, the release's token_usage after.

Prints, per role, the estimated and actual calls, prompt, completion and total tokens (and money when
priced), the ratio estimate / actual, and whether the total tokens are within 25% (issue 15 item 8's goal).
The estimate assumes every call is made: run the build with a fresh response cache (the manifest's
cache_hits say how many replies came from it; they cost no tokens, and the script warns).

    # 1. the estimate, saved (same sources and flags as the build; `make run` is examples/docs, 12 questions, Qwen)
    .venv/bin/python bench/estimate.py estimate examples/docs --questions 12 --out /tmp/estimate.json
    # 2. the build, with an empty cache
    BENCHMINT_CACHE=/tmp/fresh-cache make run
    # 3. the comparison (a release folder, its manifest.json, or outputs/NAME for its latest version)
    .venv/bin/python bench/estimate.py compare /tmp/estimate.json outputs/example
    # or both at once, when the build already ran: estimate now and compare
    .venv/bin/python bench/estimate.py compare - outputs/example -- examples/docs --questions 12
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KEYS = ("calls", "prompt_tokens", "completion_tokens")


def run_estimate(args: list[str]) -> dict:
    """`benchmint estimate ARGS --json`, as the CLI runs it."""
    cmd = [sys.executable, "-m", "benchmint.cli", "estimate", *args, "--json"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(f"benchmint estimate failed ({done.returncode}): {done.stderr.strip()}")
    return json.loads(done.stdout)


def manifest_of(path: Path) -> dict:
    if path.is_dir() and not (path / "manifest.json").exists():
        path = path / "latest"  # outputs/NAME: its latest version
    if path.is_dir():
        path = path / "manifest.json"
    return json.loads(path.read_text())


def ratio(est: float, act: float) -> str:
    return f"{est / act:.2f}" if act else "-"


def compare(est: dict, m: dict) -> bool:
    """Print the table; True when the total tokens are within 25% of the actual ones."""
    usage = m.get("token_usage") or {}
    print(f"estimate: {est['chunks']} chunks, {est['steps']} steps expected ({est['stop']}); "
          f"build: {m['sources']['chunks']} chunks, {m['sources']['chunks_used']} used, "
          f"{m.get('generated')} candidates, stopped: {m.get('stopped_because')}")
    hits = sum(u.get("cache_hits", 0) for u in usage.values())
    if hits:
        print(f"warning: {hits} replies of the build came from the response cache (no tokens): rerun it with an "
              "empty cache (BENCHMINT_CACHE=/tmp/fresh) for a fair comparison")
    print(f"{'role':<20} {'what':<18} {'estimate':>10} {'actual':>10} {'ratio':>6}")
    totals = {"estimate": 0.0, "actual": 0.0}
    roles = sorted(set(usage) | {r["role"] for r in est["roles"]})
    by_role = {r["role"]: r for r in est["roles"]}
    for role in roles:
        e, a = by_role.get(role, {}), usage.get(role, {})
        for key in KEYS:
            est_v, act_v = e.get(key, 0), a.get(key, 0)
            print(f"{role:<20} {key:<18} {est_v:>10,} {act_v:>10,} {ratio(est_v, act_v):>6}")
        tokens_e = e.get("prompt_tokens", 0) + e.get("completion_tokens", 0)
        tokens_a = a.get("prompt_tokens", 0) + a.get("completion_tokens", 0)
        totals["estimate"] += tokens_e
        totals["actual"] += tokens_a
        print(f"{role:<20} {'tokens':<18} {tokens_e:>10,} {tokens_a:>10,} {ratio(tokens_e, tokens_a):>6}")
        if e.get("cost") is not None or "cost" in a:
            print(f"{role:<20} {'money':<18} {e.get('cost') or 0:>10.4g} {a.get('cost', 0):>10.4g} "
                  f"{ratio(e.get('cost') or 0, a.get('cost', 0)):>6}")
    e, a = totals["estimate"], totals["actual"]
    ok = bool(a) and abs(e - a) <= 0.25 * a
    print(f"{'total':<20} {'tokens':<18} {e:>10,.0f} {a:>10,.0f} {ratio(e, a):>6}  "
          f"{'within' if ok else 'NOT within'} 25% (goal)")
    print("assumptions of the estimate:")
    for line in est.get("assumptions", []):
        print(f"- {line}")
    return ok


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("estimate", help="run benchmint estimate and save its JSON")
    e.add_argument("--out", type=Path, required=True)
    c = sub.add_parser("compare", help="a saved estimate (or - to estimate now) against a release")
    c.add_argument("estimate", help="the saved JSON, or - to run benchmint estimate with the arguments after --")
    c.add_argument("release", type=Path, help="a release folder, its manifest.json, or outputs/NAME")
    args, rest = ap.parse_known_args()
    rest = [x for x in rest if x != "--"]
    if args.cmd == "estimate":
        args.out.write_text(json.dumps(run_estimate(rest), indent=2))
        print(f"estimate saved to {args.out}")
        return
    est = run_estimate(rest) if args.estimate == "-" else json.loads(Path(args.estimate).read_text())
    sys.exit(0 if compare(est, manifest_of(args.release)) else 1)


if __name__ == "__main__":
    main()
