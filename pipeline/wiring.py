"""How the core runs its steps. `flows/` passes a wiring whose calls are Prefect tasks (retries,
task-run names) and whose reports are artifacts; `Direct` runs the same steps as plain calls, so the
whole pipeline runs, and is tested, without Prefect."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any, Protocol

from benchmint.config import BuildConfig
from benchmint.endpoint_budget import EndpointBudget
from benchmint.records import Chunk, Document, Question, SkippedSource
from benchmint.release import publish
from corpora.chunking import chunk_documents
from corpora.documents import load_documents
from corpora.feeds import load_feeds, parse_since
from generators.adaptive import AdaptiveAgent, RoundPlan
from generators.base import GenerationStep, Generator
from generators.spec import spec_of
from pipeline import refresh
from pipeline.generation import generate_from_spec, generate_step
from pipeline.records import BuildSummary, StepOutcome
from validators.base import Context
from validators.chain import ValidatorChain


def plan_round(agent: AdaptiveAgent, questions: list[Question], cfg: BuildConfig) -> RoundPlan:
    return agent.plan(questions, list(cfg.generation.kinds), cfg.generation.multi_hop)


class Wiring(Protocol):
    def load_sources(self, cfg: BuildConfig) -> tuple[list[Document], list[SkippedSource]]: ...
    def load_feeds(self, cfg: BuildConfig) -> tuple[list[Document], list[SkippedSource]]: ...
    def chunk(self, docs: list[Document], max_tokens: int, overlap: int) -> list[Chunk]: ...
    def generate(self, generator: Generator, step: GenerationStep) -> StepOutcome: ...

    def endpoint_slots(self, budget: EndpointBudget | None, wanted: int) -> AbstractContextManager[int]:
        """Hold up to `wanted` of the endpoint's shared slots while a batch runs; gives how many it holds (the
        batch sends at most that many requests at once). None: an endpoint with no shared budget."""
        ...

    def validate(self, chain: ValidatorChain, candidates: list[Question],
                 ctx: Context) -> tuple[list[Question], list[Question]]: ...
    def recheck(self, keep: list[Question], contamination: Any, runner: Any, ctx: Context,
                cfg: BuildConfig) -> tuple[list[Question], list[Question]]: ...
    def plan_round(self, agent: AdaptiveAgent, questions: list[Question], cfg: BuildConfig,
                   round_: int) -> RoundPlan: ...
    def publish(self, cfg: BuildConfig, accepted: list[Question], rejected: list[Question], manifest: dict[str, Any],
                titles: dict[str, str], contexts: dict[str, str], retired: list[Question],
                parent: str | None | bool) -> str: ...

    def progress_started(self, cfg: BuildConfig) -> None:
        """Generation starts (a progress bar: accepted questions as a share of those wanted)."""

    def progress(self, percent: float) -> None: ...

    def published(self, cfg: BuildConfig, release: str, validators: dict[str, dict[str, int]]) -> None:
        """A release was published: its changelog and the verdicts per validator."""

    def report(self, summary: BuildSummary, headline: str) -> None:
        """The run's summary (published or not)."""


class Direct:
    """Every step a plain call; no artifacts; no budget shared with other builds."""

    def endpoint_slots(self, budget: EndpointBudget | None, wanted: int) -> AbstractContextManager[int]:
        return nullcontext(wanted)

    def load_sources(self, cfg: BuildConfig) -> tuple[list[Document], list[SkippedSource]]:
        if not cfg.sources:
            return [], []
        return load_documents(cfg.sources, cfg.loader.max_file_mb, cfg.loader.max_file_seconds)

    def load_feeds(self, cfg: BuildConfig) -> tuple[list[Document], list[SkippedSource]]:
        return load_feeds(cfg.feeds, parse_since(cfg.since), cfg.resolved_cache_dir(), policy=cfg.feed_policy)

    def chunk(self, docs: list[Document], max_tokens: int, overlap: int) -> list[Chunk]:
        return chunk_documents(docs, max_tokens, overlap)

    def generate(self, generator: Generator, step: GenerationStep) -> StepOutcome:
        return generate_step(generator, step)

    def validate(self, chain: ValidatorChain, candidates: list[Question],
                 ctx: Context) -> tuple[list[Question], list[Question]]:
        return chain.run(candidates, ctx)

    def recheck(self, keep: list[Question], contamination: Any, runner: Any, ctx: Context,
                cfg: BuildConfig) -> tuple[list[Question], list[Question]]:
        return refresh.recheck(keep, contamination, runner, ctx, cfg)

    def plan_round(self, agent: AdaptiveAgent, questions: list[Question], cfg: BuildConfig, round_: int) -> RoundPlan:
        return plan_round(agent, questions, cfg)

    def publish(self, cfg: BuildConfig, accepted: list[Question], rejected: list[Question], manifest: dict[str, Any],
                titles: dict[str, str], contexts: dict[str, str], retired: list[Question],
                parent: str | None | bool) -> str:
        return str(publish(Path(cfg.output_dir), cfg.name, accepted, rejected, manifest, titles, contexts, retired,
                           parent))

    def progress_started(self, cfg: BuildConfig) -> None:
        pass

    def progress(self, percent: float) -> None:
        pass

    def published(self, cfg: BuildConfig, release: str, validators: dict[str, dict[str, int]]) -> None:
        pass

    def report(self, summary: BuildSummary, headline: str) -> None:
        pass


class BySpec(Direct):
    """Direct, with each generation step taken the way a Dask worker takes it (a spec in, the step's usage
    back with its outcome), in this process: the remote path of the core, run and tested without Prefect."""

    def generate(self, generator: Generator, step: GenerationStep) -> StepOutcome:
        return generate_from_spec(spec_of(generator), step.portable())
