"""The second look: is a pair that a lexical or semantic stage brought together the same question,
or a distinct question on the same topic (or on the same passage)?

Topic is what the earlier stages measure; this compares what the two items ask and answer:
the answers and choices (digits masked, and as written), and the ask: the closing part of a
long question (what it asks after a shared passage), else the whole question, with digits and
capitalised words (names) masked, so that other numbers or names leave it unchanged.

A pair is *distinct* only on positive evidence, one of:

- "other key": both offer the same options and the candidate's answer is another of them;
- "other answer": the answers differ (digits masked), the choices differ too (or one side has
  none, or the candidate's answer is one of the reference item's wrong choices), and the asks
  differ;
- "other problem": the answers differ as written and the masked ask is not the same: the same
  kind of problem with another structure or operation, not the same problem with other numbers
  (which keeps the masked ask, and stays the same question);
- "other formula": the same prose (a template of one exercise) around other formulas: the
  formulas' tokens (operators, powers, indices, a sign; digits masked) differ, which other
  numbers, case, punctuation or typos never change;
- "other statements": both items are lists of numbered statements ("Statement 1 | ...", as
  true/false combinations are asked) and one statement has no counterpart on the other side: its
  best match, by embedding (a paraphrase) or as written with digits masked (typos, other
  numbers), stays low. The options and the key of such items say nothing about what they state.

Missing evidence never clears a pair (a candidate without an answer, or with a bare answer where
the reference gives a worked solution, is cleared only by "other key"): it goes
on to the judge (or review) as before. Short answers compare in order ("True, False" is not
"False, True"), long ones also with their words sorted. The thresholds live in
ContaminationConfig, chosen on the development set's nearest same-subject items, paraphrases
and light edits (bench/contamination_hard.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz

from validators.contamination.config import ContaminationConfig
from validators.contamination.text import closing_part, normalize_text, strip_label, tokens

_DIGITS = re.compile(r"\d+")

_NAME = re.compile(r"\b[A-Z][\w'’-]*")  # a capitalised word: a name, or a sentence's first word (alike on both sides)

_STATEMENT = re.compile(r"\bstatement\s*\d+\s*[|:]", re.I)

_UNWRAP = re.compile(r"[,;:'\"()\[\]{}]")  # what a punctuation edit drops, so it never changes a formula

_OPERATOR = re.compile(r"[\^_+*/=<>|]|(?<![a-z])-|-(?=\d)")  # a hyphen between letters is a word's

SHORT_ANSWER_TOKENS = 4  # answers shorter than this compare in order ("True, False" is not "False, True")

# A machine translation rewords answers and choices and rewrites formulas (sqrt(2) as √2): of the evidence,
# only what does not rest on their wording holds for a translated candidate (translate.py).
SURVIVES_TRANSLATION = frozenset({"other key", "other statements"})


@dataclass(frozen=True)
class Side:
    """What the second look reads of one item."""

    answer: str
    """The answer's normalized tokens joined by spaces, digits masked ("" when none)."""
    choices: tuple[str, ...]
    """Each choice the same way."""
    plain_answer: str
    """The answer's normalized tokens, digits kept."""
    plain_choices: tuple[str, ...]
    """Each choice the same way."""
    ask: str
    """The closing part of a long question (else the question), digits and capitalised words masked."""
    formulas: tuple[str, ...] = ()
    """The question's formula tokens, sorted, digits masked: a token with an operator, or with letters and digits."""
    parts: tuple[str, ...] = ()
    """The numbered statements of a question made of two or more ("Statement 1 | ..."), else ()."""


@dataclass(frozen=True)
class PartsMatch:
    """How the numbered statements of two items match: per pair of statements, the higher of the cosine of
    their embeddings and their similarity as written (digits masked)."""

    worst: float
    """The lowest, over the statements of either side, of a statement's best match on the other side."""
    mean: float
    """The mean of those best matches."""


@dataclass(frozen=True)
class PairEvidence:
    """How a candidate and a reference item compare on what they ask and answer."""

    answer: float | None
    """Similarity of the answers, digits masked, 0-1 (None: one side has no answer, or one far longer)."""
    choices: float | None
    """Share of the reference item's choices found among the candidate's, digits masked (None: one side has none)."""
    answer_is_distractor: bool
    """The candidate's answer is one of the reference item's wrong choices (digits kept)."""
    ask: float
    """Similarity of the asks, digits and names masked, 0-1."""
    distinct: bool
    """Positive evidence that they are different questions."""
    why: str = ""
    """Which evidence: "other key" (same options, another answer), "other answer" (answers and choices differ on
    another ask), "other problem" (the same kind of problem with another structure and answer), "other formula"
    (one template, other formulas), "other statements" (numbered statements without counterparts), or ""."""
    parts: PartsMatch | None = None
    """The statements' match, when both items are lists of numbered statements."""

    def as_dict(self) -> dict[str, object]:
        r = lambda x: None if x is None else round(x, 3)  # noqa: E731
        d: dict[str, object] = {"answer": r(self.answer), "choices": r(self.choices),
                                "answer_is_distractor": self.answer_is_distractor, "ask": r(self.ask),
                                "distinct": self.distinct, "why": self.why}
        if self.parts is not None:
            d["parts"] = {"worst": r(self.parts.worst), "mean": r(self.parts.mean)}
        return d


