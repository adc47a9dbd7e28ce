"""A bad reply is a recorded failure of one step. The model client against the endpoint stand-in
(tests/endpoint_standin.py: a misbehaving remote API on 127.0.0.1) whose good replies are the real
SmolLM2 llama.cpp server's output, one fault kind at a time; then a real build (a Prefect flow run)
against a seeded mix of every fault; then the circuit breaker through the CLI."""

from __future__ import annotations

import email.utils
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from pydantic import BaseModel

from benchmint.breaker import Endpoint
from benchmint.config import BuildConfig
from benchmint.errors import EndpointDown, ModelFault
from benchmint.llm import ModelClient
from benchmint.modelspec import ModelSpec
from benchmint.response_cache import ResponseCache
from benchmint.transport import retry_after_s
from benchmint.usage import UsageBook
from tests.endpoint_standin import (
    DECK,
    EndpointStandIn,
    StandInConfig,
    fault_build_config,
    generator_replay,
    write_fault_corpus,
)
from tests.fixtures import REPO

CANARY = "sk-canary-faults-7f3a9c2e5b"


class Fact(BaseModel):
    city: str
    population: int


MESSAGES = [{"role": "user", "content": "Give the largest city of Norway and its population as JSON."}]


@pytest.fixture(scope="module")
def recording(smollm_server) -> dict[str, bytes]:
    """The real model's reply to MESSAGES, recorded through the stand-in (every later test replays it)."""
    with EndpointStandIn(smollm_server.base_url) as ep:
        _client(ep.url, None).complete_json(MESSAGES, Fact)
        assert [e.live for e in ep.events] == [True]
        return dict(ep.recording)


def _client(url: str, tmp_path: Path | None, endpoint: Endpoint | None = None, **kw) -> ModelClient:
    spec = ModelSpec(model="smollm2", base_url=url, json_mode="json_object_schema", max_tokens=200,
                     **{"max_retries": 0, "timeout_s": 60, **kw})
    cache = ResponseCache(tmp_path / "responses") if tmp_path is not None else None
    return ModelClient(spec, "generator", UsageBook(), cache, endpoint=endpoint)


def _stand_in(recording, smollm_server, script=(), **config) -> EndpointStandIn:
    return EndpointStandIn(smollm_server.base_url, StandInConfig(**config), script=list(script), recording=dict(recording))


FAULTS = [("truncated", "not_json"), ("html", "html"), ("error_object", "error_object"),
          ("server_error", "server_error"), ("drop", "connection"), ("request_timeout", "timeout")]


@pytest.mark.parametrize(("served", "kind"), FAULTS)
def test_one_bad_reply_is_one_failed_step_of_its_kind(served, kind, recording, smollm_server, tmp_path):
    with _stand_in(recording, smollm_server, [served]) as ep:
        client = _client(ep.url, tmp_path)
        with pytest.raises(ModelFault) as info:
            client.complete_json(MESSAGES, Fact)
        assert info.value.kind == kind and "\n" not in str(info.value)
        assert client.usage.faults()["replies"] == {kind: 1}
        assert client.usage.faults()["failed_steps"] == {kind: 1}
        assert client.endpoint.failures == 1 and len(ep.events) == 1
        # the next step gets the real reply: the client is not broken by what it read
        assert client.complete_json(MESSAGES, Fact) == Fact.model_validate_json(
            json.loads(recording[ep.events[0].key])["choices"][0]["message"]["content"])
        assert client.endpoint.failures == 0


@pytest.mark.parametrize(("served", "kind"), FAULTS)
def test_a_bad_reply_is_retried(served, kind, recording, smollm_server, tmp_path):
    with _stand_in(recording, smollm_server, [served]) as ep:
        client = _client(ep.url, tmp_path, max_retries=1)
        assert isinstance(client.complete_json(MESSAGES, Fact), Fact)
        assert [e.fault for e in ep.events] == [served, "good"]
        assert client.usage.faults() == {"replies": {kind: 1}, "failed_steps": {},
                                         "by_role": {"generator": {"replies": {kind: 1}, "failed_steps": {}}}}


