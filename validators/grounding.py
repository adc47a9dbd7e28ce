"""Grounding: every citation is in its chunk, one is a real sentence, the answer is in them.

- each citation matches its chunk with rapidfuzz partial ratio >= min_ratio on
  normalized text (NFKC, case, quotes, dashes, whitespace);
- at least one matched citation has min_words words or more (a title or a
  two-word fragment grounds nothing);
- the answer is supported by the cited text: at least min_answer_support of its
  content words (every number among them) occur in the matched citations;
- a computed numeric answer (the `numeric:computed` tactic) is supported instead by
  its derivation: arithmetic over numbers that all occur in the matched citations,
  which evaluates to the answer within its tolerance, and whose units agree: only
  like quantities are added or subtracted, and the result is in the answer's unit
  (4 hours * 60 is 240 minutes; 4 minutes * 60 is not 240 minutes, and seconds
  divided by seconds is no number of seconds); a number the text does not hold is
  only a unit factor, and a question that names a cited number its derivation does
  not use asks about something else.
The matched span of each citation in the document is recorded as evidence.
"""

from __future__ import annotations

import re
import unicodedata

from rapidfuzz import fuzz

from benchmint.arithmetic import evaluate_arithmetic, fold, parse_arithmetic
from benchmint.records import Question, Verdict, normalize_text
from validators.base import Context
from validators.scoring import parse_quantities, unit_info

STOPWORDS = frozenset(
    "a an the of to in on at by for with from and or but is are was were be been being it its this that these "
    "those as into than then there their they them he she his her we our you your i not no do does did has have "
    "had which who whom what when where why how will would can could should may might must shall also each per "
    "about after before over under up down out s".split()
)
_WORD = re.compile(r"[\w.,:/-]*\w|\w")


def normalize_with_map(text: str) -> tuple[str, list[int]]:
    """normalize_text, plus for each output character the index of its source character."""
    out: list[str] = []
    idx: list[int] = []
    prev_space = True
    for i, ch in enumerate(text):
        for c in normalize_text(unicodedata.normalize("NFKC", ch)) or (" " if ch.isspace() else ""):
            if c == " ":
                if prev_space:
                    continue
                prev_space = True
            else:
                prev_space = False
            out.append(c)
            idx.append(i)
    while out and out[-1] == " ":
        out.pop()
        idx.pop()
    return "".join(out), idx


def content_words(text: str) -> list[str]:
    words = []
    for w in _WORD.findall(normalize_text(text)):
        w = w.strip(".,:/-")
        if not w or w in STOPWORDS:
            continue
        if not any(ch.isdigit() for ch in w):
            w = _stem(w)
        words.append(w.replace(",", ""))
    return words


def _stem(w: str) -> str:
    for suf in ("ies", "es", "s"):
        if len(w) > 4 and w.endswith(suf):
            return w[: -len(suf)] + ("y" if suf == "ies" else "")
    return w


def answer_support(answer: str, cited: str) -> float:
    """Share of the answer's content words found in the cited text (0 if a number is missing)."""
    words = content_words(answer)
    if not words:
        return 1.0 if normalize_text(answer) in normalize_text(cited) else 0.0
    have = set(content_words(cited))
    cited_norm = normalize_text(cited).replace(",", "")
    # a unit written another way ("78 kg" for "78 kilograms") is the same unit
    cited_units = {unit_info(x.unit) for x in parse_quantities(cited) if x.unit} - {None}
    found = 0
    for w in words:
        if w in have or (len(w) > 3 and w in cited_norm) or unit_info(w) in cited_units:
            found += 1
        elif any(ch.isdigit() for ch in w):
            return 0.0
    return found / len(words)


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
        return False, f"the derivation {q.derivation!r} gives a negative {value:g}: a difference is written larger first"
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


# a quantity's measure: (dimension, factor to the dimension's base unit); None for a plain count or a
# unit not known; ("factor", c) for a unit factor (a free constant the text does not hold)
Measure = tuple[str, float] | None
_CURRENCY_CODE = r"(?:NOK|SEK|DKK|EUR|USD|GBP|CAD|AUD|CHF|JPY|[$€£])"
_CURRENCY = re.compile(rf"(?<![A-Za-z])({_CURRENCY_CODE})\s?(?=[-−]?\d)")


