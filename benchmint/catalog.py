"""Reading published versions back: the list, one version's summary, the difference of two."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmint.errors import SourceError
from benchmint.names import bench_dir_inside, escape_undecodable
from benchmint.release import read_questions, versions


def bench_dir(output_dir: str | Path, name: str) -> Path:
    """outputs/<name> with at least one version; a name that leaves the output folder is refused."""
    d = bench_dir_inside(output_dir, name)
    if not versions(d):
        raise SourceError(f"no published version of '{name}' in {output_dir}/; build it with "
                          f"`benchmint build SOURCE --name {name}` or pass --output-dir")
    return d


def resolve_version(d: Path, version: str | None) -> str:
    found = versions(d)
    if version in (None, "latest"):
        return found[-1]
    v = version if version.startswith("v") else f"v{version}"
    if v not in found:
        raise SourceError(f"'{d.name}' has no version {escape_undecodable(version)!r}; it has {', '.join(found)}")
    return v


def read_manifest(folder: Path) -> dict[str, Any]:
    """A release folder's manifest.json; a missing or damaged one is one SourceError line."""
    f = folder / "manifest.json"
    try:
        data = json.loads(f.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourceError(f"{folder} is damaged: it has no manifest.json; rebuild it, or remove the folder") from None
    except (OSError, ValueError) as exc:
        why = "not valid JSON" if isinstance(exc, ValueError) else (exc.strerror or type(exc).__name__)
        raise SourceError(f"{f} is damaged ({why}); rebuild it, or remove the folder") from None
    if not isinstance(data, dict):
        raise SourceError(f"{f} is damaged (not a JSON object); rebuild it, or remove the folder")
    return data


def manifest(d: Path, version: str) -> dict[str, Any]:
    return read_manifest(d / version)


def check_release(folder: Path) -> dict[str, Any]:
    """A release folder's manifest, after checking that its manifest and questions can be read."""
    m = read_manifest(folder)
    read_questions(folder)
    return m


def questions(d: Path, version: str) -> list[dict[str, Any]]:
    return read_questions(d / version)


def version_rows(d: Path) -> list[dict[str, Any]]:
    rows = []
    for v in versions(d):
        m = manifest(d, v)
        rows.append({"version": v, "created_at": m.get("created_at", ""), "parent": m.get("parent_version") or "",
                     "questions": m.get("counts", {}).get("accepted", 0),
                     "by_kind": m.get("counts", {}).get("by_kind", {}),
                     "generator": m.get("models", {}).get("generator", ""),
                     "content_hash": m.get("content_hash", "")[:12]})
    return rows


def diff(d: Path, a: str, b: str) -> dict[str, Any]:
    """Questions added in b (not in a), removed from a (not in b), and kept, by question id."""
    read_manifest(d / a), read_manifest(d / b)  # a damaged version is said so, not diffed
    qa, qb = {q["id"]: q for q in questions(d, a)}, {q["id"]: q for q in questions(d, b)}
    return {"from": a, "to": b,
            "added": [qb[i] for i in qb if i not in qa],
            "removed": [qa[i] for i in qa if i not in qb],
            "kept": [qb[i] for i in qb if i in qa]}


def push_to_hub(release: Path, repo: str, api: Any = None, say: Callable[[str], None] = lambda line: None) -> str:
    """Publish every file of a release to the Hub dataset repository `repo` with huggingface_hub, then tag
    the commit with the version (v1, v2, ...). The repository's main branch then holds this version alone
    (files an earlier push left that this version lacks are deleted in the same commit); each version stays
    readable by its tag. The card (README.md) names the parquet files in its `configs:`, so
    `datasets.load_dataset(repo, "all")` reads them as published. Needs a network and a token (HF_TOKEN, or
    `huggingface-cli login`); says which is missing. `api`: an HfApi (tests pass a stand-in); `say`: notes."""
    import os

    from benchmint.env import env_flag
    from benchmint.errors import ConfigError
    from benchmint.hub_metadata import card_problems

    if env_flag("HF_HUB_OFFLINE"):
        raise ConfigError("cannot push to the Hub: HF_HUB_OFFLINE is set (benchmint sets it unless you do); "
                          "with a network, run with HF_HUB_OFFLINE=0 HF_DATASETS_OFFLINE=0")
    try:
        from huggingface_hub import get_token
    except ImportError:  # pragma: no cover - datasets depends on huggingface_hub
        get_token = None
    if not os.environ.get("HF_TOKEN") and (get_token is None or not get_token()):
        raise ConfigError("cannot push to the Hub: no token; set HF_TOKEN or run `huggingface-cli login`")
    m = read_manifest(release)
    version = str(m.get("version") or release.name)
    card = release / "README.md"
    problems = card_problems(card.read_text(encoding="utf-8")) if card.is_file() else ["it is missing"]
    if problems:  # the Hub refuses a commit whose README.md metadata does not validate: say so before uploading
        raise SourceError(f"{card}: the Hub would refuse this dataset card ({problems[0]}); rebuild the version")
    if api is None:
        from huggingface_hub import HfApi

        api = HfApi()
    try:
        api.create_repo(repo, repo_type="dataset", exist_ok=True)
        commit = api.upload_folder(repo_id=repo, repo_type="dataset", folder_path=release, delete_patterns="*",
                                   commit_message=f"benchmint {m.get('name')} {version}")
        tags = {t.name for t in api.list_repo_refs(repo, repo_type="dataset").tags}
        if version in tags:
            say(f"tag {version} is already on {repo}; left where it is (an earlier push of {version})")
        else:
            api.create_tag(repo, tag=version, revision=getattr(commit, "oid", None), repo_type="dataset",
                           tag_message=f"benchmint {m.get('name')} {version}", exist_ok=True)
    except Exception as exc:  # noqa: BLE001 - network and Hub errors, reported as one line
        raise SourceError(f"pushing {release} to {repo} failed: {type(exc).__name__}: {str(exc)[:200]}") from None
    return f"https://huggingface.co/datasets/{repo}/tree/{version}"