def test_an_error_object_that_is_not_transient_is_not_retried(recording, smollm_server, tmp_path):
    with _stand_in(recording, smollm_server, ["error_object_fatal"]) as ep:
        client = _client(ep.url, tmp_path, max_retries=3)
        with pytest.raises(ModelFault, match="does not support that") as info:
            client.complete_json(MESSAGES, Fact)
        assert info.value.kind == "error_object" and len(ep.events) == 1


def test_5xx_beyond_the_retries(recording, smollm_server, tmp_path):
    with _stand_in(recording, smollm_server, ["server_error"] * 5) as ep:
        client = _client(ep.url, tmp_path, max_retries=2)
        with pytest.raises(ModelFault, match="failed after 3 tries: server_error: 500") as info:
            client.complete_json(MESSAGES, Fact)
        assert info.value.kind == "server_error" and len(ep.events) == 3
        assert client.usage.as_dict()["generator"]["retries"] == 2


@pytest.mark.parametrize("date_every", [0, 1], ids=["seconds", "http-date"])
def test_429_waits_what_retry_after_asks(date_every, recording, smollm_server, tmp_path):
    with _stand_in(recording, smollm_server, ["rate_limited", "rate_limited"], retry_after=(2,),
                   date_every=date_every) as ep:
        client = _client(ep.url, tmp_path, max_retries=2)
        assert isinstance(client.complete_json(MESSAGES, Fact), Fact)
        gaps = ep.gaps_after_429()
        assert len(gaps) == 2
        for asked, waited in gaps:
            assert asked > 1.0 and waited >= asked - 0.005, gaps  # never before the time asked
        assert client.usage.faults()["replies"] == {"rate_limited": 2}


def test_a_retry_after_over_the_cap_fails_the_step_without_waiting(recording, smollm_server, tmp_path):
    with _stand_in(recording, smollm_server, ["rate_limited"], retry_after=(30,), date_every=0) as ep:
        client = _client(ep.url, tmp_path, max_retries=3, retry_after_max_s=5)
        t0 = time.monotonic()
        with pytest.raises(ModelFault, match="retry_after_max_s=5") as info:
            client.complete_json(MESSAGES, Fact)
        assert info.value.kind == "rate_limited" and len(ep.events) == 1
        assert time.monotonic() - t0 < 10  # it did not sleep the 30 s, nor retry early


def test_retry_after_forms():
    now = 1_800_000_000.0
    assert retry_after_s(httpx.Headers({"Retry-After": "7"}), now) == 7.0
    assert retry_after_s(httpx.Headers({"Retry-After": email.utils.formatdate(now + 90, usegmt=True)}), now) == 90.0
    assert retry_after_s(httpx.Headers({"Retry-After": email.utils.formatdate(now - 90, usegmt=True)}), now) == 0.0
    assert retry_after_s(httpx.Headers({"retry-after-ms": "1500", "Retry-After": "9"}), now) == 1.5
    assert retry_after_s(httpx.Headers({"Retry-After": "soon"}), now) is None
    assert retry_after_s(httpx.Headers({}), now) is None


def test_timeout_s_is_a_deadline_for_the_whole_reply(recording, smollm_server, tmp_path):
    """A reply trickled over 12 s fails a 2 s timeout (each byte would restart a read timeout)."""
    with _stand_in(recording, smollm_server, ["trickle_slow", "trickle_ok"], trickle_slow_s=12.0,
                   trickle_ok_s=0.6) as ep:
        client = _client(ep.url, tmp_path, timeout_s=2)
        t0 = time.monotonic()
        with pytest.raises(ModelFault, match=r"timeout_s=2\b") as info:
            client.complete_json(MESSAGES, Fact)
        assert info.value.kind == "timeout" and time.monotonic() - t0 < 6
        # a reply trickled within the deadline is read whole
        assert isinstance(client.complete_json(MESSAGES, Fact), Fact)
        assert [e.fault for e in ep.events] == ["trickle_slow", "trickle_ok"]


