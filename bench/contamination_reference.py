"""The 250,000-item reference of the throughput measure: real benchmark items, number-and-name variants of
them, and real sentences from installed packages' docstrings (and question forms of them)."""

from __future__ import annotations

import ast
import json
import random
import re
from pathlib import Path
from typing import Any

import numpy as np

from bench.contamination_probes import vary_names, vary_numbers
from benchmint.embeddings import DIMENSION, Embedder
from corpora.reference.corpus import ReferenceCorpus, corpus_from_records


def docstring_sentences(limit: int) -> list[str]:
    """Real English sentences (8-40 words) from docstrings of installed packages, deduplicated."""
    import sysconfig

    site = Path(sysconfig.get_paths()["purelib"])
    seen: set[str] = set()
    out: list[str] = []
    for py in sorted(site.rglob("*.py")):
        try:
            tree = ast.parse(py.read_text(encoding="utf-8", errors="ignore"))
        except (SyntaxError, ValueError, RecursionError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)):
                doc = ast.get_docstring(node, clean=True)
                if not doc:
                    continue
                for para in re.split(r"\n\s*\n", doc):
                    para = " ".join(para.split())
                    for s in re.split(r"(?<=[.?!])\s+", para):
                        w = s.split()
                        if 8 <= len(w) <= 40 and s[0].isupper() and not re.search(r"[{}<>=_|`\\]|>>>|::", s):
                            if s not in seen:
                                seen.add(s)
                                out.append(s)
                                if len(out) >= limit:
                                    return out
    return out


def cached_docstring_sentences(cache: Path, limit: int = 250_000) -> list[str]:
    p = cache / "bench" / "docstring-sentences.json"
    if p.is_file():
        return json.loads(p.read_text())
    out = docstring_sentences(limit)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(out))
    return out


QUESTION_FORMS = ["Is it true that {s}?", "Which statement is correct: {s}?", "Explain why {s}.",
                  "According to the documentation, {s}. What does this mean?"]


def big_reference(size: int, real: list[ReferenceCorpus], cache: Path) -> ReferenceCorpus:
    """Real benchmark items, number-and-name variants of them, real docstring sentences, and
    question forms of those sentences, up to `size` items (deterministic, so its index is cached)."""
    rows: list[dict[str, Any]] = []
    for c in real:
        for i in range(len(c)):
            rows.append({"id": f"{c.name}:{c.ids[i]}", "question": c.questions[i], "choices": c.choices[i],
                         "answer": c.answers[i]})
    n_real = len(rows)
    rng = random.Random(7)
    for v in range(min(size // 12, 10 * n_real)):  # number-and-name variants of real items
        r = rows[v % n_real]
        rows.append({"id": f"variant:{v}", "question": vary_names(vary_numbers(r["question"], rng), rng),
                     "choices": [vary_numbers(x, rng) for x in r["choices"]], "answer": vary_numbers(r["answer"], rng)})
    sentences = cached_docstring_sentences(cache)
    k = 0
    while len(rows) < size and sentences:
        form, s = divmod(k, len(sentences))
        if form > len(QUESTION_FORMS):
            break
        lowered = sentences[s][0].lower() + sentences[s][1:].rstrip(".?!")
        text = sentences[s] if form == 0 else QUESTION_FORMS[form - 1].format(s=lowered)
        rows.append({"id": f"doc:{k}", "question": text, "choices": [], "answer": ""})
        k += 1
    return corpus_from_records(f"bench-{len(rows)}", rows, "question=question,choices=choices,answer=answer,id=id",
                               source="bench: real items + variants + docstring sentences and question forms of them")


class MixedEmbedder:
    """Real vectors for `real` texts, random unit vectors for the rest (bench only, labelled)."""

    def __init__(self, emb: Embedder, real: set[str]):
        self.emb, self.real = emb, real
        self.rng = np.random.default_rng(0)

    def encode(self, texts: list[str]) -> np.ndarray:
        out = self.rng.standard_normal((len(texts), DIMENSION)).astype(np.float32)
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        idx = [i for i, t in enumerate(texts) if t in self.real]
        if idx:
            out[idx] = self.emb.encode([texts[i] for i in idx])
        return out
