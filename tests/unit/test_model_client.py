"""The model client against a scripted HTTP endpoint on 127.0.0.1 that stands in for a misbehaving
remote API (429, 5xx, 400, bad JSON), which llama.cpp cannot be made to produce on demand; model
references and the public config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmint.config import BuildConfig
from benchmint.errors import ConfigError, ModelError, ModelOutputError
from benchmint.llm import ModelClient
from benchmint.modelspec import ModelSpec, parse_model_ref
from benchmint.response_cache import ResponseCache
from benchmint.usage import UsageBook
from tests.endpoint_standin import HttpStandIn, QuietHandler
from tests.fixtures import MESSAGES, Fact


def test_model_refs():
    spec = parse_model_ref("http://127.0.0.1:9/v1#my-model")
    assert spec.base_url == "http://127.0.0.1:9/v1" and spec.model == "my-model" and not spec.is_local
    assert parse_model_ref("local:smollm2-135m").is_local
    with pytest.raises(ConfigError, match="URL#model"):
        parse_model_ref("http://127.0.0.1:9/v1")
    with pytest.raises(ConfigError, match="not understood"):
        parse_model_ref("gpt-something")


def test_secrets_never_reach_the_public_config(monkeypatch):
    monkeypatch.setenv("MY_KEY", "sk-very-secret")
    cfg = BuildConfig(name="x", sources=["a"], models={"generator": {
        "model": "m", "base_url": "https://user:pw@api.example.invalid/v1?api_key=sk-inline", "api_key_env": "MY_KEY"}})
    dumped = json.dumps(cfg.public_dict())
    assert "sk-very-secret" not in dumped and "sk-inline" not in dumped and "user:pw" not in dumped
    assert "MY_KEY" in dumped  # the variable's name is fine


def _completion(content: str) -> dict:
    return {"id": "x", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}


class ScriptedEndpoint(HttpStandIn):
    """A stand-in for a remote, paid OpenAI-compatible API that misbehaves on cue."""

    def __init__(self, script: list[tuple[int, str]]):
        self.script = list(script)
        self.requests: list[dict] = []
        outer = self

        class Handler(QuietHandler):
            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append(body)
                status, content = outer.script.pop(0) if outer.script else (200, '{"city": "Oslo", "population": 1}')
                payload = json.dumps(_completion(content) if status == 200 else {"error": {"message": content}}).encode()
                self.send_body(status, payload)

        self._listen(Handler)


def _client(url: str, tmp_path: Path, **kw) -> ModelClient:
    spec = ModelSpec(model="remote-model", base_url=url, **{"max_retries": 3, **kw})
    return ModelClient(spec, "judge", UsageBook(), ResponseCache(tmp_path / "c"))


def test_retries_on_429_and_5xx_then_succeeds(tmp_path):
    with ScriptedEndpoint([(429, "slow down"), (503, "busy"), (200, '{"city": "Oslo", "population": 709000}')]) as ep:
        client = _client(ep.url, tmp_path)
        assert client.complete_json(MESSAGES, Fact).population == 709000
        assert len(ep.requests) == 3
        assert client.usage.as_dict()["judge"]["retries"] == 2
        # The remote endpoint gets the OpenAI json_schema response format.
        assert ep.requests[0]["response_format"]["type"] == "json_schema"


def test_no_retry_on_4xx(tmp_path):
    with ScriptedEndpoint([(400, "bad request")]) as ep:
        client = _client(ep.url, tmp_path)
        with pytest.raises(ModelError, match="rejected the request"):
            client.complete_json(MESSAGES, Fact)
        assert len(ep.requests) == 1


def test_gives_up_after_max_retries(tmp_path):
    with ScriptedEndpoint([(500, "down")] * 10) as ep:
        client = _client(ep.url, tmp_path)
        with pytest.raises(ModelError, match="failed after 4 tries"):
            client.complete_json(MESSAGES, Fact)
        assert len(ep.requests) == 4


def test_one_repair_try_then_a_clear_error(tmp_path):
    with ScriptedEndpoint([(200, "not json at all"), (200, '{"city": "Oslo", "population": 5}')]) as ep:
        client = _client(ep.url, tmp_path)
        assert client.complete_json(MESSAGES, Fact).population == 5
        assert client.usage.as_dict()["judge"]["repairs"] == 1
        assert "not valid" in ep.requests[1]["messages"][-1]["content"]
    with ScriptedEndpoint([(200, '{"city": 3}'), (200, "still bad")]) as ep:
        client = _client(ep.url, tmp_path / "other")
        with pytest.raises(ModelOutputError, match="invalid Fact JSON twice"):
            client.complete_json(MESSAGES, Fact)


def test_invalid_replies_are_kept_so_a_rerun_asks_nothing_again(tmp_path):
    """A rerun after a crash replays the invalid replies the first run got (valid ones are the step's
    cached value): a step whose replies were invalid fails again the same way, and a first reply whose
    repair never came is not asked again."""
    bad = [(200, '{"city": 3}'), (200, "still bad")]
    with ScriptedEndpoint(bad) as ep:
        with pytest.raises(ModelOutputError) as first:
            _client(ep.url, tmp_path).complete_json(MESSAGES, Fact)
        assert len(ep.requests) == 2
        again = _client(ep.url, tmp_path)
        with pytest.raises(ModelOutputError) as second:
            again.complete_json(MESSAGES, Fact)
        assert len(ep.requests) == 2 and str(second.value) == str(first.value)
        assert again.usage.as_dict()["judge"]["cache_hits"] == 2 and again.usage.as_dict()["judge"]["calls"] == 0
    other = [{"role": "user", "content": "Name a city of Norway and its population as JSON."}]
    script = [(200, "not json"), (500, "down"), (200, '{"city": "Bergen", "population": 291000}')]
    with ScriptedEndpoint(script) as ep:  # the repair does not come (as in a crash), then a rerun
        with pytest.raises(ModelError):
            _client(ep.url, tmp_path, max_retries=0).complete_json(other, Fact)
        assert _client(ep.url, tmp_path).complete_json(other, Fact).city == "Bergen"
        assert len(ep.requests) == 3 and "not valid" in ep.requests[2]["messages"][-1]["content"]  # the repair only


def test_unreachable_endpoint_is_one_clear_error(tmp_path):
    client = _client("http://127.0.0.1:9/v1", tmp_path)
    with pytest.raises(ModelError, match="cannot reach model endpoint http://127.0.0.1:9/v1"):
        client.complete_json(MESSAGES, Fact)


def test_sampling_parameters_reach_the_endpoint_and_key_the_cache(tmp_path):
    reply = (200, '{"city": "Oslo", "population": 709000}')
    with ScriptedEndpoint([reply, reply]) as ep:
        plain = _client(ep.url, tmp_path)
        plain.complete_json(MESSAGES, Fact)
        tuned = _client(ep.url, tmp_path, sampling={"repeat_penalty": 1.1, "top_k": 40})
        tuned.complete_json(MESSAGES, Fact)
        tuned.complete_json(MESSAGES, Fact)  # the same request again: from the cache
    assert "repeat_penalty" not in ep.requests[0]
    assert ep.requests[1]["repeat_penalty"] == 1.1 and ep.requests[1]["top_k"] == 40
    assert len(ep.requests) == 2  # other sampling, another cache entry; then a hit


def test_a_step_kept_after_its_repair_counts_both_calls_spared(tmp_path):
    """A rerun hits the repaired step's value once; the usage says it spared the step's two calls (the
    kill bench counts repeated calls with it)."""
    with ScriptedEndpoint([(200, "not json"), (200, '{"city": "Oslo", "population": 5}')]) as ep:
        first = _client(ep.url, tmp_path)
        assert first.complete_json(MESSAGES, Fact).population == 5 and len(ep.requests) == 2
        again = _client(ep.url, tmp_path)
        assert again.complete_json(MESSAGES, Fact).population == 5 and len(ep.requests) == 2
        u = again.usage.as_dict()["judge"]
        assert (u["calls"], u["cache_hits"], u["saved_calls"]) == (0, 1, 2)


def test_a_targets_malformed_answers_are_its_failures_and_never_open_the_breaker(tmp_path):
    """A weak target (Gemma 3 270M, a base model) that runs out of tokens mid-JSON on question after question
    gives missing results; the endpoint answered every time, so the build goes on. The same replies to a
    generator still open its breaker: there, a model that never keeps the schema is a broken step source."""
    from benchmint.errors import EndpointDown
    from tests.fixtures import release_question
    from validators.scoring import TargetRunner

    rambling = [(200, '{"answer": "The answer is that the group')] * 12
    with ScriptedEndpoint(list(rambling)) as ep:
        client = ModelClient(ModelSpec(model="weak", base_url=ep.url, max_retries=0, max_consecutive_failures=2),
                             "target0", UsageBook(), None)
        runner = TargetRunner([client])
        qs = [release_question(i) for i in range(3)]
        results = runner.run(qs, "closed_book", lambda q: "")
        assert [r[0].method for r in results.values()] == ["missing"] * 3 and runner.missing == 3
        assert len(ep.requests) == 6 and not client.endpoint.open
    with ScriptedEndpoint(list(rambling)) as ep:
        gen = ModelClient(ModelSpec(model="weak", base_url=ep.url, max_retries=0, max_consecutive_failures=2),
                          "generator", UsageBook(), None)
        for _ in range(2):
            with pytest.raises(ModelOutputError):
                gen.complete_json(MESSAGES, Fact)
        with pytest.raises(EndpointDown, match="failed 2 steps in a row"):
            gen.complete_json(MESSAGES, Fact)
