"""Quality: a question that stands on its own, does not give its answer away, and,
for multiple choice, has four distinct choices with exactly one gold."""

from __future__ import annotations

import re

from benchmint.quantities import parse_quantities
from benchmint.records import Question, Verdict, normalize_text
from validators.base import Context
from validators.support import content_words

# Phrases that tie a question to an excerpt the test-taker never sees.
_NOT_SELF_CONTAINED = re.compile(
    r"\b(according to (the|this) (text|document|passage|excerpt|article|author|report|section|context|source)"
    r"|(in|from) (the|this) (given |above |provided )?(text|passage|excerpt|context|snippet|document)"
    r"\b(?! (named|called|titled))"
    r"|(the|this) (text|passage|excerpt|snippet) (says|states|mentions|describes|above)"
    r"|(mentioned|described|stated|given|listed) (above|below|here)|the above|the following (text|passage)"
    r"|(mentioned|described|stated|listed) in (the|this) (text|document|passage|excerpt|section|report)"
    r"|this (file|section|chapter|page|table|figure|paragraph|excerpt|passage|text|document))\b",
    re.I,
)
_QUESTION_START = re.compile(
    r"^(what|which|who|whom|whose|when|where|why|how|is|are|was|were|do|does|did|can|could|should|would|will|"
    r"has|have|had|name|list|identify|give|state|in what|on what|at what|by what|for what|to what|under what|"
    r"true or false)\b",
    re.I,
)
_BAD_CHOICE = re.compile(r"^(all|none|both|neither) of the (above|choices|options)", re.I)


class QualityValidator:
    name = "quality"

    def __init__(self, min_words: int = 4, max_words: int = 80, max_answer_words: int = 30):
        self.min_words = min_words
        self.max_words = max_words
        self.max_answer_words = max_answer_words

    def check(self, questions: list[Question], ctx: Context) -> list[Verdict]:
        return [self._check_one(q) for q in questions]

    def problems(self, q: Question) -> list[str]:
        out: list[str] = []
        text = q.question.strip()
        n_words = len(text.split())
        if n_words < self.min_words:
            out.append(f"question too short ({n_words} words)")
        if n_words > self.max_words:
            out.append(f"question too long ({n_words} words)")
        if not (text.endswith("?") or _QUESTION_START.match(text)):
            out.append("not phrased as a question")
        if m := _NOT_SELF_CONTAINED.search(text):
            out.append(f"not self-contained ('{m.group(0)}')")
        answer = q.answer.strip()
        if not answer:
            out.append("empty answer")
        elif len(answer.split()) > self.max_answer_words:
            out.append(f"answer too long ({len(answer.split())} words)")
        if answer and q.kind != "tf" and self._leaks(text, answer):
            out.append("the question contains its answer")
        if q.kind == "mcq":
            out.extend(self._choice_problems(q))
        elif q.kind == "tf":
            out.extend(self._tf_problems(q))
        elif q.choices or q.gold_index != -1:
            out.append(f"an {q.kind} question carries choices")
        if q.kind == "numeric" and not parse_quantities(answer):
            out.append(f"numeric answer {answer!r} holds no number")
        return out

    @staticmethod
    def _tf_problems(q: Question) -> list[str]:
        if q.choices != ["True", "False"] or q.gold_index not in (0, 1) or q.answer != q.choices[q.gold_index]:
            return ["a true/false question needs choices [True, False] and its answer as the gold"]
        if not q.rationale.strip():
            return ["a true/false question needs the true statement it was made from"]
        stated = normalize_text(q.question.split(":", 1)[-1]).rstrip(".?")
        true = normalize_text(q.rationale).rstrip(".?")
        if q.gold_index == 1 and stated == true:
            return ["a 'false' statement that is the true statement unchanged"]
        return []

    @staticmethod
    def _leaks(question: str, answer: str) -> bool:
        qn, an = normalize_text(question), normalize_text(answer).rstrip(".")
        if len(an) >= 3 and re.search(rf"(?<!\w){re.escape(an)}(?!\w)", qn):
            return True
        words = content_words(answer)
        qwords = set(content_words(question))
        # A multi-word answer whose every content word is already in the question.
        return len(words) >= 2 and all(w in qwords for w in words)

    @staticmethod
    def _choice_problems(q: Question) -> list[str]:
        out = []
        if len(q.choices) != 4:
            out.append(f"{len(q.choices)} choices, need 4")
        normalized = [normalize_text(c).rstrip(".") for c in q.choices]
        if any(not c for c in normalized):
            out.append("an empty choice")
        if len(set(normalized)) != len(normalized):
            out.append("choices are not distinct")
        if not 0 <= q.gold_index < len(q.choices):
            out.append("gold index out of range")
        elif normalized.count(normalize_text(q.answer).rstrip(".")) != 1 or \
                normalized[q.gold_index] != normalize_text(q.answer).rstrip("."):
            out.append("not exactly one choice equals the answer")
        if any(_BAD_CHOICE.match(c) for c in q.choices):
            out.append("an 'all/none of the above' choice")
        return out

    def _check_one(self, q: Question) -> Verdict:
        problems = self.problems(q)
        if problems:
            return Verdict(validator=self.name, passed=False, score=0.0, reason="; ".join(problems),
                           evidence={"problems": problems})
        return Verdict(validator=self.name, passed=True, score=1.0, reason="ok")
