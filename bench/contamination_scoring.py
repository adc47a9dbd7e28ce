"""How bench/contamination.py counts: caught (not published), rates with and without the judge, and
the pairs of distinct items the judge is asked about."""

from __future__ import annotations

import random
import time
from collections import Counter
from typing import Any

import numpy as np

from benchmint.embeddings import Embedder
from benchmint.errors import BenchmintError
from corpora.reference.corpus import ReferenceCorpus
from validators.contamination.config import ContaminationConfig
from validators.contamination.detector import Detector
from validators.contamination.findings import Detection, Probe
from validators.contamination.ngrams import ngram_hashes
from validators.contamination.text import embed_text, tokens


def caught(d: Detection) -> bool:
    return d.status != "clean"


def summarize(dets: list[Detection]) -> dict[str, Any]:
    n = len(dets)
    return {"n": n, "contaminated": sum(d.status == "contaminated" for d in dets),
            "review": sum(d.status == "review" for d in dets),
            "stages": dict(Counter(d.finding.stage for d in dets if d.finding is not None))}


def rate(dets: list[Detection], judged: dict[int, Detection] | None = None, yes_rate: float | None = None) -> float:
    """Share caught. With `judged`, middle-band detections take the judge's decision; middle-band
    detections the judge did not see (a sample was judged) count as `yes_rate` (an estimate)."""
    if not dets:
        return float("nan")
    k = 0.0
    for j, d in enumerate(dets):
        if judged is not None and d.status == "review":
            if j in judged:
                k += caught(judged[j])
            else:
                k += yes_rate if yes_rate is not None else 1.0
            continue
        k += caught(d)
    return k / len(dets)


def near_misses(c: ReferenceCorpus, det: Detector, emb: Embedder, cfg: ContaminationConfig,
                limit: int) -> list[tuple[int, int, float]]:
    """Distinct items of one subject that the judge would see side by side: each item's nearest
    other item when their cosine falls in the middle band, leaving out near-copies (cosine 0.99+)
    and pairs that share a verbatim 13-gram (a shared passage, caught by the n-gram stage).
    (item, neighbour, cosine), highest first, at most `limit`."""
    ix = det.indexes[0]
    vectors = ix.faiss.reconstruct_n(0, ix.faiss.ntotal)
    owner = ix.a["vec_item"].astype(np.int64)
    starts = np.flatnonzero(np.r_[True, np.diff(owner) != 0])
    probes = emb.encode([embed_text(q, ch, cfg) for q, ch in zip(c.questions, c.choices, strict=True)])
    sims = np.maximum.reduceat(probes @ vectors.T, starts, axis=1)
    grams = [set(ngram_hashes(tokens(q), 13).tolist()) for q in c.questions]
    out, seen = [], set()
    for a in range(len(c)):
        row = sims[a].copy()
        row[a] = -1.0
        row[row >= 0.99] = -1.0
        for b in np.argsort(-row)[:5]:
            if not grams[a] & grams[int(b)]:
                cos = float(row[b])
                if cfg.review_threshold <= cos < cfg.semantic_threshold and frozenset((a, int(b))) not in seen:
                    seen.add(frozenset((a, int(b))))
                    out.append((a, int(b), cos))
                break
    return sorted(out, key=lambda t: -t[2])[:limit]


def ask_judge(det: Detector, probe: Probe, corpus: ReferenceCorpus, item: int, cost: Counter) -> bool | None:
    """The judge's verdict on one pair (None: a reply that broke the schema twice, counted apart)."""
    t0 = time.monotonic()
    try:
        return det.ask_judge(probe, corpus, item).same
    except BenchmintError:
        cost["errors"] += 1
        return None
    finally:
        cost["seconds"] += time.monotonic() - t0
        cost["items"] += 1


class Run:
    """Detections of one set of probes against one detector; the judge sees (a sample of) the middle band."""

    def __init__(self, label: str, probes: list[Probe], detector: Detector, emb: Embedder, judge_det: Detector | None,
                 expect: list[int] | None = None, judge_sample: int = 0):
        self.label, self.probes = label, probes
        self.dets = detector.detect(probes, emb)
        self.right_item = None
        if expect is not None:  # did the flag point at the right reference item?
            hits = [d.finding.item == e for d, e in zip(self.dets, expect, strict=True) if d.finding is not None]
            self.right_item = sum(hits) / max(1, len(hits))
        self.judged: dict[int, Detection] = {}
        self.band = [j for j, d in enumerate(self.dets) if d.status == "review"]
        if judge_det is not None and self.band:
            mid = self.band if not judge_sample else random.Random(label).sample(self.band, min(judge_sample,
                                                                                                  len(self.band)))
            for j, d in zip(mid, judge_det.detect([probes[j] for j in mid], emb), strict=True):
                self.judged[j] = d

    def yes_rate(self) -> float | None:
        if not self.judged:
            return None
        return sum(caught(d) for d in self.judged.values()) / len(self.judged)

    def line(self) -> str:
        s = summarize(self.dets)
        jr = rate(self.dets, self.judged, self.yes_rate()) if self.judged or s["review"] == 0 else float("nan")
        est = " (est.)" if 0 < len(self.judged) < len(self.band) else ""
        item = f"; right item {self.right_item:.3f}" if self.right_item is not None else ""
        return (f"{self.label:<28} n={s['n']:<4} caught {rate(self.dets):.3f} (flagged {s['contaminated']}, "
                f"review {s['review']}) | with judge {jr:.3f}{est} [judged {len(self.judged)}/{len(self.band)}, "
                f"said same {sum(caught(d) for d in self.judged.values())}] | stages {s['stages']}{item}")