def measure_of(unit: str) -> Measure:
    u = unit.strip()
    if re.fullmatch(_CURRENCY_CODE, u):
        return (f"money {u.upper()}", 1.0)
    info = unit_info(u) if u else None
    if info is None:
        return None
    dim, factor = info
    return ("ratio", factor / 100) if dim == "percent" else (dim, factor)


def _cited_measures(cited: str) -> dict[float, Measure]:
    out: dict[float, Measure] = {}
    for x in parse_quantities(cited):
        out.setdefault(round(x.value, 9), measure_of(x.unit))
    for m in re.finditer(r"(?<![\d:])([01]?\d|2[0-3]):[0-5]\d(?![\d:])", cited):  # a clock time: its hour
        out[round(float(m.group(1)), 9)] = ("time", 3600.0)
    for m in _CURRENCY.finditer(cited):
        after = parse_quantities(cited[m.end():m.end() + 24])
        if after:
            out[round(after[0].value, 9)] = (f"money {m.group(1).upper()}", 1.0)
    return out


def like_quantities(text: str, limit: int = 6) -> list[tuple[str, str]]:
    """Pairs of different numbers of the same measure (same unit or currency) in `text`, as
    written ("520 millimetres", "1,620 millimetres"): the material of a computed question.
    Pairs are taken from each measure in turn, so one long list does not crowd out the rest."""
    seen: dict[Measure, dict[float, str]] = {}
    pattern = rf"(?P<cur>{_CURRENCY_CODE}\s?)?(?P<num>[-−]?\d(?:[\d,]*\d)?(?:\.\d+)?)"
    for m in re.finditer(pattern, text):
        found = parse_quantities(text[m.start("num"):m.end("num") + 24])
        unit = found[0].unit if found else ""
        written = " ".join(f"{(m.group('cur') or '').strip()} {m.group('num')} {unit}".split())
        measures = _cited_measures(written)
        if len(measures) != 1:
            continue
        (value, measure), = measures.items()
        if measure is None:
            continue
        seen.setdefault(measure, {}).setdefault(value, written)
    per_measure = [[(a, b) for i, a in enumerate(g) for b in list(g)[i + 1:]] for g in
                   ([*v.values()] for v in seen.values())]
    pairs = [p for k in range(max(map(len, per_measure), default=0)) for group in per_measure
             if k < len(group) for p in [group[k]]]
    return pairs[:limit]


def _dim_name(m: Measure) -> str:
    return {None: "a plain number", "ratio": "a ratio", "compound": "a compound quantity"}.get(
        m if m is None else m[0], m[0] if m else "")


_SCALING = frozenset({1.0, 2.0, 10.0})  # constants read as "half", "twice", "ten times" as well as unit factors


def units_problem(derivation: str, unit: str, question: str, cited: str) -> str | None:
    """Why the derivation's units do not give an answer in `unit`, or None when they do (or
    cannot be told: plain counts and units not known pass). A constant the text does not hold
    is a unit factor (60, 24, 1000, 100 for a percentage...); 2 and 10 may also scale. Without
    a unit, the one the question names ("how many minutes") is used."""
    measures = _cited_measures(cited)
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
        if all(m[0] == "ratio" for m in results) and unit.strip() and unit.strip().lower() not in ("times", "x", "fold"):
            return f"it gives a ratio, but the answer is in {unit}"
        return None
    if any(m[0] == want[0] and close(m[1], want[1]) for m in results):
        return None
    if all(m[0] == "compound" for m in results):
        return f"it gives a quantity of another kind (one unit per another), not {unit or 'the unit the question names'}"
    if not any(m[0] == want[0] for m in results):
        return f"it gives {_dim_name(next(iter(results)))}, but the answer is in {unit or 'the unit the question names'}"
    return f"its value is in another unit than {unit or 'the one the question names'}"