def masked(text: str) -> str:
    """Normalized tokens, every run of digits as '#', joined by spaces."""
    return " ".join(_DIGITS.sub("#", t) for t in tokens(text))


def masked_ask(text: str) -> str:
    """Normalized tokens with digits as '#' and capitalised words (names) as 'N': the ask's structure."""
    return masked(_NAME.sub("N", text))


def formulas(text: str) -> tuple[str, ...]:
    """The formula tokens of a text, sorted: lower case, brackets and commas dropped, digits as '#'; a token
    counts when it holds an operator (^ _ + * / = < > |, a minus) or mixes letters and digits ("z_3", "2p")."""
    out = []
    for tok in normalize_text(text).lower().split():
        tok = _UNWRAP.sub("", tok).rstrip(".?!")
        if tok and (_OPERATOR.search(tok) or (any(ch.isdigit() for ch in tok) and any(ch.isalpha() for ch in tok))):
            out.append(_DIGITS.sub("#", tok))
    return tuple(sorted(out))


def statements(text: str) -> tuple[str, ...]:
    """The numbered statements of a question made of two or more, else ()."""
    found = [p.strip() for p in _STATEMENT.split(text)[1:] if p.strip()]
    return tuple(found) if len(found) >= 2 else ()


def side_of(question: str, choices: Sequence[str], answer: str, config: ContaminationConfig) -> Side:
    q = strip_label(question) or question
    ask = closing_part(q, config.tail_min_words) or q
    plain = [" ".join(tokens(c)) for c in choices]
    return Side(masked(answer or ""), tuple(m for m in (masked(c) for c in choices) if m),
                " ".join(tokens(answer or "")), tuple(p for p in plain if p), masked_ask(ask), formulas(q),
                statements(q))


def parts_match(a: Sequence[str], b: Sequence[str], va: np.ndarray, vb: np.ndarray) -> PartsMatch:
    """Two items' statements and their embeddings (unit rows): each statement's best match on the other side."""
    mb = [masked(y) for y in b]
    written = np.array([[fuzz.ratio(masked(x), y) / 100.0 for y in mb] for x in a], dtype=np.float32)
    sims = np.maximum(va @ vb.T, written)
    best = np.concatenate([sims.max(axis=1), sims.max(axis=0)])
    return PartsMatch(float(best.min()), float(best.mean()))


def answer_similarity(a: str, b: str) -> float:
    """0-1; short answers as written, long ones also with their words sorted (a reordering is the same answer)."""
    s = fuzz.ratio(a, b)
    if min(len(a.split()), len(b.split())) >= SHORT_ANSWER_TOKENS:
        s = max(s, fuzz.token_sort_ratio(a, b))
    return s / 100.0


def comparable(a: str, b: str) -> bool:
    """Two free-text answers of one kind: both given, and neither far longer (a worked solution, as GSM8K
    gives, says nothing against a bare number)."""
    na, nb = len(a.split()), len(b.split())
    return min(na, nb) > 0 and max(na, nb) <= 4 * min(na, nb) + 8


def _matches(x: str, pool: Sequence[str], cutoff: float) -> bool:
    return any(fuzz.ratio(x, y) >= cutoff for y in pool)


def _overlap(cand: Sequence[str], ref: Sequence[str], cutoff: float) -> float | None:
    if not cand or not ref:
        return None
    return sum(_matches(c, cand, cutoff) for c in ref) / len(ref)


def compare(cand: Side, ref: Side, config: ContaminationConfig, parts: PartsMatch | None = None) -> PairEvidence:
    """The second look at one pair; `parts`: how their statements match, when both are lists of them."""
    cut = 100.0 * config.second_look_same_choice
    # two options (both items multiple choice) always compare; otherwise answers of one kind only
    options = bool(cand.choices and ref.choices and cand.answer and ref.answer)
    ans = answer_similarity(cand.answer, ref.answer) if options or comparable(cand.answer, ref.answer) else None
    choices = _overlap(cand.choices, ref.choices, cut)
    wrong = [c for c in ref.plain_choices if not ref.plain_answer or fuzz.ratio(c, ref.plain_answer) < cut]
    distractor = (bool(cand.plain_answer) and fuzz.ratio(cand.plain_answer, ref.plain_answer) < cut
                  and _matches(cand.plain_answer, wrong, cut))
    ask = fuzz.ratio(cand.ask, ref.ask) / 100.0
    plain_choices = _overlap(cand.plain_choices, ref.plain_choices, cut)
    why = ""
    if distractor and plain_choices is not None and plain_choices >= config.second_look_choices_max:
        why = "other key"  # the same options, and the candidate's answer is another of them
    elif (ans is not None and (ans < config.second_look_answer_max or distractor)
          and (choices is None or choices < config.second_look_choices_max or distractor)
          and ask < config.second_look_ask_max):
        why = "other answer"
    elif (ans is not None and ask < 1.0
          and answer_similarity(cand.plain_answer, ref.plain_answer) < config.second_look_answer_max):
        why = "other problem"  # other numbers alone keep the masked ask; another structure changes it
    elif ask >= config.second_look_template_min and cand.formulas != ref.formulas:
        why = "other formula"
    elif parts is not None and parts.worst < config.second_look_part_min:
        why = "other statements"
    return PairEvidence(ans, choices, distractor, ask, bool(why), why, parts)
