"""Word n-grams: hashed in a sorted numpy array per corpus, and the item that shares most of a candidate's
n-grams, with the longest verbatim run."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence

import numpy as np

from validators.contamination.config import ContaminationConfig


@functools.lru_cache(maxsize=1 << 20)
def _token_hash(tok: str) -> int:
    return int.from_bytes(hashlib.blake2b(tok.encode("utf-8"), digest_size=8).digest(), "little")


_MULT = np.uint64(0x9E3779B97F4A7C15)


def ngram_hashes(toks: Sequence[str], n: int) -> np.ndarray:
    """uint64 hash of every word n-gram (position-sensitive rolling hash), in order."""
    m = len(toks) - n + 1
    if m <= 0:
        return np.zeros(0, dtype=np.uint64)
    th = np.fromiter((_token_hash(t) for t in toks), dtype=np.uint64, count=len(toks))
    acc = np.full(m, np.uint64(n), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(n):
            acc = acc * _MULT + th[j:j + m]
    return acc


def ngram_matches(arrays: dict[str, np.ndarray], corpus_size: int, cfg: ContaminationConfig,
                  jobs: list[tuple[int, str, list[str]]]) -> dict[tuple[int, str], tuple[int, float, int, int, int]]:
    """Best item per (candidate, view) among a corpus index's `arrays` (CorpusIndex.a): (item, ratio,
    longest run in tokens, run start, n)."""
    out: dict[tuple[int, str], tuple[int, float, int, int, int]] = {}
    by_n: dict[int, list[tuple[int, tuple[int, str], np.ndarray]]] = {}
    for j, (i, view, seq) in enumerate(jobs):
        if len(seq) >= cfg.ngram_long_min_tokens:
            n = cfg.ngram_n
        elif len(seq) >= cfg.ngram_short_n:
            n = cfg.ngram_short_n
        else:
            continue
        by_n.setdefault(n, []).append((j, (i, view), ngram_hashes(seq, n)))
    for n, group in by_n.items():
        ref_h, ref_item = arrays[f"g{n}_h"], arrays[f"g{n}_item"]
        if not group or ref_h.size == 0:
            continue
        h = np.concatenate([g[2] for g in group])
        owner = np.concatenate([np.full(g[2].size, k, dtype=np.int64) for k, g in enumerate(group)])
        pos = np.concatenate([np.arange(g[2].size, dtype=np.int64) for g in group])
        total = np.array([g[2].size for g in group], dtype=np.int64)
        lo = np.searchsorted(ref_h, h, "left")
        hi = np.searchsorted(ref_h, h, "right")
        cnt = hi - lo
        keep = (cnt > 0) & (cnt <= cfg.ngram_max_df)
        if not keep.any():
            continue
        lo, cnt, owner, pos = lo[keep], cnt[keep], owner[keep], pos[keep]
        rep = np.repeat(np.arange(lo.size), cnt)
        offs = np.arange(rep.size) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        items = ref_item[lo[rep] + offs].astype(np.int64)
        own = owner[rep]
        ps = pos[rep]
        # (owner, item) pairs and how many distinct positions each covers
        base = corpus_size + 1
        pair = own * base + items
        srt = np.lexsort((ps, pair))
        pair, ps = pair[srt], ps[srt]
        up, first, pc = np.unique(pair, return_index=True, return_counts=True)
        p_owner = up // base
        order = np.lexsort((-pc, p_owner))
        seen: set[int] = set()
        for k in order:
            o = int(p_owner[k])
            if o in seen:
                continue
            seen.add(o)
            item = int(up[k] % base)
            run, start = longest_run(ps[first[k]:first[k] + pc[k]])
            ratio = float(pc[k]) / float(total[o])
            out[group[o][1]] = (item, ratio, run + n - 1, int(start), n)
    return out


def longest_run(sorted_pos: np.ndarray) -> tuple[int, int]:
    """Longest run of consecutive integers in a sorted array: (length, start)."""
    if sorted_pos.size == 0:
        return 0, 0
    breaks = np.flatnonzero(np.diff(sorted_pos) != 1)
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks, [sorted_pos.size - 1]))
    lengths = ends - starts + 1
    k = int(np.argmax(lengths))
    return int(lengths[k]), int(sorted_pos[starts[k]])
