"""Model replies on disk (each step's validated value, and each reply that did not validate, as it
came), so that a rerun repeats no call whose reply was kept.

The folder is kept under a size cap (BuildConfig.cache_max_mb) by prune(), least recently used first:
a read touches its file's mtime, since atime is often not kept (noatime, relatime)."""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STALE_TMP_S = 3600.0  # a temp file this old was left by a writer that died; younger ones may be in flight


def responses_dir(cache_dir: Path) -> Path:
    """The reply folder inside a cache dir (the cache dir also holds models and corpora: never pruned)."""
    return cache_dir / "responses"


class ResponseCache:
    """Replies on disk, one JSON file per key."""

    def __init__(self, root: Path):
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        p = self._path(key)
        try:
            value = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        try:
            os.utime(p)  # recently used: pruned last
        except OSError:
            pass  # a read-only cache still answers
        return value

    def put(self, key: str, value: dict[str, Any]) -> None:
        p = self._path(key)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(f".{p.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(value), encoding="utf-8")
        os.replace(tmp, p)


@dataclass
class CacheFile:
    path: Path
    size: int
    mtime: float
    tmp: bool  # a writer's temp file


def cache_files(root: Path) -> list[CacheFile]:
    """The files of the cache's own layout (ROOT/xx/KEY.json and its writers' temp files): never a symlink,
    nothing in a folder of another shape, nothing outside ROOT."""
    found: list[CacheFile] = []
    try:
        subdirs = [e for e in os.scandir(root) if len(e.name) == 2 and e.is_dir(follow_symlinks=False)]
    except (FileNotFoundError, NotADirectoryError):
        return found
    for sub in subdirs:
        try:
            entries = list(os.scandir(sub.path))
        except OSError:
            continue
        for e in entries:
            tmp = e.name.startswith(".") and e.name.endswith(".tmp")
            if not (tmp or (e.name.endswith(".json") and not e.name.startswith("."))):
                continue
            try:
                if not e.is_file(follow_symlinks=False):
                    continue
                st = e.stat(follow_symlinks=False)
            except OSError:  # removed meanwhile (a concurrent prune)
                continue
            found.append(CacheFile(Path(e.path), st.st_size, st.st_mtime, tmp))
    return found


@dataclass
class PruneResult:
    removed_files: int = 0
    removed_bytes: int = 0
    kept_files: int = 0
    kept_bytes: int = 0


def prune(root: Path, max_bytes: int | None = None, older_than_s: float | None = None,
          now: float | None = None) -> PruneResult:
    """Remove replies not used for `older_than_s`, then the least recently used until the rest is at most
    `max_bytes`; and temp files left by dead writers. A running build may lose a reply it would have
    reused (it asks the model again), never a file it is writing."""
    now = time.time() if now is None else now
    res = PruneResult()
    keep: list[CacheFile] = []
    drop: list[CacheFile] = []
    for f in cache_files(root):
        if f.tmp:
            if now - f.mtime > STALE_TMP_S:
                drop.append(f)
        elif older_than_s is not None and now - f.mtime > older_than_s:
            drop.append(f)
        else:
            keep.append(f)
    if max_bytes is not None:
        keep.sort(key=lambda f: f.mtime, reverse=True)  # most recently used first
        total, cut = 0, len(keep)
        for i, f in enumerate(keep):
            if total + f.size > max_bytes:
                cut = i
                break
            total += f.size
        keep, drop = keep[:cut], drop + keep[cut:]
    for f in drop:
        try:
            f.path.unlink()
        except FileNotFoundError:
            continue
        except OSError:
            if not f.tmp:
                keep.append(f)
            continue
        res.removed_files += 1
        res.removed_bytes += f.size
    res.kept_files, res.kept_bytes = len(keep), sum(f.size for f in keep)
    return res
