"""Which fields of a corpus hold the question, the choices, the answer and the id: named by the user
(`question=Q,choices=A|B|C|D,answer=X`) or guessed from common names."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic import Field, ValidationError

from benchmint.errors import ConfigError
from benchmint.records import Record

# Field names benchmint tries, in order, when the user names none (compared without case,
# spaces, '_' or '-').
QUESTION_NAMES = ["question", "problem", "prompt", "query", "questiontext", "input", "instruction", "goal",
                  "sentence", "text", "ctx", "context"]


CHOICE_NAMES = ["choices", "options", "endings", "candidates", "mcoptions", "answerchoices"]


ANSWER_NAMES = ["answer", "correctanswer", "finalanswer", "solution", "target", "targets", "output", "gold",
                "answerkey", "label", "answers"]


ID_NAMES = ["id", "uid", "qid", "questionid", "recordid", "idx", "index", "taskid"]


CHOICE_COLUMN_SETS = [  # several scalar columns that together hold the choices
    ["A", "B", "C", "D", "E"], ["option_a", "option_b", "option_c", "option_d", "option_e"],
    ["choice_a", "choice_b", "choice_c", "choice_d", "choice_e"], ["opa", "opb", "opc", "opd", "ope"],
    ["option1", "option2", "option3", "option4", "option5"], ["choice1", "choice2", "choice3", "choice4"],
    ["ending0", "ending1", "ending2", "ending3"],
]


INCORRECT_RE = re.compile(r"^incorrect[ _-]?answer[ _-]?\d+$", re.I)  # GPQA: Correct Answer + Incorrect Answer 1..3


def field_key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name).lower()


class FieldMap(Record):
    """Which fields hold the text. `choices` is one list-valued field or several scalar fields."""

    question: str
    answer: str | None = None
    choices: list[str] = Field(default_factory=list)
    id: str | None = None

    def describe(self) -> str:
        parts = [f"question={self.question}"]
        if self.choices:
            parts.append("choices=" + "|".join(self.choices))
        if self.answer:
            parts.append(f"answer={self.answer}")
        if self.id:
            parts.append(f"id={self.id}")
        return ", ".join(parts)


def parse_fields(spec: str | Sequence[str] | dict[str, Any] | FieldMap | None) -> FieldMap | None:
    """`question=Q,answer=Correct Answer,choices=A|B|C|D` (or a list of such strings) -> FieldMap.

    `choices` names one list-valued field or several scalar fields joined by '|'.
    """
    if spec is None or isinstance(spec, FieldMap):
        return spec
    if isinstance(spec, dict):
        data = dict(spec)
    else:
        items = [spec] if isinstance(spec, str) else list(spec)
        data = {}
        for item in items:
            for pair in [p for p in item.split(",") if p.strip()]:
                if "=" not in pair:
                    raise ConfigError(f"field spec {pair.strip()!r} is not KEY=FIELD; "
                                      "write e.g. question=prompt,answer=target")
                k, v = (s.strip() for s in pair.split("=", 1))
                if k not in {"question", "answer", "choices", "id"}:
                    raise ConfigError(f"unknown field role {k!r} in {item!r}; use question, answer, choices or id")
                if not v:
                    raise ConfigError(f"field role {k!r} in {item!r} names no field")
                data[k] = v
    if isinstance(data.get("choices"), str):
        data["choices"] = [c.strip() for c in data["choices"].split("|") if c.strip()]
    if "question" not in data:
        raise ConfigError("the field spec names no question field; add question=FIELD")
    try:
        return FieldMap.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"invalid field spec {spec!r}: {exc.errors()[0]['msg']}") from None


def guess_fields(columns: Sequence[str], source: str = "the corpus") -> FieldMap:
    """Pick question/choices/answer/id fields from common names; ConfigError when no question field."""
    by_key: dict[str, str] = {}
    for c in columns:
        by_key.setdefault(field_key(c), c)

    def first(names: list[str], exclude: set[str] | None = None) -> str | None:
        exclude = exclude or set()
        for n in names:
            if n in by_key and by_key[n] not in exclude:
                return by_key[n]
        return None

    question = first(QUESTION_NAMES)
    if question is None:
        raise ConfigError(
            f"cannot tell which field of {source} holds the question (fields: {', '.join(map(str, columns))}); "
            "name it with --fields question=FIELD")
    used = {question}
    choices: list[str] = []
    incorrect = sorted((c for c in columns if INCORRECT_RE.match(str(c))), key=str)
    answer = first(ANSWER_NAMES, used)
    if incorrect and answer is not None and field_key(answer) == "correctanswer":
        choices = [answer, *incorrect]
    else:
        one = first(CHOICE_NAMES, used)
        if one is not None:
            choices = [one]
        else:
            for group in CHOICE_COLUMN_SETS:
                present = [by_key[field_key(g)] for g in group if field_key(g) in by_key]
                if len(present) >= 2:
                    choices = present
                    break
    used |= set(choices)
    if answer in used and answer not in choices:
        answer = None
    return FieldMap(question=question, choices=choices, answer=answer, id=first(ID_NAMES, used | {answer or ""}))
