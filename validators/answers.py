"""Reading a reply: SQuAD-style answer normalization, exact match and token F1, the choice a reply picks,
a true/false reply."""

from __future__ import annotations

from benchmint.export_grading import LETTERS, as_bool, exact_match, normalize, picked_letter, token_f1  # noqa: F401

# one reading of a reply for benchmint and the evaluation tools its releases export to: the stdlib-only module
# an export copies into the release
normalize_answer = normalize
"""Lower case, no punctuation, no articles, single spaces (SQuAD's answer normalization)."""
parse_bool = as_bool
"""A true/false reply's truth value (None: neither)."""


def extract_letter(reply: str, choices: list[str]) -> int | None:
    """The index of the choice a reply picks (export_grading.picked_letter: a letter, A, (b), 'Answer: C', or
    the exact text of one choice); None when it picks none."""
    pick = picked_letter(reply, choices)
    return None if pick is None else LETTERS.index(pick)
