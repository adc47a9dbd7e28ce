"""The models a build uses, by role."""

from __future__ import annotations

from benchmint import progress
from benchmint.config import BuildConfig
from benchmint.errors import ConfigError
from benchmint.local_models import default_targets
from benchmint.modelspec import ModelSpec


def model_roles(cfg: BuildConfig) -> dict[str, ModelSpec]:
    """Every model the build uses, by role (a model in several roles shares one server)."""
    roles: dict[str, ModelSpec] = {"generator": cfg.models.generator}
    for i, spec in enumerate(cfg.models.targets, 1):
        roles[f"target{i}"] = spec
    for i, spec in enumerate(cfg.models.panel(), 1):
        roles[f"judge{i}"] = spec
    if cfg.contamination.enabled and cfg.contamination.judge is not None:
        roles["contamination_judge"] = cfg.contamination.judge
    return roles


def with_default_targets(cfg: BuildConfig) -> BuildConfig:
    """Adaptive rounds aim at the targets' failures: with none named, the embedded models are the targets."""
    if cfg.adaptive.rounds <= 1 or cfg.models.targets:
        return cfg
    found = default_targets()
    if not found:
        raise ConfigError("adaptive rounds (--rounds > 1) aim at the targets' failures: name the targets "
                          "with --targets M1,M2 (or models.targets in the config)")
    progress.current.get().note(f"targets: {', '.join(t.label for t in found)} (the embedded models; name others "
                                "with --targets)")
    return cfg.model_copy(update={"models": cfg.models.model_copy(update={"targets": found})})
