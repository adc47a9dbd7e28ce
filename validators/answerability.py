"""Answerability (closed-book): a question the target models answer without the
document tests their memory, not the source.

Each target answers with no document. When the share that answered right is
above `closed_book_max` (default 0.5: a majority of the targets), the question is
rejected (`closed_book: reject`) or kept with a non-blocking failed verdict
(`closed_book: tag`). Every reply and grade is the evidence.
"""

from __future__ import annotations

from benchmint.records import Question, Verdict
from validators.base import Context
from validators.scoring import TargetRunner, pass_rate


class AnswerabilityValidator:
    name = "answerability"

    def __init__(self, runner: TargetRunner, max_pass_rate: float = 0.5, mode: str = "reject"):
        self.runner = runner
        self.max_pass_rate = max_pass_rate
        self.blocking = mode == "reject"

    def check(self, questions: list[Question], ctx: Context) -> list[Verdict]:
        results = self.runner.run(questions, "closed_book", ctx.chunks)
        out = []
        for q in questions:
            rs = results[q.id]
            rate = pass_rate(rs)
            missing = sum(r.correct is None for r in rs)
            evidence = {"closed_book_pass_rate": rate, "missing": missing, "results": [r.as_dict() for r in rs]}
            if rate is None:
                # no target could answer: nothing says it is memorable; keep it, say so
                out.append(Verdict(validator=self.name, passed=True, blocking=self.blocking, score=None,
                                   reason=f"not measured: all {missing} target replies missing", evidence=evidence))
            elif rate > self.max_pass_rate:
                out.append(Verdict(validator=self.name, passed=False, blocking=self.blocking, score=rate,
                                   reason=f"answered without the document by {rate:.0%} of the targets "
                                          f"(> {self.max_pass_rate:.0%}): tests memory, not the source",
                                   evidence=evidence))
            else:
                out.append(Verdict(validator=self.name, passed=True, blocking=self.blocking, score=rate,
                                   reason=f"closed-book pass rate {rate:.0%}", evidence=evidence))
        return out
