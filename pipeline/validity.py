"""What a release can state of its own validity (issue 16 item 4), from its validators' verdicts: how many
candidates the targets answered closed-book, the difficulty band and what it let through, and the spread
of the published questions' pass rate and discrimination. The dataset card and `benchmint show` render
it from the manifest (the kernel reads the dict, never this module).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence

from pydantic import Field

from benchmint.config import BuildConfig
from benchmint.records import Question, Record, Verdict
from validators.contamination.tally import StageTally, tally

# Bin edges: pass rate in fifths; discrimination split where its sign and size matter (below 0 the weaker
# targets did better; exactly 0, the edge repeated, separates nothing; 0.5 and above, the stronger half mostly
# right and the weaker wrong).
PASS_RATE_EDGES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
DISCRIMINATION_EDGES = (-1.0, 0.0, 0.0, 0.5, 1.0)


class Bin(Record):
    """A bin of a spread and how many values fell in it."""

    label: str
    """The values it holds: "[0.2, 0.4)", "0" (exactly), "(0, 0.5)" (after an exact bin), the last "[0.8, 1]"."""
    lo: float
    hi: float
    n: int


class Spread(Record):
    """How a measured figure is spread over the published questions."""

    measured: int
    """Published questions that carry the figure (the others were not measured)."""
    min: float | None = None
    median: float | None = None
    max: float | None = None
    bins: list[Bin] = Field(default_factory=list)
    """Counts per bin, every bin listed (zeros too)."""


class ClosedBook(Record):
    """The closed-book check (validators/answerability.py): the targets answer each candidate without its
    passage; above `max_pass_rate` it tests memory, not the source."""

    mode: str
    """difficulty.closed_book: reject (answerable candidates are not published), tag (kept, with a failed
    non-blocking verdict) or off (not checked)."""
    max_pass_rate: float
    """difficulty.closed_book_max: a closed-book pass rate above this is "answerable without the passage"."""
    checked: int = 0
    """Candidates put to the targets closed-book (those that passed every check before)."""
    measured: int = 0
    """Of those, the ones at least one target replied to."""
    answerable: int = 0
    """Answerable without the passage (closed-book pass rate above max_pass_rate)."""
    rejected: int = 0
    """Answerable ones not published for it (mode reject)."""
    kept: int = 0
    """Answerable ones let through to the later checks (mode tag)."""
    published_answerable: int = 0
    """Published questions this build found answerable closed-book (tagged; a refresh's kept questions are not
    checked again)."""


class DifficultyFigures(Record):
    """The difficulty check (validators/difficulty.py) over the candidates, and what the published set shows."""

    band: tuple[float, float]
    """difficulty.band: a question is kept when its pass rate over the targets is in [lo, hi]."""
    mode: str
    """with_document (the targets answer with the passage) or closed_book."""
    checked: int = 0
    """Candidates the targets answered (those that passed every check before)."""
    in_band: int = 0
    too_hard: int = 0
    """Pass rate below the band."""
    too_easy: int = 0
    """Pass rate above the band."""
    bad_gold: int = 0
    """No target right, and the judge panel found the gold answer wrong: rejected as a bad question."""
    not_measured: int = 0
    """Every target reply missing (or the check failed)."""
    pass_rate: Spread
    """The published questions' pass rate (share of the targets right)."""
    discrimination: Spread
    """The published questions' discrimination (stronger half's pass rate minus the weaker half's)."""


class Validity(Record):
    """Validity figures of a build, from its own verdicts. Contamination's per-stage tally sits with the rest
    of the contamination record (Manifest.contamination["verdicts"])."""

    candidates: int
    """Candidates this build wrote and validated."""
    published: int
    """Questions in the release (a refresh's kept ones too)."""
    closed_book: ClosedBook | None = None
    """None when no target model ran."""
    difficulty: DifficultyFigures | None = None
    """None when no target model ran."""


def _of(questions: Iterable[Question], name: str) -> list[Verdict]:
    return [v for q in questions for v in q.verdicts if v.validator == name]


def _bins(edges: Sequence[float]) -> list[Bin]:
    bins = []
    for k, (lo, hi) in enumerate(zip(edges, edges[1:], strict=False)):
        last, after_point = k == len(edges) - 2, k > 0 and edges[k - 1] == lo
        label = f"{lo:g}" if lo == hi else f"{'(' if after_point else '['}{lo:g}, {hi:g}{']' if last else ')'}"
        bins.append(Bin(label=label, lo=lo, hi=hi, n=0))
    return bins


def spread(values: Sequence[float], edges: Sequence[float]) -> Spread:
    """The spread of `values` over the bins between consecutive `edges` (the last bin closed; an edge given
    twice makes a bin of exactly that value). Each value counts in the first bin that holds it."""
    bins = _bins(edges)
    for x in values:
        b = next((b for b in bins if (x == b.lo if b.lo == b.hi else b.lo <= x < b.hi)),
                 bins[-1] if x == bins[-1].hi else None)
        if b is not None:
            b.n += 1
    if not values:
        return Spread(measured=0, bins=bins)
    return Spread(measured=len(values), min=min(values), median=statistics.median(values), max=max(values),
                  bins=bins)


def closed_book(cfg: BuildConfig, candidates: list[Question], published: list[Question]) -> ClosedBook:
    d = cfg.difficulty
    verdicts = _of(candidates, "answerability")
    answerable = [v for v in verdicts if not v.passed]
    return ClosedBook(mode=d.closed_book, max_pass_rate=d.closed_book_max, checked=len(verdicts),
                      measured=sum(v.score is not None for v in verdicts), answerable=len(answerable),
                      rejected=sum(v.blocking for v in answerable), kept=sum(not v.blocking for v in answerable),
                      published_answerable=len([v for v in _of(published, "answerability") if not v.passed]))


def difficulty(cfg: BuildConfig, candidates: list[Question], published: list[Question]) -> DifficultyFigures:
    d = cfg.difficulty
    lo, hi = d.band
    # a kept question read back from a release carries -1 for "not measured" (Question.export_row)
    measured = [q for q in published if q.pass_rate is not None and q.pass_rate >= 0]
    out = DifficultyFigures(band=d.band, mode="with_document" if d.with_document else "closed_book",
                            pass_rate=spread([q.pass_rate for q in measured], PASS_RATE_EDGES),
                            discrimination=spread([q.discrimination for q in measured if q.discrimination is not None],
                                                  DISCRIMINATION_EDGES))
    for v in _of(candidates, "difficulty"):
        out.checked += 1
        if v.passed:
            out.in_band += 1
        elif (v.evidence.get("gold_check") or {}).get("decision") is False:
            out.bad_gold += 1
        elif v.score is None:
            out.not_measured += 1
        elif v.score < lo:
            out.too_hard += 1
        elif v.score > hi:
            out.too_easy += 1
    return out


def validity(cfg: BuildConfig, candidates: list[Question], published: list[Question], targets: bool) -> Validity:
    """The validity figures of a build: `candidates` every question it wrote, `published` those it publishes."""
    return Validity(candidates=len(candidates), published=len(published),
                    closed_book=closed_book(cfg, candidates, published) if targets else None,
                    difficulty=difficulty(cfg, candidates, published) if targets else None)


def contamination_tally(candidates: list[Question]) -> StageTally:
    """The contamination verdicts of the candidates, per stage."""
    return tally(_of(candidates, "contamination"))
