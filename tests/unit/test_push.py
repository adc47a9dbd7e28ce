"""`benchmint push` (issue 15 item 4): every file of a version goes up with huggingface_hub's
upload_folder, the repo is a dataset repo, the version is tagged, the configs load from the uploaded
files, and a push with no network or no token says why in one line."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import datasets
import huggingface_hub
import pytest
from typer.testing import CliRunner

from benchmint import catalog, release
from benchmint.cli import app
from benchmint.errors import ConfigError, SourceError
from tests.fixtures import release_question


class FakeHfApi:
    """FakeHfApi — the Hub is a remote API, out of reach here: this stand-in records every call and keeps
    the uploaded files in a local folder (the repo's main branch) so the test can load them."""

    def __init__(self, repo_dir: Path, tags: tuple[str, ...] = (), fail: str | None = None):
        self.repo_dir, self.tags, self.fail, self.calls = repo_dir, list(tags), fail, []

    def create_repo(self, repo_id, **kw):
        self.calls.append(("create_repo", repo_id, kw))

    def upload_folder(self, **kw):
        self.calls.append(("upload_folder", kw))
        if self.fail:
            raise RuntimeError(self.fail)
        shutil.rmtree(self.repo_dir, ignore_errors=True)  # delete_patterns="*": main holds this version alone
        shutil.copytree(kw["folder_path"], self.repo_dir)
        return SimpleNamespace(oid="c0ffee")

    def list_repo_refs(self, repo_id, **kw):
        self.calls.append(("list_repo_refs", repo_id, kw))
        return SimpleNamespace(tags=[SimpleNamespace(name=t) for t in self.tags])

    def create_tag(self, repo_id, **kw):
        self.calls.append(("create_tag", repo_id, kw))
        self.tags.append(kw["tag"])


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def published(tmp_path) -> Path:
    qs = [release_question(1), release_question(2, "mcq"), release_question(3)]
    return release.publish(tmp_path / "out", "bench", qs, [release_question(9)], {"sources": {"documents": []}},
                           {"d": "Doc"})


@pytest.fixture
def online(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("HF_TOKEN", "hf_not_a_real_token")


def test_every_file_of_the_version_is_uploaded_to_a_dataset_repo_and_tagged(published, online, tmp_path):
    api, notes = FakeHfApi(tmp_path / "hub"), []
    url = catalog.push_to_hub(published, "me/bench", api=api, say=notes.append)
    assert url == "https://huggingface.co/datasets/me/bench/tree/v1" and notes == []
    names = [c[0] for c in api.calls]
    assert names == ["create_repo", "upload_folder", "list_repo_refs", "create_tag"]
    assert api.calls[0] == ("create_repo", "me/bench", {"repo_type": "dataset", "exist_ok": True})
    upload = api.calls[1][1]
    assert upload["repo_id"] == "me/bench" and upload["repo_type"] == "dataset" and upload["delete_patterns"] == "*"
    assert Path(upload["folder_path"]) == published
    uploaded = _files(api.repo_dir)
    assert uploaded == _files(published)
    for f in ("README.md", "questions.parquet", "mcq.parquet", "open.parquet", "manifest.json", "CHANGELOG.md",
              "questions.jsonl", "rejected.jsonl", "retired.jsonl", "inspect_task.py"):
        assert f in uploaded
    assert any(f.startswith("lm_eval_tasks/") for f in uploaded) and any(f.startswith("dataset/") for f in uploaded)
    tag = api.calls[-1]
    assert tag[:2] == ("create_tag", "me/bench")
    assert tag[2]["tag"] == "v1" and tag[2]["repo_type"] == "dataset" and tag[2]["revision"] == "c0ffee"
    # the card's configs name the parquet files by path: the uploaded files load as they are
    assert datasets.load_dataset(str(api.repo_dir), "all", split="test").num_rows == 3
    assert datasets.load_dataset(str(api.repo_dir), "mcq", split="test").num_rows == 1


def test_an_existing_tag_is_left_with_a_clear_line(published, online, tmp_path):
    api, notes = FakeHfApi(tmp_path / "hub", tags=("v1",)), []
    catalog.push_to_hub(published, "me/bench", api=api, say=notes.append)
    assert "create_tag" not in [c[0] for c in api.calls]
    assert notes == ["tag v1 is already on me/bench; left where it is (an earlier push of v1)"]


def test_the_cli_pushes_with_the_hub_api_and_prints_the_tag_note(published, online, tmp_path, monkeypatch):
    api = FakeHfApi(tmp_path / "hub", tags=("v1",))
    monkeypatch.setattr(huggingface_hub, "HfApi", lambda: api)
    r = CliRunner().invoke(app, ["push", "bench", "v1", "--repo", "me/bench", "--output-dir",
                                 str(published.parent.parent)])
    assert r.exit_code == 0, r.output
    assert "tag v1 is already on me/bench" in r.output
    assert "pushed to https://huggingface.co/datasets/me/bench/tree/v1" in r.output
    assert _files(api.repo_dir) == _files(published)


def test_offline_or_without_a_token_the_push_says_why_and_calls_nothing(published, tmp_path, monkeypatch):
    api = FakeHfApi(tmp_path / "hub")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ConfigError, match="HF_HUB_OFFLINE is set"):
        catalog.push_to_hub(published, "me/bench", api=api)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("HF_TOKEN", "")
    monkeypatch.setattr(huggingface_hub, "get_token", lambda: None)  # no `huggingface-cli login` either
    with pytest.raises(ConfigError, match="no token; set HF_TOKEN or run `huggingface-cli login`"):
        catalog.push_to_hub(published, "me/bench", api=api)
    assert api.calls == []


def test_a_hub_failure_is_one_line(published, online, tmp_path):
    api = FakeHfApi(tmp_path / "hub", fail="503 Service Unavailable\nretry later")
    with pytest.raises(SourceError) as exc:
        catalog.push_to_hub(published, "me/bench", api=api)
    assert str(exc.value).startswith(f"pushing {published} to me/bench failed: RuntimeError: 503")


def test_a_card_the_hub_would_refuse_is_not_uploaded(published, online, tmp_path):
    copy = tmp_path / "copy" / "v1"
    shutil.copytree(published, copy)
    card = copy / "README.md"
    card.chmod(0o644)
    card.write_text(card.read_text(encoding="utf-8").replace("license: other", "license: my-own"), encoding="utf-8")
    api = FakeHfApi(tmp_path / "hub")
    with pytest.raises(SourceError, match="the Hub would refuse this dataset card \\(license: 'my-own'"):
        catalog.push_to_hub(copy, "me/bench", api=api)
    assert api.calls == []
