"""The second look (second_look.py) at a detection call's pairs: each candidate's and reference item's side
built once, each pair compared once, its evidence kept under the candidate's scores["second_look"]. Numbered
statements are embedded only for pairs of two such items, each statement once (`part_vectors` outlives the
call, as the reference sides do)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from validators.contamination.config import ContaminationConfig
from validators.contamination.findings import Probe
from validators.contamination.index import CorpusIndex
from validators.contamination.second_look import SURVIVES_TRANSLATION, PartsMatch, Side, compare, parts_match, side_of


class PairLooks:
    """One detection call's second looks. `ref_sides` outlives the call (the detector's, per corpus and item);
    `tick(stage, t0, count)` records the time spent."""

    def __init__(self, probes: Sequence[Probe], indexes: Sequence[CorpusIndex], config: ContaminationConfig,
                 scores: list[dict[str, Any]], ref_sides: dict[tuple[int, int], Side],
                 tick: Callable[[str, float, int], None], embed: Callable[[list[str]], np.ndarray] | None = None,
                 part_vectors: dict[str, np.ndarray] | None = None, translated: bool = False):
        self.probes, self.indexes, self.config, self.scores = probes, indexes, config, scores
        self.ref_sides, self.tick, self.embed = ref_sides, tick, embed
        self.part_vectors = {} if part_vectors is None else part_vectors
        self.translated = translated  # the candidates are machine translations: SURVIVES_TRANSLATION only
        self._why: dict[tuple[int, int, int], str] = {}  # (candidate, corpus, item) -> why distinct ("": same)
        self._sides: dict[int, Side] = {}

    def why(self, i: int, ci: int, item: int) -> str:
        """Why candidate i and the item are distinct questions; "" when they are not (or the look is off)."""
        key = (i, ci, item)
        if key not in self._why:
            self._why[key] = self._look(i, ci, item)
        return self._why[key]

    def distinct(self, i: int, ci: int, item: int) -> bool:
        return bool(self.why(i, ci, item))

    def other_options(self, i: int, ci: int, item: int) -> bool:
        """Both multiple choice, and the look found other options (or the same ones with another key)."""
        if self.why(i, ci, item) not in ("other key", "other answer"):
            return False
        ref = self.ref_sides.get((ci, item))
        return bool(self._sides[i].choices) and ref is not None and bool(ref.choices)

    def _look(self, i: int, ci: int, item: int) -> str:
        if not self.config.second_look:
            return ""
        t0 = time.monotonic()
        if i not in self._sides:
            p = self.probes[i]
            self._sides[i] = side_of(p.question, p.choices, p.answer, self.config)
        c = self.indexes[ci].corpus
        ref = self.ref_sides.get((ci, item))
        if ref is None:
            ref = self.ref_sides[(ci, item)] = side_of(c.questions[item], c.choices[item], c.answers[item],
                                                       self.config)
        ev = compare(self._sides[i], ref, self.config, self._parts(self._sides[i], ref))
        record = {"corpus": c.name, "item": item, "item_id": c.ids[item], **ev.as_dict()}
        why = ev.why
        if self.translated and why and why not in SURVIVES_TRANSLATION:
            record.update(distinct=False, why="", set_aside=f"{why}: rests on a translation's wording")
            why = ""
        self.scores[i].setdefault("second_look", []).append(record)
        self.tick("second_look", t0, 1)
        return why

    def _parts(self, cand: Side, ref: Side) -> PartsMatch | None:
        if not (cand.parts and ref.parts) or self.embed is None:
            return None
        new = sorted({p for p in cand.parts + ref.parts if p not in self.part_vectors})
        if new:
            self.part_vectors.update(zip(new, self.embed(new), strict=True))
        return parts_match(cand.parts, ref.parts, np.stack([self.part_vectors[p] for p in cand.parts]),
                           np.stack([self.part_vectors[p] for p in ref.parts]))
