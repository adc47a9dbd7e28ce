"""The contamination validator of a build: one verdict per question."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmint.embeddings import MODEL_NAME, Embedder
from benchmint.records import Question, Verdict
from corpora.reference.corpus import ReferenceCorpus
from validators.base import Context
from validators.contamination.calibration import load_calibration
from validators.contamination.config import ContaminationConfig
from validators.contamination.detector import Detector
from validators.contamination.findings import Detection, Probe
from validators.contamination.index import INDEX_VERSION
from validators.contamination.judge import JUDGE_PROMPT_VERSION, judge_label
from validators.contamination.translate import prompt as translate_prompt
from validators.contamination.translate import text_prompt as translate_text_prompt


class ContaminationValidator:
    """One verdict per question: passed when no known corpus holds it (nor a near copy or paraphrase)."""

    name = "contamination"

    def __init__(self, corpora: Sequence[ReferenceCorpus], config: ContaminationConfig | None = None,
                 judge: Any = None, *, cache_dir: str | Path | None = None, embedder: Embedder | None = None,
                 translator: Any = None):
        self.config = config or ContaminationConfig()
        self.detector = Detector(corpora, self.config, judge, Path(cache_dir) if cache_dir else None,
                                 translator=translator)
        self.judge = judge
        self.translator = translator
        self.embedder = embedder

    @property
    def corpora(self) -> list[ReferenceCorpus]:
        return self.detector.corpora

    def prepare(self, embedder: Embedder | None = None, cache_dir: str | Path | None = None,
                progress: Callable[[str, int, int], None] | None = None) -> None:
        """Load (or build, once per corpus content) every index now rather than on the first check."""
        if cache_dir is not None and self.detector.cache_dir is None:
            self.detector.cache_dir = Path(cache_dir)
        self.detector.prepare(embedder or self.embedder or Embedder(), progress)

    def check(self, questions: list[Question], ctx: Context) -> list[Verdict]:
        if not questions:
            return []
        if self.detector.cache_dir is None and ctx.cache_dir is not None:
            self.detector.cache_dir = Path(ctx.cache_dir)
        embedder = self.embedder or ctx.embedder
        probes: list[Probe | None] = []
        for q in questions:
            try:
                probes.append(Probe.of(q))
            except (ValueError, TypeError):
                probes.append(None)
        good = [p for p in probes if p is not None]
        dets = iter(self.detector.detect(good, embedder))
        out: list[Verdict] = []
        for p in probes:
            if p is None:
                out.append(Verdict(validator=self.name, passed=False, reason="cannot be checked: malformed question"))
                continue
            out.append(to_verdict(next(dets), self.name))
        return out

    def describe(self) -> dict[str, Any]:
        """For the manifest: the corpora checked against (name, content hash, size), thresholds, judge, and the
        detector's precision and recall as measured on the development set (None when no calibration ships)."""
        calibration = load_calibration()
        return {"corpora": [c.describe() for c in self.corpora], "thresholds": self.config.manifest(),
                "judge": judge_label(self.judge), "judge_prompt_version": JUDGE_PROMPT_VERSION if self.judge else None,
                "translator": judge_label(self.translator) if self.config.translate else None,
                "translate_prompt_version": translate_prompt().version if self.translator and self.config.translate
                else None,
                "translate_text_prompt_version": translate_text_prompt().version
                if self.translator and self.config.translate else None,
                "embedding_model": MODEL_NAME, "index_version": INDEX_VERSION,
                "timing": self.detector.stage_report(),
                "calibration": calibration.model_dump() if calibration is not None else None}


def to_verdict(d: Detection, name: str = "contamination") -> Verdict:
    evidence: dict[str, Any] = {"status": d.status, "scores": d.scores, "review": d.status in ("review", "unchecked")}
    if d.finding is not None:
        evidence.update(d.finding.as_dict())
    score = d.finding.score if d.finding is not None else d.scores.get("semantic", {}).get("cosine", 0.0)
    return Verdict(validator=name, passed=d.status == "clean", blocking=True, score=round(float(score), 4),
                   reason=d.reason, evidence=evidence)
