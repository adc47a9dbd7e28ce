"""The embedded model's server, measured: aggregate completion tokens/s with N parallel slots and N
concurrent generation-like requests, and the slowdown of one request when a CPU-bound neighbour runs.

A generation-like request: a ~1,500-character passage of examples/docs, "write 3 questions" with the
answer and a citation each, in a JSON schema (`response_format` json_object + schema, as benchmint sends
to local models), ~240 completion tokens. Each concurrent request gets its own passage (no shared prompt).
`new` is llama-server (benchmint.server_binary's build), `old` is llama_cpp.server (one request at a time).
The neighbour is `nice -n 19 python -c 'while True: pass'`, one process, for the request's duration.

    .venv/bin/python bench/llama_slots.py [--models smollm2-135m,qwen2.5-coder-1.5b] [--slots 1,2,4,8]
        [--servers new,old] [--neighbour] [--threads N] [--threads-batch N] [--poll 0] [--max-tokens 400]
        [--spec ngram-simple]

Each figure prints with the load average at its start (`uptime`): the machine is shared, so a figure
taken under load is a floor, and one that looks disturbed should be rerun.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmint.config import cache_root  # noqa: E402
from benchmint.local_models import resolve_local_gguf  # noqa: E402
from benchmint.local_server import LocalServer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PASSAGE_CHARS = 1500
SCHEMA = {
    "type": "object",
    "properties": {"questions": {"type": "array", "minItems": 3, "maxItems": 3, "items": {
        "type": "object",
        "properties": {"question": {"type": "string"}, "answer": {"type": "string"}, "citation": {"type": "string"}},
        "required": ["question", "answer", "citation"]}}},
    "required": ["questions"],
}
SYSTEM = ("You write exam questions from a passage. Each question has a short answer and a citation: "
          "a sentence copied word for word from the passage. Reply with JSON only.")


def passages(n: int) -> list[str]:
    """n distinct ~1,500-character windows of the example corpus's text files."""
    text = " ".join(" ".join((ROOT / "examples" / "docs" / f).read_text(encoding="utf-8").split())
                    for f in ("handbook.md", "release-notes.txt"))
    step = max(1, (len(text) - PASSAGE_CHARS) // max(1, n))
    return [text[i * step:i * step + PASSAGE_CHARS] for i in range(n)]


def request(url: str, passage: str, max_tokens: int, seed: int) -> int:
    """One generation-like request; its completion tokens."""
    payload = {"model": "local", "temperature": 0.2, "max_tokens": max_tokens, "seed": seed,
               "response_format": {"type": "json_object", "schema": SCHEMA},
               "messages": [{"role": "system", "content": SYSTEM},
                            {"role": "user", "content": f"Passage:\n{passage}\n\nWrite 3 questions about it."}]}
    r = httpx.post(f"{url}/chat/completions", json=payload, timeout=1800)
    r.raise_for_status()
    return int(r.json()["usage"]["completion_tokens"])


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def measure(server: LocalServer, concurrent: int, max_tokens: int, seed: int) -> dict[str, float]:
    texts = passages(concurrent)
    t0 = time.monotonic()
    with ThreadPoolExecutor(concurrent) as pool:
        tokens = list(pool.map(lambda i: request(server.base_url, texts[i], max_tokens, seed + i), range(concurrent)))
    wall = time.monotonic() - t0
    return {"wall_s": round(wall, 1), "completion_tokens": sum(tokens), "tok_s": round(sum(tokens) / wall, 2)}


# Spins, and ends by itself when the bench is gone (its parent changes), however the bench ends.
SPIN = "import os\nparent = os.getppid()\nwhile os.getppid() == parent:\n    for _ in range(100000): pass"


class Neighbour:
    """One CPU-bound process at nice 19 (started and stopped by its pid)."""

    def __enter__(self) -> "Neighbour":
        self.proc = subprocess.Popen(["nice", "-n", "19", sys.executable, "-c", SPIN])
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.kill()
        self.proc.wait()


def run(model: str, kind: str, slots: int, args: argparse.Namespace, log_dir: Path, neighbour: bool) -> dict:
    gguf = resolve_local_gguf(f"local:{model}", cache_root())
    server = LocalServer(gguf, n_ctx=args.n_ctx, slots=slots, n_threads=args.threads,
                         n_threads_batch=args.threads_batch, poll=args.poll,
                         log_path=log_dir / f"{model}-{kind}-{slots}.log", prefer_llama_server=(kind == "new"),
                         speculative=args.spec)
    with server:
        if kind == "new" and server.binary is None:
            raise SystemExit("llama-server is not built: .venv/bin/python -m benchmint.server_binary")
        request(server.base_url, "A warm-up passage.", 8, 0)
        row = {"model": model, "server": kind, "slots": server.slots, "threads": server.n_threads,
               "threads_batch": server.n_threads_batch, "poll": server.poll if kind == "new" else None,
               "spec": args.spec or None,
               "neighbour": neighbour, "load_before": load()}
        if neighbour:
            with Neighbour():
                row.update(measure(server, 1, args.max_tokens, args.seed))
        else:
            row.update(measure(server, slots, args.max_tokens, args.seed))
        row["load_after"] = load()
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="smollm2-135m,qwen2.5-coder-1.5b")
    ap.add_argument("--slots", default="1,2,4,8")
    ap.add_argument("--servers", default="new,old")
    ap.add_argument("--neighbour", action="store_true", help="only the one-request slowdown, idle vs one neighbour")
    ap.add_argument("--threads", type=int, default=None, help="llama.cpp threads (default: every core)")
    ap.add_argument("--threads-batch", type=int, default=None, help="prompt processing threads (default: --threads)")
    ap.add_argument("--poll", type=int, default=0)
    ap.add_argument("--n-ctx", type=int, default=4096, help="context per slot")
    ap.add_argument("--max-tokens", type=int, default=400)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--spec", default="", help="llama-server --spec-type (e.g. ngram-simple); default none")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # `timeout`: stop the server and neighbour first
    log_dir = Path(tempfile.mkdtemp(prefix="llama-slots-"))
    rows = []
    for model in args.models.split(","):
        for kind in args.servers.split(","):
            if args.neighbour:
                idle = run(model, kind, 1, args, log_dir, neighbour=False)
                print(json.dumps(idle), flush=True)  # each figure as it comes: a busy run can be long
                busy = run(model, kind, 1, args, log_dir, neighbour=True)
                busy["slowdown"] = round(busy["wall_s"] / idle["wall_s"], 2)
                rows += [idle, busy]
                print(json.dumps(busy), flush=True)
                continue
            for slots in ([1] if kind == "old" else [int(s) for s in args.slots.split(",")]):
                rows.append(run(model, kind, slots, args, log_dir, neighbour=False))
                print(json.dumps(rows[-1]), flush=True)
    print(f"\nlogs: {log_dir}  ({os.cpu_count()} cores)")
    for r in rows:
        extra = f" slowdown {r['slowdown']}x" if "slowdown" in r else ""
        print(f"{r['model']:20} {r['server']:3} slots={r['slots']} threads={r['threads']} poll={r['poll']} "
              f"neighbour={r['neighbour']!s:5} {r['tok_s']:6.2f} tok/s ({r['completion_tokens']} tokens in "
              f"{r['wall_s']} s) load {r['load_before']}{extra}")


if __name__ == "__main__":
    main()
