"""The response cache's size cap (issue 15, item 7): LRU pruning, `benchmint cache info|prune`, the config key."""

from __future__ import annotations

import json
import os
import time

import pytest
from typer.testing import CliRunner

from benchmint.cli import app
from benchmint.config import BuildConfig, load_config
from benchmint.errors import ConfigError
from benchmint.response_cache import STALE_TMP_S, ResponseCache, prune, responses_dir

runner = CliRunner()
NOW = time.time()


def _reply(root, key: str, size: int, age_s: float):
    """A cached reply of `size` bytes, last used `age_s` ago."""
    p = root / key[:2] / f"{key}.json"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps({"content": "x" * (size - 15)}))
    assert p.stat().st_size == size
    os.utime(p, (NOW - age_s, NOW - age_s))
    return p


def _left(root) -> list[str]:
    return sorted(p.stem[:4] for p in root.rglob("*.json") if not p.name.startswith("."))


def test_a_read_marks_the_reply_recently_used(tmp_path):
    cache = ResponseCache(tmp_path)
    cache.put("aa11", {"value": 1})
    p = tmp_path / "aa" / "aa11.json"
    os.utime(p, (NOW - 86400, NOW - 86400))
    assert cache.get("aa11") == {"value": 1}
    assert p.stat().st_mtime > NOW - 60
    assert cache.get("ffff") is None  # a miss touches nothing and raises nothing


def test_prune_to_a_size_removes_the_least_recently_used(tmp_path):
    for i, age in enumerate([50, 10, 40, 20, 30]):  # ages in s; 100 bytes each
        _reply(tmp_path, f"{i}{i}{i}{i}", 100, age)
    res = prune(tmp_path, max_bytes=250, now=NOW)
    assert _left(tmp_path) == ["1111", "3333"]  # the two used last
    assert (res.removed_files, res.removed_bytes, res.kept_files, res.kept_bytes) == (3, 300, 2, 200)
    assert prune(tmp_path, max_bytes=250, now=NOW).removed_files == 0  # under the cap: nothing
    assert prune(tmp_path, max_bytes=0, now=NOW).removed_files == 2 and _left(tmp_path) == []


def test_prune_by_age(tmp_path):
    _reply(tmp_path, "aaaa", 100, 3 * 86400)
    _reply(tmp_path, "bbbb", 100, 86400 / 2)
    res = prune(tmp_path, older_than_s=86400, now=NOW)
    assert _left(tmp_path) == ["bbbb"] and res.removed_files == 1 and res.kept_files == 1


def test_prune_never_leaves_the_cache_layout(tmp_path):
    cache, root = tmp_path / "cache", responses_dir(tmp_path / "cache")
    _reply(root, "aaaa", 100, 10)
    outside = tmp_path / "outside"
    _reply(outside, "cccc", 100, 10_000)
    (outside / "keep.json").write_text("{}")
    (root / "cc").symlink_to(outside / "cc", target_is_directory=True)  # a folder leading out
    (root / "aa" / "dddd.json").symlink_to(outside / "keep.json")  # a file leading out
    (root / "notes.json").write_text("{}")  # not in a key folder
    (root / "other").mkdir()
    (root / "other" / "eeee.json").write_text("{}")  # a folder of another shape
    (root / "aa" / "README").write_text("mine")  # not a reply
    models = cache / "models"
    models.mkdir()
    (models / "m.gguf").write_bytes(b"0" * 1000)  # beside responses/: never pruned
    res = prune(root, max_bytes=0, older_than_s=0, now=NOW)
    assert res.removed_files == 1 and not (root / "aa" / "aaaa.json").exists()
    assert (outside / "cc" / "cccc.json").is_file() and (outside / "keep.json").is_file()
    assert (root / "aa" / "dddd.json").is_symlink() and (root / "notes.json").is_file()
    assert (root / "other" / "eeee.json").is_file() and (root / "aa" / "README").is_file()
    assert (models / "m.gguf").is_file()


def test_prune_removes_only_stale_temp_files(tmp_path):
    stale, fresh = tmp_path / "ab" / ".abcd.json.1.2.tmp", tmp_path / "ab" / ".abce.json.1.3.tmp"
    stale.parent.mkdir()
    for p in (stale, fresh):
        p.write_text("{")
    os.utime(stale, (NOW - STALE_TMP_S - 60,) * 2)
    prune(tmp_path, max_bytes=10**9, now=NOW)
    assert not stale.exists() and fresh.exists()  # a writer may be in the middle of the fresh one


