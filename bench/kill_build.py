"""kill -9 a real build at random moments, rerun it each time, and check what is left.

Each trial is a real `benchmint build` (the CLI in its own process, generator local:smollm2-135m on
its llama.cpp server, a generated corpus of many small chunks, one Prefect server for every run)
with its own seed, so its model calls are new. The build is killed with SIGKILL at a seeded random
moment of the time an uninterrupted build takes (loading, generating, validating or publishing),
with the process group it started (its llama.cpp server, started in a session of its own, is
then found by its log file and stopped by its pid, as a crashed machine would lose it). Then:

- right after the kill: every vN folder is complete (no half-written version), `latest` names the
  newest version (or, when the kill fell between the two renames, is repaired by the next run);
- the rerun completes and publishes a valid version: the manifest parses, its content hash is the
  hash of questions.parquet's rows, questions.jsonl holds the same ids, every file is there, no
  temporary folder is left, `latest` names it;
- the killed build's flow run: after the rerun, no flow run is left Running (the rerun sets the killed one
  Crashed: flows/stale_runs.py);
- repeated model calls: the killed run's requests (counted at the llama.cpp server's log) that
  the rerun's response cache did not spare (`saved_calls`: a hit on a step kept after its repair
  spares both of its calls), over the calls the build needs (the rerun's calls plus those spared).
  Split in two: calls whose reply the killed run had kept (asked again: the cache failed) and calls
  in flight at the kill (their replies died with the process: up to the endpoint's concurrency).

    .venv/bin/python bench/kill_build.py [--kills 20] [--seed 7] [--docs 2] [--keep DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.prefect_server import api_call, server_env, start_server, stop  # noqa: E402

PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
NAME = "killbench"
FILES = ("questions.jsonl", "questions.parquet", "rejected.jsonl", "retired.jsonl", "manifest.json", "README.md",
         "CHANGELOG.md", "dataset")
_WORDS = ("amber basalt cobalt delta ember fjord garnet harbor indigo juniper kestrel lagoon meadow nimbus ochre "
          "pylon quarry russet sable tundra umber vale willow yarrow zephyr").split()


def make_corpus(folder: Path, docs: int, seed: int) -> None:
    """`docs` markdown files of distinct, checkable facts (names, numbers, places), several chunks each.

    Short, plain declarative sentences, each naming its subject: a small model (SmolLM2-135M) can then
    copy one word for word as its citation and statement, so its questions pass grounding and quality."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for d in range(docs):
        place = f"{rng.choice(_WORDS).title()}{rng.choice(_WORDS)}"
        lines = [f"# The {place} station handbook", ""]
        for kind in rng.sample(_WORDS, 6):  # distinct pumps: their facts are not near-duplicates
            unit = f"The {kind} pump at {place}"
            lines.append(
                f"{unit} was installed in {rng.randint(1950, 2024)}. "
                f"{unit} was built by engineer {rng.choice(_WORDS).title()} {rng.choice(_WORDS).title()}. "
                f"{unit} moves {rng.randint(100, 9000)} litres of water per hour. "
                f"{unit} is inspected every {rng.randint(2, 40)} days. "
                f"{unit} has a backup generator with {rng.randint(20, 800)} litres of fuel. "
                f"{unit} sounds an alarm at {rng.randint(2, 30)} bar of pressure.")
            lines.append("")
        (folder / f"station-{d:02d}.md").write_text("\n".join(lines), encoding="utf-8")


