"""Reading and grading a reply as benchmint does (validators/answers.py, validators/grading.py,
benchmint/quantities.py), with the standard library only: an export copies this code into a release
(inspect_task.py, lm_eval_tasks/benchmint_grading.py), which is loaded where benchmint is not installed.
tests/unit/test_export_grading.py keeps it in step with benchmint's grading."""

import math
import re
import string
from collections import Counter

UNITS: dict = {}  # export: benchmint's unit table, alias -> [dimension, factor to the base unit]
ARTICLES = re.compile(r"\b(a|an|the)\b")
PUNCT = str.maketrans("", "", string.punctuation + "‘’“”–—")
NUMBER = re.compile(r"(?<![\w.])[-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?|(?<![\w.])[-−]?\.\d+")
UNIT_AFTER = re.compile(r"\s?(%|°\s?[cCfF]|[A-Za-zµ]+(?:-[A-Za-z]+)?(?:/[A-Za-z]+)?"
                        r"(?:\s(?:per\s[a-z]+|mile|miles|celsius|c))?)")
WORD_NUMBERS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
LETTERS = "ABCDEFGHIJ"  # the letters of a multiple-choice question's choices, in order


def normalize(s: str) -> str:
    s = s.lower().translate(PUNCT)
    return " ".join(ARTICLES.sub(" ", s).split())


def exact_match(reply: str, gold: str) -> bool:
    p, g = normalize(reply), normalize(gold)
    if not g:
        return False
    # the gold phrase inside a short reply counts too
    inside = re.search(rf"(?<!\w){re.escape(g)}(?!\w)", p) is not None
    return p == g or (len(p.split()) <= len(g.split()) + 6 and inside)


def token_f1(reply: str, gold: str) -> float:
    p, g = normalize(reply).split(), normalize(gold).split()
    if not p or not g:
        return float(p == g)
    common = sum((Counter(p) & Counter(g)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def unit_info(unit: str) -> tuple | None:
    u = " ".join(unit.lower().replace("per cent", "percent").split()).rstrip(".")
    return UNITS.get(u) or (UNITS.get(u[:-1]) if u.endswith("s") else None)


def quantities(text: str) -> list[tuple[float, str]]:
    """Every number in `text` with the unit written right after it ("" when none)."""
    out = []
    for m in NUMBER.finditer(text):
        try:
            value = float(m.group(0).replace(",", "").replace("−", "-"))
        except ValueError:
            continue
        um, unit = UNIT_AFTER.match(text[m.end():m.end() + 24]), ""
        words = um.group(1).replace("° ", "°").split() if um else []
        for k in range(len(words), 0, -1):  # the longest run of words that is a known unit
            if unit_info(" ".join(words[:k])):
                unit = " ".join(words[:k])
                break
        out.append((value, unit))
    if not out:
        low = text.lower()
        for m in re.finditer(r"[a-z]+", low):
            if m.group() in WORD_NUMBERS:
                after = re.match(r"\s([a-zµ]+)", low[m.end():m.end() + 16])
                out.append((float(WORD_NUMBERS[m.group()]), after.group(1) if after and unit_info(after.group(1))
                            else ""))
                break
    return out


def convert(value: float, from_unit: str, to_unit: str) -> float | None:
    if not from_unit or not to_unit or normalize(from_unit) == normalize(to_unit):
        return value
    a, b = unit_info(from_unit), unit_info(to_unit)
    return None if a is None or b is None or a[0] != b[0] else value * a[1] / b[1]


def numeric_correct(reply: str, gold: str, unit: str = "", tolerance: float = 0.0) -> bool:
    """A number in the reply within `tolerance` of the gold, after converting units of one dimension."""
    golds = quantities(gold)
    if not golds:
        return False
    g_value, g_unit = golds[0]
    gold_unit, tol = unit or g_unit, max(tolerance, 1e-9 * max(1.0, abs(g_value)))
    found = sorted(quantities(reply), key=lambda q: 0 if q[1] and convert(1.0, q[1], gold_unit) is not None else 1)
    for value, u in found:
        v = convert(value, u, gold_unit) if u else value
        if v is not None and math.isclose(v, g_value, abs_tol=tol):
            return True
    return False


def picked_letter(reply: str, choices: list) -> str | None:
    """The choice a reply picks: a letter (A, (b), 'Answer: C'), or the exact text of one choice."""
    letters = LETTERS[: len(choices)]
    text = reply.strip()
    m = re.match(rf"^\W*([{letters}{letters.lower()}])(?:\W|$)", text)
    rest = text[m.end(1):] if m else ""
    if m and (not rest.strip(" .)]:") or rest[:1] in ".):]" or text.lstrip()[:1] in "(["):
        return m.group(1).upper()
    m = re.search(rf"\b(?:answer|option|choice)\s*(?:is)?\s*:?\s*\(?([{letters}])\b", text, re.I)
    if m:
        return m.group(1).upper()
    norm = normalize(text)
    hits = [i for i, c in enumerate(choices) if normalize(c) and normalize(c) == norm]
    if len(hits) != 1:
        hits = [i for i, c in enumerate(choices) if len(normalize(c)) > 3 and normalize(c) in norm]
    return letters[hits[0]] if len(hits) == 1 else None


def as_bool(reply: str) -> bool | None:
    w = normalize(reply).split()
    if not w:
        return None
    if w[0] in {"true", "yes", "correct", "right", "t"}:
        return True
    if w[0] in {"false", "no", "incorrect", "wrong", "f", "not"}:
        return False
    m = re.search(r"\b(true|false)\b", " ".join(w))
    return None if m is None else m.group(1) == "true"
