"""The nightly refresh of a folder of benchmark definitions, without Prefect: which files are definitions, how
each is read, and what the night did to each.

A definition is a YAML build config (`benchmint init NAME` writes one), NAME.yaml or NAME.yml directly in the
folder: NAME is the benchmark, as `benchmint refresh NAME` reads NAME.yaml. Files whose name starts with a dot
(editor backups) are not definitions. Paths inside a definition are read as `benchmint refresh` reads them:
relative to the working directory (a deployment's: its checkout).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field

from benchmint.config import BuildConfig, load_config
from benchmint.errors import ConfigError, SourceError
from benchmint.names import check_name, escape_undecodable, expand
from pipeline.records import Rec

SUFFIXES = (".yaml", ".yml")


def definition_files(folder: str | Path) -> list[Path]:
    """The definitions in `folder`, by name; one SourceError line when it is not a folder or holds none."""
    root = expand(folder)
    if not root.is_dir():
        raise SourceError(f"definitions folder {escape_undecodable(str(root))} does not exist or is not a folder")
    found = sorted(p for p in root.iterdir() if p.suffix in SUFFIXES and not p.name.startswith(".") and p.is_file())
    if not found:
        raise SourceError(f"{escape_undecodable(str(root))} holds no benchmark definition (NAME.yaml or NAME.yml); "
                          "`benchmint init NAME --path FOLDER/NAME.yaml` writes one")
    return found


def load_definition(path: Path, output_dir: str | None = None) -> BuildConfig:
    """The build config in `path` for the benchmark named by its file name; `output_dir` overrides the one it
    gives. One ConfigError line when it cannot be read or validated, or names another benchmark."""
    name = path.stem
    check_name(name)
    cfg = load_config(path, {"name": name, "output_dir": output_dir})
    # load_config has read it as a mapping: the name it gives, if any, must be the file's
    declared = yaml.safe_load(path.read_text(encoding="utf-8-sig")).get("name")
    if declared is not None and declared != name:
        raise ConfigError(f"config file {path} names benchmark {declared!r} but is named {path.name}; a definition "
                          f"in a folder defines the benchmark of its file name: rename it or fix `name:`")
    return cfg


def one_line(text: str, limit: int = 300) -> str:
    """A reason as one line (its first line, whitespace collapsed, cut at `limit` characters)."""
    first = next((line for line in str(text).splitlines() if line.strip()), "")
    first = " ".join(first.split())
    return first if len(first) <= limit else first[:limit - 1] + "…"


class DefinitionOutcome(Rec):
    """What a nightly run did to one definition."""

    definition: str
    """The definition's file name."""
    benchmark: str
    """The benchmark it defines (its file name's stem)."""
    status: Literal["published", "unchanged", "failed"]
    """published: a new version; unchanged: nothing changed, the latest version stays; failed: see `detail`."""
    version: str | None = None
    """The version published, or the one that stays; None when it failed."""
    detail: str = ""
    """One line: what changed (added, retired, from which version), why nothing did, or why it failed."""
    run: str | None = None
    """The name of its subflow run (shown in the Prefect UI); None when none ran (a definition that cannot be
    read)."""


class NightlySummary(Rec):
    """What a nightly run did to every definition in its folder."""

    folder: str
    """The definitions folder."""
    outcomes: list[DefinitionOutcome] = Field(default_factory=list)
    """One per definition, in file-name order."""

    @property
    def failed(self) -> list[DefinitionOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    def headline(self) -> str:
        """One line: how many were published, unchanged and failed (naming the failed ones)."""
        n = {s: sum(o.status == s for o in self.outcomes) for s in ("published", "unchanged", "failed")}
        text = (f"{len(self.outcomes)} definition(s) in {self.folder}: {n['published']} published, "
                f"{n['unchanged']} unchanged, {n['failed']} failed")
        if self.failed:
            text += " (" + ", ".join(o.definition for o in self.failed) + ")"
        return escape_undecodable(text)

    def table(self) -> list[dict[str, str]]:
        """The rows of the run's table artifact."""
        return [{"definition": o.definition, "benchmark": o.benchmark, "status": o.status,
                 "version": o.version or "", "detail": escape_undecodable(o.detail)} for o in self.outcomes]


def outcome_of_summary(path: Path, name: str, summary: dict, run: str | None) -> DefinitionOutcome:
    """A completed build or refresh's outcome, from the summary its flow returned."""
    if summary.get("release"):
        parent = summary.get("refreshed_from")
        detail = (f"{parent or 'first version'} -> {summary['version']}: {summary.get('added', 0)} added, "
                  f"{len(summary.get('retired') or [])} retired, {summary.get('kept', 0)} kept")
        return DefinitionOutcome(definition=path.name, benchmark=name, status="published",
                                 version=summary["version"], detail=detail, run=run)
    detail = summary.get("message") or f"nothing new was accepted ({summary.get('stopped_because') or 'no change'})"
    return DefinitionOutcome(definition=path.name, benchmark=name, status="unchanged",
                             version=summary.get("version") or summary.get("refreshed_from"), detail=one_line(detail),
                             run=run)
