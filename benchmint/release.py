"""Versioned, immutable, atomic publishing into outputs/<name>/<version>/.

A version is written to a temporary folder inside outputs/<name>/, made
read-only, fsynced (every file, every folder) and renamed into place under an
exclusive lock: a crash or a kill -9 at any point leaves the previous versions
intact and no half-written version, no two writers publish at once, and a
published version is never rewritten. outputs/<name>/latest is a symlink to the
newest; a writer that died between the rename and the link is repaired by the
next run (`repair`). A publish names the version it started from
(`expected_parent`): when another writer published meanwhile, it stops with one
line instead of retiring questions it never saw.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from benchmint import __version__
from benchmint.card import dataset_card
from benchmint.env import iter_jsonl
from benchmint.errors import BenchmintError, NothingToPublish, SourceError
from benchmint.exports import write_inspect_task, write_lm_eval_tasks
from benchmint.names import escape_undecodable
from benchmint.records import Question
from benchmint.runlock import PUBLISH_LOCK_NAME, acquire

EXPORT_SCHEMA = pa.schema([
    ("id", pa.string()), ("question", pa.string()), ("answer", pa.string()), ("kind", pa.string()),
    ("choices", pa.list_(pa.string())), ("gold_index", pa.int64()), ("answer_letter", pa.string()),
    ("unit", pa.string()), ("tolerance", pa.float64()),
    ("citations", pa.list_(pa.string())), ("document_ids", pa.list_(pa.string())),
    ("document_titles", pa.list_(pa.string())), ("chunk_ids", pa.list_(pa.string())),
    ("generator_model", pa.string()), ("prompt_id", pa.string()), ("prompt_version", pa.string()),
    ("estimated_difficulty", pa.int64()), ("round", pa.int64()), ("introduced_in", pa.string()),
    ("hops", pa.int64()), ("tactic", pa.string()), ("derivation", pa.string()),
    ("pass_rate", pa.float64()), ("discrimination", pa.float64()), ("context", pa.string()),
])
_VERSION = re.compile(r"^v(\d+)$")


def versions(bench_dir: Path) -> list[str]:
    """The published versions, oldest first: real vN folders (a symlink named like a version is not one)."""
    if not bench_dir.is_dir():
        return []
    found = [(int(m.group(1)), p.name) for p in bench_dir.iterdir()
             if (m := _VERSION.match(p.name)) and p.is_dir() and not p.is_symlink()]
    return [name for _, name in sorted(found)]


@contextlib.contextmanager
def writer_lock(bench_dir: Path, wait_s: float = 600.0, lock_name: str = PUBLISH_LOCK_NAME,
                busy: str = "another benchmint run is publishing to {dir}; try again when it ends") -> Iterator[None]:
    """One writer per benchmark; a second waits up to wait_s, then stops with a clear message."""
    bench_dir.mkdir(parents=True, exist_ok=True)
    with open(bench_dir / lock_name, "a+") as fh:
        acquire(fh, wait_s, lambda: busy.format(dir=bench_dir))
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def content_hash(rows: list[dict[str, Any]]) -> str:
    h = hashlib.sha256()
    for row in sorted(rows, key=lambda r: r["id"]):
        h.update(json.dumps(row, sort_keys=True, ensure_ascii=False).encode())
        h.update(b"\n")
    return h.hexdigest()


def _write_jsonl(path: Path, items: list[dict[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for item in items:
            f.write(json.dumps(escape_undecodable(item), ensure_ascii=False) + "\n")


def _write_parquet(path: Path, rows: list[dict[str, Any]]) -> None:
    pq.write_table(pa.Table.from_pylist(rows, schema=EXPORT_SCHEMA), path)


def fsync_tree(folder: Path) -> None:
    """Every file and folder under `folder` (and itself) on disk, deepest first."""
    for root, dirs, files in os.walk(folder, topdown=False):
        for f in files:
            fd = os.open(os.path.join(root, f), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(root))


def fsync_dir(folder: Path) -> None:
    """A folder's entries on disk (a rename or a new name in it survives a crash)."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _link_latest(bench_dir: Path, version: str) -> None:
    link_tmp = bench_dir / f".latest-{uuid.uuid4().hex[:8]}"
    os.symlink(version, link_tmp)
    os.replace(link_tmp, bench_dir / "latest")
    fsync_dir(bench_dir)


