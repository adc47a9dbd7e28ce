"""The stages, cheapest first, over candidates against several corpora (see the package's docstring)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rapidfuzz import fuzz

from benchmint.embeddings import Embedder
from benchmint.errors import BenchmintError
from corpora.reference.corpus import ReferenceCorpus
from validators.contamination.config import ContaminationConfig
from validators.contamination.findings import Detection, Finding, Probe, reason_of, view_text
from validators.contamination.index import CorpusIndex
from validators.contamination.judge import JudgeAnswer, judge_messages
from validators.contamination.looks import PairLooks
from validators.contamination.ngrams import ngram_matches
from validators.contamination.second_look import Side
from validators.contamination.text import Views, embed_texts, make_views
from validators.contamination.translate import detect_translated


@dataclass
class BandVerdict:
    """What the judge said about one candidate's middle-band pairs."""

    answers: list[dict[str, Any]] = field(default_factory=list)
    """Each pair asked: corpus, item, same, reason."""
    flag: Finding | None = None
    """The pair the judge called the same question, if any."""
    review: Finding | None = None
    """The pair the judge could not decide (an error), if any."""
    note: str = ""
    """The last reason given when no pair was the same."""


class Detector:
    """Runs the stages over candidates against several corpora."""

    def __init__(self, corpora: Sequence[ReferenceCorpus], config: ContaminationConfig | None = None, judge: Any = None,
                 cache_dir: Path | None = None, *, translator: Any = None):
        if not corpora:
            raise BenchmintError("no reference corpus to check against; name at least one with --reference")
        names = [c.name for c in corpora]
        if len(set(names)) != len(names):
            raise BenchmintError(f"two reference corpora share a name ({', '.join(names)}); give each its own name")
        self.corpora = list(corpora)
        self.config = config or ContaminationConfig()
        self.judge = judge
        self.translator = translator  # a model client for non-English candidates (translate.py); None: none asked
        self.cache_dir = cache_dir
        self.indexes: list[CorpusIndex] = []
        stages = ("normalize", "exact", "ngram", "embed", "search", "fuzzy", "semantic", "second_look", "judge",
                  "translate")
        self.timing: dict[str, float] = {s: 0.0 for s in (*stages, "index_load")}
        self.counts: dict[str, int] = dict.fromkeys(stages, 0)
        self._ref_sides: dict[tuple[int, int], Side] = {}
        self._part_vectors: dict[str, np.ndarray] = {}  # numbered statements' embeddings (second look)

    def prepare(self, embedder: Embedder, progress: Callable[[str, int, int], None] | None = None) -> None:
        if len(self.indexes) == len(self.corpora):
            return
        t0 = time.monotonic()
        self.indexes = [CorpusIndex.load_or_build(c, embedder, self.config, self.cache_dir, progress)
                        for c in self.corpora]
        self.timing["index_load"] += time.monotonic() - t0

    def detect(self, probes: Sequence[Probe], embedder: Embedder) -> list[Detection]:
        """One detection per probe; a non-English probe is checked in English too when a translator is set
        and `config.translate` is on (translate.py; the time of its translations is the stage "translate")."""
        if self.translator is None or not self.config.translate:
            return self._stages(probes, embedder)
        t = time.monotonic()
        spent = [0.0]

        def stages(ps: list[Probe], translated: bool) -> list[Detection]:
            t0 = time.monotonic()
            try:
                return self._stages(ps, embedder, translated)
            finally:
                spent[0] += time.monotonic() - t0

        out, asked = detect_translated(probes, stages, self.translator)
        self.timing["translate"] += time.monotonic() - t - spent[0]
        self.counts["translate"] += asked
        return out

    def _stages(self, probes: Sequence[Probe], embedder: Embedder, translated: bool = False) -> list[Detection]:
        self.prepare(embedder)
        cfg = self.config
        n = len(probes)
        if n == 0:
            return []
        t = time.monotonic()
        views = [make_views(p.question, p.choices, p.answer) for p in probes]
        seqs = [v.sequences() for v in views]
        keys = [v.keys() for v in views]
        self._tick("normalize", t, n)

        flagged: list[Finding | None] = [None] * n
        scores: list[dict[str, Any]] = [{} for _ in range(n)]
        pairs = PairLooks(probes, self.indexes, cfg, scores, self._ref_sides, self._tick, embedder.encode,
                          self._part_vectors, translated)
        look, distinct, other_options = pairs.why, pairs.distinct, pairs.other_options

        # exact
        t = time.monotonic()
        for ci, ix in enumerate(self.indexes):
            for i in range(n):
                if flagged[i] is not None:
                    continue
                for view, h in keys[i].items():
                    hit = self._exact(ix, view, h, views[i])
                    # the same words with another key among the same options, or around other formulas: what
                    # normalizing dropped (an operator, a sign) made another question
                    why = look(i, ci, hit) if hit is not None else ""
                    if why == "other formula" or (why == "other key" and view != "question+answer"):
                        continue
                    if hit is not None:
                        flagged[i] = Finding(ix.corpus.name, hit, ix.corpus.ids[hit], "exact", 1.0, view,
                                             view_text(probes[i], view), ix.corpus.display_text(hit))
                        break
        self._tick("exact", t, n)

        # ngram
        t = time.monotonic()
        lexical: list[dict[tuple[int, int], float]] = [{} for _ in range(n)]  # (corpus, item) -> ngram ratio
        todo = [i for i in range(n) if flagged[i] is None]
        for ci, ix in enumerate(self.indexes):
            jobs = [(i, view, seq) for i in todo for view, seq in seqs[i].items()]
            best = ngram_matches(ix.a, len(ix.corpus), cfg, jobs)
            for (i, view), (item, ratio, span, start, ngram_n) in best.items():
                lexical[i][(ci, item)] = max(ratio, lexical[i].get((ci, item), 0.0))
                prev = scores[i].get("ngram")
                if prev is None or ratio > prev["ratio"]:
                    scores[i]["ngram"] = {"ratio": round(ratio, 4), "longest": span, "n": ngram_n, "view": view,
                                          "corpus": ix.corpus.name, "item": item}
                # a verbatim run of ngram_min_span tokens is a copied passage: it stays a copy (a benchmark's
                # premise with a new ask is its item, to a model trained on it) unless both are multiple choice
                # and the options themselves differ (another question set on a shared passage)
                if flagged[i] is None and (
                        (span >= cfg.ngram_min_span and not other_options(i, ci, item))
                        or (span < cfg.ngram_min_span and ratio >= cfg.ngram_min_ratio and not distinct(i, ci, item))):
                    toks = seqs[i][view]
                    flagged[i] = Finding(ix.corpus.name, item, ix.corpus.ids[item], "ngram", ratio, view,
                                         " ".join(toks[start:start + span]), ix.corpus.display_text(item),
                                         {"ratio": round(ratio, 4), "longest_match_tokens": span, "n": ngram_n})
        self._tick("ngram", t, len(todo))

        # embed (the question alone) and search
        todo = [i for i in range(n) if flagged[i] is None]
        t = time.monotonic()
        texts = {i: embed_texts(probes[i].question, probes[i].choices, cfg, translated) for i in todo}
        searched = [i for i in todo for _ in texts[i]]  # each text's candidate: a neighbour keeps the closest
        vecs = embedder.encode([x for i in todo for x in texts[i]])
        self._tick("embed", t, len(todo))
        t = time.monotonic()
        neighbours: list[dict[tuple[int, int], float]] = [{} for _ in range(n)]
        if todo:
            for ci, ix in enumerate(self.indexes):
                k = min(cfg.top_k, ix.faiss.ntotal)
                sims, rows = ix.faiss.search(vecs, k)
                items = ix.a["vec_item"]
                for r, i in enumerate(searched):
                    for s, row in zip(sims[r], rows[r], strict=True):
                        if row < 0:
                            continue
                        key = (ci, int(items[row]))
                        if s > neighbours[i].get(key, -1.0):
                            neighbours[i][key] = float(s)
        self._tick("search", t, len(todo))

        # fuzzy on lexical and semantic neighbours
        t = time.monotonic()
        middle: dict[int, dict[tuple[int, int], tuple[float, str]]] = {}  # candidate -> (corpus, item) -> band score
        for i in todo:
            pairs: list[tuple[float, int, int, str]] = []
            for ci, item in sorted(set(lexical[i]) | set(neighbours[i])):
                s, view = self._fuzzy(views[i], self.indexes[ci].views(item), self.indexes[ci], item)
                pairs.append((s, ci, item, view))
            if not pairs:
                continue
            pairs.sort(key=lambda p: -p[0])  # stable: ties keep corpus and item order
            s, ci, item, view = pairs[0]
            scores[i]["fuzzy"] = {"ratio": round(s, 2), "view": view, "corpus": self.indexes[ci].corpus.name,
                                  "item": item}
            # the best pair the second look does not call distinct
            best = next((p for p in pairs if p[0] < cfg.fuzzy_review_threshold or not distinct(i, p[1], p[2])), None)
            if best is None:
                continue
            s, ci, item, view = best
            ix = self.indexes[ci]
            if s >= cfg.fuzzy_threshold:
                flagged[i] = Finding(ix.corpus.name, item, ix.corpus.ids[item], "fuzzy", s / 100.0, view,
                                     view_text(probes[i], view), ix.corpus.display_text(item), {"ratio": round(s, 2)})
            elif s >= cfg.fuzzy_review_threshold:
                middle.setdefault(i, {})[(ci, item)] = (s / 100.0, f"fuzzy ratio {s:.1f}")
        self._tick("fuzzy", t, len(todo))

        # semantic
        t = time.monotonic()
        review_line = cfg.translated_review_threshold if translated else cfg.review_threshold
        for i in todo:
            if not neighbours[i]:
                continue
            ranked = sorted(((s, ci, item) for (ci, item), s in neighbours[i].items()), reverse=True)
            s, ci, item = ranked[0]
            ix = self.indexes[ci]
            scores[i]["semantic"] = {"cosine": round(s, 4), "corpus": ix.corpus.name, "item": item}
            if flagged[i] is not None:
                middle.pop(i, None)
                continue
            # pairs the second look calls distinct neither flag nor join the middle band
            ranked = [r for r in ranked if r[0] < review_line or not distinct(i, r[1], r[2])]
            if not ranked:
                continue
            s, ci, item = ranked[0]
            ix = self.indexes[ci]
            if s >= cfg.semantic_threshold:
                flagged[i] = Finding(ix.corpus.name, item, ix.corpus.ids[item], "semantic", s, "question",
                                     probes[i].question, ix.corpus.display_text(item), {"cosine": round(s, 4)})
                middle.pop(i, None)
                continue
            for s2, ci2, item2 in ranked:
                if s2 < review_line:
                    break
                prev = middle.setdefault(i, {}).get((ci2, item2))
                if prev is None or s2 > prev[0]:
                    middle[i][(ci2, item2)] = (s2, f"cosine {s2:.3f}")
        self._tick("semantic", t, len(todo))

        # judge (or review): the middle band, best pairs first; candidates are judged at once, as many as the
        # judge's endpoint takes, each candidate's pairs in turn (so the decision does not depend on timing)
        t = time.monotonic()
        review: dict[int, Finding] = {}
        judge_notes: dict[int, str] = {}
        ranked_band = {i: sorted(((sc, ci, item, why) for (ci, item), (sc, why) in band.items()),
                                 reverse=True)[: cfg.judge_max_pairs] for i, band in middle.items()}
        if self.judge is None:
            for i, pairs in ranked_band.items():
                sc, ci, item, why = pairs[0]
                ix = self.indexes[ci]
                review[i] = Finding(ix.corpus.name, item, ix.corpus.ids[item], "review", sc, "question",
                                    probes[i].question, ix.corpus.display_text(item), {"band": why})
        elif ranked_band:
            self.counts["judge"] += len(ranked_band)
            width = max(1, min(int(getattr(self.judge, "concurrency", 1) or 1), len(ranked_band)))
            with ThreadPoolExecutor(max_workers=width) as ex:
                verdicts = list(ex.map(lambda item: self._judge_band(probes[item[0]], item[1]), ranked_band.items()))
            for i, verdict in zip(ranked_band, verdicts, strict=True):
                scores[i].setdefault("judge", []).extend(verdict.answers)
                if verdict.flag is not None:
                    flagged[i] = verdict.flag
                elif verdict.review is not None:
                    review[i] = verdict.review
                elif verdict.note:
                    judge_notes[i] = verdict.note
        self.timing["judge"] += time.monotonic() - t

        out: list[Detection] = []
        for i in range(n):
            f = flagged[i]
            if f is not None:
                out.append(Detection("contaminated", f, scores[i], reason_of(f)))
            elif i in review:
                r = review[i]
                why = (f"judge failed ({r.detail['judge_error']})" if "judge_error" in r.detail
                       else "no judge is configured")
                out.append(Detection("review", r, scores[i],
                                     f"needs review: {r.detail['band']} to {r.corpus} item {r.item_id} is in the "
                                     f"middle band (between the review and flag thresholds) and {why}"))
            else:
                sem = scores[i].get("semantic", {}).get("cosine", 0.0)
                extra = f"; judge: {judge_notes[i]}" if i in judge_notes else ""
                cleared = [x for x in scores[i].get("second_look", []) if x["distinct"]]
                if cleared:
                    extra += (f"; second look: {len(cleared)} near item(s) ask and answer something else "
                              f"({cleared[0]['corpus']} item {cleared[0]['item_id']})")
                out.append(Detection("clean", None, scores[i],
                                     f"no match in {len(self.indexes)} corpora (nearest cosine {sem:.3f}){extra}"))
        return out

    def _judge_band(self, probe: Probe, pairs: list[tuple[float, int, int, str]]) -> BandVerdict:
        """Ask the judge about one candidate's middle-band pairs, best first, until one is the same question."""
        verdict = BandVerdict()
        for sc, ci, item, why in pairs:
            ix = self.indexes[ci]
            try:
                ans = self.ask_judge(probe, ix.corpus, item)
            except BenchmintError as exc:  # an unreachable or broken judge: review, never a silent pass
                verdict.review = Finding(ix.corpus.name, item, ix.corpus.ids[item], "review", sc, "question",
                                         probe.question, ix.corpus.display_text(item),
                                         {"band": why, "judge_error": str(exc)})
                return verdict
            verdict.answers.append({"corpus": ix.corpus.name, "item": item, "same": ans.same, "reason": ans.reason})
            if ans.same:
                verdict.flag = Finding(ix.corpus.name, item, ix.corpus.ids[item], "judge", sc, "question",
                                       probe.question, ix.corpus.display_text(item),
                                       {"band": why, "judge_reason": ans.reason})
                return verdict
            verdict.note = ans.reason
        return verdict

    def _tick(self, stage: str, t0: float, count: int) -> None:
        self.timing[stage] += time.monotonic() - t0
        self.counts[stage] += count

    def _exact(self, ix: CorpusIndex, view: str, h: int, cand: Views) -> int | None:
        kh = ix.a["key_h"]
        hv = np.uint64(h)
        lo = int(np.searchsorted(kh, hv, "left"))
        hi = int(np.searchsorted(kh, hv, "right"))
        want = {"question": 0, "question+choices": 1, "question+answer": 2}[view]
        for j in range(lo, hi):
            if int(ix.a["key_kind"][j]) != want:
                continue
            item = int(ix.a["key_item"][j])
            if view == "question" and not self._question_alone_counts(cand, ix, item):
                continue
            return item
        return None

    def _question_alone_counts(self, cand: Views, ix: CorpusIndex, item: int) -> bool:
        """The same question text is a copy when the question is specific; a short multiple-choice
        question ("Which of the following is true?") also needs half of its choices in the item."""
        cfg = self.config
        if not ix.specific(item, cfg.min_question_tokens):
            return False
        ref = ix.views(item)
        if cand.choices and ref.choices and len(cand.q) < cfg.short_question_tokens:
            mine = {" ".join(c) for c in cand.choices}
            shared = len(mine & {" ".join(c) for c in ref.choices})
            return shared >= max(1, (len(mine) + 1) // 2)
        return True


    def _fuzzy(self, c: Views, r: Views, ix: CorpusIndex, item: int) -> tuple[float, str]:
        """Best rapidfuzz ratio over the views both sides have; (score, view)."""
        cfg = self.config
        best, view = 0.0, "question"
        if c.choices and r.choices:
            s = fuzz.ratio(c.qc_text(), r.qc_text())
            if s > best:
                best, view = s, "question+choices"
        if c.answer and r.answer and len(r.answer) <= 4 * max(len(c.answer), cfg.answer_max_tokens):
            s = fuzz.ratio(c.qa_text(), r.qa_text())
            if s > best:
                best, view = s, "question+answer"
        generic = c.choices and r.choices and len(c.q) < cfg.short_question_tokens  # its choices say what it is
        if len(c.q) >= cfg.fuzzy_question_min_tokens and len(r.q) >= cfg.fuzzy_question_min_tokens \
                and not generic and ix.specific(item, cfg.min_question_tokens):
            qa, qb = c.q_text, r.q_text
            s = max(fuzz.ratio(qa, qb), fuzz.token_sort_ratio(qa, qb))
            if s > best:
                best, view = s, "question"
        return float(best), view

    def ask_judge(self, probe: Probe, corpus: ReferenceCorpus, item: int) -> JudgeAnswer:
        """The judge's decision on a candidate and one corpus item (bench/contamination.py calibrates with it)."""
        messages = judge_messages((corpus.questions[item], corpus.choices[item], corpus.answers[item]),
                                  (probe.question, probe.choices, probe.answer))
        return self.judge.complete_json(messages, JudgeAnswer)

    def stage_report(self) -> dict[str, dict[str, float]]:
        """Seconds and items/s per stage, so far."""
        rep = {}
        for s, secs in self.timing.items():
            c = self.counts.get(s)
            rep[s] = {"seconds": round(secs, 4), "items": c if c is not None else None,
                      "items_per_s": round(c / secs, 1) if c and secs > 0 else None}
        return rep
