"""kill -9 of a real build at random moments, then a rerun: two trials of bench/kill_build.py (the
bench runs 20; figures in BENCHMARKS.md). A real `benchmint build` CLI process on SmolLM2's
llama.cpp server and a real `prefect server start`."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow  # two kills and reruns of a 2-file build (~2 min each): ~8 min


def test_kill_9_at_random_moments_of_a_real_build(tmp_path):
    """Every rerun publishes a valid version, no version is half-written, `latest` is right, and the
    rerun asks again no call whose reply the killed run had kept: what it repeats is at most the calls
    in flight at the kill (whose replies died with the process), no more than the server's 4 slots; the
    killed run's flow run is not left Running."""
    from bench.kill_build import run_trials

    # seed 7: the bench's first two trials (configs 7001 and 7002, each seen to publish when not killed)
    res = run_trials(kills=2, seed=7, docs=2, work=tmp_path, log=lambda s: None, span=140)
    assert res["reruns_ok"] == 2 and res["valid_versions"] == 2, res["trials"]
    assert res["half_written"] == 0 and res["latest_right"] == 2, res["trials"]
    assert res["repeated_kept_replies"] == 0, res["trials"]
    assert res["max_lost_in_flight"] <= 4, res["trials"]
    assert res["runs_left_running"] == 0, res["trials"]  # the rerun set the killed run's flow run Crashed