def write_config(path: Path, corpus: Path, out: Path, cache: Path, seed: int, chunk_tokens: int = 100) -> None:
    cfg = {"name": NAME, "sources": [str(corpus)], "questions": 1000, "seed": seed,
           "output_dir": str(out), "cache_dir": str(cache),
           # llama-server samples with no repeat penalty by default; without one SmolLM2-135M loops inside a JSON
           # string to max_tokens on most steps of this corpus. With it, runs of 5 invalid replies in a row still
           # come (batched replies differ from run to run), and the breaker would stop a build: off here, since
           # the bench measures what a kill leaves, not the small model's JSON
           "models": {"generator": {"model": "local:smollm2-135m", "max_tokens": 400, "n_ctx": 2048,
                                    "sampling": {"repeat_penalty": 1.1}, "max_consecutive_failures": 0}},
           "chunking": {"max_tokens": chunk_tokens, "overlap": 0},
           # true/false: SmolLM2-135M's open questions on this corpus cite "the document" and fail grounding and quality
           # (a 1-file build accepted none); a true/false item is its copied sentence and a changed twin
           "generation": {"questions_per_chunk": 1, "kinds": ["tf"], "batch_chunks": 2},
           # the bench measures kill safety, not question quality: SmolLM2's true/false statements on this corpus
           # rarely restate what they cite, so some seeds accepted nothing at any answer-support floor above 0; the
           # citations must still be found in their chunk, and quality and dedup still apply
           "grounding": {"min_ratio": 60, "min_words": 3, "min_answer_support": 0.0},
           "contamination": {"enabled": False}}
    path.write_text(json.dumps(cfg), encoding="utf-8")  # JSON is YAML


@contextlib.contextmanager
def prefect_server(home: Path) -> Iterator[dict[str, str]]:
    """One `prefect server start` on 127.0.0.1 for every run of the bench; the builds' environment."""
    home.mkdir(parents=True, exist_ok=True)
    proc, api = start_server(home, home.parent / "prefect-server.log", timeout_s=240)
    try:
        yield {**server_env(home, api), "PREFECT_LOGGING_LEVEL": "WARNING", "PYTHONPATH": str(ROOT),
               "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    finally:
        stop(proc)


def runs_left_running(api: str) -> int:
    """Flow runs the Prefect server still shows Running (between builds: a killed build's whose next run did not
    set it Crashed, flows/stale_runs.py)."""
    return len(api_call("POST", f"{api.rstrip('/')}/flow_runs/filter",
                        json={"flow_runs": {"state": {"type": {"any_": ["RUNNING"]}}}}))


def server_log(cache: Path) -> Path:
    return cache / "logs" / "llama-server-smollm2-135m-instruct-q4_1.log"


def requests_logged(cache: Path) -> int:
    """Chat requests the llama.cpp server answered: llama_cpp.server's access log, or llama-server's
    log line for each task a slot finished."""
    logs = list((cache / "logs").glob("llama-server-*.log")) if (cache / "logs").is_dir() else []
    texts = [p.read_text(errors="replace") for p in logs]
    return sum(t.count("POST /v1/chat/completions") + t.count("| stop processing") for t in texts)


def replies_kept(cache: Path) -> int:
    """Replies in the response cache (one file each, valid or not): what a rerun can replay."""
    root = cache / "responses"
    return sum(1 for _ in root.glob("*/*.json")) if root.is_dir() else 0


def orphans(cache: Path) -> list[int]:
    """The llama.cpp servers this bench's builds started and left (their output goes to our log)."""
    logs = {str(p) for p in (cache / "logs").glob("*.log")} if (cache / "logs").is_dir() else set()
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError):
                if os.readlink(proc / "fd" / "1") in logs:
                    found.append(int(proc.name))
    return found


