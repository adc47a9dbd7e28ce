"""What the cited text supports: the content words of an answer, and the share of them the citations hold."""

from __future__ import annotations

import re

from benchmint.quantities import parse_quantities, unit_info
from benchmint.records import normalize_text

STOPWORDS = frozenset(
    "a an the of to in on at by for with from and or but is are was were be been being it its this that these "
    "those as into than then there their they them he she his her we our you your i not no do does did has have "
    "had which who whom what when where why how will would can could should may might must shall also each per "
    "about after before over under up down out s".split()
)
_WORD = re.compile(r"[\w.,:/-]*\w|\w")


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
