"""Adaptive rounds, measured: the mean target pass rate per round, and its drop from round 0.

Runs `benchmint build examples/docs --rounds 3 --questions 10` (the embedded models: generator Qwen,
targets SmolLM2, Gemma 3 270M and Qwen, the generator as the judge) and prints, per round, the
questions generated, accepted, rejected per validator, the mean target pass rate,
the failure patterns named and the tokens; then the drop from round 0 to the last
round (goal: >= 30 points) and whether every published question passes grounding.

    .venv/bin/python bench/adaptive.py [--rounds 3] [--questions 10] [--name adaptive-bench]
    .venv/bin/python bench/adaptive.py --manifest outputs/docs/v1/manifest.json   # report an existing build
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def report(release: Path) -> None:
    m = json.loads((release / "manifest.json").read_text())
    print(f"release {release} ({m['counts']['accepted']} questions; stopped: {m.get('stopped_because')})")
    print(f"targets: {', '.join(m.get('targets', []))}; judges: {', '.join(m.get('judges', []))}")
    rates = []
    for r in m["rounds"]:
        rate = r.get("mean_target_pass_rate")
        rates.append(rate)
        print(f"  round {r['round']}: generated {r['generated']}, accepted {r['accepted']}, "
              f"rejected {r['rejected']} {r['rejected_by_validator']}, measured {r.get('measured')}, "
              f"mean target pass rate {rate if rate is None else round(rate, 3)} {r.get('pass_rate_ci')}, "
              f"completion tokens {r['completion_tokens']}, passes {r.get('passes', 1)}"
              + (f" (last pass: {r['again_kinds']})" if r.get("again_kinds") else ""))
        if r.get("patterns"):
            print(f"    patterns: {r['patterns']}; mix {r.get('kinds')} multi-hop {r.get('multi_hop')}; "
                  f"pass rate by shape before the round {r.get('shape_pass_rates')}")
    if drop := m.get("round_drop"):  # the manifest's record: paired by shared chunks, clustered
        print(f"drop from round {drop['first_round']} to round {drop['last_round']}: {100 * drop['mean']:.1f} points, "
              f"95% interval [{100 * drop['ci_low']:.1f}, {100 * drop['ci_high']:.1f}] ({drop['n_first']} and "
              f"{drop['n_last']} measured, {drop['clusters']} chunks; goal >= 30 with the interval above 0)")
    rows = [json.loads(x) for x in (release / "questions.jsonl").read_text().splitlines() if x.strip()]
    grounded = sum(any(v["validator"] == "grounding" and v["passed"] for v in r["verdicts"]) for r in rows)
    print(f"published questions passing grounding: {grounded}/{len(rows)}")
    print(f"token usage: {json.dumps(m['token_usage'])}")
    print(f"timing: {m.get('timing')}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--manifest", help="report this build's manifest instead of building")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--questions", type=int, default=10)
    ap.add_argument("--name", default="adaptive-bench")
    args = ap.parse_args()
    if args.manifest:
        report(Path(args.manifest).parent)
        return
    t0 = time.monotonic()
    cmd = [str(ROOT / ".venv" / "bin" / "benchmint"), "build", "examples/docs", "--rounds", str(args.rounds),
           "--questions", str(args.questions), "--name", args.name]
    r = subprocess.run(cmd, cwd=ROOT)
    if r.returncode != 0:
        sys.exit(r.returncode)
    print(f"wall {time.monotonic() - t0:.0f}s")
    report((ROOT / "outputs" / args.name / "latest").resolve())


if __name__ == "__main__":
    main()
