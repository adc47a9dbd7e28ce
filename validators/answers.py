"""Reading a reply: SQuAD-style answer normalization, exact match and token F1, the choice a reply picks,
a true/false reply."""

from __future__ import annotations

import re

from benchmint.export_grading import as_bool, exact_match, normalize, token_f1  # noqa: F401 - this module's API
from benchmint.records import LETTERS

# one reading of a reply for benchmint and the evaluation tools its releases export to: the stdlib-only module
# an export copies into the release
normalize_answer = normalize
"""Lower case, no punctuation, no articles, single spaces (SQuAD's answer normalization)."""
parse_bool = as_bool
"""A true/false reply's truth value (None: neither)."""


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
