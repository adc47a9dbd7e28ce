"""One concurrency budget per endpoint across Dask workers and builds (issue 14, item 2).

A team has set the shared endpoint's global concurrency limit to 3 slots. Two builds run at once against
it: one on a real Dask LocalCluster of 2 worker processes, one on threads, each configured with
max_concurrency 4 (either alone would send 4 requests at once). The endpoint stand-in on 127.0.0.1
(tests/endpoint_standin.py; it stands in for a remote API, answering with the real Qwen2.5-Coder-1.5B's
recorded questions, every reply trickled over 1.5 s) counts the requests it is answering at each moment:
never more than 3, and 3 reached. The slots are all given back at the end.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from benchmint.config import BuildConfig
from benchmint.endpoint_budget import limit_name
from tests.endpoint_standin import GENERATOR, EndpointStandIn, StandInConfig, generator_replay, most_at_once, settled
from tests.fixtures import PDF_FACTS

SLOTS = 3  # the team's setting
WANTED = 4  # each build's own max_concurrency


def write_docs(folder: Path, n: int) -> None:
    """n one-chunk documents on the facts the recorded reply cites."""
    folder.mkdir(parents=True)
    for i in range(n):
        (folder / f"korvath-{i}.md").write_text(f"# Korvath K-12 facts, sheet {i}\n\n" + " ".join(PDF_FACTS) + "\n",
                                                encoding="utf-8")


def config(name: str, tmp: Path, url: str, runner: dict) -> dict:
    return BuildConfig.model_validate({
        "name": name, "sources": [str(tmp / name)], "questions": 40, "output_dir": str(tmp / "out"),
        "cache_dir": str(tmp / f"cache-{name}"), "runner": runner,
        "models": {"generator": {"model": GENERATOR, "base_url": url, "json_mode": "json_object_schema",
                                 "max_tokens": 900, "timeout_s": 120, "max_concurrency": WANTED}},
        "generation": {"questions_per_chunk": 3, "kinds": ["mcq"], "batch_chunks": WANTED},
        "difficulty": {"closed_book": "off", "check_gold": False},
        "contamination": {"enabled": False}}).model_dump(mode="json")


def test_two_builds_and_two_workers_never_send_the_endpoint_more_than_its_limit(prefect_harness, tmp_path):
    from prefect import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate

    from flows.build import build_benchmark

    write_docs(tmp_path / "ondask", 12)
    write_docs(tmp_path / "onthreads", 8)
    standin = StandInConfig(seed=5, mix={"trickle_ok": 1.0}, trickle_ok_s=1.5, replay=generator_replay())
    with EndpointStandIn(config=standin) as ep:
        name = limit_name(ep.url)
        with get_client(sync_client=True) as client:
            client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=SLOTS))
        results: dict[str, dict] = {}

        def on_dask() -> None:
            results["dask"] = build_benchmark(config("ondask", tmp_path, ep.url, {"kind": "dask", "workers": 2}))

        first = threading.Thread(target=on_dask)
        first.start()
        t0 = time.monotonic()
        while not ep.events and time.monotonic() - t0 < 300:  # the Dask build is generating
            time.sleep(0.2)
        results["threads"] = build_benchmark(
            config("onthreads", tmp_path, ep.url, {"kind": "thread", "endpoint_limits": True}))
        first.join(timeout=600)
        events = settled(ep)

    assert not first.is_alive() and set(results) == {"dask", "threads"}
    for key, docs in (("dask", 12), ("threads", 8)):
        manifest = json.loads((Path(results[key]["release"]) / "manifest.json").read_text())
        assert manifest["generated"] == docs * 3 and not manifest["model_output_errors"], key
    assert sum(results["dask"]["workers"].values()) == 12  # every step of the Dask build ran on a worker
    assert len(events) == 12 + 8 and all(e.fault == "trickle_ok" for e in events)
    assert most_at_once(events) == SLOTS  # the limit was reached and never passed
    with get_client(sync_client=True) as client:
        limit = client.read_global_concurrency_limit_by_name(name)
    assert limit.limit == SLOTS and limit.active_slots == 0  # the team's setting kept; every slot given back