def test_max_call_s_bounds_a_step_across_its_retries(recording, smollm_server, tmp_path):
    with _stand_in(recording, smollm_server, ["server_error"] * 50) as ep:
        client = _client(ep.url, tmp_path, max_retries=40, max_call_s=3)
        t0 = time.monotonic()
        with pytest.raises(ModelFault, match="max_call_s=3"):
            client.complete_json(MESSAGES, Fact)
        assert time.monotonic() - t0 < 6 and 2 <= len(ep.events) < 41


def test_an_error_body_echoing_the_key_is_scrubbed(recording, smollm_server, tmp_path, monkeypatch):
    monkeypatch.setenv("FAULTS_KEY", CANARY)
    with _stand_in(recording, smollm_server, ["echo_auth"]) as ep:
        client = _client(ep.url, tmp_path, api_key_env="FAULTS_KEY")
        with pytest.raises(ModelFault) as info:
            client.complete_json(MESSAGES, Fact)
        assert ep.auth_seen == [f"Bearer {CANARY}"]  # the key was sent, and echoed ...
        assert CANARY not in str(info.value) and "Authorization: Bearer REDACTED" in str(info.value)  # ... not kept


def test_the_breaker_opens_after_consecutive_failed_steps(recording, smollm_server, tmp_path):
    with _stand_in(recording, smollm_server, ["server_error", "good", "server_error", "html"]) as ep:
        shared = Endpoint(ep.url, max_consecutive_failures=2)
        gen, judge = _client(ep.url, tmp_path, shared), _client(ep.url, None, shared)
        ask = [[{"role": "user", "content": f"{MESSAGES[0]['content']} ({i})"}] for i in range(5)]
        with pytest.raises(ModelFault):
            gen.complete_json(ask[0], Fact)
        gen.complete_json(MESSAGES, Fact)  # a good step resets the count
        with pytest.raises(ModelFault):
            gen.complete_json(ask[1], Fact)
        with pytest.raises(ModelFault):
            judge.complete_json(ask[2], Fact)  # the roles on one endpoint share its breaker
        n = len(ep.events)
        with pytest.raises(EndpointDown, match="failed 2 steps in a row"):
            gen.complete_json(ask[3], Fact)
        assert len(ep.events) == n  # an open breaker sends nothing
        assert gen.complete_json(MESSAGES, Fact)  # a cached reply is still served


# --------------------------------------------------------------------------- a real build against the mix

SEED = 7


@pytest.fixture(scope="module")
def fault_build(smollm_server, prefect_harness, tmp_path_factory):
    """A clean build through the stand-in records the targets' replies (SmolLM2's) while the generator's
    are the real Qwen2.5-Coder-1.5B's recorded reply; then the same build, with a fresh response cache,
    against the seeded mix of faults (good replies replayed from the recordings)."""
    from flows.build import build_benchmark

    tmp = tmp_path_factory.mktemp("faults")
    write_fault_corpus(tmp / "docs")
    old = os.environ.get("FAULTS_KEY")
    os.environ["FAULTS_KEY"] = CANARY
    try:
        with EndpointStandIn(smollm_server.base_url, StandInConfig(seed=SEED, trickle_slow_s=8.0,
                                                                       replay=generator_replay())) as ep:
            def build(name: str, timeout_s: float) -> dict:
                cfg = fault_build_config(name, str(tmp / "docs"), ep.url, str(tmp / "out"), str(tmp / f"cache-{name}"),
                                         "FAULTS_KEY", timeout_s)
                return build_benchmark(BuildConfig.model_validate(cfg).model_dump(mode="json"))

            clean = build("clean", 300)
            recorded = len(ep.events)
            ep.events.clear()
            ep.config.deck = dict(DECK)
            summary = build("faulty", 3)
    finally:
        if old is None:
            os.environ.pop("FAULTS_KEY", None)
        else:
            os.environ["FAULTS_KEY"] = old
    return tmp, ep, clean, recorded, summary


