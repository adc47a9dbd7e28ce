"""The thresholds of every contamination stage."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from benchmint.records import Record


class ContaminationConfig(Record):
    """Thresholds of every stage; defaults calibrated once (not per subject) by bench/contamination.py.

    On the MMLU development set (three subjects, 505 items): every light edit scored a fuzzy ratio
    of 78 or more and 99% scored 90 or more, while items of other subjects and questions about
    examples/docs never passed 60; English paraphrases have a median cosine of 0.90 (5th percentile
    0.71) to their item, negatives at most 0.62 once short multiple-choice questions are embedded
    with their choices. Distinct items of one subject reach 0.80 only as templates of one problem
    with other operands (the same question by this module's definition), and 84% of the
    paraphrases reach it. Hence: flag at fuzzy 90 / cosine 0.80, judge (or review) from 78 / 0.70.

    Those thresholds measure topic; distinct items of one subject share it, and questions on one passage
    share the passage: checked against its own subject without it, 53% of the development set was held
    back. The second look's thresholds (answers below 0.7 similar differ, choice sets sharing under half
    differ, asks below 0.8 differ, one template's asks are 0.9 alike, a numbered statement under 0.65 has
    no counterpart) were chosen on those items and the paraphrases and light edits by
    bench/contamination_hard.py --tune: 0.8% held back, paraphrase and light-edit recall kept
    (BENCHMARKS.md, issue 16).
    """

    ngram_n: int = Field(default=13, ge=4, description="n of the long n-gram check (GPT-3, lm-eval janitor)")
    ngram_short_n: int = Field(default=8, ge=3, description="n for views shorter than ngram_long_min_tokens")
    ngram_long_min_tokens: int = Field(default=20, ge=4, description="views this long use ngram_n")
    ngram_min_ratio: float = Field(default=0.5, gt=0, le=1, description="share of a view's n-grams found in one item")
    ngram_min_span: int = Field(default=25, ge=8, description="a verbatim run this many tokens long flags alone")
    ngram_max_df: int = Field(default=50, ge=1, description="n-grams in more items than this are boilerplate")
    min_question_tokens: int = Field(default=4, ge=1, description="the question alone is evidence from this length")
    fuzzy_threshold: float = Field(default=90.0, ge=0, le=100, description="rapidfuzz ratio that flags")
    fuzzy_review_threshold: float = Field(default=78.0, ge=0, le=100,
                                          description="rapidfuzz ratio from which the judge (or review) decides")
    fuzzy_question_min_tokens: int = Field(
        default=8, ge=1, description="shorter questions need their choices or answer to match too")
    semantic_threshold: float = Field(default=0.80, gt=0, le=1, description="cosine that flags")
    review_threshold: float = Field(default=0.70, gt=0, le=1,
                                    description="cosine from which the judge (or review) decides")
    translated_review_threshold: float = Field(
        default=0.70, gt=0, le=1, description="cosine from which a machine translation of a non-English candidate "
                                              "goes to the judge (or review): a translation rewords")
    short_question_tokens: int = Field(
        default=10, ge=1, description="shorter multiple-choice questions are embedded with their choices")
    top_k: int = Field(default=8, ge=1, description="faiss neighbours per candidate and corpus")
    nprobe: int = Field(default=32, ge=1, description="IVF cells searched (large corpora)")
    flat_max_vectors: int = Field(default=60_000, ge=1, description="up to this many vectors the index is exact")
    answer_max_tokens: int = Field(default=24, ge=1,
                                   description="answers up to this long are embedded with the question")
    tail_min_words: int = Field(default=60, ge=10, description="questions this long also index their closing part")
    judge_max_pairs: int = Field(default=1, ge=1, description="middle-band neighbours shown to the judge, best first")
    second_look: bool = Field(default=True, description="compare answers, choices and asks before a pair flags "
                                                        "or goes to the judge (second_look.py)")
    second_look_answer_max: float = Field(default=0.7, ge=0, le=1,
                                          description="answers less similar than this differ (numbers masked)")
    second_look_choices_max: float = Field(default=0.5, ge=0, le=1,
                                           description="choice sets sharing less than this share differ")
    second_look_ask_max: float = Field(default=0.8, ge=0, le=1,
                                       description="asks (a long question's closing part) less similar than this "
                                                   "differ")
    second_look_same_choice: float = Field(default=0.9, gt=0, le=1,
                                           description="two choices (or an answer and a choice) this similar match")
    second_look_template_min: float = Field(
        default=0.9, ge=0, le=1, description="asks this similar are one template: other formulas in them differ")
    second_look_part_min: float = Field(
        default=0.65, ge=-1, le=1, description="a numbered statement whose best match on the other side (cosine, or "
                                              "similarity as written) is below this has no counterpart")
    translate: bool = Field(default=True, description="check a non-English candidate again after a model translates "
                                                      "it into English (translate.py; set by contamination.translate)")

    def manifest(self) -> dict[str, Any]:
        """The thresholds as written to a release manifest."""
        return self.model_dump(mode="json")
