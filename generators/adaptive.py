"""Adaptive rounds: the evaluator agent learns from the targets' failures and aims new questions at them.

After a round, the agent is shown a sample of questions the targets failed and
passed (with the gold answers and the targets' replies) and names the failure
patterns. The next round then
- favours the question shapes with the lowest measured pass rate, so the mix
  moves toward what the targets get wrong, and tries the shapes not measured
  yet. A shape is a configured kind, a harder form of a kind (a tactic from
  benchmint/prompts/tactics.yaml: computed numbers, near-miss choices, reworded
  questions, subtle false statements) or multi-hop; a shape tried often enough
  that never yields a measured question (all its candidates rejected) is dropped;
- returns first to the chunks whose questions the targets failed, then to
  unused chunks, then (a small corpus used up) to the used ones that suit the
  round's shapes and had the lowest pass rates;
- appends a focus block (the patterns, and failed examples) to every
  generation prompt, asking for new questions that probe those weaknesses,
  from the same sources and with verbatim citations.
New questions go through every validator like any other.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from benchmint.errors import BenchmintError
from benchmint.fence import fence
from benchmint.llm import ModelClient
from benchmint.prompts import load_prompt
from benchmint.records import Chunk, Question
from benchmint.stats import mean_with_ci
from generators.shapes import ShapeRate, shape


class Patterns(BaseModel):
    patterns: list[str] = Field(min_length=1, max_length=8)


@dataclass
class RoundPlan:
    kinds: list[str]
    multi_hop: float
    patterns: list[str] = field(default_factory=list)
    focus: str = ""
    shape_pass_rates: dict[str, ShapeRate] = field(default_factory=dict)
    error: str = ""
    again: bool = False  # a further pass over chunks the round already took (see AdaptiveAgent.again)


def _results(q: Question) -> list[dict]:
    """The targets' graded replies (difficulty validator), missing ones left out."""
    v = q.verdict("difficulty")
    if v is None:
        return []
    return [r for r in v.evidence.get("results", []) if r.get("reply") is not None and r.get("correct") is not None]


def _replies(q: Question) -> str:
    rs = _results(q)
    return "; ".join(f"{r['target']}: {str(r['reply'])[:80]!r} ({'right' if r['correct'] else 'wrong'})" for r in rs)


def _show(q: Question) -> str:
    choices = f" Choices: {' | '.join(q.choices)}." if q.kind == "mcq" else ""
    return f"- Q: {q.question}{choices} Correct answer: {q.answer}. Replies: {_replies(q)}"


