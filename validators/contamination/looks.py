"""The second look (second_look.py) at a detection call's pairs: each candidate's and reference item's side
built once, each pair compared once, its evidence kept under the candidate's scores["second_look"]."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from validators.contamination.config import ContaminationConfig
from validators.contamination.findings import Probe
from validators.contamination.index import CorpusIndex
from validators.contamination.second_look import Side, compare, side_of


class PairLooks:
    """One detection call's second looks. `ref_sides` outlives the call (the detector's, per corpus and item);
    `tick(stage, t0, count)` records the time spent."""

    def __init__(self, probes: Sequence[Probe], indexes: Sequence[CorpusIndex], config: ContaminationConfig,
                 scores: list[dict[str, Any]], ref_sides: dict[tuple[int, int], Side],
                 tick: Callable[[str, float, int], None]):
        self.probes, self.indexes, self.config, self.scores = probes, indexes, config, scores
        self.ref_sides, self.tick = ref_sides, tick
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
        ev = compare(self._sides[i], ref, self.config)
        self.scores[i].setdefault("second_look", []).append(
            {"corpus": c.name, "item": item, "item_id": c.ids[item], **ev.as_dict()})
        self.tick("second_look", t0, 1)
        return ev.why
