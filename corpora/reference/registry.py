"""The registry of known corpora: one JSON file under the cache folder (`<cache>/corpora/registry.json`),
mapping a name to how to load the corpus again."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmint.config import cache_root
from benchmint.errors import ConfigError
from corpora.reference.builtin import BUILTIN_PIP, BUILTINS, builtin_data_dir, load_builtin
from corpora.reference.corpus import ReferenceCorpus
from corpora.reference.fields import FieldMap
from corpora.reference.loading import DATA_SUFFIXES, load_reference

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def registry_path(cache_dir: str | Path | None = None) -> Path:
    return cache_root(str(cache_dir) if cache_dir is not None else None) / "corpora" / "registry.json"


def read_registry(cache_dir: str | Path | None) -> dict[str, dict[str, Any]]:
    p = registry_path(cache_dir)
    if not p.is_file():
        return {}
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except ValueError:
        raise ConfigError(f"corpus registry {p} is not valid JSON; fix or delete it "
                          "(then add the corpora again)") from None
    return data.get("corpora", {}) if isinstance(data, dict) else {}


def _write_registry(entries: dict[str, dict[str, Any]], cache_dir: str | Path | None) -> None:
    p = registry_path(cache_dir)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"version": 1, "corpora": entries}, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, p)


def add_corpus(name: str, source: str | Path, fields: FieldMap | str | Sequence[str] | dict[str, Any] | None = None, *,
               split: str | None = None, column_names: list[str] | None = None, replace: bool = False,
               cache_dir: str | Path | None = None) -> dict[str, Any]:
    """Register NAME -> SOURCE (loaded once now to check it). Returns the entry plus a `note` line
    saying which fields were used (guessed or given)."""
    if not NAME_RE.fullmatch(name):
        raise ConfigError(f"corpus name {name!r} is not valid; use letters, digits, '.', '_' or '-'")
    if name in BUILTINS:
        raise ConfigError(f"corpus name {name!r} is a builtin corpus; pick another name")
    entries = read_registry(cache_dir)
    if name in entries and not replace:
        raise ConfigError(f"corpus {name!r} is already registered (from {entries[name]['source']}); "
                          "remove it first or pick another name")
    p = Path(str(source)).expanduser()
    src = str(p.resolve()) if p.exists() else str(source)
    corpus = load_reference(src, name=name, fields=fields, split=split, column_names=column_names)
    entry = {"name": name, "source": src, "kind": corpus.kind,
             "fields": corpus.fields.model_dump() if corpus.fields else None, "fields_guessed": corpus.guessed,
             "split": split, "column_names": column_names, "content_hash": corpus.content_hash, "size": len(corpus),
             "added_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    entries[name] = entry
    _write_registry(entries, cache_dir)
    return {**entry, "note": corpus.fields_note()}


def list_corpora(cache_dir: str | Path | None = None, include_builtin: bool = True) -> list[dict[str, Any]]:
    """Registered corpora (name, source, size, content hash, fields), then the builtin set."""
    rows = [dict(e, builtin=False, available=Path(e["source"]).exists() or not _looks_local(e["source"]))
            for e in sorted(read_registry(cache_dir).values(), key=lambda e: e["name"])]
    if include_builtin:
        d = builtin_data_dir()
        for b in BUILTINS.values():
            rows.append({"name": b.name, "source": f"{BUILTIN_PIP}:{b.path}", "kind": "builtin",
                         "description": b.description, "license": b.license, "builtin": True,
                         "available": d is not None and (d / b.path).exists()})
    return rows


def _looks_local(source: str) -> bool:
    return source.startswith(("/", ".", "~")) or Path(source).suffix.lower() in DATA_SUFFIXES


def remove_corpus(name: str, cache_dir: str | Path | None = None) -> dict[str, Any]:
    """Unregister NAME; returns the removed entry. (Its cached index stays until the cache is cleared.)"""
    entries = read_registry(cache_dir)
    if name not in entries:
        if name in BUILTINS:
            raise ConfigError(f"corpus {name!r} is builtin and cannot be removed; "
                              "leave it out of the references instead")
        known = ", ".join(sorted(entries)) or "none"
        raise ConfigError(f"no registered corpus named {name!r} (registered: {known}); see `benchmint corpora list`")
    entry = entries.pop(name)
    _write_registry(entries, cache_dir)
    return entry


def resolve_reference(ref: str | Path | ReferenceCorpus, *, fields: FieldMap | str | Sequence[str] | None = None,
                      cache_dir: str | Path | None = None) -> ReferenceCorpus:
    """A registered name, a builtin name, or anything `corpora add` accepts -> a loaded corpus."""
    if isinstance(ref, ReferenceCorpus):
        return ref
    ref = str(ref)
    entries = read_registry(cache_dir)
    if ref in entries:
        e = entries[ref]
        return load_reference(e["source"], name=ref, fields=e.get("fields"), split=e.get("split"),
                              column_names=e.get("column_names"))
    if ref in BUILTINS:
        return load_builtin(ref)
    return load_reference(ref, fields=fields)
