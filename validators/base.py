"""The validator protocol, the run context every validator and generator sees, and the registry."""

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


VALIDATORS: dict[str, Callable[..., Validator]] = {}


def register(name: str) -> Callable[[Callable[..., Validator]], Callable[..., Validator]]:
    def deco(factory: Callable[..., Validator]) -> Callable[..., Validator]:
        VALIDATORS[name] = factory
        return factory

    return deco