def repair(bench_dir: Path) -> None:
    """Undo what a writer killed mid-publish left: its temporary folders and links, and a `latest`
    that does not name the newest version (killed between the rename and the link)."""
    if not bench_dir.is_dir():
        return
    with writer_lock(bench_dir):
        for stale in [*bench_dir.glob(".tmp-*"), *bench_dir.glob(".latest-*")]:
            if stale.is_symlink() or stale.is_file():
                stale.unlink(missing_ok=True)
            else:
                _remove_tree(stale)
        found = versions(bench_dir)
        link = bench_dir / "latest"
        if found and (not link.is_symlink() or os.readlink(link) != found[-1]):
            _link_latest(bench_dir, found[-1])


def _remove_tree(folder: Path) -> None:
    """rmtree that also removes the read-only files a killed publish left behind."""
    for p in folder.rglob("*"):
        if p.is_dir() and not p.is_symlink():
            p.chmod(0o755)
    shutil.rmtree(folder, ignore_errors=True)


class ParentMoved(BenchmintError):
    """Another writer published a version after this run read the latest one."""


def publish(out_root: Path, name: str, accepted: list[Question], rejected: list[Question],
            manifest: dict[str, Any], titles: dict[str, str], contexts: dict[str, str] | None = None,
            retired: list[Question] | None = None, expected_parent: str | None | bool = False) -> Path:
    """Write the next version of benchmark `name`; returns its folder.

    A question the parent version holds keeps its `introduced_in`; a new one gets this version.
    `retired` are the parent's questions dropped on purpose (with `retired_reason`); any other
    parent question missing from `accepted` is listed as retired "not selected by this build".
    `expected_parent`: the version this run started from (None: no version yet); when the latest
    version is another, nothing is published (ParentMoved). False: not checked."""
    if not accepted:
        raise NothingToPublish(f"no question was accepted for '{name}'; nothing was published")
    bench_dir = out_root / name
    titles = escape_undecodable(titles)
    manifest = escape_undecodable(manifest)
    with writer_lock(bench_dir):
        for stale in bench_dir.glob(".tmp-*"):
            _remove_tree(stale)
        existing = versions(bench_dir)
        parent = existing[-1] if existing else None
        if expected_parent is not False and parent != expected_parent:
            raise ParentMoved(f"{name}: {parent} was published while this run worked from "
                              f"{expected_parent or 'no version'}; nothing was published (it would have retired "
                              f"questions it never saw): run it again to build on {parent}")
        version = f"v{int(existing[-1][1:]) + 1 if existing else 1}"
        tmp = bench_dir / f".tmp-{version}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        try:
            final = bench_dir / version
            parent_rows = read_questions(bench_dir / parent) if parent else []
            accepted, retired_now = _history(accepted, parent_rows, retired or [], version)
            added = sum(q.introduced_in == version for q in accepted)
            manifest = {**manifest, "changes": {"added": added, "retired": len(retired_now),
                                                "kept": len(accepted) - added,
                                                "retired_reasons": dict(Counter(q.retired_reason
                                                                                for q in retired_now))}}
            manifest = _write_release(tmp, final.resolve(), name, version, parent,
                                      accepted, rejected, manifest, titles, contexts or {})
            _write_jsonl(tmp / "retired.jsonl", [q.model_dump(mode="json") for q in retired_now])
            (tmp / "CHANGELOG.md").write_text(escape_undecodable(
                changelog(name, version, parent, accepted, retired_now, titles)), encoding="utf-8")
            if final.exists():  # cannot happen under the lock; never overwrite regardless
                raise BenchmintError(f"{final} already exists; refusing to overwrite a published version")
            make_read_only(tmp)
            fsync_tree(tmp)  # the rename below must never expose a folder whose files are not on disk
            if isinstance(manifest.get("config"), dict):
                from benchmint.definitions import remember

                with contextlib.suppress(OSError):  # no record: a later refresh asks for --config, nothing is lost
                    remember(bench_dir, version, tmp / "manifest.json", manifest["config"])
            try:
                os.rename(tmp, final)
            except OSError as exc:
                # a writer this lock did not exclude (a shared folder whose locks stay on each machine) renamed
                # its version into place first: a folder is never renamed onto a non-empty one
                if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
                raise ParentMoved(f"{name}: another writer published {version} meanwhile (the lock did not hold "
                                  f"across machines: see the README on shared folders); nothing was published: "
                                  f"run it again to build on {version}") from None
            fsync_dir(bench_dir)
        except BaseException:
            _remove_tree(tmp)
            raise
        _link_latest(bench_dir, version)
    return final


