"""Reading a reply: SQuAD-style answer normalization, exact match and token F1, the choice a reply picks,
a true/false reply."""

from __future__ import annotations

import re
import string
from collections import Counter

from benchmint.records import LETTERS

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans("", "", string.punctuation + "‘’“”–—")


def normalize_answer(s: str) -> str:
    """Lower case, no punctuation, no articles, single spaces (SQuAD's answer normalization)."""
    s = s.lower().translate(_PUNCT)
    return " ".join(_ARTICLES.sub(" ", s).split())


def token_f1(pred: str, gold: str) -> float:
    p, g = normalize_answer(pred).split(), normalize_answer(gold).split()
    if not p or not g:
        return float(p == g)
    common = sum((Counter(p) & Counter(g)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def exact_match(pred: str, gold: str) -> bool:
    p, g = normalize_answer(pred), normalize_answer(gold)
    if not g:
        return False
    if p == g:
        return True
    # the gold phrase inside a short reply ("It is 42 days." for "42 days"), as whole words
    return len(p.split()) <= len(g.split()) + 6 and re.search(rf"(?<!\w){re.escape(g)}(?!\w)", p) is not None


def extract_letter(reply: str, choices: list[str]) -> int | None:
    """The choice a reply picks: a letter (A, (b), 'Answer: C'), or the exact text of one choice."""
    letters = LETTERS[: len(choices)]
    text = reply.strip()
    m = re.match(rf"^\W*([{letters}{letters.lower()}])(?:\W|$)", text)
    rest = text[m.end(1):] if m else ""
    if m and (not rest.strip(" .)]:") or rest[:1] in ".):]" or text.lstrip()[:1] in "(["):
        return letters.index(m.group(1).upper())
    m = re.search(rf"\b(?:answer|option|choice)\s*(?:is)?\s*:?\s*\(?([{letters}])\b", text, re.I)
    if m:
        return letters.index(m.group(1).upper())
    norm = normalize_answer(text)
    hits = [i for i, c in enumerate(choices) if normalize_answer(c) and normalize_answer(c) == norm]
    if len(hits) == 1:
        return hits[0]
    hits = [i for i, c in enumerate(choices) if len(normalize_answer(c)) > 3 and normalize_answer(c) in norm]
    return hits[0] if len(hits) == 1 else None


def parse_bool(reply: str) -> bool | None:
    w = normalize_answer(reply).split()
    if not w:
        return None
    if w[0] in {"true", "yes", "correct", "right", "t"}:
        return True
    if w[0] in {"false", "no", "incorrect", "wrong", "f", "not"}:
        return False
    m = re.search(r"\b(true|false)\b", " ".join(w))
    return None if m is None else m.group(1) == "true"
