"""Process environment and small file helpers shared by the CLI, the tests and the benchmarks."""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmint.errors import SourceError

# benchmint never reaches a model hub or a telemetry endpoint: these are set (unless the user set them)
# before prefect / datasets / transformers are imported.
OFFLINE_DEFAULTS = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    # the 2-core machines this runs on are often busy; Prefect's default (30 s) is too short there
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}


def apply_offline_defaults(**extra: str) -> None:
    """Set OFFLINE_DEFAULTS (and `extra`) in os.environ where the user has not set them."""
    for key, value in {**OFFLINE_DEFAULTS, **extra}.items():
        os.environ.setdefault(key, value)


def env_flag(name: str) -> bool:
    """An on/off environment variable (1, true, yes, on) is on."""
    return (os.environ.get(name) or "").strip().lower() in {"1", "true", "yes", "on"}


def package_dir(module: str) -> Path | None:
    """Where an installed top-level package lives, without importing it."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def iter_jsonl(path: str | Path, fix: str = "fix the line") -> Iterator[tuple[int, Any]]:
    """(line number, parsed row) for every non-blank line; a bad line raises one clear SourceError."""
    p = Path(path)
    for ln, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield ln, json.loads(line)
        except ValueError:
            raise SourceError(f"{p} line {ln} is not valid JSON; {fix}") from None
