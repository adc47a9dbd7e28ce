"""Assembles the contamination validator a build runs: which corpora, thresholds, judge.

Corpora: the shipped public benchmarks (when `builtin`), the user's references
(registered names or sources), and the questions retired from this benchmark's
earlier versions (in some version, not in the latest), so a retired question never
returns. Questions still published in the latest version are not "contamination"
of a rebuild: they are the same benchmark.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from benchmint.config import ContaminationSettings
from benchmint.errors import ConfigError
from benchmint.release import read_questions, versions
from corpora.reference.builtin import default_corpora
from corpora.reference.corpus import ReferenceCorpus, corpus_from_questions
from corpora.reference.registry import resolve_reference
from validators.contamination.config import ContaminationConfig
from validators.contamination.validator import ContaminationValidator


def thresholds(settings: ContaminationSettings) -> ContaminationConfig:
    """The thresholds, with the switch `contamination.translate` (so the manifest's thresholds record it)."""
    if "translate" in settings.thresholds:
        raise ConfigError("config: 'contamination.thresholds.translate' is set as 'contamination.translate'; "
                          "move it there")
    try:
        return ContaminationConfig.model_validate({**settings.thresholds, "translate": settings.translate})
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            raise ConfigError(f"config: unknown key 'contamination.thresholds.{key}'; "
                              "remove it or check its spelling") from None
        raise ConfigError(f"config: 'contamination.thresholds.{key}': {err['msg']}") from None


def retired_questions(bench_dir: Path) -> list[dict[str, Any]]:
    """Questions of earlier versions that the latest version no longer holds."""
    found = versions(bench_dir)
    if len(found) < 2:
        return []

    current = {r["id"] for r in read_questions(bench_dir / found[-1])}
    retired: dict[str, dict[str, Any]] = {}
    for v in found[:-1]:
        for r in read_questions(bench_dir / v):
            if r["id"] not in current:
                retired.setdefault(r["id"], r)
    return list(retired.values())


def build_corpora(settings: ContaminationSettings, bench_dir: Path, cache_dir: Path) -> list[ReferenceCorpus]:
    corpora: list[ReferenceCorpus] = list(default_corpora()) if settings.builtin else []
    corpora += [resolve_reference(ref, cache_dir=cache_dir) for ref in settings.references]
    if settings.previous_versions and (retired := retired_questions(bench_dir)):
        corpora.append(corpus_from_questions(retired, name=f"{bench_dir.name}-retired", source=str(bench_dir)))
    return corpora


def contamination_validator(settings: ContaminationSettings, bench_dir: Path, cache_dir: Path,
                            judge: Any = None, translator: Any = None) -> ContaminationValidator | None:
    """The validator for a build, or None when disabled or there is nothing to check against. `translator`:
    the client that translates non-English candidates (the judge's, else the generator's), used when
    `contamination.translate` is on."""
    if not settings.enabled:
        return None
    config = thresholds(settings)
    corpora = build_corpora(settings, bench_dir, cache_dir)
    if not corpora:
        return None
    return ContaminationValidator(corpora, config, judge=judge, cache_dir=cache_dir,
                                  translator=translator if config.translate else None)
