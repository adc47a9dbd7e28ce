"""How many threads the embedded model's server gets: every usable core, or what the user says."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from benchmint.errors import ModelError
from benchmint.local_server import ENV_THREADS, LocalServer, default_threads


def test_every_usable_core_by_default(monkeypatch):
    monkeypatch.delenv(ENV_THREADS, raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 2, 5})
    assert default_threads() == 3


def test_the_environment_sets_the_count_and_a_bad_value_names_itself(monkeypatch):
    monkeypatch.setenv(ENV_THREADS, "3")
    assert default_threads() == 3
    server = LocalServer(Path("model.gguf"))
    cmd = server.command()  # not started: llama_cpp.server's flags
    assert cmd[cmd.index("--n_threads") + 1] == "3" and cmd[cmd.index("--n_threads_batch") + 1] == "3"
    server.binary = Path("llama-server")
    cmd = server.command()
    assert cmd[cmd.index("--threads") + 1] == "3" and cmd[cmd.index("--threads-batch") + 1] == "3"
    monkeypatch.setenv(ENV_THREADS, "all")
    with pytest.raises(ModelError, match=f"{ENV_THREADS}='all' is not a thread count"):
        default_threads()


def test_prompt_threads_can_differ(monkeypatch):
    monkeypatch.delenv(ENV_THREADS, raising=False)
    server = LocalServer(Path("model.gguf"), n_threads=1, n_threads_batch=2)
    server.binary = Path("llama-server")
    cmd = server.command()
    assert cmd[cmd.index("--threads") + 1] == "1" and cmd[cmd.index("--threads-batch") + 1] == "2"


def test_the_server_sleeps_at_its_barriers_unless_the_user_chose_a_policy(monkeypatch):
    from benchmint.local_server import server_env

    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    assert server_env()["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    assert server_env()["OMP_WAIT_POLICY"] == "ACTIVE"


def test_the_openmp_build_gets_a_folder_of_its_own(monkeypatch):
    from benchmint import server_binary

    assert "-DGGML_OPENMP=ON" in server_binary.CMAKE_FLAGS
    one = server_binary.build_dir("0.3.36")
    monkeypatch.setattr(server_binary, "CMAKE_FLAGS", (*server_binary.CMAKE_FLAGS, "-DGGML_OPENMP=OFF"))
    assert server_binary.build_dir("0.3.36") != one  # a build with other flags (a spinning one) is not reused


def test_repacking_is_off_where_the_cpu_says_it_has_amx(monkeypatch, tmp_path):
    from benchmint import local_server, server_binary

    assert server_binary.amx_advertised({"avx2", "amx_tile", "amx_int8"})
    assert not server_binary.amx_advertised({"avx2", "avx512f"})
    server = LocalServer(tmp_path / "m.gguf", n_ctx=512, log_path=tmp_path / "log", n_threads=1)
    server.binary = tmp_path / "llama-server"
    monkeypatch.setattr(local_server, "amx_advertised", lambda: True)
    assert "--no-repack" in server.command()
    monkeypatch.setattr(local_server, "amx_advertised", lambda: False)
    assert "--no-repack" not in server.command()


def test_speculative_decoding_is_off_unless_a_local_model_asks_for_it(tmp_path):
    from benchmint.modelspec import ModelSpec

    spec = ModelSpec(model="local:qwen2.5-coder-1.5b",
                     speculative="ngram-simple --spec-ngram-simple-size-n 4 --spec-ngram-simple-size-m 16")
    server = LocalServer(tmp_path / "m.gguf", n_ctx=512, n_threads=1, speculative=spec.speculative)
    server.binary = tmp_path / "llama-server"
    cmd = server.command()
    at = cmd.index("--spec-type")
    assert cmd[at:at + 6] == ["--spec-type", "ngram-simple", "--spec-ngram-simple-size-n", "4",
                              "--spec-ngram-simple-size-m", "16"]
    plain = LocalServer(tmp_path / "m.gguf", n_ctx=512, n_threads=1)
    plain.binary = tmp_path / "llama-server"
    assert "--spec-type" not in plain.command() and ModelSpec(model="local:x").speculative == ""
    with pytest.raises(ValueError):
        ModelSpec(model="local:x", speculative="draft-simple")  # needs a draft model: not offered
