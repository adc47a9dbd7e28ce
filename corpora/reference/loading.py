"""Loading a known corpus with `datasets`: a saved dataset folder, data files, a release, or a hub id."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmint.env import env_flag
from benchmint.errors import ConfigError, SourceError
from corpora.reference.corpus import ReferenceCorpus, corpus_from_table
from corpora.reference.fields import FieldMap, guess_fields, parse_fields
from corpora.reference.releases import corpus_from_release, release_folders

DATA_SUFFIXES = {".jsonl": "json", ".json": "json", ".parquet": "parquet", ".csv": "csv", ".tsv": "csv"}


def hub_offline() -> bool:
    return env_flag("HF_HUB_OFFLINE") or env_flag("HF_DATASETS_OFFLINE")


def _data_files(folder: Path) -> tuple[str, list[str]]:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in DATA_SUFFIXES
                   and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    kinds = {DATA_SUFFIXES[p.suffix.lower()] for p in files}
    if not files:
        raise SourceError(f"reference folder {folder} holds no dataset (no save_to_disk files and no "
                          "json/jsonl/parquet/csv files); point at a data file or a saved dataset")
    if len(kinds) > 1:
        raise SourceError(f"reference folder {folder} mixes {', '.join(sorted(kinds))} files; "
                          "point at one file or a folder of one format")
    return kinds.pop(), [str(p) for p in files]


def _is_saved_dataset(folder: Path) -> bool:
    return (folder / "dataset_dict.json").is_file() or (
        (folder / "state.json").is_file() and (folder / "dataset_info.json").is_file())


def _load_dataset_object(source: str, split: str | None, column_names: list[str] | None) -> Any:
    """A datasets.Dataset or DatasetDict from a path or a hub id; SourceError with the fix otherwise."""
    import datasets

    datasets.disable_progress_bars()
    p = Path(source).expanduser()
    try:
        if p.is_dir():
            if _is_saved_dataset(p):
                ds = datasets.load_from_disk(str(p))
            else:
                builder, files = _data_files(p)
                kw = _builder_kwargs(builder, files[0], column_names)
                ds = datasets.load_dataset(builder, data_files=files, split="train", **kw)
        elif p.is_file():
            builder = DATA_SUFFIXES.get(p.suffix.lower())
            if builder is None:
                raise SourceError(f"reference file {p} is not json, jsonl, parquet or csv; convert it or "
                                  "save it with datasets.save_to_disk")
            if p.stat().st_size == 0:
                raise SourceError(f"reference file {p} is empty; give a file with at least one item")
            kw = _builder_kwargs(builder, str(p), column_names)
            ds = datasets.load_dataset(builder, data_files=[str(p)], split="train", **kw)
        else:
            return _load_hub(source, split)
    except SourceError:
        raise
    except (ValueError, OSError, TypeError, KeyError) as exc:
        raise SourceError(f"cannot read reference {source}: {short_error(exc)}") from None
    except Exception as exc:  # noqa: BLE001 - datasets/pyarrow raise many types for a bad file
        raise SourceError(f"cannot read reference {source}: {type(exc).__name__}: {short_error(exc)}") from None
    if split is not None and isinstance(ds, datasets.DatasetDict):
        if split not in ds:
            raise ConfigError(f"reference {source} has no split {split!r}; its splits are: {', '.join(ds)}")
        ds = ds[split]
    return ds


def _builder_kwargs(builder: str, first_file: str, column_names: list[str] | None) -> dict[str, Any]:
    kw: dict[str, Any] = {}
    if builder == "csv":
        if first_file.lower().endswith(".tsv"):
            kw["sep"] = "\t"
        if column_names:
            kw["column_names"] = list(column_names)
    elif column_names:
        raise ConfigError("column names can only be given for csv files (which may lack a header row)")
    return kw


HUB_ID_RE = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?(:[\w.-]+)?$")


def _load_hub(source: str, split: str | None) -> Any:
    looks_local = Path(source).suffix.lower() in DATA_SUFFIXES or source.startswith((".", "/", "~"))
    if not HUB_ID_RE.match(source) or looks_local:
        raise SourceError(f"reference {source!r} does not exist: it is not a file, a folder, a registered corpus "
                          "or a hub dataset id; check the path (see `benchmint corpora list`)")
    if hub_offline():
        raise SourceError(
            f"reference {source!r} is not a local file, folder or registered corpus, and the Hugging Face hub is "
            "off (HF_HUB_OFFLINE/HF_DATASETS_OFFLINE is set); with a network set HF_HUB_OFFLINE=0 "
            "HF_DATASETS_OFFLINE=0, or download the data and pass its path")
    import datasets

    repo, _, config = source.partition(":")
    try:
        return datasets.load_dataset(repo, config or None, split=split)
    except Exception as exc:  # noqa: BLE001 - network, auth, not found: one message
        raise SourceError(f"cannot load hub dataset {source!r} (is the hub reachable and the id right?): "
                          f"{type(exc).__name__}: {short_error(exc)}") from None


def load_reference(source: str | Path, *, name: str | None = None,
                   fields: FieldMap | str | Sequence[str] | dict[str, Any] | None = None,
                   split: str | None = None, column_names: list[str] | None = None) -> ReferenceCorpus:
    """Load a known corpus with `datasets`: a saved dataset folder, data files, a release, or a hub id.

    `fields` names the question/choices/answer/id fields; without it they are guessed and
    `ReferenceCorpus.fields_note()` says what was chosen. `column_names` names the columns
    of a csv file that has no header row. Raises SourceError/ConfigError with one line.
    """
    source = str(source)
    p = Path(source).expanduser()
    label = name or (p.stem if p.exists() else source.replace("/", "_"))
    release = release_folders(p, require_manifest=True) if p.exists() else None
    if release:
        corpus = corpus_from_release(p, name=label)
        return corpus
    import datasets

    ds = _load_dataset_object(source, split, column_names)
    id_prefix: list[str] | None = None
    if isinstance(ds, datasets.DatasetDict):
        splits = [s for s in ds if len(ds[s])]
        if not splits:
            raise SourceError(f"corpus {label} ({source}) is empty; give a dataset with at least one item")
        id_prefix = [s for s in splits for _ in range(len(ds[s]))]
        ds = datasets.concatenate_datasets([ds[s] for s in splits])
    if len(ds) == 0:
        raise SourceError(f"corpus {label} ({source}) is empty; give a dataset with at least one item")
    columns = list(ds.column_names)
    fmap = parse_fields(fields)
    guessed = fmap is None
    if fmap is None:
        fmap = guess_fields(columns, f"{label} ({source})")
    needed = [fmap.question, *([fmap.answer] if fmap.answer else []), *fmap.choices, *([fmap.id] if fmap.id else [])]
    for col in needed:
        if col not in columns:
            raise ConfigError(f"corpus {label} ({source}) has no field {col!r}; its fields are: {', '.join(columns)}")
    table = {c: ds[c] for c in dict.fromkeys(needed)}
    if not isinstance(table[fmap.question], list):  # datasets >= 4 returns a Column
        table = {c: list(v) for c, v in table.items()}
    src = str(p.resolve()) if p.exists() else source
    return corpus_from_table(label, src, table, fmap, guessed=guessed, id_prefix=id_prefix)


def short_error(exc: BaseException) -> str:
    msg = str(exc).replace("\n", " ").strip()
    return msg[:240] + ("..." if len(msg) > 240 else "")
