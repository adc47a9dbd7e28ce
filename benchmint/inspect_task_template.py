"""inspect_ai tasks for this release: one per question kind, graded the way `benchmint eval` grades.

    inspect eval inspect_task.py@mcq --model openai-api/local/MODEL
    (with LOCAL_BASE_URL=http://127.0.0.1:PORT/v1 and LOCAL_API_KEY set; open answers that are not an
    exact match go to a grader model: --model-role grader=openai-api/local/JUDGE, else the task's model)

Each task reads this folder's config of its kind with `datasets` (the card's `configs:` block); the question
is asked with the source text it was written from. This file stands alone (a release is loaded without
benchmint installed), so the grading below is a small copy of benchmint's (validators/grading.py), kept in
step by benchmint's tests: numeric replies within the question's tolerance after unit conversion, mcq by the
letter, tf by true/false, open answers by normalized exact match, else the judge rubric benchmint's judges use.
"""

import math
import re
import string
from collections import Counter
from pathlib import Path

from inspect_ai import Task, task
from inspect_ai.dataset import Sample, hf_dataset
from inspect_ai.scorer import CORRECT, INCORRECT, Score, Scorer, Target, accuracy, model_graded_qa, scorer, stderr
from inspect_ai.solver import TaskState, generate

HERE = str(Path(__file__).resolve().parent)
VERSION = "0"  # export: the release's version
UNITS: dict = {}  # export: benchmint's unit table, alias -> [dimension, factor to the base unit]
JUDGE_TEMPLATE = "{question} {criterion} {answer}"  # export: benchmint's judge prompt, as inspect's template
JUDGE_VERDICT = r'(?is)"verdict"\s*:\s*(true|false)'

# --- reading a reply (benchmint: validators/answers.py, benchmint/quantities.py)
ARTICLES = re.compile(r"\b(a|an|the)\b")
PUNCT = str.maketrans("", "", string.punctuation + "‘’“”–—")
NUMBER = re.compile(r"(?<![\w.])[-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?|(?<![\w.])[-−]?\.\d+")
UNIT_AFTER = re.compile(r"\s?(%|°\s?[cCfF]|[A-Za-zµ]+(?:-[A-Za-z]+)?(?:/[A-Za-z]+)?"
                        r"(?:\s(?:per\s[a-z]+|mile|miles|celsius|c))?)")
WORD_NUMBERS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
LETTERS = "ABCD"


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
    return 0.0 if common == 0 else 2 * common / (len(p) + len(g))


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


def _score(ok: bool, answer: str, why: str) -> Score:
    return Score(value=CORRECT if ok else INCORRECT, answer=answer, explanation=why)


# --- scorers
@scorer(metrics=[accuracy(), stderr()])
def numeric_answer() -> Scorer:
    async def score(state: TaskState, target: Target) -> Score:
        reply, md = state.output.completion, state.metadata
        ok = numeric_correct(reply, target.text, md.get("unit") or "", float(md.get("tolerance") or 0.0))
        return _score(ok, reply, f"gold {target.text} {md.get('unit') or ''}, tolerance {md.get('tolerance')}")
    return score


@scorer(metrics=[accuracy(), stderr()])
def letter_answer() -> Scorer:
    async def score(state: TaskState, target: Target) -> Score:
        reply = state.output.completion
        pick = picked_letter(reply, state.metadata["choices"])
        return _score(pick == target.text, reply, f"picked {pick}, gold {target.text}")
    return score


@scorer(metrics=[accuracy(), stderr()])
def true_false_answer() -> Scorer:
    async def score(state: TaskState, target: Target) -> Score:
        reply = state.output.completion
        got = as_bool(reply)
        return _score(got is not None and got == as_bool(target.text), reply, f"replied {got}, gold {target.text}")
    return score


@scorer(metrics=[accuracy(), stderr()])
def judged_answer() -> Scorer:
    """Exact match first (no judge needed); else a grader model with benchmint's judge rubric; a grader
    whose verdict cannot be read leaves token F1 >= 0.5, as benchmint's panel does on a tie."""
    judge = model_graded_qa(template=JUDGE_TEMPLATE, grade_pattern=JUDGE_VERDICT,
                            include_history=lambda state: state.metadata["question"])

    async def score(state: TaskState, target: Target) -> Score:
        reply = state.output.completion
        if exact_match(reply, target.text):
            return _score(True, reply, "normalized exact match")
        if not reply.strip():
            return _score(False, reply, "no reply")
        verdict = await judge(state, target)
        value = str(verdict.value).lower() if verdict is not None else ""
        if value not in ("true", "false"):
            f1 = token_f1(reply, target.text)
            return _score(f1 >= 0.5, reply, f"grader gave no verdict; token F1 {f1:.2f}")
        return _score(value == "true", reply, f"judge: {verdict.explanation}")
    return score


# --- datasets
def _context(record: dict) -> str:
    return f"Source text:\n{record['context']}\n\n" if record.get("context") else ""


def _dataset(kind: str, to_sample):  # noqa: ANN001, ANN202 - a record -> Sample function; inspect's Dataset
    return hf_dataset(HERE, split="test", name=kind, sample_fields=to_sample, cached=False)


def _open(record: dict) -> Sample:
    return Sample(id=record["id"], input=_context(record) + f"Question: {record['question']}\n"
                  "Answer with a short phrase, on one line.", target=record["answer"],
                  metadata={"question": record["question"]})


def _numeric(record: dict) -> Sample:
    return Sample(id=record["id"], input=_context(record) + f"Question: {record['question']}\n"
                  "Answer with the number and its unit, on one line.", target=record["answer"],
                  metadata={"unit": record["unit"], "tolerance": record["tolerance"]})


def _mcq(record: dict) -> Sample:
    options = "".join(f"{LETTERS[i]}. {c}\n" for i, c in enumerate(record["choices"]))
    return Sample(id=record["id"], input=_context(record) + f"Question: {record['question']}\n{options}"
                  "Answer with the letter of the correct choice only.", target=record["answer_letter"],
                  metadata={"choices": list(record["choices"])})


def _tf(record: dict) -> Sample:
    return Sample(id=record["id"], input=_context(record) + f"Statement: {record['question']}\n"
                  "Is the statement true or false? Answer True or False.", target=record["answer"])


def _task(kind: str, to_sample, grader) -> Task:  # noqa: ANN001 - a record -> Sample function, a scorer
    return Task(dataset=_dataset(kind, to_sample), solver=generate(), scorer=grader, version=VERSION)


# --- tasks (export: those of the kinds this release holds)
@task(name="open")
def open_answer() -> Task:
    return _task("open", _open, judged_answer())


@task
def numeric() -> Task:
    return _task("numeric", _numeric, numeric_answer())


@task
def mcq() -> Task:
    return _task("mcq", _mcq, letter_answer())


@task
def tf() -> Task:
    return _task("tf", _tf, true_false_answer())