class AdaptiveAgent:
    def __init__(self, client: ModelClient, sample: int = 6, max_patterns: int = 4,
                 tactics: list[str] | None = None, barren_after: int = 2, shape_min_measured: int = 3):
        self.client = client
        self.sample = sample
        self.tactics = list(tactics or [])  # the harder forms the rounds may try
        self.barren_after = barren_after  # candidates of a shape, none measured: the shape is dropped
        self.shape_min_measured = shape_min_measured  # fewer measured questions: the shape stays, still explored
        self.max_patterns = max_patterns
        self.prompt = load_prompt("adaptive_patterns")

    @staticmethod
    def measured(questions: list[Question]) -> list[Question]:
        return [q for q in questions if q.pass_rate is not None]

    @staticmethod
    def failures(questions: list[Question]) -> list[Question]:
        """The measured questions the targets failed: pass rate below 0.5, lowest first. When there
        is none (a weak target fails everything and a strong one passes everything, so every rate
        is 0.5), the questions the strongest target got wrong: those are the ones to learn from."""
        m = AdaptiveAgent.measured(questions)
        failed = sorted((q for q in m if q.pass_rate < 0.5), key=lambda q: (q.pass_rate, q.id))
        if failed:
            return failed
        results = {q.id: _results(q) for q in m}
        right: dict[str, list[bool]] = defaultdict(list)
        for rs in results.values():
            for r in rs:
                right[r["target"]].append(bool(r["correct"]))
        if not right:
            return []
        strongest = max(right, key=lambda t: (sum(right[t]) / len(right[t]), t))
        return sorted((q for q in m if any(r["target"] == strongest and r["correct"] is False for r in results[q.id])),
                      key=lambda q: (q.pass_rate, q.id))

    def split(self, questions: list[Question]) -> tuple[list[Question], list[Question]]:
        """(failed, passed) samples: the failures (see `failures`), then the highest pass rates."""
        failed = self.failures(questions)
        ids = {q.id for q in failed}
        passed = sorted((q for q in self.measured(questions) if q.pass_rate >= 0.5 and q.id not in ids),
                        key=lambda q: (-q.pass_rate, q.id))
        return failed[: self.sample], passed[: max(1, self.sample // 2)]

    def name_patterns(self, questions: list[Question]) -> list[str]:
        failed, passed = self.split(questions)
        if not failed:
            return []
        msgs = self.patterns_messages(failed, passed)
        r = self.client.complete_json(msgs, Patterns, temperature=0.2, max_tokens=200)
        return [p.strip() for p in r.patterns if p.strip()][: self.max_patterns]

    def patterns_messages(self, failed: list[Question], passed: list[Question]) -> list[dict[str, str]]:
        """The evaluator agent's prompt: the sampled questions and replies (generated from the
        documents, so data) in fenced blocks."""
        return self.prompt.render(failed=fence("\n".join(_show(q) for q in failed) or "(none)", tag="questions"),
                                  passed=fence("\n".join(_show(q) for q in passed) or "(none)", tag="questions"),
                                  k=str(self.max_patterns))

    @staticmethod
    def shape_pass_rates(questions: list[Question]) -> dict[str, ShapeRate]:
        """Each shape's measured pass rate with its interval, clustered by the questions' first chunk."""
        by: dict[str, tuple[list[float], list[str]]] = defaultdict(lambda: ([], []))
        for q in questions:
            if q.pass_rate is not None:
                rates, clusters = by[shape(q)]
                rates.append(q.pass_rate)
                clusters.append(q.chunk_ids[0] if q.chunk_ids else q.id)
        out = {}
        for k in sorted(by):
            est = mean_with_ci(*by[k])
            out[k] = ShapeRate(n=est.n, mean=est.mean, ci=[est.ci_low, est.ci_high])
        return out

    def options(self, kinds: list[str]) -> list[str]:
        """Every shape a round may use: the configured kinds, the tactics, multi-hop."""
        return list(dict.fromkeys(kinds)) + [t for t in self.tactics if t not in kinds] + ["multi_hop"]

    def plan(self, questions: list[Question], kinds: list[str], multi_hop: float) -> RoundPlan:
        """The next round's mix, patterns and focus, from every question generated so far.

        The shapes not measured yet are tried first, except those with `barren_after` candidates or
        more and not one measured (every candidate rejected before the targets saw it); then the shapes
        with fewer than `shape_min_measured` measured questions (still being explored); then the
        measured shapes whose 95% interval reaches the hardest one's. A shape leaves the mix for the
        round only when its interval lies wholly above the hardest shape's: clearly easier, not just
        easier on a few questions."""
        rates = self.shape_pass_rates(questions)
        tried = Counter(shape(q) for q in questions)
        options = self.options(kinds)
        plan = RoundPlan(kinds=list(kinds), multi_hop=multi_hop, shape_pass_rates=rates)
        if rates:
            settled = [r for k, r in rates.items() if k in options and r.n >= self.shape_min_measured]
            hardest = min(settled, key=lambda r: r.mean, default=None)
            for k, r in rates.items():
                if k not in options:
                    r.status = "not offered"
                elif hardest is None or r.n < self.shape_min_measured:
                    r.status = "exploring"
                else:
                    r.status = "dropped" if r.ci[0] > hardest.ci[1] else "kept"
            untried = [k for k in options if k not in rates and tried[k] < self.barren_after]
            exploring = [k for k in options if k in rates and rates[k].status == "exploring"]
            kept = [k for k in options if k in rates and rates[k].status == "kept"]
            # the shapes not measured yet go first (a round explores them all when it has the steps),
            # then those measured too little to judge, then the ones as hard as the hardest
            chosen = untried + exploring + kept
            plan.kinds = [k for k in chosen if k != "multi_hop"] or list(kinds)
            if "multi_hop" in chosen:
                plan.multi_hop = max(multi_hop, 0.5 if "multi_hop" in kept else 0.25)
            else:
                plan.multi_hop = multi_hop / 2 if "multi_hop" in rates else 0.0
        try:
            plan.patterns = self.name_patterns(questions)
        except BenchmintError as exc:  # the round goes on with the mix alone; recorded in the manifest
            plan.error = str(exc)[:300]
        plan.focus = self.focus(plan.patterns, self.split(questions)[0])
        return plan

    @staticmethod
    def shape_yields(questions: list[Question]) -> dict[str, float]:
        """Per shape, the share of its candidates that reached the targets (measured): a shape whose questions
        the validators reject (ungrounded computed numbers, multi-hop quotes) yields few."""
        written, measured = Counter(shape(q) for q in questions), Counter(shape(q) for q in questions
                                                                          if q.pass_rate is not None)
        return {k: measured[k] / n for k, n in written.items()}

    @staticmethod
    def again(plan: RoundPlan, questions: list[Question], keep: float = 0.5) -> RoundPlan:
        """The plan of a further pass over the round's chunks, for a round that took every chunk and still
        measured too few questions: the shapes whose yield (`shape_yields`) is at least `keep` times the best
        shape's (a shape not written yet stays), in turns shifted by one, so a chunk gets another shape than
        in the pass before; its steps list the questions already asked of their chunks, round 0 included."""
        yields = AdaptiveAgent.shape_yields(questions)
        best = max((yields.get(k, 0.0) for k in [*plan.kinds, "multi_hop"]), default=0.0)

        def good(k: str) -> bool:
            return k not in yields or yields[k] >= keep * best

        kinds = [k for k in plan.kinds if good(k)] or list(plan.kinds)
        kinds = kinds[1:] + kinds[:1]
        focus = plan.focus or "Write new questions about other facts of the text above than those already asked."
        return RoundPlan(kinds=kinds, multi_hop=plan.multi_hop if good("multi_hop") else 0.0,
                         patterns=plan.patterns, focus=focus, shape_pass_rates=plan.shape_pass_rates,
                         error=plan.error, again=True)

    @staticmethod
    def focus(patterns: list[str], failed: list[Question]) -> str:
        if not patterns and not failed:
            return ""
        lines = ["The models being tested often get these kinds of questions wrong:"]
        lines += [f"- {p}" for p in patterns]
        if failed:
            lines.append("Examples of questions they failed:")
            lines += [f"- {q.question} (answer: {q.answer})" for q in failed[:3]]
        lines.append("Write new questions about different facts of the text above that probe the same weaknesses: "
                     "harder, but still answered exactly by the sentences you cite.")
        return "\n".join(lines)

    @staticmethod
    def chunk_focus(focus: str, chunk_ids: list[str], questions: list[Question], limit: int = 8) -> str:
        """The round's focus plus the questions already written from these chunks, so the model
        writes new ones instead of repeating them."""
        if not focus:
            return focus
        asked = [q.question for q in questions if set(q.chunk_ids) & set(chunk_ids)][-limit:]
        if not asked:
            return focus
        return focus + "\nQuestions already asked about this text (do not repeat them):\n" + "\n".join(f"- {a}" for a in asked)

    @staticmethod
    def pick_chunks(chunks: list[Chunk], questions: list[Question], used: set[str], n: int,
                    prefer: set[str] | None = None) -> list[Chunk]:
        """Chunks of failed questions (see `failures`, lowest pass rate first), then unused ones,
        then, when a small corpus has no unused chunk left, the used ones again (the round asks new
        questions of them; its prompt lists what was already asked): those in `prefer` first (the
        chunks that suit the round's shapes), then the lowest mean pass rate, the fewest questions."""
        order = list(dict.fromkeys(c for q in AdaptiveAgent.failures(questions) for c in q.chunk_ids))
        by_id = {c.id: c for c in chunks}
        failed = [by_id[c] for c in order if c in by_id]
        revisit = set(order)
        fresh = [c for c in chunks if c.id not in used and c.id not in revisit]
        picked = (failed + fresh)[:n]
        if len(picked) < n:
            rates: dict[str, list[float]] = defaultdict(list)
            asked: Counter = Counter()
            for q in questions:
                for c in q.chunk_ids:
                    asked[c] += 1
                    if q.pass_rate is not None:
                        rates[c].append(q.pass_rate)
            taken, prefer = {c.id for c in picked}, prefer or set()
            again = sorted((c for c in chunks if c.id in used and c.id not in taken),
                           key=lambda c: (c.id not in prefer,
                                          sum(rates[c.id]) / len(rates[c.id]) if rates[c.id] else 0.5, asked[c.id]))
            picked += again[: n - len(picked)]
        return picked

    def describe(self, plan: RoundPlan) -> dict[str, Any]:
        return {"patterns": plan.patterns, "kinds": plan.kinds, "multi_hop": plan.multi_hop,
                "shape_pass_rates": {k: v.rounded() for k, v in plan.shape_pass_rates.items()},
                **({"error": plan.error} if plan.error else {})}