def _cpu_ticks(pid: int) -> int:
    with contextlib.suppress(OSError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    return -1


def settle(cache: Path, timeout_s: float = 900.0) -> None:
    """Let an orphaned server finish the request it was answering when its build was killed, so that
    the request is logged and counted (it stops using the CPU when it is done)."""
    deadline = time.monotonic() + timeout_s
    for pid in orphans(cache):
        last = _cpu_ticks(pid)
        while time.monotonic() < deadline:
            time.sleep(3)
            now = _cpu_ticks(pid)
            if now < 0 or now - last <= 2:  # gone, or idle (a few ticks of housekeeping)
                break
            last = now


def stop_orphans(cache: Path) -> int:
    """Stop, by pid, the servers `orphans` finds."""
    stopped = 0
    for pid in orphans(cache):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
            stopped += 1
    return stopped


def build_cmd(config: Path) -> list[str]:
    return [PY, "-m", "benchmint.cli", "build", "--config", str(config)]


def state(bench: Path) -> dict[str, Any]:
    """What a reader sees: versions, where latest points, leftovers, and each version checked."""
    from benchmint.release import versions

    found = versions(bench)
    link = bench / "latest"
    return {"versions": found, "latest": os.readlink(link) if link.is_symlink() else None,
            "leftovers": sorted(p.name for p in bench.glob(".tmp-*")) if bench.is_dir() else [],
            "problems": {v: p for v in found if (p := check_version(bench / v))}}


def check_version(folder: Path) -> str:
    """'' when `folder` is a complete, valid version; else what is wrong."""
    import pyarrow.parquet as pq

    from benchmint.release import content_hash

    missing = [f for f in FILES if not (folder / f).exists()]
    if missing:
        return f"missing {missing}"
    try:
        m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        rows = pq.read_table(folder / "questions.parquet").to_pylist()
        ids = [json.loads(x)["id"] for x in (folder / "questions.jsonl").read_text(encoding="utf-8").splitlines() if x]
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the finding
        return f"unreadable: {type(exc).__name__}: {exc}"
    if m.get("content_hash") != content_hash(rows):
        return "content hash differs from questions.parquet"
    if sorted(ids) != sorted(r["id"] for r in rows) or m.get("counts", {}).get("accepted") != len(rows):
        return "questions.jsonl and questions.parquet differ"
    return ""


def run_trials(kills: int, seed: int, docs: int, work: Path, log=print,  # noqa: ANN001
               span: float | None = None, corpus: Path | None = None, chunk_tokens: int = 100) -> dict[str, Any]:
    """The whole bench in `work`; returns the figures (and every trial) for the caller to check.

    `span`: how long a build takes, the interval the kill moments are drawn from; None: measured by
    an uninterrupted build first. `corpus`: a folder to build from (default: `docs` generated files)."""
    out, cache = work / "outputs", work / "cache"
    if corpus is None:
        corpus = work / "corpus"
        make_corpus(corpus, docs, seed)
    env_extra = {"BENCHMINT_CACHE": str(cache)}
    bench = out / NAME
    rng = random.Random(seed)
    trials: list[dict[str, Any]] = []
    try:
        return _trials(kills, seed, corpus, out, cache, bench, work, env_extra, rng, trials, log, span, chunk_tokens)
    finally:
        stop_orphans(cache)  # also when the bench itself is stopped


def _trials(kills, seed, corpus, out, cache, bench, work, env_extra, rng, trials, log, span,  # noqa: ANN001, ANN202
            chunk_tokens):  # noqa: ANN001
    with prefect_server(work / "prefect-home") as env:
        env = {**env, **env_extra}
        ref_calls = None
        if span is None:  # an uninterrupted build: how long a build takes (the span the kills are drawn from)
            ref_cfg = work / "ref.yaml"
            write_config(ref_cfg, corpus, out, cache, seed * 1000, chunk_tokens)
            n0 = requests_logged(cache)
            t0 = time.monotonic()
            r = subprocess.run(build_cmd(ref_cfg), env=env, cwd=work, capture_output=True, text=True)
            span = time.monotonic() - t0
            if r.returncode != 0:
                raise RuntimeError(f"the reference build failed: {r.stderr[-2000:]}")
            ref_calls = requests_logged(cache) - n0
            stop_orphans(cache)
        log(f"a build takes {span:.1f} s ({ref_calls} model calls); {kills} kills follow")
        for i in range(kills):
            cfg = work / f"trial-{i}.yaml"
            write_config(cfg, corpus, out, cache, seed * 1000 + i + 1, chunk_tokens)
            at = rng.uniform(0.02, 1.0) * span
            before = state(bench)["versions"]
            n0, kept0 = requests_logged(cache), replies_kept(cache)
            proc = subprocess.Popen(build_cmd(cfg), env=env, cwd=work, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, start_new_session=True)
            try:
                proc.wait(timeout=at)
                finished = True  # it ended before the kill: a trial with nothing to kill
            except subprocess.TimeoutExpired:
                finished = False
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            settle(cache)  # the server finishes and logs the request it was answering: it counts
            stop_orphans(cache)
            killed_calls = requests_logged(cache) - n0
            received = replies_kept(cache) - kept0  # replies the killed run got and kept before it died
            after_kill = state(bench)
            n1 = requests_logged(cache)
            t1 = time.monotonic()
            rerun = subprocess.run(build_cmd(cfg), env=env, cwd=work, capture_output=True, text=True)
            took = time.monotonic() - t1
            stop_orphans(cache)
            after = state(bench)
            trial: dict[str, Any] = {"trial": i, "kill_at_s": round(at, 2), "ended_before_kill": finished,
                                     "runs_left_running": runs_left_running(env["PREFECT_API_URL"]),
                                     "killed_run_calls": killed_calls, "killed_run_replies_kept": received,
                                     "rerun_s": round(took, 1),
                                     "rerun_rc": rerun.returncode, "rerun_calls_logged": requests_logged(cache) - n1,
                                     "after_kill": {k: after_kill[k] for k in ("versions", "latest", "leftovers")},
                                     "after_kill_problems": after_kill["problems"]}
            new = [v for v in after["versions"] if v not in before]
            trial["published_by_killed_run"] = [v for v in after_kill["versions"] if v not in before]
            trial["latest_right_after_kill"] = after_kill["latest"] == (after_kill["versions"] or [None])[-1]
            if rerun.returncode != 0 or not new:
                trial["error"] = (rerun.stderr or rerun.stdout)[-1500:]
            else:
                v = after["versions"][-1]
                m = json.loads((bench / v / "manifest.json").read_text())
                gen = m["token_usage"].get("generator", {})
                calls, hits = int(gen.get("calls", 0)), int(gen.get("cache_hits", 0))
                saved = int(gen.get("saved_calls", hits))  # a hit on a repaired step spares its two calls
                wasted = 0 if finished else max(0, killed_calls - saved)
                # of those, calls the killed run had the reply of (kept, yet asked again): the cache's own failures;
                # the rest were in flight at the kill, their replies lost with the process
                trial.update(version=v, check=check_version(bench / v), rerun_calls=calls, rerun_cache_hits=hits,
                             rerun_saved_calls=saved, needed_calls=calls + saved, repeated_calls=wasted,
                             repeated_kept_replies=0 if finished else max(0, received - saved),
                             lost_in_flight=0 if finished else max(0, killed_calls - received),
                             repeated_share=round(wasted / max(1, calls + saved), 4),
                             latest_right=after["latest"] == after["versions"][-1], leftovers=after["leftovers"],
                             problems=after["problems"])
            trials.append(trial)
            log(json.dumps(trial))
    done = [t for t in trials if "error" not in t]
    killed = [t for t in done if not t["ended_before_kill"]]
    return {"kills": kills, "seed": seed, "span_s": round(span, 1), "reference_calls": ref_calls,
            "reruns_ok": len(done), "valid_versions": sum(not t["check"] for t in done),
            "latest_right": sum(t["latest_right"] for t in done),
            "latest_right_after_kill": sum(t["latest_right_after_kill"] for t in trials),
            "half_written": sum(bool(t["after_kill_problems"]) or bool(t.get("problems")) for t in trials),
            "max_repeated_share": max((t["repeated_share"] for t in killed), default=0.0),
            "mean_repeated_share": round(sum(t["repeated_share"] for t in killed) / max(1, len(killed)), 4),
            "repeated_kept_replies": sum(t.get("repeated_kept_replies", 0) for t in killed),
            "max_lost_in_flight": max((t.get("lost_in_flight", 0) for t in killed), default=0),
            "runs_left_running": max((t["runs_left_running"] for t in trials), default=0),
            "trials": trials}


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--docs", type=int, default=2)
    ap.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary one)")
    ap.add_argument("--corpus", type=Path, help="build from this folder (e.g. examples/docs) instead of --docs files")
    ap.add_argument("--chunk-tokens", type=int, default=100, help="chunk size: more chunks, more model calls")
    ap.add_argument("--span", type=float, help="seconds a build takes (default: measured by one uninterrupted build)")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="kill-build-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        res = run_trials(args.kills, args.seed, args.docs, work, span=args.span,
                         corpus=args.corpus.resolve() if args.corpus else None, chunk_tokens=args.chunk_tokens)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({k: v for k, v in res.items() if k != "trials"}, indent=2))
    ok = (res["reruns_ok"] == res["kills"] and res["valid_versions"] == res["kills"] and not res["half_written"]
          and res["latest_right"] == res["kills"] and res["max_repeated_share"] <= 0.05)
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
