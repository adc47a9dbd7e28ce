"""A computed numeric answer (the `numeric:computed` tactic) is supported by its derivation: arithmetic
over numbers that all occur in the matched citations, which evaluates to the answer within its
tolerance, and whose units agree: only like quantities are added or subtracted, and the result is in
the answer's unit (4 hours * 60 is 240 minutes; 4 minutes * 60 is not 240 minutes, and seconds divided
by seconds is no number of seconds); a number the text does not hold is only a unit factor, and a
question that names a cited number its derivation does not use asks about something else."""

from __future__ import annotations

import re

from benchmint.arithmetic import evaluate_arithmetic, fold, parse_arithmetic
from benchmint.quantities import Measure, cited_measures, measure_of, parse_quantities
from benchmint.records import Question

# numbers a derivation may use without citing them: halves, percentages and unit factors
FREE_CONSTANTS = frozenset({1.0, 2.0, 10.0, 12.0, 24.0, 60.0, 100.0, 365.0, 1000.0})


def derivation_support(q: Question, cited: str) -> tuple[bool, str]:
    """Whether the question's derivation uses only cited numbers (and unit factors), gives its
    answer, and keeps its units straight (see `units_problem`)."""
    try:
        value, numbers = evaluate_arithmetic(q.derivation)
    except ValueError as exc:
        return False, str(exc)
    cited_numbers = {round(x.value, 9) for x in parse_quantities(cited)}
    absent = [n for n in numbers if round(n, 9) not in cited_numbers and n not in FREE_CONSTANTS]
    if absent:
        return False, f"the derivation uses {', '.join(f'{n:g}' for n in absent)}, not in the cited text"
    if not any(round(n, 9) in cited_numbers for n in numbers):
        return False, f"the derivation {q.derivation!r} uses no number of the cited text"
    answers = parse_quantities(q.answer)
    if not answers:
        return False, f"the answer {q.answer!r} holds no number"
    if value < 0 <= min(n for n in numbers):
        return False, (f"the derivation {q.derivation!r} gives a negative {value:g}: a difference is written "
                       "larger first")
    tol = max(q.tolerance, 1e-9 * abs(value))
    if abs(answers[0].value - value) > tol:
        return False, f"the derivation {q.derivation!r} gives {value:g}, not the answer {answers[0].value:g}"
    used = {round(x, 9) for x in numbers}
    unused = [n for n in _plain_numbers(q.question) if round(n, 9) in cited_numbers and round(n, 9) not in used]
    if unused:
        return False, (f"the question names {unused[0]:g}, a cited number its derivation {q.derivation!r} "
                       "does not use: it asks about something else")
    problem = units_problem(q.derivation, q.unit or answers[0].unit, q.question, cited)
    if problem:
        return False, f"{q.derivation}: {problem}"
    return True, f"{q.derivation} = {value:g}"


def _plain_numbers(text: str) -> list[float]:
    """Numbers written on their own ("12.0", "±0.1", "40%"), not inside a name ("MB-40", "4.7.2"),
    leaving out years."""
    out = []
    for tok in text.split():
        m = re.fullmatch(r"[(±~≈]*([-−]?\d{1,3}(?:,\d{3})+|[-−]?\d+)(\.\d+)?%?[),.;:?!]*", tok)
        if m:
            value = float((m.group(1) + (m.group(2) or "")).replace(",", "").replace("−", "-"))
            if not (m.group(2) is None and 1900 <= value <= 2100):
                out.append(value)
    return out


def _dim_name(m: Measure) -> str:
    return {None: "a plain number", "ratio": "a ratio", "compound": "a compound quantity"}.get(
        m if m is None else m[0], m[0] if m else "")


_SCALING = frozenset({1.0, 2.0, 10.0})  # constants read as "half", "twice", "ten times" as well as unit factors


