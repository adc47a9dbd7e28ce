"""The built-in validators, registered by name with how each is made from a build's config.

A team adds its own the same way, in one file: `@register("mine") def make(tools): return Mine(...)`.
A factory returns None when the config switches its validator off or the build has nothing it needs
(no targets to measure with, no corpus to check against).
"""

from __future__ import annotations

from pathlib import Path

from validators.answerability import AnswerabilityValidator
from validators.base import ChainTools, register
from validators.contamination.validator import ContaminationValidator
from validators.contamination_setup import contamination_validator
from validators.dedup import DedupValidator
from validators.difficulty import DifficultyValidator
from validators.grounding import GroundingValidator
from validators.quality import QualityValidator


@register("grounding", every_candidate=True)
def grounding(tools: ChainTools) -> GroundingValidator:
    g = tools.config.grounding
    return GroundingValidator(g.min_ratio, g.min_words, g.min_answer_support)


@register("quality", every_candidate=True)
def quality(tools: ChainTools) -> QualityValidator:
    return QualityValidator()


@register("contamination")
def contamination(tools: ChainTools) -> ContaminationValidator | None:
    cfg = tools.config
    bench_dir = tools.bench_dir or Path(cfg.output_dir) / cfg.name
    cache_dir = tools.cache_dir or cfg.resolved_cache_dir()
    v = contamination_validator(cfg.contamination, bench_dir, cache_dir, judge=tools.judge,
                                translator=tools.translator)
    if v is not None and tools.embedder is not None:
        v.prepare(tools.embedder, cache_dir)
    return v


@register("dedup")
def dedup(tools: ChainTools) -> DedupValidator:
    return DedupValidator(tools.config.dedup.threshold)


@register("answerability")
def answerability(tools: ChainTools) -> AnswerabilityValidator | None:
    d = tools.config.difficulty
    if tools.runner is None or d.closed_book == "off":
        return None
    return AnswerabilityValidator(tools.runner, d.closed_book_max, d.closed_book)


@register("difficulty")
def difficulty(tools: ChainTools) -> DifficultyValidator | None:
    if tools.runner is None:
        return None
    d = tools.config.difficulty
    return DifficultyValidator(tools.runner, d.band, d.with_document, tools.panel, d.check_gold)
