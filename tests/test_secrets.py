"""Secrets never stored: the one URL redaction (every form of a key in a URL), the stash, the
scrubber, model references and configs handed to flows, log records, and a real Prefect flow run
whose stored parameters, name, logs and failure message hold no key.
(The end-to-end canary run through the CLI and a Prefect server: test_secrets_canary.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid

import httpx

from benchmint.secrets import (
    reveal,
)
from tests.fixtures import REPO, canary_config
from tests.fixtures import SECRET_CANARY as C

# (raw URL, its redacted form): every form the issue lists, and more






























def _cli(*args: str, cwd, env: dict | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    return subprocess.run([sys.executable, "-m", "benchmint.cli", *args], cwd=cwd, capture_output=True, text=True,
                          env={**base, "PYTHONPATH": str(REPO), **(env or {})}, timeout=300)


def test_cli_errors_never_print_a_key(tmp_path):
    (tmp_path / "doc.md").write_text("# x\n\nSome words here for a document that is long enough to read.\n")
    r = _cli("build", str(tmp_path / "doc.md"), "--model", f"https://user:{C}@api.example.com/v1", cwd=tmp_path)
    assert r.returncode == 2 and "model 'https://api.example.com/v1' has no model name" in r.stderr
    assert C not in r.stderr + r.stdout
    # a key pasted where the model goes (`--model $OPENAI_API_KEY`)
    r = _cli("build", str(tmp_path / "doc.md"), "--model", f"sk-{C}pasted", cwd=tmp_path,
             env={"OPENAI_API_KEY": f"sk-{C}pasted"})
    assert r.returncode == 2 and "not understood" in r.stderr and C not in r.stderr + r.stdout


# --------------------------------------------------------------------------- a real Prefect flow run


def _echo(config: dict) -> dict:
    """Logs the generator URL it got and the raw one it reveals, then fails or returns."""
    from prefect import get_run_logger

    url = config["models"]["generator"]["base_url"]
    get_run_logger().info("got %s; connecting to %s", url, reveal(url))
    if config.get("seed") == 1:
        raise RuntimeError(f"endpoint {reveal(url)} refused the key")
    return config


def test_a_flow_called_from_python_stores_no_secret(prefect_harness, tmp_path):
    from prefect.settings import PREFECT_API_URL

    from flows.secret_safe import SecretSafeFlow, safe_config_params

    echo = SecretSafeFlow(_echo, safe_config_params, name="secrets-echo", flow_run_name="echo-{config[name]}")
    raw = canary_config(tmp_path)
    raw["name"] = f"echo-{uuid.uuid4().hex[:8]}"
    got = echo(raw)
    assert C not in json.dumps(got) and reveal(got["models"]["generator"]["base_url"]).startswith("https://user:")
    state = echo({**raw, "seed": 1}, return_state=True)
    assert state.is_failed()

    api = PREFECT_API_URL.value()
    runs = httpx.post(f"{api}/flow_runs/filter", json={"flow_runs": {"name": {"like_": raw["name"]}}},
                      timeout=30).raise_for_status().json()
    assert len(runs) == 2
    for run in runs:
        assert C not in json.dumps(run["parameters"]) and C not in run["name"]
        assert run["parameters"]["config"]["models"]["generator"]["base_url"] == "https://gen.example.com/v1"
        assert C not in json.dumps(run["state"])
        messages = ""
        for _ in range(30):  # logs reach the API in batches
            logs = httpx.post(f"{api}/logs/filter", json={"logs": {"flow_run_id": {"any_": [run["id"]]}}},
                              timeout=30).raise_for_status().json()
            messages = "\n".join(x["message"] for x in logs)
            if "connecting to" in messages:
                break
            time.sleep(1)
        assert "connecting to https://gen.example.com/v1" in messages and C not in messages
    failed = next(r for r in runs if r["state"]["type"] == "FAILED")
    assert "refused the key" in failed["state"]["message"]


