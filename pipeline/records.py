"""The typed outcome of a build: one record per round, the manifest (written into the release) and the
summary (returned by the flow, shown by the CLI, rendered as the run's markdown artifact).

The dictionaries these dump to keep the keys earlier releases have, since other code (the refresh,
the catalog, the CLI) and tests read them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from benchmint.records import Question
from benchmint.usage import StepUsage
from generators.shapes import ShapeRate
from pipeline.validity import Validity


class Rec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StepOutcome(Rec):
    """What one generation step gave: its candidates, or the reason it gave none."""

    questions: list[Question] = Field(default_factory=list)
    """The candidate questions the step wrote (not validated yet)."""
    error: dict[str, str] | None = None
    """A reply that was not usable: {"error": one line, "kind": the fault kind}; None when the step worked."""
    usage: StepUsage | None = None
    """A step run in another process: what it spent and where it ran (the rounds merge it into the flow's
    book); None when it ran in the flow's process, whose book counted it already."""


class RoundRecord(Rec):
    """One round of generation and validation."""

    round: int
    """0 for the first round (and a plain build)."""
    generated: int = 0
    """Candidates written in the round."""
    accepted: int = 0
    """Candidates that passed every blocking validator."""
    rejected: int = 0
    """Candidates that failed one."""
    rejected_by_validator: dict[str, int] = Field(default_factory=dict)
    """Failed blocking verdicts, per validator."""
    chunks: int = 0
    """Generation steps taken (a multi-hop step counts once)."""
    mean_target_pass_rate: float | None = None
    """The targets' mean pass rate on the round's measured questions (None: none measured)."""
    measured: int = 0
    """Questions the targets answered (those the pass rate is the mean of)."""
    pass_rate_ci: list[float] | None = None
    """95% interval of the mean pass rate, clustered by source chunk (None: none measured)."""
    completion_tokens: int = 0
    """Completion tokens the round spent, every role."""
    passes: int = 1
    """Passes over the chunks: more than 1 when the round took every chunk and had still measured fewer than
    `adaptive.min_measured` questions (up to `adaptive.max_passes`)."""
    again_kinds: list[str] | None = None
    """A round that passed over its chunks again: the shapes of the last pass (those that reached the targets)."""
    patterns: list[str] | None = None
    """An adaptive round (after the first): the failure patterns the agent named."""
    kinds: list[str] | None = None
    """An adaptive round: the question shapes it used."""
    multi_hop: float | None = None
    """An adaptive round: its share of multi-hop steps."""
    shape_pass_rates: dict[str, ShapeRate] | None = None
    """An adaptive round: per shape it planned from, the measured questions, their mean pass rate with its
    clustered 95% interval, and whether the round kept the shape, dropped it (clearly easier than the
    hardest) or is still exploring it."""
    error: str | None = None
    """An adaptive round whose patterns could not be named: why (the round went on with the mix alone)."""

    def as_dict(self) -> dict[str, Any]:
        out = self.model_dump()
        for key in ("patterns", "kinds", "multi_hop", "shape_pass_rates", "error", "again_kinds"):
            if out[key] is None:
                del out[key]
        return out

    def brief(self) -> dict[str, Any]:
        """What the summary shows of a round."""
        return {k: getattr(self, k) for k in ("round", "generated", "accepted", "mean_target_pass_rate", "measured",
                                              "pass_rate_ci")}


def rate_text(r: dict[str, Any]) -> str:
    """A round's mean pass rate as shown: '0.58 [0.41, 0.75], 13 measured', or '-' when none was measured."""
    rate = r.get("mean_target_pass_rate")
    if rate is None:
        return "-"
    ci = r.get("pass_rate_ci")
    interval = f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else ""
    return f"{rate:.2f}{interval}, {r.get('measured', 0)} measured"


class RoundDrop(Rec):
    """How far the targets' mean pass rate fell from round 0 to the last round that measured questions, with
    a 95% interval paired by the source chunks both rounds drew on (benchmint.stats.clustered_difference)."""

    first_round: int = 0
    """The round the drop is measured from."""
    last_round: int
    """The last round whose questions the targets measured."""
    mean: float
    """The first round's mean pass rate minus the last round's (positive: the last round's questions are harder)."""
    ci_low: float
    """Lower end of the 95% interval."""
    ci_high: float
    """Upper end of the 95% interval."""
    n_first: int
    """Measured questions of the first round."""
    n_last: int
    """Measured questions of the last round."""
    clusters: int
    """Source chunks (each question's first) of either round: the clusters."""
    shared_clusters: int
    """Chunks both rounds measured questions from: what pairs the two rounds (0: two independent samples)."""
    method: str
    """How the interval was made (benchmint.stats.Estimate.method): "mover", "independent" (one chunk),
    "no-variation" (each round's rates all the same)."""


def drop_text(d: dict[str, Any]) -> str:
    """A drop as shown: '0.31 [0.12, 0.50], 13 and 11 measured, 9 chunks (5 in both)'."""
    return (f"{d['mean']:.2f} [{d['ci_low']:.2f}, {d['ci_high']:.2f}], {d['n_first']} and {d['n_last']} measured, "
            f"{d['clusters']} chunks ({d['shared_clusters']} in both)")


SELECTION_RULE = ("measured questions first, the most discriminating (the strong targets right, the weak wrong) "
                  "first, then the lowest pass rate; ties in generation order")


class Selection(Rec):
    """The published set of an adaptive build, chosen from every round's accepted questions (pipeline.selection)."""

    rule: str = SELECTION_RULE
    """How the questions were ordered before the first `wanted` were taken."""
    wanted: int
    """The question count asked for (--questions)."""
    offered: int
    """Questions every validator accepted, over all rounds."""
    chosen_by_round: dict[int, int] = Field(default_factory=dict)
    """Published questions by the round that wrote them."""
    offered_by_round: dict[int, int] = Field(default_factory=dict)
    """Accepted questions by the round that wrote them."""
    chosen: list[str] = Field(default_factory=list)
    """The published questions' ids, in the order chosen."""