class GroundingValidator:
    name = "grounding"

    def __init__(self, min_ratio: float = 90.0, min_words: int = 6, min_answer_support: float = 0.6):
        self.min_ratio = min_ratio
        self.min_words = min_words
        self.min_answer_support = min_answer_support

    def check(self, questions: list[Question], ctx: Context) -> list[Verdict]:
        return [self._check_one(q, ctx) for q in questions]

    def _check_one(self, q: Question, ctx: Context) -> Verdict:
        if not q.citations:
            return Verdict(validator=self.name, passed=False, score=0.0, reason="no citation")
        per_cite = []
        normalized_chunks: dict[str, tuple[str, list[int]]] = {}
        for c in q.citations:
            chunk = ctx.chunks.get(c.chunk_id)
            if chunk is None:
                per_cite.append({"quote": c.quote, "ratio": 0.0, "found": False, "reason": f"unknown chunk {c.chunk_id}"})
                continue
            if chunk.id not in normalized_chunks:
                normalized_chunks[chunk.id] = normalize_with_map(chunk.text)
            hay, idx = normalized_chunks[chunk.id]
            needle = normalize_text(c.quote)
            if not needle:
                per_cite.append({"quote": c.quote, "ratio": 0.0, "found": False, "reason": "empty quote"})
                continue
            al = fuzz.partial_ratio_alignment(needle, hay)
            ratio = al.score if al is not None else 0.0
            entry = {"quote": c.quote, "ratio": round(ratio, 1), "found": ratio >= self.min_ratio,
                     "words": len(needle.split())}
            if al is not None and entry["found"] and al.dest_end > al.dest_start:
                start = chunk.start + idx[al.dest_start]
                end = chunk.start + idx[al.dest_end - 1] + 1
                entry.update(start=start, end=end)
                c.start, c.end = start, end
            per_cite.append(entry)
        ratios = [e["ratio"] for e in per_cite]
        evidence: dict = {"citations": per_cite}
        missing = [e for e in per_cite if not e["found"]]
        if missing:
            return Verdict(validator=self.name, passed=False, score=min(ratios) / 100, evidence=evidence,
                           reason=f"{len(missing)} of {len(per_cite)} citations not found in the source "
                                  f"(best ratio {max(e['ratio'] for e in missing):.0f} < {self.min_ratio:.0f})")
        if not any(e["words"] >= self.min_words for e in per_cite):
            return Verdict(validator=self.name, passed=False, score=min(ratios) / 100, evidence=evidence,
                           reason=f"no citation is a sentence or clause of {self.min_words}+ words")
        if len(q.chunk_ids) > 1:  # multi-hop: every hop cited
            cited_chunks = {c.chunk_id for c, e in zip(q.citations, per_cite) if e["found"]}
            uncited = [c for c in q.chunk_ids if c not in cited_chunks]
            if uncited:
                return Verdict(validator=self.name, passed=False, score=min(ratios) / 100, evidence=evidence,
                               reason=f"{len(uncited)} of {len(q.chunk_ids)} hops have no citation found in them")
        cited = " ".join(e["quote"] for e in per_cite)
        if q.derivation:
            ok, why = derivation_support(q, cited)
            evidence["derivation"] = why
            if not ok:
                return Verdict(validator=self.name, passed=False, score=0.0, evidence=evidence,
                               reason=f"the computed answer is not supported: {why}")
            return Verdict(validator=self.name, passed=True, score=min(ratios) / 100, evidence=evidence,
                           reason=f"all citations found; the answer is computed from them ({why})")
        # a true/false question's answer is a truth value: the true statement is what must be supported
        support = answer_support(q.rationale if q.kind == "tf" else q.answer, cited)
        evidence["answer_support"] = round(support, 3)
        if support < self.min_answer_support:
            return Verdict(validator=self.name, passed=False, score=min(ratios) / 100 * support, evidence=evidence,
                           reason=f"the answer is not supported by the cited text (support {support:.2f} < {self.min_answer_support})")
        return Verdict(validator=self.name, passed=True, score=min(ratios) / 100 * min(1.0, 0.5 + support / 2),
                       evidence=evidence, reason="all citations found; answer supported")
