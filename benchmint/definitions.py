"""The definitions this machine built: refresh's source of truth when no config file is named.

A release is data. Its manifest records the config it was built with, but a release folder can come
from anywhere (a download, a colleague, an attacker), and its manifest could name any endpoint, any
key variable and any folder (`/etc`). So `refresh NAME` never takes a definition from a manifest:
it takes it from a config file the user names (--config, or NAME.yaml in the current folder), or
from the record benchmint keeps on this machine each time it publishes a version:

    <cache root>/definitions/<sha256 of the benchmark folder's real path>.json

holding the folder, the version, the sha256 of the manifest it wrote, and the config. A folder
this machine never published to has no record, and refresh refuses it with one line.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmint.config import cache_root


def _record_path(bench_dir: Path) -> Path:
    key = hashlib.sha256(str(bench_dir.resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:32]
    return cache_root() / "definitions" / f"{key}.json"


def remember(bench_dir: Path, version: str, manifest_path: Path, config: dict[str, Any]) -> Path:
    """Record that this machine publishes `version` of `bench_dir` with `config` (written atomically)."""
    path = _record_path(bench_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"bench_dir": str(bench_dir.resolve()), "version": version,
              "manifest_sha256": hashlib.sha256(manifest_path.read_bytes()).hexdigest(),
              "written_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "config": config}
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)
    return path


def recall(bench_dir: Path) -> dict[str, Any] | None:
    """The config this machine last published `bench_dir` with, or None when it never did."""
    path = _record_path(bench_dir)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("bench_dir") != str(bench_dir.resolve()):
        return None
    config = record.get("config")
    return config if isinstance(config, dict) else None
