"""The contamination judge on the middle band, a real SmolLM2 server: one candidate judged (or sent
to review when the judge fails), and many candidates judged at once with the same decisions as when
judged in turn. The concurrent run goes through the endpoint stand-in, which slows every reply so
the requests in flight can be seen, and records SmolLM2's replies for the run in turn."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmint.llm import ModelClient
from benchmint.modelspec import ModelSpec
from benchmint.usage import UsageBook
from corpora.reference.loading import load_reference
from tests.endpoint_standin import EndpointStandIn, StandInConfig, most_at_once, overlapping, settled
from tests.fixtures import ITEMS, write_jsonl
from validators.contamination.config import ContaminationConfig
from validators.contamination.detector import Detector
from validators.contamination.findings import Probe

# cosine 0.66-0.92 to an item of ITEMS (a wide middle band below), and one unrelated question
PROBES = [
    Probe("a", "Which planet takes the least time to go around the Sun?", "Mercury"),
    Probe("b", "What is the element symbol used for sodium in chemistry?", "Na"),
    Probe("c", "Who is the author of Pride and Prejudice?", "Jane Austen"),
    Probe("d", "What do sociologists call moving between social classes from one generation to the next?",
          "intergenerational mobility"),
    Probe("e", "Which gas do plants take in for photosynthesis?", "carbon dioxide"),
    Probe("f", "Which planet is the largest in the solar system?", "Jupiter"),
]
# the second look off: "f" (Jupiter) asks and answers otherwise than its neighbour (Mercury), and would be
# cleared before the judge; these tests are about the judge
WIDE_BAND = ContaminationConfig(review_threshold=0.45, semantic_threshold=0.99, fuzzy_threshold=100,
                                fuzzy_review_threshold=100, second_look=False)


@pytest.fixture(scope="module")
def items_file(tmp_path_factory) -> Path:
    return write_jsonl(tmp_path_factory.mktemp("corpus") / "items.jsonl", ITEMS)


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("contamination-cache")


def test_judge_decides_the_middle_band(smollm_client, embedder, items_file, cache):
    det = Detector([load_reference(items_file, name="small")], ContaminationConfig(), smollm_client, cache)
    p = Probe("m", "Which planet takes the least time to go around the Sun?", "Mercury")
    (d,) = det.detect([p], embedder)
    assert det.counts["judge"] == 1
    if d.status == "review":  # the small model may fail the schema twice: then review, never a silent pass
        assert "judge_error" in d.finding.detail and "judge failed" in d.reason
    else:
        (j,) = d.scores["judge"]
        assert j["item"] == 1 and isinstance(j["same"], bool)
        assert (d.status == "contaminated") == j["same"]
        if j["same"]:
            assert d.finding.stage == "judge" and d.finding.detail["judge_reason"] == j["reason"]
    assert smollm_client.usage.roles["generator"].calls >= 1


def _judge(url: str, width: int) -> ModelClient:
    spec = ModelSpec(model="judge", base_url=url, json_mode="json_object_schema", max_retries=0, timeout_s=120,
                     max_tokens=60, max_concurrency=width)
    return ModelClient(spec, "contamination_judge", UsageBook(), None)


def _decisions(det: Detector, embedder) -> list[tuple]:
    return [(d.status, d.reason, d.scores.get("judge")) for d in det.detect(PROBES, embedder)]


def test_candidates_in_the_band_are_judged_at_once_as_in_turn(smollm_server, embedder, items_file, cache):
    corpus = [load_reference(items_file, name="small")]
    slow = {"model": "local", "deck": {"trickle_ok": 1}, "trickle_ok_s": 0.5}
    with EndpointStandIn(smollm_server.base_url, StandInConfig(**slow)) as ep:
        det = Detector(corpus, WIDE_BAND, _judge(ep.url, 3), cache)
        together = _decisions(det, embedder)
        recorded, events = dict(ep.recording), settled(ep)
    in_band = [s for s, _, judged in together if judged is not None or s == "review"]
    assert det.counts["judge"] == len(in_band) == 5 and together[4][0] == "clean"  # "e" is outside the band
    assert len(events) == 5 and overlapping(events) >= 3 and most_at_once(events) == 3  # the judge's width
    # In turn, from the replies recorded above (no upstream: a request not asked above would fail the judge).
    with EndpointStandIn(None, StandInConfig(**{**slow, "model": None}), recording=recorded) as ep:
        det = Detector(corpus, WIDE_BAND, _judge(ep.url, 1), cache)
        in_turn = _decisions(det, embedder)
        assert overlapping(settled(ep)) == 0
    assert together == in_turn
