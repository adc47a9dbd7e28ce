"""Benchmark names and the folders they name: checked before any work, kept inside the output folder.

A benchmark name becomes a folder name (outputs/<name>/), so it is a single path segment of safe
characters: no '/', no '..', no leading dot. Read commands resolve outputs/<name> and refuse a
folder (or a version inside it) that is a symlink leading out of the output folder. File names
that are not UTF-8 (Python keeps their bytes as lone surrogates) are written in an escaped form
wherever a release records them, since a JSON, Parquet or Markdown file cannot hold them.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

from benchmint.errors import ConfigError, SourceError

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
NAME_RULE = "use letters, digits, '.', '_' or '-', starting with a letter or digit (it becomes a folder name)"


def check_name(name: str) -> str:
    """`name` itself when it is a usable benchmark name; else one ConfigError line naming it."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise ConfigError(f"benchmark name {escape_undecodable(name)!r}: {NAME_RULE}")
    return name


def expand(path: str | os.PathLike[str]) -> Path:
    """A user-given folder: `~` and `~user` expanded (never a folder literally named '~')."""
    return Path(os.path.expanduser(os.fspath(path)))


def bench_dir_inside(output_dir: str | os.PathLike[str], name: str) -> Path:
    """outputs/<name>, refused when the name is not a plain name or the folder leads out of outputs/."""
    check_name(name)
    root = expand(output_dir)
    d = root / name
    if d.is_symlink() or d.exists():
        real_root = root.resolve()
        real = d.resolve()
        if real.parent != real_root:
            raise SourceError(f"{d} leads out of the output folder {root} (to {real}); benchmint reads only "
                              f"benchmarks inside {root}")
    return d


def inside(folder: Path, parent: Path) -> bool:
    """True when `folder` is a real folder directly in `parent` (not a symlink, not elsewhere)."""
    return folder.is_dir() and not folder.is_symlink() and folder.resolve().parent == parent.resolve()


def check_output_dir(output_dir: str | os.PathLike[str]) -> Path:
    """The output folder, `~` expanded, when a release can be written there; else one ConfigError line.

    It must be a folder (or not exist yet, under a folder) that this user can write: found at once,
    before any model starts, rather than at publish time after all the model work."""
    root = expand(output_dir)
    probe = root
    while not probe.exists():
        if probe.is_symlink():
            raise ConfigError(f"output folder {root}: {probe} is a broken symlink; fix it or pass another --output-dir")
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        what = "the output folder" if probe == root else f"its parent {probe}"
        raise ConfigError(f"output folder {root}: {what} is a file, not a folder; pass another --output-dir")
    try:  # os.access says yes to root on a read-only mount: a real write answers truly
        with tempfile.NamedTemporaryFile(dir=probe, prefix=".benchmint-write-check-"):
            pass
    except OSError as exc:
        raise ConfigError(f"output folder {root}: cannot write in {probe} ({exc.strerror or type(exc).__name__}); "
                          "pass a writable --output-dir") from None
    return root


def escape_undecodable(obj: Any) -> Any:
    """`obj` with every string made writable as UTF-8: bytes of a non-UTF-8 file name (held by Python as
    lone surrogates) become `\\xNN` escapes. Dicts, lists and tuples are walked; other values pass."""
    if isinstance(obj, str):
        try:
            obj.encode("utf-8")
            return obj
        except UnicodeEncodeError:
            return obj.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace") \
                if _only_escapes(obj) else obj.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(obj, dict):
        return {escape_undecodable(k): escape_undecodable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(escape_undecodable(v) for v in obj)
    return obj


def _only_escapes(s: str) -> bool:
    """True when every surrogate in `s` is one surrogateescape made (U+DC80..U+DCFF: a raw byte)."""
    return all(not 0xD800 <= ord(ch) <= 0xDFFF or 0xDC80 <= ord(ch) <= 0xDCFF for ch in s)
