"""The index of one reference corpus: exact keys, n-gram postings and a faiss index; built once per
corpus content and kept on disk."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from benchmint.config import cache_root
from benchmint.embeddings import DIMENSION, MODEL_NAME, Embedder
from corpora.reference.corpus import ReferenceCorpus
from validators.contamination.config import ContaminationConfig
from validators.contamination.ngrams import ngram_hashes
from validators.contamination.text import Views, closing_part, embed_text, make_views, strip_label

INDEX_VERSION = "2"

def _index_key(config: ContaminationConfig) -> str:
    blob = json.dumps([INDEX_VERSION, MODEL_NAME, config.ngram_n, config.ngram_short_n, config.answer_max_tokens,
                       config.tail_min_words, config.flat_max_vectors, config.short_question_tokens])
    return hashlib.sha256(blob.encode()).hexdigest()[:10]


class CorpusIndex:
    """Exact keys, n-gram postings and a faiss index over one corpus; built once, cached on disk."""

    def __init__(self, corpus: ReferenceCorpus, folder: Path, arrays: dict[str, np.ndarray], faiss_index: Any,
                 meta: dict[str, Any]):
        self.corpus = corpus
        self.folder = folder
        self.a = arrays
        self.faiss = faiss_index
        self.meta = meta
        self._views: dict[int, Views] = {}

    @classmethod
    def load_or_build(cls, corpus: ReferenceCorpus, embedder: Embedder, config: ContaminationConfig,
                      cache_dir: Path | None = None, progress: Callable[[str, int, int], None] | None = None,
                      ) -> "CorpusIndex":
        root = (cache_dir or cache_root()) / "contamination" / "index"
        folder = root / f"{corpus.content_hash[:32]}-{_index_key(config)}"
        if (folder / "meta.json").is_file():
            try:
                return cls._load(corpus, folder, config)
            except (OSError, ValueError, RuntimeError, KeyError):
                shutil.rmtree(folder, ignore_errors=True)  # a damaged cache entry: rebuild it
        return cls._build(corpus, embedder, config, folder, progress)

    @classmethod
    def _load(cls, corpus: ReferenceCorpus, folder: Path, config: ContaminationConfig) -> "CorpusIndex":
        meta = json.loads((folder / "meta.json").read_text())
        if meta.get("content_hash") != corpus.content_hash or meta.get("size") != len(corpus):
            raise ValueError("index does not belong to this corpus")
        with np.load(folder / "arrays.npz") as z:
            arrays = {k: z[k] for k in z.files}
        index = faiss.read_index(str(folder / "vectors.faiss"))
        if hasattr(index, "nprobe"):
            index.nprobe = config.nprobe
        return cls(corpus, folder, arrays, index, meta)

    @classmethod
    def _build(cls, corpus: ReferenceCorpus, embedder: Embedder, config: ContaminationConfig, folder: Path,
               progress: Callable[[str, int, int], None] | None) -> "CorpusIndex":
        t0 = time.monotonic()
        n_items = len(corpus)
        key_h: list[int] = []
        key_item: list[int] = []
        key_kind: list[int] = []  # 0 question, 1 question+choices, 2 question+answer
        kind_code = {"question": 0, "question+choices": 1, "question+answer": 2}
        q_ntok = np.zeros(n_items, dtype=np.int32)
        grams: dict[int, tuple[list[np.ndarray], list[np.ndarray]]] = {config.ngram_n: ([], []),
                                                                       config.ngram_short_n: ([], [])}
        texts: list[str] = []
        vec_item: list[int] = []
        vec_kind: list[int] = []  # 0 question, 1 question+answer, 2 tail, 3 question+choices
        for i in range(n_items):
            q, ch, ans = corpus.questions[i], corpus.choices[i], corpus.answers[i]
            v = make_views(q, ch, ans)
            q_ntok[i] = len(v.q)
            for kind, h in v.keys().items():
                key_h.append(h)
                key_item.append(i)
                key_kind.append(kind_code[kind])
            full = v.q + [t for c in v.choices for t in c] + v.answer
            for n, (hs, its) in grams.items():
                g = np.unique(ngram_hashes(full, n))
                if g.size:
                    hs.append(g)
                    its.append(np.full(g.size, i, dtype=np.int32))
            qs = strip_label(q)
            texts.append(qs)
            vec_item.append(i)
            vec_kind.append(0)
            if v.answer and len(v.answer) <= config.answer_max_tokens and " ".join(v.answer) not in v.q_text:
                texts.append(f"{qs} {ans.strip()}")
                vec_item.append(i)
                vec_kind.append(1)
            tail = closing_part(qs, config.tail_min_words)
            if tail:
                texts.append(tail)
                vec_item.append(i)
                vec_kind.append(2)
            if ch and len(v.q) < config.short_question_tokens:
                texts.append(embed_text(qs, ch, config))
                vec_item.append(i)
                vec_kind.append(3)
            if progress and i % 5000 == 0:
                progress("hashing", i, n_items)
        arrays: dict[str, np.ndarray] = {}
        kh = np.array(key_h, dtype=np.uint64)
        order = np.argsort(kh, kind="stable")
        arrays["key_h"], arrays["key_item"] = kh[order], np.array(key_item, dtype=np.int32)[order]
        arrays["key_kind"] = np.array(key_kind, dtype=np.int8)[order]
        # How many items share each item's question text: a shared question is not specific.
        qmask = arrays["key_kind"] == 0
        _, inv, counts = np.unique(arrays["key_h"][qmask], return_inverse=True, return_counts=True)
        q_df = np.ones(n_items, dtype=np.int32)
        q_df[arrays["key_item"][qmask]] = counts[inv]
        arrays["q_df"], arrays["q_ntok"] = q_df, q_ntok
        for n, (hs, its) in grams.items():
            h = np.concatenate(hs) if hs else np.zeros(0, dtype=np.uint64)
            it = np.concatenate(its) if its else np.zeros(0, dtype=np.int32)
            o = np.argsort(h, kind="stable")
            arrays[f"g{n}_h"], arrays[f"g{n}_item"] = h[o], it[o]
        arrays["vec_item"] = np.array(vec_item, dtype=np.int32)
        arrays["vec_kind"] = np.array(vec_kind, dtype=np.int8)
        t_hash = time.monotonic() - t0
        vecs = _encode_batched(embedder, texts, progress)
        t_embed = time.monotonic() - t0 - t_hash
        index = _make_faiss(vecs, config)
        t_faiss = time.monotonic() - t0 - t_hash - t_embed
        meta = {"content_hash": corpus.content_hash, "size": n_items, "name": corpus.name, "source": corpus.source,
                "vectors": int(vecs.shape[0]), "faiss": type(index).__name__, "index_version": INDEX_VERSION,
                "embedding_model": MODEL_NAME,
                "build_seconds": {"hash": round(t_hash, 2), "embed": round(t_embed, 2), "faiss": round(t_faiss, 2)}}
        tmp = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        np.savez(tmp / "arrays.npz", **arrays)
        faiss.write_index(index, str(tmp / "vectors.faiss"))
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2))
        try:
            os.replace(tmp, folder)
        except OSError:  # another process built it first
            shutil.rmtree(tmp, ignore_errors=True)
        if hasattr(index, "nprobe"):
            index.nprobe = config.nprobe
        return cls(corpus, folder, arrays, index, meta)

    def views(self, i: int) -> Views:
        v = self._views.get(i)
        if v is None:
            c = self.corpus
            v = self._views[i] = make_views(c.questions[i], c.choices[i], c.answers[i])
        return v

    def specific(self, i: int, min_tokens: int) -> bool:
        """Is item i's question alone enough evidence (long enough and unique in the corpus)?"""
        return int(self.a["q_ntok"][i]) >= min_tokens and int(self.a["q_df"][i]) == 1

    def describe(self) -> dict[str, Any]:
        index = {"vectors": self.meta.get("vectors"), "faiss": self.meta.get("faiss"), "folder": str(self.folder)}
        return {**self.corpus.describe(), "index": index}


def _encode_batched(embedder: Embedder, texts: list[str],
                    progress: Callable[[str, int, int], None] | None) -> np.ndarray:
    out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
    step = 4096
    for s in range(0, len(texts), step):
        out[s:s + step] = embedder.encode(texts[s:s + step])
        if progress:
            progress("embedding", min(s + step, len(texts)), len(texts))
    return out


def _make_faiss(vecs: np.ndarray, config: ContaminationConfig) -> Any:
    n = vecs.shape[0]
    if n <= config.flat_max_vectors:
        index = faiss.IndexFlatIP(DIMENSION)
        index.add(vecs)
        return index
    nlist = int(min(max(64, 4 * np.sqrt(n)), n // 40))
    quantizer = faiss.IndexFlatIP(DIMENSION)
    index = faiss.IndexIVFScalarQuantizer(quantizer, DIMENSION, nlist, faiss.ScalarQuantizer.QT_8bit,
                                          faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(0)
    sample = vecs[rng.choice(n, size=min(n, 64 * nlist), replace=False)]
    index.train(sample)
    index.add(vecs)
    return index
