"""The judges of a panel vote at once: the same decisions and votes as a vote taken in turn, in panel
order whatever order the votes come back in, and no more votes in flight on one endpoint than it
takes. Two judges are the real SmolLM2 behind the endpoint stand-in (which slows every reply, so the
votes in flight can be seen), two answer from a fixed reply, one cannot be reached."""

from __future__ import annotations

import json

from benchmint.breaker import Endpoint
from benchmint.config import ModelSpec
from benchmint.llm import ModelClient
from benchmint.usage import UsageBook
from tests.endpoint_standin import EndpointStandIn, StandInConfig, completion, most_at_once, overlapping, settled
from validators.judges import JudgePanel

CASES = [  # question, gold, a target's reply
    ("How many litres of fresh water does a K-12 unit produce per day?", "4,800 litres", "It makes 4800 litres a day."),
    ("Who founded Korvath Marine Systems?", "Liesel Abernathy-Okoro", "It was founded by Tomas Varga."),
    ("How often must the K-12 membrane cartridges be replaced?", "every 14 months or 9,000 hours",
     "Every 14 months, or after 9,000 operating hours."),
    ("Above which salinity does BrineWatch raise an alarm?", "480 parts per million", "About 300 ppm."),
]
FIXED = {"judge-no": completion(json.dumps({"reason": "the reply differs", "verdict": False})),
         "judge-yes": completion(json.dumps({"reason": "same answer", "verdict": True}))}
SLOW = {"trickle_ok": 1}  # every reply trickled in over trickle_ok_s


def _panel(url: str, concurrent: bool) -> JudgePanel:
    def judge(name: str, base_url: str = url) -> ModelClient:
        spec = ModelSpec(model=name, base_url=base_url, json_mode="json_object_schema", max_retries=0, timeout_s=120)
        return ModelClient(spec, f"judge:{name}", UsageBook(), None)

    return JudgePanel([judge("judge-a"), judge("judge-b"), judge("judge-no"),
                       judge("judge-dead", "http://127.0.0.1:9/v1"), judge("judge-yes")], concurrent=concurrent)


def _decide(panel: JudgePanel) -> list[dict]:
    """The decisions on CASES, each judge named without its URL (each run has its own stand-in port)."""
    out = [panel.answer_is_correct(q, gold, reply).as_dict() for q, gold, reply in CASES]
    for d in out:
        for v in d["votes"]:
            v["judge"] = v["judge"].split("@")[0]
    return out


def test_concurrent_votes_decide_as_the_serial_ones(smollm_server):
    config = dict(model="local", replay=FIXED, deck=SLOW, trickle_ok_s=0.5)
    with EndpointStandIn(smollm_server.base_url, StandInConfig(**config)) as ep:
        panel = _panel(ep.url, concurrent=True)
        together = _decide(panel)
        recorded, events = dict(ep.recording), settled(ep)
    assert panel.width == 5
    assert len(events) == 4 * len(CASES) and overlapping(events) >= 3 * len(CASES)  # the votes were in flight at once
    assert sum(e.live for e in events) == 2 * len(CASES)  # SmolLM2 answered judge-a and judge-b
    # In turn, from the replies recorded above (no upstream: a request not asked above would fail the vote).
    with EndpointStandIn(None, StandInConfig(**{**config, "model": None}), recording=recorded) as ep:
        serial = _panel(ep.url, concurrent=False)
        in_turn = _decide(serial)
        assert overlapping(settled(ep)) == 0
    assert together == in_turn
    assert panel.missing_votes == serial.missing_votes == len(CASES)  # judge-dead, each time
    for d in together:
        assert [v["judge"] for v in d["votes"]] == ["judge-a", "judge-b", "judge-no", "judge-dead", "judge-yes"]
        assert d["missing"] == 1 and "cannot reach" in d["votes"][3]["error"]


def test_judges_on_one_endpoint_share_its_concurrency():
    with EndpointStandIn(None, StandInConfig(replay=FIXED, deck=SLOW, trickle_ok_s=0.3)) as ep:
        for width in (1, 2):
            shared = Endpoint(ep.url)  # as a pool gives the roles on one URL
            judges = [ModelClient(ModelSpec(model="judge-yes", base_url=ep.url, max_concurrency=width, temperature=t),
                                  f"judge{t}", UsageBook(), None, endpoint=shared) for t in (0.1, 0.2, 0.3)]
            ep.events.clear()
            panel = JudgePanel(judges)
            assert panel.width == width
            d = panel.answer_is_correct("q?", "a", f"reply {width}")
            assert d.decision is True and d.yes == 3
            assert most_at_once(settled(ep)) == width
