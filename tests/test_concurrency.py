"""Concurrent generation steps publish the same release as one step at a time.

Two real Prefect builds through the endpoint stand-in (tests/endpoint_standin.py, standing in for a
remote API that can take several requests at once): the generator's replies are the real
Qwen2.5-Coder-1.5B's recorded ones, the target's are SmolLM2's (a real llama.cpp server, recorded by
the stand-in on the first build and replayed on the second). About half the replies are trickled
(2 s, a seeded draw per request), so at concurrency 4 the steps finish out of plan order. The trickle
is long enough that requests sent together overlap by more than the margin below even when a loaded
machine staggers the steps' starts (at 0.6 s, one CI run saw no overlap at concurrency 4).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmint.config import BuildConfig
from tests.endpoint_standin import GENERATOR, EndpointStandIn, StandInConfig, generator_replay
from tests.fixtures import PDF_FACTS

DOCS = 8


def write_corpus(folder: Path) -> None:
    """Eight one-chunk documents holding the facts the generator's recorded reply cites."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(DOCS):
        (folder / f"korvath-{i}.md").write_text(f"# Korvath K-12 facts, sheet {i}\n\n" + " ".join(PDF_FACTS) + "\n",
                                                encoding="utf-8")


def config(name: str, sources: Path, url: str, out: Path, cache: Path, concurrency: int) -> dict:
    common = {"base_url": url, "json_mode": "json_object_schema", "timeout_s": 300, "max_concurrency": concurrency}
    return BuildConfig.model_validate({
        "name": name, "sources": [str(sources)], "questions": 40, "output_dir": str(out), "cache_dir": str(cache),
        "models": {"generator": {"model": GENERATOR, "max_tokens": 900, **common},
                   "targets": [{"model": "smollm2-a", "max_tokens": 32, **common}]},
        "generation": {"questions_per_chunk": 3, "kinds": ["mcq"], "batch_chunks": 4},
        "difficulty": {"band": "0:1", "closed_book": "off", "check_gold": False},
        "contamination": {"enabled": False}}).model_dump(mode="json")


@pytest.fixture(scope="module")
def builds(smollm_server, prefect_harness, tmp_path_factory):
    from flows.build import build_benchmark

    tmp = tmp_path_factory.mktemp("concurrency")
    write_corpus(tmp / "docs")
    out: dict[int, tuple[dict, list]] = {}
    standin = StandInConfig(seed=3, mix={"trickle_ok": 0.5}, trickle_ok_s=2.0, replay=generator_replay())
    with EndpointStandIn(smollm_server.base_url, standin) as ep:
        for n in (1, 4):
            ep.events.clear()
            summary = build_benchmark(config(f"c{n}", tmp / "docs", ep.url, tmp / "out", tmp / f"cache-{n}", n))
            out[n] = (summary, list(ep.events))
    return out


def test_concurrency_4_publishes_the_release_concurrency_1_publishes(builds):
    hashes = {}
    for n, (summary, _) in builds.items():
        manifest = json.loads((Path(summary["release"]) / "manifest.json").read_text())
        assert summary["accepted"] >= 1 and summary["chunks_used"] == DOCS, summary
        assert manifest["generated"] == DOCS * 3 and not manifest["model_output_errors"]
        hashes[n] = manifest["content_hash"]
    assert hashes[1] == hashes[4]


def overlapping(events: list, margin: float = 0.2) -> int:
    """Pairs of requests where the second arrived while the first was still being answered (by more than
    `margin` seconds: the stand-in stamps a reply's end just after writing it, so a client that sends its
    next request at once may arrive a moment before the stamp)."""
    return sum(1 for a in events for b in events if a is not b and a.t_in <= b.t_in < a.t_out - margin)


def test_at_concurrency_4_the_steps_overlapped_and_at_1_they_did_not(builds):
    one, four = builds[1][1], builds[4][1]
    assert overlapping(one) == 0
    assert overlapping(four) >= 1
    assert any(e.fault == "trickle_ok" for e in four) and any(e.fault == "good" for e in four)
