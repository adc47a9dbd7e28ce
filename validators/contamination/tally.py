"""What the contamination check decided over a build's candidates, per stage (for the manifest and the card)."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import Field

from benchmint.records import Record, Verdict

STAGES = ("exact", "ngram", "fuzzy", "semantic", "judge")


class StageTally(Record):
    """The contamination verdicts of one build's candidates, by outcome and by the stage that decided."""

    checked: int = 0
    """Candidates the check ran on (those that passed grounding and quality)."""
    clean: int = 0
    """Published as far as this check goes: no stage matched them to a corpus item."""
    review: int = 0
    """Held for review (not published): in the middle band with no judge, or the judge failed."""
    flagged: dict[str, int] = Field(default_factory=lambda: dict.fromkeys(STAGES, 0))
    """Called contaminated, by the stage that called it (exact, ngram, fuzzy, semantic, judge)."""
    unchecked: int = 0
    """Candidates the check could not decide (a malformed question, a validator error): not published."""


def tally(verdicts: Iterable[Verdict]) -> StageTally:
    """The tally of the contamination validator's verdicts (ContaminationValidator / to_verdict's evidence)."""
    t = StageTally()
    for v in verdicts:
        t.checked += 1
        status = (v.evidence or {}).get("status")
        if status == "clean":
            t.clean += 1
        elif status == "review":
            t.review += 1
        elif status == "contaminated":
            stage = v.evidence.get("stage", "other")
            t.flagged[stage] = t.flagged.get(stage, 0) + 1
        else:
            t.unchecked += 1
    return t