def read_questions(folder: Path) -> list[dict[str, Any]]:
    """A published version's questions.jsonl rows ([] when the file is absent)."""
    f = folder / "questions.jsonl"
    if not f.is_file():
        return []
    fix = "the release is damaged; rebuild it, or remove the folder"
    try:
        rows = list(iter_jsonl(f, fix))
    except (OSError, UnicodeDecodeError) as exc:
        why = getattr(exc, "strerror", None) or type(exc).__name__
        raise SourceError(f"{f} cannot be read ({why}); {fix}") from None
    for ln, row in rows:
        if not isinstance(row, dict) or not isinstance(row.get("id"), str):
            raise SourceError(f"{f} line {ln} is not a question (no id); {fix}")
    return [row for _, row in rows]


def _history(accepted: list[Question], parent_rows: list[dict[str, Any]], retired: list[Question],
             version: str) -> tuple[list[Question], list[Question]]:
    """(accepted with introduced_in set, the parent's questions this version retires, with the reason)."""
    introduced = {r["id"]: r.get("introduced_in") or "" for r in parent_rows}
    out = [q.model_copy(update={"introduced_in": q.introduced_in or introduced.get(q.id) or version}) for q in accepted]
    kept = {q.id for q in out}
    reasons = {q.id: q for q in retired}
    gone = []
    for r in parent_rows:
        if r["id"] in kept:
            continue
        q = reasons.get(r["id"]) or Question.model_validate(r).model_copy(
            update={"retired_reason": "not selected by this build"})
        gone.append(q.model_copy(update={"retired_in": version,
                                         "introduced_in": q.introduced_in or r.get("introduced_in", "")}))
    return out, gone


def changelog(name: str, version: str, parent: str | None, accepted: list[Question], retired: list[Question],
              titles: dict[str, str]) -> str:
    added = [q for q in accepted if q.introduced_in == version]
    kept = [q for q in accepted if q.introduced_in != version]

    def line(q: Question, extra: str = "") -> str:
        src = ", ".join(titles.get(d, d[:12]) for d in q.document_ids)
        return f"- `{q.id}` ({q.kind}, {src}): {q.question}{extra}"

    lines = [f"# {name} {version}", "", f"Parent version: {parent or '(none)'}. "
             f"{len(added)} added, {len(retired)} retired, {len(kept)} kept.", ""]
    lines += [f"## Added ({len(added)})", "", *[line(q) for q in added], ""]
    lines += [f"## Retired ({len(retired)})", "", *[line(q, f" — {q.retired_reason}") for q in retired], ""]
    lines += [f"## Kept ({len(kept)})", "", *[line(q, f" (since {q.introduced_in})") for q in kept], ""]
    return "\n".join(lines)


def _write_release(folder: Path, final: Path, name: str, version: str, parent: str | None, accepted: list[Question],
                   rejected: list[Question], manifest: dict[str, Any], titles: dict[str, str],
                   contexts: dict[str, str]) -> dict[str, Any]:
    import datasets

    datasets.disable_progress_bars()
    rows = [escape_undecodable(q.export_row(titles, contexts)) for q in accepted]
    _write_jsonl(folder / "questions.jsonl", [q.model_dump(mode="json") for q in accepted])
    _write_jsonl(folder / "rejected.jsonl", [q.model_dump(mode="json") for q in rejected])
    _write_parquet(folder / "questions.parquet", rows)
    kinds = sorted({r["kind"] for r in rows})
    for kind in kinds:
        subset = [r for r in rows if r["kind"] == kind]
        _write_parquet(folder / f"{kind}.parquet", subset)
        _write_jsonl(folder / f"{kind}.jsonl", subset)
    tasks = write_lm_eval_tasks(folder, final, name, version, kinds)
    write_inspect_task(folder, kinds, version)
    features = datasets.Features.from_arrow_schema(EXPORT_SCHEMA)
    datasets.Dataset.from_list(rows, features=features).save_to_disk(str(folder / "dataset"))
    full = {
        "name": name,
        "version": version,
        "parent_version": parent,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "benchmint_version": __version__,
        "content_hash": content_hash(rows),
        "counts": {"accepted": len(rows), "rejected": len(rejected), "by_kind": dict(Counter(r["kind"] for r in rows))},
        "exports": {"lm_eval_group": tasks[0], "lm_eval_tasks": tasks[1:], "inspect_tasks": kinds},
        **manifest,
    }
    (folder / "manifest.json").write_text(json.dumps(full, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (folder / "README.md").write_text(escape_undecodable(dataset_card(full, rows, kinds)), encoding="utf-8")
    return full


def make_read_only(folder: Path) -> None:
    for p in folder.rglob("*"):
        if p.is_file():
            p.chmod(0o444)
