"""A reference corpus: the items of one known corpus as columns, and building one from rows."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmint.errors import ConfigError, SourceError
from benchmint.records import Question
from corpora.reference.fields import FieldMap, guess_fields, parse_fields

LETTER_RE = re.compile(r"^\(?([A-Ja-j])\)?[.)]?$")


@dataclass
class ReferenceCorpus:
    """Items of one known corpus, held as columns (a corpus can have hundreds of thousands)."""

    name: str
    source: str
    ids: list[str]
    questions: list[str]
    choices: list[list[str]]
    answers: list[str]
    fields: FieldMap | None = None
    guessed: bool = False
    kind: str = "dataset"  # dataset | release | builtin
    _hash: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        n = len(self.questions)
        if not (len(self.ids) == len(self.choices) == len(self.answers) == n):
            raise ValueError("ReferenceCorpus columns differ in length")

    def __len__(self) -> int:
        return len(self.questions)

    @property
    def content_hash(self) -> str:
        """sha256 of the items' text (question, choices, answer, in order): the index cache key."""
        if self._hash is None:
            h = hashlib.sha256()
            for q, c, a in zip(self.questions, self.choices, self.answers, strict=True):
                h.update(json.dumps([q, c, a], ensure_ascii=False).encode("utf-8"))
                h.update(b"\n")
            self._hash = h.hexdigest()
        return self._hash

    def item(self, i: int) -> dict[str, Any]:
        return {"index": i, "id": self.ids[i], "question": self.questions[i], "choices": list(self.choices[i]),
                "answer": self.answers[i]}

    def display_text(self, i: int) -> str:
        """The item as a person reads it: question, then lettered choices."""
        lines = [self.questions[i].strip()]
        lines += [f"{'ABCDEFGHIJ'[j] if j < 10 else j}. {c}" for j, c in enumerate(self.choices[i])]
        return "\n".join(lines)

    def describe(self) -> dict[str, Any]:
        """What a manifest records about the corpus."""
        return {"name": self.name, "source": self.source, "kind": self.kind, "content_hash": self.content_hash,
                "size": len(self), "fields": self.fields.describe() if self.fields else None,
                "fields_guessed": self.guessed}

    def fields_note(self) -> str:
        if self.fields is None:
            return f"corpus {self.name}: {len(self)} items"
        how = "guessed" if self.guessed else "given"
        return f"corpus {self.name}: {len(self)} items; fields ({how}): {self.fields.describe()}"


def as_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v != v:  # NaN from pandas/csv
        return ""
    if isinstance(v, (list, tuple)):
        return " ".join(as_text(x) for x in v if as_text(x))
    if isinstance(v, dict):
        return as_text(v.get("text", next(iter(v.values()), "")))
    return str(v).strip()


def _as_choices(values: list[Any]) -> list[str]:
    """One list-valued cell (or an ARC-style {"text": [...], "label": [...]}) or several scalar cells."""
    if len(values) == 1:
        v = values[0]
        if isinstance(v, dict):
            v = v.get("text", [])
        if isinstance(v, str):
            s = v.strip()
            if s.startswith("[") and s.endswith("]"):  # a list written to csv as text
                try:
                    parsed = json.loads(s)
                    if isinstance(parsed, list):
                        return [t for t in (as_text(x) for x in parsed) if t]
                except ValueError:
                    pass
            return [s] if s else []
        if isinstance(v, (list, tuple)):
            return [t for t in (as_text(x) for x in v) if t]
        t = as_text(v)
        return [t] if t else []
    return [t for t in (as_text(v) for v in values) if t]


def _resolve_answer(raw: Any, choices: list[str]) -> str:
    """An index or a letter into the choices becomes the choice text."""
    if isinstance(raw, bool):
        return str(raw)
    if isinstance(raw, int) and choices and 0 <= raw < len(choices):
        return choices[raw]
    if isinstance(raw, str) and choices:
        m = LETTER_RE.match(raw.strip())
        if m:
            idx = "abcdefghij".index(m.group(1).lower())
            if idx < len(choices):
                return choices[idx]
    return as_text(raw)


