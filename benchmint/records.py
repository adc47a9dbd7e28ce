"""Pydantic records shared by every package: documents, chunks, questions, verdicts."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

from benchmint.export_grading import LETTERS  # noqa: F401 - the choices' letters, also this module's API

# the question kinds: defined here only; everything else imports them
QuestionKind = Literal["open", "mcq", "numeric", "tf"]
KINDS: tuple[str, ...] = get_args(QuestionKind)


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def normalize_text(text: str) -> str:
    """NFKC, lower case, unified quotes and dashes, collapsed whitespace.

    Used wherever two pieces of text are compared (citations, duplicates, leaks).
    """
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(_PUNCT_MAP).lower()
    return re.sub(r"\s+", " ", text).strip()


_PUNCT_MAP = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"',
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
        "\u2212": "-", "\u00ad": "",
    }
)


def normalize_with_map(text: str) -> tuple[str, list[int]]:
    """normalize_text, plus for each output character the index of its source character (a match found in
    the normalized text is mapped back to a span of the original: grounding, the review page)."""
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


TITLE_MAX_CHARS = 200


def clean_title(title: str) -> str:
    """A title safe to print anywhere: one line (line breaks, tabs and other controls become
    spaces), no invisible or direction-changing characters, no leading markdown block marker
    (`#`, `>`, `-`, `*`, `|`, ...), at most TITLE_MAX_CHARS characters. A PDF or feed title is
    input: with a newline and `# ` it would open a heading in the dataset card or the changelog."""
    out = []
    for c in unicodedata.normalize("NFC", str(title)):
        cat = unicodedata.category(c)
        if cat in ("Cc", "Zs", "Zl", "Zp"):
            out.append(" ")
        elif cat[0] != "C":  # Cf (zero-width, bidi overrides), Co, Cs, Cn: dropped
            out.append(c)
    text = " ".join("".join(out).split())
    while (stripped := re.sub(r"^(?:(?:#+|[-*+])(?=\s|$)|>|\||`{3,}|~{3,})\s*", "", text)) != text:
        text = stripped
    if len(text) > TITLE_MAX_CHARS:
        text = text[: TITLE_MAX_CHARS - 1].rstrip() + "…"
    return text or "(untitled)"


class Document(Record):
    id: str  # sha256 of the extracted text
    title: str  # one line, cleaned by clean_title
    source: str  # path or URI
    text: str
    format: str
    published_at: datetime | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("title", mode="before")
    @classmethod
    def _one_line_title(cls, v: Any) -> Any:
        return clean_title(v) if isinstance(v, str) else v


class SkippedSource(Record):
    """A source that was not loaded, and why (every walked entry is loaded or one of these)."""

    source: str  # the path (non-UTF-8 bytes and control characters backslash-escaped) or URL
    reason: str  # one line for people: what is wrong and, where there is one, the fix
    kind: str = ""  # short machine-readable cause (corpora.skip.KINDS), "" where the reader gives none


class Chunk(Record):
    id: str
    document_id: str
    index: int
    start: int  # character span in the document text
    end: int
    text: str
    n_tokens: int


class Citation(Record):
    quote: str
    chunk_id: str
    document_id: str
    # Span of the best match in the document text, filled in by grounding.
    start: int | None = None
    end: int | None = None


class Verdict(Record):
    validator: str
    passed: bool
    blocking: bool = True
    score: float | None = None
    reason: str = ""
    evidence: dict[str, Any] = Field(default_factory=dict)


class Question(Record):
    id: str
    question: str
    answer: str
    kind: QuestionKind
    choices: list[str] = Field(default_factory=list)
    gold_index: int = -1
    unit: str = ""  # numeric: the answer's unit ("" when none)
    tolerance: float = 0.0  # numeric: absolute tolerance in that unit
    rationale: str = ""  # tf: the true statement the citations support (the question may state its negation)
    citations: list[Citation]
    document_ids: list[str]
    chunk_ids: list[str]
    generator_model: str
    prompt_id: str
    prompt_version: str
    estimated_difficulty: int | None = None
    round: int = 0
    hops: int = 1  # chunks the question needs (multi-hop: 2 or more, every hop cited)
    tactic: str = ""  # the harder form it was written in (benchmint/prompts/tactics.yaml), "" for plain
    derivation: str = ""  # numeric:computed: the arithmetic over cited numbers that gives the answer
    # measured on the target models (difficulty validator); None when not measured
    pass_rate: float | None = None
    discrimination: float | None = None
    # release history, in the spirit of LiveBench's release and removal dates
    introduced_in: str = ""  # the version that first published it
    retired_in: str = ""  # the version that dropped it
    retired_reason: str = ""
    verdicts: list[Verdict] = Field(default_factory=list)

    @property
    def answer_letter(self) -> str | None:
        if self.kind in ("mcq", "tf") and self.choices and 0 <= self.gold_index < len(self.choices):
            return LETTERS[self.gold_index]
        return None

    def passed(self) -> bool:
        return all(v.passed for v in self.verdicts if v.blocking)

    def verdict(self, name: str) -> Verdict | None:
        for v in self.verdicts:
            if v.validator == name:
                return v
        return None

    def source_text(self, texts: dict[str, str]) -> str:
        """The text of the chunks the question was written from (`texts`: chunk id -> text)."""
        return "\n\n".join(texts[c] for c in self.chunk_ids if c in texts)

    def export_row(self, titles: dict[str, str] | None = None,
                   contexts: dict[str, str] | None = None) -> dict[str, Any]:
        """One flat row, the same schema for every kind (for parquet / datasets)."""
        titles = titles or {}
        contexts = contexts or {}
        return {
            "id": self.id,
            "question": self.question,
            "answer": self.answer,
            "kind": self.kind,
            "choices": list(self.choices),
            "gold_index": self.gold_index,
            "answer_letter": self.answer_letter,
            "unit": self.unit,
            "tolerance": self.tolerance,
            "citations": [c.quote for c in self.citations],
            "document_ids": list(self.document_ids),
            "document_titles": [titles.get(d, "") for d in self.document_ids],
            "chunk_ids": list(self.chunk_ids),
            "generator_model": self.generator_model,
            "prompt_id": self.prompt_id,
            "prompt_version": self.prompt_version,
            "estimated_difficulty": self.estimated_difficulty if self.estimated_difficulty is not None else -1,
            "round": self.round,
            "introduced_in": self.introduced_in,
            "hops": self.hops,
            "tactic": self.tactic,
            "derivation": self.derivation,
            "pass_rate": self.pass_rate if self.pass_rate is not None else -1.0,
            "discrimination": self.discrimination if self.discrimination is not None else 0.0,
            # the source text the question was written from (for evaluation with the document)
            "context": self.source_text(contexts),
        }


def question_id(question: str, answer: str) -> str:
    return sha256_text(normalize_text(question) + "\x00" + normalize_text(answer))[:16]
