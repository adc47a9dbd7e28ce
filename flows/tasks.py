"""The Prefect tasks the flows run, and the wiring that hands them to the core (pipeline.wiring).

Each task calls one function of the core; what Prefect adds is retries (an unexpected failure is
retried once; a user error, a BenchmintError, fails at once), readable task-run names, and the
artifacts a run shows in the UI (progress, the summary, the verdicts per validator, the changelog).
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from prefect import task
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.cache_policies import NONE as NO_CACHE

from benchmint.config import BuildConfig
from benchmint.endpoint_budget import EndpointBudget
from benchmint.errors import BenchmintError
from benchmint.names import escape_undecodable
from benchmint.records import Chunk, Document, Question, SkippedSource
from flows.endpoint_lease import endpoint_lease
from flows.runner import run_on_worker
from generators.adaptive import AdaptiveAgent, RoundPlan
from generators.base import GenerationStep, Generator
from generators.spec import GeneratorSpec, spec_of
from pipeline import refresh
from pipeline.generation import generate_from_spec, generate_step
from pipeline.names import slug
from pipeline.records import BuildSummary, StepOutcome
from pipeline.report import summary_markdown
from pipeline.steps import step_name
from pipeline.wiring import Direct, plan_round
from validators.base import Context
from validators.chain import ValidatorChain


def transient(task, task_run, state) -> bool:  # noqa: ANN001 - Prefect's retry_condition_fn signature
    """Retry unexpected failures; a user error (BenchmintError) fails at once."""
    exc = state.result(raise_on_failure=False)
    return not isinstance(exc, BenchmintError)


direct = Direct()


@task(name="load-sources", cache_policy=NO_CACHE, retries=1, retry_condition_fn=transient)
def load_sources_task(cfg: BuildConfig) -> tuple[list[Document], list[SkippedSource]]:
    return direct.load_sources(cfg)


@task(name="load-feeds", cache_policy=NO_CACHE, retries=1, retry_condition_fn=transient)
def load_feeds_task(cfg: BuildConfig) -> tuple[list[Document], list[SkippedSource]]:
    return direct.load_feeds(cfg)


@task(name="chunk-documents", cache_policy=NO_CACHE)
def chunk_task(docs: list[Document], max_tokens: int, overlap: int) -> list[Chunk]:
    return direct.chunk(docs, max_tokens, overlap)


@task(cache_policy=NO_CACHE, retries=1, retry_delay_seconds=2, retry_condition_fn=transient)
def generate_task(generator: Generator, step: GenerationStep) -> StepOutcome:
    return generate_step(generator, step)


@task(cache_policy=NO_CACHE, retries=1, retry_delay_seconds=2, retry_condition_fn=transient)
def generate_on_worker_task(spec: GeneratorSpec, step: GenerationStep) -> StepOutcome:
    """A generation step on a Dask worker: the worker builds the generator from its spec (no live client crosses
    processes) and sends the step's usage back with its outcome; this task run waits for it in the flow's
    process (flows.runner.run_on_worker)."""
    return run_on_worker(generate_from_spec, spec, step)


@task(name="validate", cache_policy=NO_CACHE)
def validate_task(chain: ValidatorChain, candidates: list[Question],
                  ctx: Context) -> tuple[list[Question], list[Question]]:
    return chain.run(candidates, ctx)


@task(name="recheck-published", cache_policy=NO_CACHE)
def recheck_task(keep: list[Question], contamination: Any, runner: Any, ctx: Context,
                 cfg: BuildConfig) -> tuple[list[Question], list[Question]]:
    return refresh.recheck(keep, contamination, runner, ctx, cfg)


@task(cache_policy=NO_CACHE)
def plan_round_task(agent: AdaptiveAgent, questions: list[Question], cfg: BuildConfig) -> RoundPlan:
    return plan_round(agent, questions, cfg)


# log_prints off: datasets fingerprints with dill, which captures what `dis` prints; the flow's log_prints would
# turn that into a log line per bytecode instruction
@task(name="publish", cache_policy=NO_CACHE, log_prints=False)
def publish_task(cfg: BuildConfig, accepted: list[Question], rejected: list[Question], manifest: dict[str, Any],
                 titles: dict[str, str], contexts: dict[str, str], retired: list[Question],
                 parent: str | None | bool) -> str:
    return direct.publish(cfg, accepted, rejected, manifest, titles, contexts, retired, parent)


def report_summary(summary: BuildSummary, headline: str) -> None:
    """The run's summary as a markdown artifact."""
    create_markdown_artifact(markdown=summary_markdown(summary, headline), key=f"build-{slug(summary.name, 40)}",
                             description=escape_undecodable(headline))


