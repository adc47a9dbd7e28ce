"""Accepted questions per hour of `benchmint build examples/docs` (what `make run` does) on the embedded
model's two servers, one build after the other on the same machine: llama-server with its parallel
slots (the default) and llama_cpp.server, one request at a time (forced by pointing
BENCHMINT_LLAMA_SERVER at no file, which is the fallback a machine without the build gets).

Each build gets a fresh response cache, so every model call is real; the ephemeral Prefect API, as
`make run` has. Shared by both, as a nightly refresh finds them: the joined model files and the
contamination corpora's indexes (built once, before the timed builds, unless --cold: building them
embeds every reference item, about a minute here, the same for both servers).

    .venv/bin/python bench/server_builds.py [--servers new,old] [--questions 12] [--docs examples/docs] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable


WARM = ("from pathlib import Path; import sys; from benchmint.config import ContaminationSettings; "
        "from validators.contamination_setup import contamination_validator; "
        "contamination_validator(ContaminationSettings(), Path(sys.argv[1]) / 'none', Path(sys.argv[1])).prepare()")


def fresh_cache(work: Path, name: str, contamination: Path | None) -> Path:
    cache = work / name
    cache.mkdir(parents=True)
    (cache / "models").symlink_to(Path(os.path.expanduser("~/.cache/benchmint/models")))
    if contamination is not None:
        (cache / "contamination").symlink_to(contamination)
    return cache


def warm_contamination(work: Path) -> Path:
    """The contamination indexes built once, in a folder every build's cache links to."""
    shared = work / "contamination"
    shared.mkdir(parents=True, exist_ok=True)
    cache = fresh_cache(work, "cache-warm", shared)
    t0 = time.monotonic()
    subprocess.run([PY, "-c", WARM, str(cache)], env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
    print(f"contamination indexes built in {time.monotonic() - t0:.0f} s (not timed)", flush=True)
    return shared


def one_build(server: str, questions: int, docs: Path, work: Path, contamination: Path | None) -> dict[str, object]:
    cache = fresh_cache(work, f"cache-{server}", contamination)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(BENCHMINT_CACHE=str(cache), PYTHONPATH=str(ROOT))
    if server == "old":
        env["BENCHMINT_LLAMA_SERVER"] = str(work / "no-such-binary")
    name = f"serverbench-{server}"
    cmd = [PY, "-m", "benchmint.cli", "build", str(docs), "--name", name, "--questions", str(questions),
           "--output-dir", str(work / "outputs")]
    load = os.getloadavg()[0]
    t0 = time.monotonic()
    r = subprocess.run(cmd, env=env, cwd=work, capture_output=True, text=True)
    wall = time.monotonic() - t0
    if r.returncode != 0:
        return {"server": server, "rc": r.returncode, "error": (r.stderr or r.stdout)[-1500:]}
    manifest = json.loads((work / "outputs" / name / "latest" / "manifest.json").read_text())
    accepted = manifest["counts"]["accepted"]
    gen = manifest["token_usage"].get("generator", {})
    return {"server": server, "wall_s": round(wall, 1), "accepted": accepted,
            "accepted_per_hour": round(accepted / wall * 3600, 1), "generated": manifest["generated"],
            "generator_calls": gen.get("calls"), "completion_tokens": gen.get("completion_tokens"),
            "chunks_used": sum(r["chunks"] for r in manifest["rounds"]), "load_at_start": round(load, 2),
            "model_s": manifest["timing"].get("model_s")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--servers", default="new,old")
    ap.add_argument("--questions", type=int, default=12)
    ap.add_argument("--docs", type=Path, default=ROOT / "examples" / "docs")
    ap.add_argument("--cold", action="store_true", help="each build embeds the contamination corpora itself")
    ap.add_argument("--keep", type=Path, help="build here and keep the releases (for `bench/estimate.py compare`)")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="server-builds-") as tmp:
        work = args.keep.resolve() if args.keep else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        contamination = None if args.cold else warm_contamination(work)
        for server in args.servers.split(","):
            rows.append(one_build(server, args.questions, args.docs.resolve(), work, contamination))
            print(json.dumps(rows[-1]), flush=True)
    ok = [r for r in rows if "accepted_per_hour" in r]
    if len(ok) == 2 and ok[1]["accepted_per_hour"]:
        print(f"new/old accepted per hour: {ok[0]['accepted_per_hour'] / ok[1]['accepted_per_hour']:.2f}x")


if __name__ == "__main__":
    main()
