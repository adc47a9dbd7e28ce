"""Grading answers, and putting questions to target models. Shared by the
answerability and difficulty validators and by evaluation (flows/evaluate.py).

Grading per kind:
- open: normalized exact match (SQuAD-style: case, punctuation, articles,
  whitespace) or the gold answer as a whole phrase inside a short reply; token
  F1 is recorded; a reply that is not an exact match goes to the judge panel
  (majority; a tie, or no panel, falls back to token F1 >= 0.5);
- numeric: the reply's number within the question's tolerance of the gold
  value, after converting between units of one dimension (m/km, s/min, GB/MB...);
- mcq: the letter (or the exact text of one choice) against the gold choice,
  with the choices shuffled per target (the order shown is recorded);
- tf: true/false (yes/no) against the gold.
A target that fails (endpoint down, invalid output twice, after the client's
retries) gives a *missing* result for that question, recorded, never a crash.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
import string
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field

from benchmint.errors import BenchmintError, EndpointDown
from benchmint.fence import fence, neutralize
from benchmint.llm import ModelClient
from benchmint.records import LETTERS, Chunk, Question
from generators.prompts import load_prompt
from validators.judges import JudgePanel

Mode = Literal["closed_book", "with_document"]

# --------------------------------------------------------------------------- normalization


_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans("", "", string.punctuation + "‘’“”–—")


def normalize_answer(s: str) -> str:
    """Lower case, no punctuation, no articles, single spaces (SQuAD's answer normalization)."""
    s = s.lower().translate(_PUNCT)
    return " ".join(_ARTICLES.sub(" ", s).split())


def token_f1(pred: str, gold: str) -> float:
    p, g = normalize_answer(pred).split(), normalize_answer(gold).split()
    if not p or not g:
        return float(p == g)
    common = sum((Counter(p) & Counter(g)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def exact_match(pred: str, gold: str) -> bool:
    p, g = normalize_answer(pred), normalize_answer(gold)
    if not g:
        return False
    if p == g:
        return True
    # the gold phrase inside a short reply ("It is 42 days." for "42 days"), as whole words
    return len(p.split()) <= len(g.split()) + 6 and re.search(rf"(?<!\w){re.escape(g)}(?!\w)", p) is not None


# --------------------------------------------------------------------------- numbers and units

# alias -> (dimension, factor to the dimension's base unit)
_UNIT_TABLE: dict[str, tuple[str, float]] = {}


def _units(dim: str, base_factor: dict[float, list[str]]) -> None:
    for factor, aliases in base_factor.items():
        for a in aliases:
            _UNIT_TABLE[a] = (dim, factor)


_units("length", {1e-3: ["mm", "millimeter", "millimeters", "millimetre", "millimetres"],
                  1e-2: ["cm", "centimeter", "centimeters", "centimetre", "centimetres"],
                  1.0: ["m", "meter", "meters", "metre", "metres"],
                  1e3: ["km", "kilometer", "kilometers", "kilometre", "kilometres"],
                  0.3048: ["ft", "foot", "feet"], 0.0254: ["inch", "inches"],
                  1609.344: ["mi", "mile", "miles"], 1852.0: ["nmi", "nautical mile", "nautical miles"]})
_units("time", {1e-6: ["us", "µs", "microsecond", "microseconds"], 1e-3: ["ms", "millisecond", "milliseconds"],
                1.0: ["s", "sec", "secs", "second", "seconds"], 60.0: ["min", "mins", "minute", "minutes"],
                3600.0: ["h", "hr", "hrs", "hour", "hours"], 86400.0: ["d", "day", "days"],
                604800.0: ["wk", "week", "weeks"], 31557600.0: ["yr", "year", "years"]})
_units("mass", {1e-3: ["g", "gram", "grams"], 1e-6: ["mg", "milligram", "milligrams"],
                1.0: ["kg", "kilogram", "kilograms"], 1e3: ["tonne", "tonnes"]})
_units("data", {1.0: ["b", "byte", "bytes"], 1e3: ["kb", "kilobyte", "kilobytes"], 1e6: ["mb", "megabyte", "megabytes"],
                1e9: ["gb", "gigabyte", "gigabytes"], 1e12: ["tb", "terabyte", "terabytes"],
                1024.0: ["kib"], 1024.0 ** 2: ["mib"], 1024.0 ** 3: ["gib"], 1024.0 ** 4: ["tib"]})
_units("frequency", {1.0: ["hz", "hertz"], 1e3: ["khz"], 1e6: ["mhz"], 1e9: ["ghz"]})
_units("power", {1.0: ["w", "watt", "watts"], 1e-3: ["mw", "milliwatt", "milliwatts"], 1e3: ["kw", "kilowatt", "kilowatts"]})
_units("voltage", {1.0: ["v", "volt", "volts"], 1e-3: ["mv", "millivolt", "millivolts"]})
_units("current", {1.0: ["amp", "amps", "ampere", "amperes"], 1e-3: ["ma", "milliamp", "milliamps"]})
_units("energy", {1.0: ["wh", "watt-hour", "watt-hours"], 1e3: ["kwh", "kilowatt-hour", "kilowatt-hours"]})
_units("charge", {1.0: ["ah", "ampere-hour", "ampere-hours", "amp-hour", "amp-hours"], 1e-3: ["mah"]})
_units("speed", {1.0: ["m/s", "metre per second", "metres per second", "meter per second", "meters per second"],
                 1 / 3.6: ["km/h", "kph", "kilometre per hour", "kilometres per hour", "kilometers per hour"],
                 1852 / 3600: ["kn", "knot", "knots"]})
_units("volume", {1e-3: ["ml", "millilitre", "millilitres", "milliliter", "milliliters"],
                  1.0: ["l", "litre", "litres", "liter", "liters"]})
_units("percent", {1.0: ["%", "percent", "per cent", "pct"]})
_units("pressure", {1.0: ["pa"], 1e3: ["kpa"], 1e5: ["bar"], 1e2: ["mbar", "hpa"]})
_units("temperature_c", {1.0: ["°c", "degc", "celsius", "degrees celsius"]})

_NUMBER = re.compile(r"(?<![\w.])[-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?|(?<![\w.])[-−]?\.\d+")
_WORD_NUMBERS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}


def unit_info(unit: str) -> tuple[str, float] | None:
    u = " ".join(unit.lower().replace("per cent", "percent").split()).rstrip(".")
    return _UNIT_TABLE.get(u) or (_UNIT_TABLE.get(u[:-1]) if u.endswith("s") else None)


@dataclass
class Quantity:
    value: float
    unit: str  # as written after the number ("" when none)


def parse_quantities(text: str) -> list[Quantity]:
    """Every number in `text` with the unit written right after it (if any)."""
    out = []
    for m in _NUMBER.finditer(text):
        raw = m.group(0).replace(",", "").replace("−", "-")
        try:
            value = float(raw)
        except ValueError:
            continue
        tail = text[m.end():m.end() + 24]
        um = re.match(r"\s?(%|°\s?[cCfF]|[A-Za-zµ]+(?:-[A-Za-z]+)?(?:/[A-Za-z]+)?"
                      r"(?:\s(?:per\s[a-z]+|mile|miles|celsius|c))?)", tail)
        unit = ""
        if um:
            cand = um.group(1).replace("° ", "°")
            # the longest prefix of the words after the number that is a known unit
            words = cand.split()
            for k in range(len(words), 0, -1):
                if unit_info(" ".join(words[:k])):
                    unit = " ".join(words[:k])
                    break
        out.append(Quantity(value, unit))
    if not out:
        low = text.lower()
        for m in re.finditer(r"[a-z]+", low):
            if m.group() in _WORD_NUMBERS:
                after = re.match(r"\s([a-zµ]+)", low[m.end():m.end() + 16])
                unit = after.group(1) if after and unit_info(after.group(1)) else ""
                out.append(Quantity(float(_WORD_NUMBERS[m.group()]), unit))
                break
    return out


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


# --------------------------------------------------------------------------- letters and booleans


def extract_letter(reply: str, choices: list[str]) -> int | None:
    """The choice a reply picks: a letter (A, (b), 'Answer: C'), or the exact text of one choice."""
    letters = LETTERS[: len(choices)]
    text = reply.strip()
    m = re.match(rf"^\W*([{letters}{letters.lower()}])(?:\W|$)", text)
    rest = text[m.end(1):] if m else ""
    if m and (not rest.strip(" .)]:") or rest[:1] in ".):]" or text.lstrip()[:1] in "(["):
        return letters.index(m.group(1).upper())
    m = re.search(rf"\b(?:answer|option|choice)\s*(?:is)?\s*:?\s*\(?([{letters}])\b", text, re.I)
    if m:
        return letters.index(m.group(1).upper())
    norm = normalize_answer(text)
    hits = [i for i, c in enumerate(choices) if normalize_answer(c) and normalize_answer(c) == norm]
    if len(hits) == 1:
        return hits[0]
    hits = [i for i, c in enumerate(choices) if len(normalize_answer(c)) > 3 and normalize_answer(c) in norm]
    return hits[0] if len(hits) == 1 else None


def parse_bool(reply: str) -> bool | None:
    w = normalize_answer(reply).split()
    if not w:
        return None
    if w[0] in {"true", "yes", "correct", "right", "t"}:
        return True
    if w[0] in {"false", "no", "incorrect", "wrong", "f", "not"}:
        return False
    m = re.search(r"\b(true|false)\b", " ".join(w))
    return None if m is None else m.group(1) == "true"


# --------------------------------------------------------------------------- grades


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


# --------------------------------------------------------------------------- targets


class TargetReply(BaseModel):
    # maxLength in the schema only (not enforced on parse): a local model's grammar then always closes
    # the string, so a rambling reply cannot run out of tokens mid-JSON
    answer: str = Field(json_schema_extra={"maxLength": 160})


_INSTRUCTIONS = {
    "open": "Answer with a short phrase.",
    "numeric": "Answer with the number and its unit.",
    "mcq": "Answer with the letter of the correct choice.",
    "tf": "Is the statement true or false? Answer True or False.",
}


@dataclass
class TargetResult:
    target: str
    mode: Mode
    reply: str | None  # None: missing
    correct: bool | None
    method: str
    score: float = 0.0
    detail: str = ""
    choice_order: list[int] = field(default_factory=list)
    panel: dict[str, Any] | None = None
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        d = {"target": self.target, "mode": self.mode, "reply": self.reply, "correct": self.correct,
             "method": self.method, "score": round(self.score, 4), "detail": self.detail}
        if self.choice_order and self.choice_order != sorted(self.choice_order):
            d["choice_order"] = self.choice_order
        if self.panel:
            d["panel"] = self.panel
        if self.error:
            d["error"] = self.error
        return d


def context_for(question: Question, chunks: dict[str, Chunk]) -> str:
    return question.source_text({c: chunks[c].text for c in question.chunk_ids if c in chunks})


class TargetRunner:
    """Puts questions to target models (closed-book or with the source text) and grades the replies.

    Results are kept per (question, target, mode), so the answerability and difficulty
    validators share one set of calls; the model calls themselves are also on-disk cached.
    """

    def __init__(self, targets: list[ModelClient], panel: JudgePanel | None = None):
        self.targets = targets
        self.panel = panel
        self.prompt = load_prompt("target_answer")
        self.results: dict[tuple[str, str, str], TargetResult] = {}
        self.missing = 0

    @property
    def names(self) -> list[str]:
        return [t.spec.label for t in self.targets]

    def messages(self, q: Question, mode: Mode, order: list[int], context: str) -> list[dict[str, str]]:
        choices = ""
        if q.kind == "mcq":
            choices = "".join(f"{LETTERS[i]}. {neutralize(q.choices[k])}\n" for i, k in enumerate(order))
        ctx = f"Source text:\n{fence(context)}\n\n" if mode == "with_document" and context else ""
        return self.prompt.render(context=ctx, question=neutralize(q.question), choices=choices,
                                  instruction=_INSTRUCTIONS[q.kind])

    def reply(self, client: ModelClient, q: Question, mode: Mode, context: str) -> TargetResult:
        """The target's reply, not yet graded (correct is None until grade_result)."""
        name = client.spec.label
        order = choice_order(q, name)
        try:
            r = client.complete_json(self.messages(q, mode, order, context), TargetReply, temperature=0.0,
                                     max_tokens=128)
        except EndpointDown:  # the circuit breaker is open: the build stops, this is no missing reply
            raise
        except BenchmintError as exc:
            self.missing += 1
            return TargetResult(name, mode, None, None, "missing", choice_order=order, error=str(exc)[:300])
        return TargetResult(name, mode, r.answer, None, "ungraded", choice_order=order)

    def grade_result(self, q: Question, res: TargetResult) -> TargetResult:
        if res.reply is None:
            return res
        g = grade(q, res.reply, res.choice_order, self.panel)
        res.correct, res.method, res.score, res.detail, res.panel = g.correct, g.method, g.score, g.detail, g.panel
        return res

    def run(self, questions: list[Question], mode: Mode,
            context_of: Callable[[Question], str] | dict[str, Chunk]) -> dict[str, list[TargetResult]]:
        """Per question id, one result per target (answered once, then remembered).

        `context_of` gives a question's source text (or is the chunks by id). Every target
        answers first, then the replies are graded: the judges' calls do not interleave with a
        target's, so a local server keeps the shared prompt prefix (the source text) cached."""
        if isinstance(context_of, dict):
            chunks = context_of
            context_of = lambda q: context_for(q, chunks)  # noqa: E731
        replies: list[tuple[Question, TargetResult]] = []
        for client in self.targets:
            name = client.spec.label
            todo = [q for q in questions if (q.id, name, mode) not in self.results]
            workers = max(1, min(client.spec.max_concurrency if not client.spec.is_local else 1, len(todo) or 1))
            with ThreadPoolExecutor(max_workers=workers) as ex:
                replies += zip(todo, ex.map(lambda q: self.reply(client, q, mode, context_of(q)), todo))
        for q, res in replies:
            self.results[(q.id, res.target, mode)] = self.grade_result(q, res)
        return {q.id: [self.results[(q.id, t.spec.label, mode)] for t in self.targets] for q in questions}

    def accuracy(self, mode: Mode) -> dict[str, float]:
        """Each target's accuracy over every question it answered in `mode` so far (missing excluded)."""
        out: dict[str, float] = {}
        for t in self.names:
            graded = [r.correct for (qid, name, m), r in self.results.items() if name == t and m == mode
                      and r.correct is not None]
            out[t] = sum(graded) / len(graded) if graded else 0.0
        return out


def pass_rate(results: list[TargetResult]) -> float | None:
    graded = [r.correct for r in results if r.correct is not None]
    return sum(graded) / len(graded) if graded else None