class PrefectWiring:
    """The core's steps as Prefect tasks (generation steps named by round, document and chunk), its
    reports as artifacts. `remote`: generation steps run on the flow's Dask workers, sent as specs; every
    task run (theirs too) is in the flow's process. `shared_limits`: each batch
    holds its slots of the generator endpoint's global concurrency limit (flows.endpoint_lease)."""

    def __init__(self, remote: bool = False, shared_limits: bool = False) -> None:
        self._progress_id: Any = None
        self.remote = remote
        self.shared_limits = shared_limits

    def endpoint_slots(self, budget: EndpointBudget | None, wanted: int) -> AbstractContextManager[int]:
        """With shared_limits, a batch holds its slots of the endpoint's global concurrency limit."""
        if budget is None or not self.shared_limits:
            return nullcontext(wanted)
        return endpoint_lease(budget, wanted)

    def load_sources(self, cfg: BuildConfig) -> tuple[list[Document], list[SkippedSource]]:
        return load_sources_task(cfg)

    def load_feeds(self, cfg: BuildConfig) -> tuple[list[Document], list[SkippedSource]]:
        return load_feeds_task(cfg)

    def chunk(self, docs: list[Document], max_tokens: int, overlap: int) -> list[Chunk]:
        return chunk_task(docs, max_tokens, overlap)

    def generate(self, generator: Generator, step: GenerationStep) -> StepOutcome:
        if self.remote:
            return generate_on_worker_task.with_options(task_run_name=step_name(step))(spec_of(generator),
                                                                                         step.portable())
        return generate_task.with_options(task_run_name=step_name(step))(generator, step)

    def validate(self, chain: ValidatorChain, candidates: list[Question],
                 ctx: Context) -> tuple[list[Question], list[Question]]:
        return validate_task(chain, candidates, ctx)

    def recheck(self, keep: list[Question], contamination: Any, runner: Any, ctx: Context,
                cfg: BuildConfig) -> tuple[list[Question], list[Question]]:
        return recheck_task(keep, contamination, runner, ctx, cfg)

    def plan_round(self, agent: AdaptiveAgent, questions: list[Question], cfg: BuildConfig, round_: int) -> RoundPlan:
        return plan_round_task.with_options(task_run_name=f"plan-round-{round_}")(agent, questions, cfg)

    def publish(self, cfg: BuildConfig, accepted: list[Question], rejected: list[Question], manifest: dict[str, Any],
                titles: dict[str, str], contexts: dict[str, str], retired: list[Question],
                parent: str | None | bool) -> str:
        return publish_task(cfg, accepted, rejected, manifest, titles, contexts, retired, parent)

    def progress_started(self, cfg: BuildConfig) -> None:
        self._progress_id = create_progress_artifact(
            progress=0.0, key=f"progress-{slug(cfg.name, 40)}",
            description=f"{cfg.name}: accepted questions, as a share of the {cfg.questions} wanted")

    def progress(self, percent: float) -> None:
        if self._progress_id is not None:
            update_progress_artifact(self._progress_id, progress=percent)

    def published(self, cfg: BuildConfig, release: str, validators: dict[str, dict[str, int]]) -> None:
        create_table_artifact(
            key=f"validators-{slug(cfg.name, 40)}",
            description=f"{cfg.name}: candidates passed and failed per validator",
            table=[{"validator": k, "passed": v["passed"], "failed": v["failed"]} for k, v in validators.items()])
        create_markdown_artifact(markdown=(Path(release) / "CHANGELOG.md").read_text(encoding="utf-8"),
                                 key=f"changelog-{slug(cfg.name, 40)}", description=f"{cfg.name} {Path(release).name}")

    def report(self, summary: BuildSummary, headline: str) -> None:
        report_summary(summary, headline)
