"""Grading a reply against a question's gold answer, per kind:
- open: normalized exact match (SQuAD-style: case, punctuation, articles,
  whitespace) or the gold answer as a whole phrase inside a short reply; token
  F1 is recorded; a reply that is not an exact match goes to the judge panel
  (majority; a tie, or no panel, falls back to token F1 >= 0.5);
- numeric: the reply's number within the question's tolerance of the gold
  value, after converting between units of one dimension (m/km, s/min, GB/MB...);
- mcq: the letter (or the exact text of one choice) against the gold choice,
  with the choices shuffled per target (the order shown is recorded);
- tf: true/false (yes/no) against the gold.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from typing import Any

from benchmint.quantities import parse_quantities, unit_info
from benchmint.records import LETTERS, Question
from validators.answers import exact_match, extract_letter, normalize_answer, parse_bool, token_f1
from validators.judges import JudgePanel


def convert(value: float, from_unit: str, to_unit: str) -> float | None:
    """`value` in from_unit expressed in to_unit; None when the units are of different dimensions."""
    if not from_unit or not to_unit or normalize_answer(from_unit) == normalize_answer(to_unit):
        return value
    a, b = unit_info(from_unit), unit_info(to_unit)
    if a is None or b is None or a[0] != b[0]:
        return None
    return value * a[1] / b[1]


def grade_numeric(reply: str, gold: str, unit: str = "", tolerance: float = 0.0) -> tuple[bool, str]:
    golds = parse_quantities(gold)
    if not golds:
        return False, f"gold answer {gold!r} holds no number"
    g = golds[0]
    gold_unit = unit or g.unit
    tol = max(tolerance, 1e-9 * max(1.0, abs(g.value)))
    found = parse_quantities(reply)
    if not found:
        return False, "no number in the reply"
    # prefer a number written with a unit of the gold's dimension
    ranked = sorted(found, key=lambda q: 0 if q.unit and convert(1.0, q.unit, gold_unit) is not None else 1)
    for q in ranked:
        v = convert(q.value, q.unit, gold_unit) if q.unit else q.value
        if v is None:
            continue
        if math.isclose(v, g.value, abs_tol=tol):
            return True, f"{q.value:g} {q.unit or gold_unit} = {v:g} {gold_unit}, within {tol:g} of {g.value:g}".strip()
    q = ranked[0]
    return False, f"{q.value:g} {q.unit} is not within {tol:g} {gold_unit} of {g.value:g}".replace("  ", " ")


@dataclass
class Grade:
    correct: bool | None  # None: not gradable (missing reply)
    method: str  # exact | f1 | judge | numeric | letter | bool | missing
    score: float = 0.0  # token F1 for open answers; 1/0 otherwise
    detail: str = ""
    panel: dict[str, Any] | None = None


def choice_order(question: Question, target: str) -> list[int]:
    """The order a target sees a multiple-choice question's choices in (seeded by target and question)."""
    order = list(range(len(question.choices)))
    if question.kind == "mcq":
        seed = int(hashlib.sha256(f"{target}\x00{question.id}".encode()).hexdigest()[:12], 16)
        random.Random(seed).shuffle(order)
    return order


def grade(question: Question, reply: str, order: list[int] | None = None, panel: JudgePanel | None = None) -> Grade:
    """Grade `reply` to `question`; `order` is the choice order the replier saw (mcq)."""
    if question.kind == "mcq":
        order = order or list(range(len(question.choices)))
        shown = [question.choices[i] for i in order]
        pick = extract_letter(reply, shown)
        if pick is None:
            return Grade(False, "letter", 0.0, "no choice recognised in the reply")
        ok = order[pick] == question.gold_index
        return Grade(ok, "letter", float(ok), f"picked {LETTERS[pick]} = choice {order[pick]}")
    if question.kind == "tf":
        got = parse_bool(reply)
        gold = question.gold_index == 0 if question.choices else parse_bool(question.answer)
        if got is None:
            return Grade(False, "bool", 0.0, "neither true nor false in the reply")
        return Grade(got == gold, "bool", float(got == gold), f"replied {got}, gold {gold}")
    if question.kind == "numeric":
        ok, why = grade_numeric(reply, question.answer, question.unit, question.tolerance)
        return Grade(ok, "numeric", float(ok), why)
    f1 = token_f1(reply, question.answer)
    if exact_match(reply, question.answer):
        return Grade(True, "exact", f1, "normalized exact match")
    if panel is not None and reply.strip():
        d = panel.answer_is_correct(question.question, question.answer, reply)
        if not d.tie:
            return Grade(bool(d.decision), "judge", f1, f"panel {d.yes} yes / {d.no} no", d.as_dict())
        return Grade(f1 >= 0.5, "f1", f1, f"panel tie ({d.yes}-{d.no}, {d.missing} missing); token F1 {f1:.2f}",
                     d.as_dict())
    return Grade(f1 >= 0.5, "f1", f1, f"token F1 {f1:.2f}")
