"""What is compared: normalized word tokens and the views of an item (question alone, with its choices,
with its answer), and what of a candidate is embedded."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from benchmint.records import normalize_text
from validators.contamination.config import ContaminationConfig

LABEL_RE = re.compile(
    r"^\s*(?:(?:question|q|problem|query|task|answer|exercise)\s*#?\s*\d*\s*[:.)\]-]+"
    r"|\(?\d{1,3}\s*[.)]"
    r"|answer the following(?: multiple[- ]choice)? questions?\s*[:.]?)\s*", re.I)


_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"


TOKEN_RE = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+")


def strip_label(text: str) -> str:
    for _ in range(3):
        new = LABEL_RE.sub("", text, count=1)
        if new == text:
            break
        text = new
    return text.strip()


def tokens(text: str) -> list[str]:
    """Normalized word tokens: NFKC, lower case, punctuation dropped, digits kept, CJK by character."""
    return TOKEN_RE.findall(strip_label(normalize_text(text)))


def string_hash(s: str) -> int:
    return int.from_bytes(hashlib.blake2b(s.encode("utf-8"), digest_size=8).digest(), "little")


@dataclass
class Views:
    """The normalized views of one item (candidate or reference)."""

    q: list[str]
    choices: list[list[str]]
    answer: list[str]

    @property
    def q_text(self) -> str:
        return " ".join(self.q)

    def qc_text(self) -> str:
        return " | ".join([self.q_text, *sorted(" ".join(c) for c in self.choices)])

    def qa_text(self) -> str:
        return self.q_text + " | " + " ".join(self.answer)

    def keys(self) -> dict[str, int]:
        k = {"question": string_hash("q\x00" + self.q_text)}
        if self.choices:
            k["question+choices"] = string_hash("qc\x00" + self.qc_text())
        if self.answer:
            k["question+answer"] = string_hash("qa\x00" + self.qa_text())
        return k

    def sequences(self) -> dict[str, list[str]]:
        s = {"question": self.q}
        if self.choices:
            s["question+choices"] = self.q + [t for c in self.choices for t in c]
        if self.answer:
            s["question+answer"] = self.q + self.answer
        return s


def embed_text(question: str, choices: Sequence[str], config: ContaminationConfig) -> str:
    """What is embedded of a candidate: the question alone, or with its choices when it is short
    (a short multiple-choice question such as "Which of the following is true?" is its choices)."""
    q = strip_label(question) or question
    if choices and len(tokens(q)) < config.short_question_tokens:
        return "\n".join([q, *choices])
    return q


def embed_texts(question: str, choices: Sequence[str], config: ContaminationConfig,
                translated: bool = False) -> list[str]:
    """What is embedded of a candidate (embed_text); a machine translation's question embedded alone is embedded
    with its choices as well, since a translation rewrites a short stem ("X believed that:") as a longer question
    ("What did X believe?")."""
    text = embed_text(question, choices, config)
    if translated and choices and text == (strip_label(question) or question):  # embedded without its choices
        return [text, "\n".join([text, *choices])]
    return [text]


def make_views(question: str, choices: Sequence[str] = (), answer: str = "") -> Views:
    ch = [t for t in (tokens(c) for c in choices) if t]
    return Views(q=tokens(question), choices=ch, answer=tokens(answer or ""))


def closing_part(question: str, min_words: int) -> str | None:
    """The closing part of a long question (the ask after a passage), or None."""
    words = question.split()
    if len(words) < min_words:
        return None
    paras = [p.strip() for p in re.split(r"\n\s*\n|\n", question) if p.strip()]
    last = paras[-1] if paras else question
    if len(last.split()) > 48 or len(paras) < 2:
        sentences = re.split(r"(?<=[.!?:])\s+", question.strip())
        last = ""
        for s in reversed(sentences):
            last = (s + " " + last).strip()
            if len(last.split()) >= 12:
                break
    last = " ".join(last.split()[-64:])
    return last if len(last.split()) < len(words) else None
