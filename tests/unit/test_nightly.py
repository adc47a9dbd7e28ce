"""The rules of a nightly run over a folder of definitions (pipeline.nightly), without Prefect: which files are
definitions, the benchmark each names, and the summary's headline and one-line reasons."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmint.errors import BenchmintError
from pipeline.nightly import (
    DefinitionOutcome,
    NightlySummary,
    definition_files,
    load_definition,
    one_line,
    outcome_of_summary,
)


def test_a_definition_names_its_benchmark_by_its_file_name(tmp_path):
    with pytest.raises(BenchmintError, match="does not exist or is not a folder"):
        definition_files(tmp_path / "nope")
    with pytest.raises(BenchmintError, match="holds no benchmark definition"):
        definition_files(tmp_path)
    (tmp_path / "a.yml").write_text("sources: [docs]\n")
    (tmp_path / "b.yaml").write_text("name: b\nsources: [docs]\n")
    (tmp_path / "c.yaml").write_text("name: other\nsources: [docs]\n")
    (tmp_path / "notes.txt").write_text("x")
    assert [p.name for p in definition_files(tmp_path)] == ["a.yml", "b.yaml", "c.yaml"]
    assert load_definition(tmp_path / "a.yml").name == "a"
    assert load_definition(tmp_path / "b.yaml", "elsewhere").output_dir == "elsewhere"
    with pytest.raises(BenchmintError, match="names benchmark 'other' but is named c.yaml"):
        load_definition(tmp_path / "c.yaml")


def test_outcomes_and_headline():
    p = Path("defs/ferry.yaml")
    published = outcome_of_summary(p, "ferry", {"release": "out/ferry/v2", "version": "v2", "refreshed_from": "v1",
                                                "added": 2, "retired": [{"id": "x"}], "kept": 3}, "refresh-ferry")
    assert (published.status, published.version, published.detail) == ("published", "v2",
                                                                        "v1 -> v2: 2 added, 1 retired, 3 kept")
    first = outcome_of_summary(p, "ferry", {"release": "out/ferry/v1", "version": "v1", "added": 2}, "build-ferry")
    assert first.detail == "first version -> v1: 2 added, 0 retired, 0 kept"
    same = outcome_of_summary(p, "ferry", {"release": None, "version": "v1", "refreshed_from": "v1",
                                           "message": "unchanged: the 2 documents\nand more"}, "refresh-ferry")
    assert (same.status, same.version, same.detail) == ("unchanged", "v1", "unchanged: the 2 documents")
    summary = NightlySummary(folder="defs", outcomes=[published, same, DefinitionOutcome(
        definition="bad.yaml", benchmark="bad", status="failed", detail="config file bad.yaml is not valid YAML")])
    assert summary.headline() == "3 definition(s) in defs: 1 published, 1 unchanged, 1 failed (bad.yaml)"
    assert [r["status"] for r in summary.table()] == ["published", "unchanged", "failed"]
    assert one_line("  first   line \n second") == "first line" and len(one_line("x" * 500)) == 300
