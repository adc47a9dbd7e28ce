"""inspect_ai tasks for this release: one per question kind, graded the way `benchmint eval` grades.

    inspect eval inspect_task.py@mcq --model openai-api/local/MODEL
    (with LOCAL_BASE_URL=http://127.0.0.1:PORT/v1 and LOCAL_API_KEY set; open answers that are not an
    exact match go to a grader model: --model-role grader=openai-api/local/JUDGE, else the task's model)

Each task reads this folder's config of its kind with `datasets` (the card's `configs:` block); the question
is asked with the source text it was written from. This file stands alone (a release is loaded without
benchmint installed), so it holds a small copy of benchmint's grading (validators/grading.py), kept in step
by benchmint's tests: numeric replies within the question's tolerance after unit conversion, mcq by the
letter, tf by true/false, open answers by normalized exact match, else the judge rubric benchmint's judges use.
"""

from pathlib import Path

from inspect_ai import Task, task
from inspect_ai.dataset import Sample, hf_dataset
from inspect_ai.scorer import CORRECT, INCORRECT, Score, Scorer, Target, accuracy, model_graded_qa, scorer, stderr
from inspect_ai.solver import TaskState, generate

# export: this import is replaced by the module's code, so the file stands alone
from benchmint.export_grading import LETTERS, as_bool, exact_match, numeric_correct, picked_letter, token_f1

HERE = str(Path(__file__).resolve().parent)
VERSION = "0"  # export: the release's version
JUDGE_TEMPLATE = "{question} {criterion} {answer}"  # export: benchmint's judge prompt, as inspect's template
JUDGE_VERDICT = r'(?is)"verdict"\s*:\s*(true|false)'

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
    # the file named as well: datasets caches a card's config by folder and config name alone (all v1)
    return hf_dataset(HERE, split="test", name=kind, sample_fields=to_sample, cached=False,
                      data_files={"test": f"{HERE}/{kind}.parquet"})


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