class Manifest(Rec):
    """What the release's manifest.json records of the build (release.publish adds the name, version,
    parent, content hash and dates)."""

    config: dict[str, Any]
    """The build config, secrets left out (BuildConfig.public_dict)."""
    sources: dict[str, Any]
    """The documents read (id, title, source, format, size, date), the feeds, skipped sources, chunk counts."""
    models: dict[str, str]
    """Model label by role (generator, target1.., judge1.., contamination_judge)."""
    targets: list[str]
    """The models under test."""
    judges: list[str]
    """The judge panel."""
    rounds: list[dict[str, Any]]
    """One RoundRecord per round, as a dict."""
    stopped_because: str
    """Why generation stopped: the question count, the token or cost budget, the chunks or the rounds."""
    missing: dict[str, int]
    """Target replies and judge votes that never came (failed steps of the validators)."""
    refresh_fingerprint: str
    """What besides the documents decides which published questions stay (pipeline.refresh)."""
    contamination: dict[str, Any]
    """The contamination check: enabled, the corpora and their sizes, thresholds, judge, the detector's
    measured precision and recall (`calibration`: validators.contamination.calibration) and this build's
    verdicts per stage (`verdicts`: validators.contamination.tally.StageTally)."""
    prompts: dict[str, str]
    """Prompt id -> version, every prompt used."""
    validators: dict[str, dict[str, int]]
    """Verdicts passed and failed per validator."""
    rejections_by_validator: dict[str, int]
    """Rejected questions per failed blocking validator."""
    generated: int
    """Candidates written."""
    model_output_errors: list[dict[str, Any]]
    """Generation steps whose reply was not usable: chunk id, round, error, fault kind."""
    faults: dict[str, Any]
    """Faulty replies per kind, failed steps per role."""
    token_usage: dict[str, dict[str, Any]]
    """Calls, cache hits and tokens per role, and its `cost` when the role's model is priced (or local)."""
    cost: dict[str, Any] = Field(default_factory=dict)
    """The money spent: total, currency, and the unpriced roles whose money is not in the total."""
    timing: dict[str, float]
    """Seconds: the whole run (total_s) and in model calls (model_s)."""
    selection: Selection | None = None
    """An adaptive build's choice of the published set from every round; None for one round."""
    round_drop: RoundDrop | None = None
    """An adaptive build: the drop in mean pass rate from round 0 to the last round that measured questions;
    None for one round, or when round 0 or no later round measured a question."""
    validity: Validity | None = None
    """What the release can state of its validity from this build's verdicts: the closed-book check, the
    difficulty band and the published questions' pass rate and discrimination (pipeline.validity)."""

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump()


class RetiredEntry(Rec):
    """A question a refresh took out, and why."""

    id: str
    question: str
    reason: str | None


class BuildSummary(Rec):
    """What a build or refresh did, for the caller (the CLI prints it) and the run's artifact."""

    name: str
    """The benchmark."""
    kind: str = "build"
    """"build" or "refresh"."""
    accepted: int = 0
    """Questions in the release (kept + added)."""
    rejected: int = 0
    """Candidates rejected (with the ones beyond the requested count)."""
    generated: int = 0
    """Candidates written."""
    added: int = 0
    """Questions new in this release."""
    kept: int = 0
    """Published questions a refresh kept."""
    retired: list[RetiredEntry] = Field(default_factory=list)
    """Published questions a refresh retired."""
    skipped: list[dict[str, Any]] = Field(default_factory=list)
    """Sources that could not be read: source and reason."""
    rejections_by_validator: dict[str, int] = Field(default_factory=dict)
    """Rejected questions per failed blocking validator."""
    token_usage: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Calls, cache hits and tokens per role, and its `cost` when priced (or local)."""
    cost: dict[str, Any] = Field(default_factory=dict)
    """The money spent: total, currency, unpriced roles (empty when no model ran)."""
    chunks_used: int = 0
    """Chunks generation used."""
    chunks: int = 0
    """Chunks of all documents."""
    rounds: list[dict[str, Any]] = Field(default_factory=list)
    """Per round: round, generated, accepted, mean target pass rate with its interval, measured questions."""
    round_drop: RoundDrop | None = None
    """An adaptive build: the drop in mean pass rate from round 0 to the last measured round (Manifest.round_drop)."""
    missing: dict[str, int] = Field(default_factory=dict)
    """Target replies and judge votes that never came."""
    stopped_because: str = ""
    """Why generation stopped."""
    release: str | None = None
    """The folder published; None when nothing was."""
    version: str | None = None
    """The version published (or, for an unchanged refresh, the version that stays)."""
    view: str | None = None
    """The published version's review page (outputs/NAME/views/vN.html); None when nothing was published or
    it could not be written."""
    refreshed_from: str | None = None
    """A refresh: the version it started from."""
    message: str | None = None
    """A refresh that found nothing to do: what it compared."""
    faults: dict[str, int] | None = None
    """Faulty replies per kind."""
    timing: dict[str, float] | None = None
    """Seconds: total_s and model_s."""
    workers: dict[str, int] | None = None
    """Generation steps run in other processes (a Dask build), by host:pid; None when every step ran in the
    flow's process."""

    def as_dict(self) -> dict[str, Any]:
        out = self.model_dump()
        for key in ("version", "view", "refreshed_from", "message", "faults", "timing", "workers", "round_drop"):
            if out[key] is None:
                del out[key]
        return out
