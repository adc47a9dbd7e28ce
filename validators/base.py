"""The validator protocol, the run context every validator sees, and the registry of validators by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from benchmint.embeddings import Embedder
from benchmint.records import Chunk, Document, Question, Verdict


@dataclass
class Context:
    config: Any  # BuildConfig
    documents: dict[str, Document] = field(default_factory=dict)
    chunks: dict[str, Chunk] = field(default_factory=dict)
    models: Any = None  # ModelPool: clients by role
    cache_dir: Path | None = None
    run_id: str = ""
    embedder: Embedder = field(default_factory=Embedder)


class Validator(Protocol):
    name: str

    def check(self, questions: list[Question], ctx: Context) -> list[Verdict]:
        """One verdict per question, in order; never raises for a bad question."""
        ...


@dataclass
class ChainTools:
    """What a build's validators are made from: the config and the parts the pipeline set up once."""

    config: Any  # BuildConfig
    runner: Any = None  # TargetRunner: the targets (and the judge panel grading them); None with no targets
    panel: Any = None  # JudgePanel, None with no judges
    judge: Any = None  # the contamination judge's client, or None
    translator: Any = None  # the client that translates non-English candidates (the judge's, else the generator's)
    bench_dir: Path | None = None  # the benchmark's folder (earlier versions: retired questions)
    cache_dir: Path | None = None
    embedder: Embedder | None = None


Factory = Callable[[ChainTools], "Validator | None"]


@dataclass(frozen=True)
class Registered:
    """A validator by name: how it is made from the tools (None: off for this config), and whether it
    checks every candidate or only those that passed every validator before it."""

    name: str
    make: Factory
    every_candidate: bool = False


VALIDATORS: dict[str, Registered] = {}


def register(name: str, every_candidate: bool = False) -> Callable[[Factory], Factory]:
    """Register `factory(tools) -> Validator | None` under `name`; the config's chain names it."""
    def deco(factory: Factory) -> Factory:
        VALIDATORS[name] = Registered(name, factory, every_candidate)
        return factory

    return deco
