"""The per-endpoint rate limit (requests_per_minute, tokens_per_minute): the token buckets on a clock the
test moves, and the limit holding for several threads against the endpoint stand-in (a remote API's
quota cannot be reached on demand here). No model and no Prefect."""

from __future__ import annotations

import json
import threading
import time

import pytest
from pydantic import BaseModel

from benchmint.config import ModelSpec, load_config, parse_model_ref
from benchmint.errors import ConfigError, ModelFault
from benchmint.llm import ModelClient
from benchmint.ratelimit import RateLimit, estimate_tokens, shared_limit
from benchmint.usage import UsageBook
from tests.endpoint_standin import EndpointStandIn, StandInConfig, completion


class Clock:
    """A clock that moves only when the test says; sleeps are recorded, not slept."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.slept.append(s)


def _limit(clock: Clock, rpm: float | None = None, tpm: float | None = None) -> RateLimit:
    return RateLimit("http://api.example/v1", rpm, tpm, clock=clock, sleep=clock.sleep)


FAR = 1e9  # a deadline that never binds


def test_requests_are_spread_over_the_minute_in_the_order_they_asked():
    clock = Clock()
    limit = _limit(clock, rpm=60)  # one a second, a burst of one
    waits = [limit.acquire(0, FAR).waited for _ in range(5)]  # five threads asking at once
    assert waits == [0.0, 1.0, 2.0, 3.0, 4.0]
    clock.now += 60  # an idle minute refills the bucket only to its size: no burst of 60 after it
    assert [limit.acquire(0, FAR).waited for _ in range(3)] == [0.0, 1.0, 2.0]


def test_a_burst_of_one_seconds_share():
    clock = Clock()
    limit = _limit(clock, rpm=600)  # ten a second
    waits = [limit.acquire(0, FAR).waited for _ in range(12)]
    assert waits[:10] == [0.0] * 10
    assert waits[10:] == pytest.approx([0.1, 0.2])


def test_a_turn_after_the_deadline_fails_the_step_at_once_and_reserves_nothing():
    clock = Clock()
    limit = _limit(clock, rpm=60)
    limit.acquire(0, FAR)
    limit.acquire(0, FAR)  # the next turn is 2 s away
    with pytest.raises(ModelFault, match="rate limit of http://api.example/v1 .*requests_per_minute=60") as exc:
        limit.acquire(0, clock.now + 1.5)
    assert exc.value.kind == "rate_limited"
    assert clock.slept == [1.0]  # the refused request did not sleep
    assert limit.acquire(0, clock.now + 2.0).waited == 2.0  # and took no place in line


def test_tokens_are_charged_up_front_and_corrected_by_the_reply():
    clock = Clock()
    limit = _limit(clock, tpm=6000)  # 100 tokens a second, a bucket of 100
    big = limit.acquire(300, FAR)  # over the bucket: waits for a full one, then overdraws it
    assert big.waited == 0.0 and big.tokens == 300
    assert limit.tokens.level == -200
    limit.settle(big, 100)  # the reply used 100: 200 come back
    assert limit.tokens.level == 0
    assert limit.acquire(50, FAR).waited == pytest.approx(0.5)
    g = limit.acquire(50, FAR)
    assert g.waited == pytest.approx(1.0)
    limit.settle(g, 0)  # no usage in the reply: the charge stands
    assert limit.tokens.level == -100


def test_both_limits_the_longer_wait_holds():
    clock = Clock()
    limit = _limit(clock, rpm=60, tpm=60_000)
    assert limit.acquire(900, FAR).waited == 0.0
    assert limit.acquire(900, FAR).waited == pytest.approx(1.0)  # tokens: 800 short at 1000/s -> 0.8 s; requests: 1 s


def test_estimate_counts_max_tokens_and_the_prompt():
    msgs = [{"role": "user", "content": "x" * 400}]
    assert estimate_tokens(msgs, 200) == 200 + (400 + 8) // 4 + 1


def test_one_limiter_per_endpoint_in_the_process_the_stricter_setting_holds():
    assert shared_limit("http://a.example/v1 KEY", None, None) is None
    one = shared_limit("http://a.example/v1 KEY", 100, None)
    two = shared_limit("http://a.example/v1 KEY", 50, 2000)
    assert one is two and one.limits == (50, 2000)
    assert shared_limit("http://a.example/v1 KEY", 500, 9000).limits == (50, 2000)
    assert shared_limit("http://b.example/v1 KEY", 100, None) is not one


def test_limits_are_validated():
    assert ModelSpec(model="m", base_url="http://x/v1").requests_per_minute is None
    with pytest.raises(ConfigError, match="requests_per_minute"):
        parse_model_ref({"model": "m", "base_url": "http://x/v1", "requests_per_minute": 0})
    with pytest.raises(ConfigError, match="tokens_per_minute"):
        parse_model_ref({"model": "m", "base_url": "http://x/v1", "tokens_per_minute": -5})
    with pytest.raises(ConfigError, match="models.generator.requests_per_minute"):
        load_config(None, {"name": "b", "sources": ["x"],
                           "model": {"model": "m", "base_url": "http://x/v1", "requests_per_minute": True}})


class Fact(BaseModel):
    city: str
    population: int


def _burst(url: str, rpm: float | None, threads: int = 4, each: int = 3) -> None:
    """`threads` clients of one endpoint (as the roles of a build are), each sending `each` distinct requests."""
    spec = ModelSpec(model="replayed", base_url=url, requests_per_minute=rpm, max_concurrency=4)

    def work(t: int) -> None:
        client = ModelClient(spec, f"role{t}", UsageBook(), None)
        for i in range(each):
            client.complete_json([{"role": "user", "content": f"thread {t} request {i}"}], Fact)

    ts = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


def _most_in_a_window(times: list[float], rate: float, size: float, slack: float = 0.05) -> float:
    """The worst excess over a token bucket's bound (size + rate x window) among every window of arrivals."""
    times = sorted(times)
    worst = -size
    for i, a in enumerate(times):
        for j in range(i, len(times)):
            n = j - i + 1
            worst = max(worst, n - (size + rate * (times[j] - a + slack)))
    return worst


def test_the_limit_holds_for_several_threads_against_the_endpoint_stand_in():
    reply = {"replayed": completion(json.dumps({"city": "Oslo", "population": 709000}))}
    with EndpointStandIn(None, StandInConfig(replay=reply)) as ep:
        t0 = time.monotonic()
        _burst(ep.url, None)
        unlimited = time.monotonic() - t0
        free = [e.t_in for e in ep.events]
    assert len(free) == 12 and _most_in_a_window(free, 2.0, 2.0) > 0  # unlimited: the bound would not hold
    with EndpointStandIn(None, StandInConfig(replay=reply)) as ep:
        t0 = time.monotonic()
        _burst(ep.url, 120)  # two a second, a burst of two
        took = time.monotonic() - t0
        times = [e.t_in for e in ep.events]
    assert len(times) == 12 and all(e.fault == "good" for e in ep.events)
    assert _most_in_a_window(times, 2.0, 2.0) <= 0, sorted(t - min(times) for t in times)
    assert 5.0 - 0.1 <= took <= 5.0 + 2.0 + unlimited  # (12 - 2) / 2 per second, not more