def test_a_build_against_the_fault_mix_publishes_and_counts_every_fault(fault_build):
    tmp, ep, clean, recorded, summary = fault_build
    assert clean["release"] and recorded > 0
    release = Path(summary["release"])
    assert release.name == "v1" and summary["accepted"] >= 1
    manifest = json.loads((release / "manifest.json").read_text())
    served = ep.served()
    assert sum(served.values()) >= 8 and len(served) >= 5, served  # the seed gives a varied mix
    assert not [e for e in ep.events if e.live]  # every good reply was the recorded one: no surprise timeouts
    counted = {k: n for k, n in manifest["faults"]["replies"].items() if k != "schema"}  # schema: the model's own
    assert counted == dict(served)
    assert summary["faults"] == manifest["faults"]["replies"]
    for err in manifest["model_output_errors"]:
        assert err["kind"] in set(served) | {"schema"} and err["error"] and "\n" not in err["error"]
    failed = sum(manifest["faults"]["failed_steps"].values())
    assert failed == (len(manifest["model_output_errors"]) + manifest["missing"]["target_replies"]
                      + manifest["missing"]["judge_votes"])


def test_the_gaps_after_each_429_respect_retry_after(fault_build):
    _, ep, *_ = fault_build
    gaps = ep.gaps_after_429()
    assert gaps, "the seeded mix served no retried 429"
    assert all(waited >= asked - 0.005 for asked, waited in gaps), gaps


def test_a_key_echoed_in_error_bodies_is_kept_nowhere(fault_build):
    tmp, ep, *_ = fault_build
    assert ep.served_raw()["echo_auth"] >= 1 and ep.auth_seen[0] == f"Bearer {CANARY}"
    leaks = [p for p in tmp.rglob("*") if p.is_file() and CANARY.encode() in p.read_bytes()]
    assert leaks == []
    from prefect.settings import PREFECT_API_URL

    logs, offset = [], 0
    while True:
        page = httpx.post(f"{PREFECT_API_URL.value()}/logs/filter", json={"limit": 200, "offset": offset},
                          timeout=30).raise_for_status().json()
        logs += page
        offset += len(page)
        if len(page) < 200:
            break
    assert logs and not [x for x in logs if CANARY in x["message"]]


# --------------------------------------------------------------------------- the circuit breaker, end to end


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env["PYTHONPATH"] = str(REPO)  # this checkout's code, whatever the venv's editable install points at
    return subprocess.run([sys.executable, "-m", "benchmint.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def test_an_endpoint_that_always_fails_stops_the_build_with_one_line(tmp_path):
    write_fault_corpus(tmp_path / "docs")
    # a second document: a second generation step, for the breaker's second failure
    (tmp_path / "docs" / "ferry.md").write_text("# The Tromsdal ferry\n\nThe Tromsdal ferry crosses the fjord in 35 "
                                                "minutes and carries up to 64 cars.\n", encoding="utf-8")
    with EndpointStandIn(None, StandInConfig(mix={"server_error": 1.0})) as ep:
        cfg = tmp_path / "down.yaml"
        cfg.write_text(f"name: down\nsources: [{tmp_path / 'docs'}]\nquestions: 3\noutput_dir: {tmp_path / 'out'}\n"
                       f"cache_dir: {tmp_path / 'cache'}\ncontamination: {{enabled: false}}\n"
                       f"models: {{generator: {{model: m, base_url: '{ep.url}', max_retries: 0, "
                       "max_consecutive_failures: 2}}\n")
        r = _cli("build", "--config", str(cfg), cwd=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "failed 2 steps in a row" in r.stderr and "max_consecutive_failures" in r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    assert len([ln for ln in r.stderr.splitlines() if "error" in ln.lower()]) == 1
    assert [e.fault for e in ep.events] == ["server_error", "server_error"]  # nothing sent once it opened
    assert not (tmp_path / "out" / "down").exists() or not any(
        p.name.startswith("v") for p in (tmp_path / "out" / "down").iterdir())
