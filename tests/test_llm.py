"""The model layer against a real llama.cpp server (SmolLM2), and against a scripted
HTTP endpoint on 127.0.0.1 that stands in for a misbehaving remote API (429, 5xx,
400, bad JSON), which llama.cpp cannot be made to produce on demand."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from benchmint.errors import ModelError
from benchmint.local_models import LOCAL_MODELS, resolve_local_gguf
from benchmint.local_server import LocalServer
from tests.fixtures import MESSAGES, Fact


def test_real_server_json_cache_and_usage(smollm_client):
    fact = smollm_client.complete_json(MESSAGES, Fact)
    assert isinstance(fact, Fact) and isinstance(fact.population, int)
    u = smollm_client.usage.as_dict()["generator"]
    assert u["calls"] == 1 and u["completion_tokens"] > 0 and u["prompt_tokens"] > 0
    again = smollm_client.complete_json(MESSAGES, Fact)
    assert again == fact
    u = smollm_client.usage.as_dict()["generator"]
    assert u["calls"] == 1 and u["cache_hits"] == 1  # the re-run made zero calls


def test_local_server_stops_and_frees_its_port(smollm_gguf, tmp_path):
    server = LocalServer(smollm_gguf, n_ctx=512, log_path=tmp_path / "s.log").start()
    url, proc = server.base_url, server.proc
    assert httpx.get(f"{url}/models", timeout=5).status_code == 200
    server.stop()
    assert proc.poll() is not None
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{url}/models", timeout=2)


def test_local_model_resolution(cache_dir, tmp_path):
    assert resolve_local_gguf("local:smollm2-135m", cache_dir).suffix == ".gguf"
    with pytest.raises(ModelError, match="unknown local model 'local:nope'"):
        resolve_local_gguf("local:nope", cache_dir)
    with pytest.raises(ModelError, match="does not exist"):
        resolve_local_gguf(f"local:{tmp_path}/missing.gguf", cache_dir)


def test_qwen_parts_join_and_verify(tmp_path):
    qwen = LOCAL_MODELS["qwen2.5-coder-1.5b"]
    path = qwen.gguf(tmp_path)
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(16 << 20):
            h.update(block)
    assert h.hexdigest() == qwen.sha256
    assert qwen.gguf(tmp_path) == path  # verified once, reused






# --------------------------------------------------------------------------- scripted endpoint
