def units_problem(derivation: str, unit: str, question: str, cited: str) -> str | None:
    """Why the derivation's units do not give an answer in `unit`, or None when they do (or
    cannot be told: plain counts and units not known pass). A constant the text does not hold
    is a unit factor (60, 24, 1000, 100 for a percentage...); 2 and 10 may also scale. Without
    a unit, the one the question names ("how many minutes") is used."""
    measures = cited_measures(cited)
    close = lambda a, b: abs(a - b) <= 1e-9 * max(abs(a), abs(b))  # noqa: E731

    def leaf(x: float) -> set[Measure]:
        key = round(x, 9)
        if key in measures:
            return {measures[key]}
        return {("factor", x)} if x in FREE_CONSTANTS else {None}

    def real(m: Measure) -> bool:
        return m is not None and m[0] != "factor"

    def one(sym: str, a: Measure, b: Measure) -> list[Measure]:
        for x, other in ((a, b), (b, a)):
            # a number the text does not hold is a unit factor (or "twice", "half"), never an operand
            if x is not None and x[0] == "factor" and other is None and not (x[1] in _SCALING and sym in "*/"):
                raise ValueError(f"it uses {x[1]:g}, a number the text does not hold, as a quantity")
        if sym == "/" and a is not None and a[0] == "factor" and b is not None:
            raise ValueError(f"it divides {a[1]:g}, a number the text does not hold, by a quantity")
        if sym in "+-":
            if (a is not None and a[0] == "factor") or (b is not None and b[0] == "factor"):
                raise ValueError("it adds or subtracts a number the text does not hold")
            if real(a) and real(b):
                if a[0] != b[0]:
                    raise ValueError(f"it {'adds' if sym == '+' else 'subtracts'} {_dim_name(b)} "
                                     f"{'to' if sym == '+' else 'from'} {_dim_name(a)}")
                if not close(a[1], b[1]):
                    raise ValueError(f"it combines {a[0]} written in different units")
            return [a if real(a) else b if real(b) else None]
        if sym == "*" and real(b) and not real(a):
            a, b = b, a
        if real(a) and b is not None and b[0] == "factor":
            c = b[1]
            converted = (a[0], a[1] / c) if sym == "*" else (a[0], a[1] * c)  # 4 hours * 60: 240 minutes
            return [converted, a] if c in _SCALING else [converted]
        if real(a) and real(b):
            if sym == "*":
                if "ratio" in (a[0], b[0]):
                    other, ratio = (b, a) if a[0] == "ratio" else (a, b)
                    return [(other[0], other[1] * ratio[1])]
                return [("compound", 0.0)]  # e.g. watt-hours times hours
            return [("ratio", a[1] / b[1]) if a[0] == b[0] else ("compound", 0.0)]
        if sym == "*":
            return [a if real(a) else None]
        return [a if real(a) and b is None else None]

    def op(sym: str, left: set[Measure], right: set[Measure]) -> set[Measure]:
        out: set[Measure] = set()
        errors = []
        for a in left:
            for b in right:
                try:
                    out.update(one(sym, a, b))
                except ValueError as exc:
                    errors.append(str(exc))
        if not out:
            raise ValueError(errors[0])
        return out

    try:
        results = fold(parse_arithmetic(derivation), leaf, op, lambda m: m, derivation)
    except ValueError as exc:
        return str(exc)
    results = {m for m in results if real(m)}
    if not results:
        return None
    want = measure_of(unit)
    if want is None and not unit.strip():
        named = re.search(r"\bhow (?:many|much)\s+(?:more\s+|fewer\s+|less\s+)?([a-z%]+)", question.lower())
        want = measure_of(named.group(1)) if named else None
    if want is None:
        # a unit not known passes, except on a ratio: a share is no number of "degrees"
        ratio_only = all(m[0] == "ratio" for m in results)
        if ratio_only and unit.strip() and unit.strip().lower() not in ("times", "x", "fold"):
            return f"it gives a ratio, but the answer is in {unit}"
        return None
    if any(m[0] == want[0] and close(m[1], want[1]) for m in results):
        return None
    if all(m[0] == "compound" for m in results):
        return ("it gives a quantity of another kind (one unit per another), "
                f"not {unit or 'the unit the question names'}")
    if not any(m[0] == want[0] for m in results):
        return (f"it gives {_dim_name(next(iter(results)))}, "
                f"but the answer is in {unit or 'the unit the question names'}")
    return f"its value is in another unit than {unit or 'the one the question names'}"
