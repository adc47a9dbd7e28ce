from __future__ import annotations

import hashlib
import json
import os

import datasets
import pandas as pd
import pytest

from benchmint import release
from benchmint.errors import NothingToPublish
from tests.fixtures import release_question


def _tree_digest(folder) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_versions_are_immutable_and_loadable(tmp_path):
    accepted = [release_question(1), release_question(2, "mcq"), release_question(3)]
    v1 = release.publish(tmp_path, "bench", accepted, [release_question(9)], {"sources": {"documents": []}}, {"d": "Doc"})
    assert v1.name == "v1"
    before = _tree_digest(v1)
    v2 = release.publish(tmp_path, "bench", accepted[:2], [], {}, {"d": "Doc"})
    assert v2.name == "v2"
    assert _tree_digest(v1) == before  # byte for byte
    assert os.readlink(tmp_path / "bench" / "latest") == "v2"
    m1, m2 = (json.loads((v / "manifest.json").read_text()) for v in (v1, v2))
    assert m1["parent_version"] is None and m2["parent_version"] == "v1"
    assert m1["content_hash"] != m2["content_hash"]
    assert oct((v1 / "questions.jsonl").stat().st_mode)[-3:] == "444"

    ds = datasets.load_from_disk(str(v1 / "dataset"))
    assert ds.num_rows == 3 and set(ds["kind"]) == {"open", "mcq"}
    df = pd.read_parquet(v1 / "questions.parquet")
    assert list(df["gold_index"]) == [-1, 0, -1]
    assert df.loc[1, "answer_letter"] == "A" and pd.isna(df.loc[0, "answer_letter"])
    assert list(df.loc[0, "choices"]) == []
    mcq = datasets.load_dataset(str(v1), "mcq", split="test")
    assert mcq.num_rows == 1 and mcq[0]["choices"] == ["answer 2", "b", "c", "d"]
    assert datasets.load_dataset(str(v1), split="test").num_rows == 3
    assert len((v1 / "rejected.jsonl").read_text().splitlines()) == 1
    card = (v1 / "README.md").read_text()
    assert card.startswith("---\n") and "config_name: mcq" in card


def test_nothing_accepted_publishes_nothing(tmp_path):
    with pytest.raises(NothingToPublish):
        release.publish(tmp_path, "bench", [], [release_question(1)], {}, {})
    assert not (tmp_path / "bench").exists()


def test_a_failed_write_leaves_no_trace(tmp_path, monkeypatch):
    release.publish(tmp_path, "bench", [release_question(1)], [], {}, {})

    def boom(folder, *a, **k):
        (folder / "questions.jsonl").write_text("half")
        raise OSError("disk full")

    monkeypatch.setattr(release, "_write_release", boom)
    with pytest.raises(OSError):
        release.publish(tmp_path, "bench", [release_question(2)], [], {}, {})
    assert sorted(p.name for p in (tmp_path / "bench").iterdir()) == [".lock", "latest", "v1"]


def test_a_writer_the_lock_did_not_exclude_loses_the_race_with_one_line(tmp_path, monkeypatch):
    """On a shared folder whose locks stay on each machine, another machine's writer can rename its v2 into place
    after this one checked the latest version: this one publishes nothing and says why, and v2 stays theirs."""
    release.publish(tmp_path, "bench", [release_question(1)], [], {}, {})
    real = release.make_read_only

    def theirs_first(folder):
        theirs = tmp_path / "bench" / "v2"
        theirs.mkdir()
        (theirs / "questions.jsonl").write_text("theirs")
        real(folder)

    monkeypatch.setattr(release, "make_read_only", theirs_first)
    with pytest.raises(release.ParentMoved, match="another writer published v2 meanwhile"):
        release.publish(tmp_path, "bench", [release_question(2)], [], {}, {}, expected_parent="v1")
    assert (tmp_path / "bench" / "v2" / "questions.jsonl").read_text() == "theirs"
    assert sorted(p.name for p in (tmp_path / "bench").iterdir()) == [".lock", "latest", "v1", "v2"]


def test_load_dataset_never_returns_another_releases_cached_rows(tmp_path):
    """`datasets` caches a local config by the card's config entry: two releases named v1, and `latest`
    before and after a refresh, must each read their own rows."""
    cache = str(tmp_path / "hf-cache")
    one = release.publish(tmp_path / "a", "bench", [release_question(1)], [], {}, {"d": "Doc"})
    three = release.publish(tmp_path / "b", "bench", [release_question(i) for i in (1, 2, 3)], [], {}, {"d": "Doc"})
    assert one.name == three.name == "v1"
    assert datasets.load_dataset(str(one), "all", split="test", cache_dir=cache).num_rows == 1
    assert datasets.load_dataset(str(three), "all", split="test", cache_dir=cache).num_rows == 3

    latest = tmp_path / "a" / "bench" / "latest"
    assert datasets.load_dataset(str(latest), "all", split="test", cache_dir=cache).num_rows == 1
    release.publish(tmp_path / "a", "bench", [release_question(i) for i in (4, 5)], [], {}, {"d": "Doc"})
    refreshed = datasets.load_dataset(str(latest), "all", split="test", cache_dir=cache)
    assert refreshed["id"] == list(pd.read_parquet(latest / "questions.parquet")["id"]) and refreshed.num_rows == 2