def corpus_from_table(name: str, source: str, table: dict[str, list[Any]], fields: FieldMap, *, guessed: bool = False,
                      kind: str = "dataset", id_prefix: list[str] | None = None) -> ReferenceCorpus:
    """Columns (name -> values) -> ReferenceCorpus; rows without question text are dropped."""
    columns = list(table)
    for role, names in (("question", [fields.question]), ("answer", [fields.answer] if fields.answer else []),
                        ("choices", fields.choices), ("id", [fields.id] if fields.id else [])):
        for col in names:
            if col not in table:
                raise ConfigError(
                    f"corpus {name} ({source}) has no field {col!r} for the {role}; its fields are: "
                    f"{', '.join(map(str, columns))}")
    n = len(table[fields.question])
    ids: list[str] = []
    questions: list[str] = []
    choices: list[list[str]] = []
    answers: list[str] = []
    qcol = table[fields.question]
    ccols = [table[c] for c in fields.choices]
    acol = table[fields.answer] if fields.answer else None
    icol = table[fields.id] if fields.id else None
    for i in range(n):
        q = as_text(qcol[i])
        if not q:
            continue
        ch = _as_choices([c[i] for c in ccols]) if ccols else []
        a = _resolve_answer(acol[i], ch) if acol is not None else ""
        rid = as_text(icol[i]) if icol is not None else str(i)
        if id_prefix is not None:
            rid = f"{id_prefix[i]}:{rid}"
        ids.append(rid or str(i))
        questions.append(q)
        choices.append(ch)
        answers.append(a)
    if not questions:
        raise SourceError(f"corpus {name} ({source}) has no items with text in field {fields.question!r}; "
                          "check the file or name the question field with --fields question=FIELD")
    return ReferenceCorpus(name=name, source=source, ids=ids, questions=questions, choices=choices, answers=answers,
                           fields=fields, guessed=guessed, kind=kind)


def corpus_from_records(name: str, rows: Iterable[dict[str, Any]], fields: FieldMap | str | Sequence[str] | None = None,
                        *, source: str = "(records)", kind: str = "dataset") -> ReferenceCorpus:
    """Dict rows (already in memory) -> ReferenceCorpus, with the same field rules as files."""
    rows = list(rows)
    columns: list[str] = []
    for r in rows:
        for k in r:
            if k not in columns:
                columns.append(k)
    if not rows:
        raise SourceError(f"corpus {name} ({source}) is empty; give a file with at least one item")
    fmap = parse_fields(fields)
    guessed = fmap is None
    if fmap is None:
        fmap = guess_fields(columns, f"{name} ({source})")
    table = {c: [r.get(c) for r in rows] for c in columns}
    return corpus_from_table(name, source, table, fmap, guessed=guessed, kind=kind)


def corpus_from_questions(rows: Iterable[dict[str, Any] | Question], name: str = "previous-versions",
                          source: str = "(questions)") -> ReferenceCorpus:
    """Questions (dicts with question/answer/choices, or Question records) -> a reference corpus.

    Used to keep a retired or published question from returning in a later version.
    """
    ids, questions, choices, answers = [], [], [], []
    for i, r in enumerate(rows):
        d = r.model_dump() if isinstance(r, Question) else r
        q = as_text(d.get("question"))
        if not q:
            continue
        ids.append(str(d.get("id") or i))
        questions.append(q)
        choices.append([as_text(c) for c in d.get("choices") or [] if as_text(c)])
        answers.append(as_text(d.get("answer")))
    if not questions:
        raise SourceError(f"corpus {name} ({source}) has no questions; nothing to check against")
    return ReferenceCorpus(name=name, source=source, ids=ids, questions=questions, choices=choices, answers=answers,
                           fields=FieldMap(question="question", answer="answer", choices=["choices"], id="id"),
                           kind="release")