def test_prune_of_a_missing_cache_is_empty(tmp_path):
    res = prune(tmp_path / "none", max_bytes=0)
    assert (res.removed_files, res.kept_files) == (0, 0)


# --------------------------------------------------------------------------- the commands


def test_cache_info(tmp_path):
    root = responses_dir(tmp_path)
    _reply(root, "aaaa", 100, 1)
    _reply(root, "bbbb", 200, 1)
    res = runner.invoke(app, ["cache", "info", "--cache-dir", str(tmp_path), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == {"path": str(root), "files": 2, "bytes": 300}
    res = runner.invoke(app, ["cache", "info", "--cache-dir", str(tmp_path)], env={"COLUMNS": "300"})
    assert res.exit_code == 0 and str(root) in res.stdout and "files: 2" in res.stdout and "300 bytes" in res.stdout


def test_cache_info_uses_benchmint_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCHMINT_CACHE", str(tmp_path / "c"))
    res = runner.invoke(app, ["cache", "info", "--json"])
    assert json.loads(res.stdout) == {"path": str(tmp_path / "c" / "responses"), "files": 0, "bytes": 0}


def test_cache_prune_command(tmp_path):
    root = responses_dir(tmp_path)
    _reply(root, "aaaa", 100, 5 * 86400)
    _reply(root, "bbbb", 100, 2 * 86400)
    _reply(root, "cccc", 100, 10)
    res = runner.invoke(app, ["cache", "prune", "--older-than", "3", "--cache-dir", str(tmp_path)])
    assert res.exit_code == 0 and "removed 1 file(s)" in res.stdout and _left(root) == ["bbbb", "cccc"], res.output
    res = runner.invoke(app, ["cache", "prune", "--max-mb", "0.0001", "--cache-dir", str(tmp_path)])  # 104 bytes
    assert res.exit_code == 0 and "1 left" in res.stdout and _left(root) == ["cccc"], res.output
    res = runner.invoke(app, ["cache", "prune", "--max-mb", "0", "--cache-dir", str(tmp_path)])
    assert res.exit_code == 0 and _left(root) == []


def test_cache_prune_needs_a_limit(tmp_path):
    _reply(responses_dir(tmp_path), "aaaa", 100, 10**7)
    res = runner.invoke(app, ["cache", "prune", "--cache-dir", str(tmp_path)])
    text = res.output.strip()
    assert res.exit_code == 2 and len(text.splitlines()) == 1 and "--max-mb" in text, text
    assert _left(responses_dir(tmp_path)) == ["aaaa"]
    assert runner.invoke(app, ["cache", "prune", "--max-mb", "-1", "--cache-dir", str(tmp_path)]).exit_code == 2


# --------------------------------------------------------------------------- the cap after a build


def test_every_publish_keeps_the_cap(tmp_path, caplog):
    from pipeline.build import trim_cache

    root = responses_dir(tmp_path)
    for i, age in enumerate([30, 10, 20]):
        _reply(root, f"{i}{i}{i}{i}", 400, age)
    cfg = BuildConfig(name="t", sources=["x"], cache_dir=str(tmp_path), cache_max_mb=1000 / 2**20)  # 1000 bytes
    with caplog.at_level("WARNING", logger="benchmint.pipeline"):
        trim_cache(cfg)
    assert _left(root) == ["1111", "2222"] and "removed the 1 least recently used" in caplog.text
    off = cfg.model_copy(update={"cache_max_mb": 0})  # 0: no cap
    trim_cache(off)
    assert _left(root) == ["1111", "2222"]


def test_the_cap_is_a_config_key():
    cfg = load_config(None, {"sources": ["x"]})
    assert cfg.cache_max_mb == 2048
    assert load_config(None, {"sources": ["x"], "cache_max_mb": 10}).cache_max_mb == 10
    for bad, said in ((-1, "cache_max_mb"), (True, "cache_max_mb")):
        with pytest.raises(ConfigError, match=said):
            load_config(None, {"sources": ["x"], "cache_max_mb": bad})
    with pytest.raises(ConfigError, match="cache_max"):
        load_config(None, {"sources": ["x"], "cache_max": 10})  # unknown keys are still errors
