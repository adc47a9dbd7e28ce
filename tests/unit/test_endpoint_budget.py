"""The name of an endpoint's shared budget: the same for every build that reaches the endpoint, storable
(no secret), and a name Prefect accepts."""

from __future__ import annotations

import re

from benchmint.config import BuildConfig
from benchmint.endpoint_budget import PREFIX, EndpointBudget, limit_name
from benchmint.modelspec import ModelSpec

BANNED = set("/%&><")  # characters a Prefect limit name may not hold


def test_one_endpoint_one_name_whatever_key_or_query_reaches_it():
    a = limit_name("https://alice:s3cret@api.example.com/v1?api-key=abc123")
    b = limit_name("https://api.example.com:443/v1/?api-key=zzz")
    assert a == b == PREFIX + "api.example.com-443-v1"
    for secret in ("alice", "s3cret", "abc123", "zzz"):
        assert secret not in a


def test_ports_and_paths_keep_endpoints_apart():
    names = {limit_name(u) for u in ("http://10.0.0.5:8000/v1", "http://10.0.0.5:8001/v1",
                                     "http://10.0.0.5:8000/other/v1", "http://10.0.0.5/v1")}
    assert len(names) == 4
    assert limit_name("http://10.0.0.5/v1") == PREFIX + "10.0.0.5-80-v1"


def test_a_long_path_is_cut_and_kept_apart_by_a_hash():
    long_a = "http://h:1/" + "a" * 300 + "/x"
    long_b = "http://h:1/" + "a" * 300 + "/y"
    na, nb = limit_name(long_a), limit_name(long_b)
    assert na != nb and len(na) <= 120 and len(nb) <= 120
    for n in (na, nb):
        assert not BANNED & set(n) and re.fullmatch(r"[A-Za-z0-9._-]+", n)


def test_a_remote_model_has_a_budget_of_its_slots_and_a_local_one_none():
    remote = ModelSpec(model="qwen", base_url="http://gpu-box:8000/v1?key=k9", max_concurrency=16)
    budget = EndpointBudget.of(remote)
    assert budget is not None and budget.slots == 16 and budget.name == PREFIX + "gpu-box-8000-v1"
    assert "k9" not in budget.model_dump_json()
    assert EndpointBudget.of(ModelSpec(model="local:smollm2-135m")) is None
    # a local model's server URL is the build's own: still no shared budget
    assert EndpointBudget.of(ModelSpec(model="local:smollm2-135m"), "http://127.0.0.1:40123/v1") is None


def test_shared_limits_follow_the_runner_unless_set():
    base = {"name": "x", "sources": ["docs"]}
    assert BuildConfig.model_validate(base).runner.endpoint_limits is None
    on = BuildConfig.model_validate({**base, "runner": {"kind": "thread", "endpoint_limits": True}})
    assert on.runner.endpoint_limits is True and "runner" in on.public_dict()
    assert "runner" not in BuildConfig.model_validate(base).public_dict()
