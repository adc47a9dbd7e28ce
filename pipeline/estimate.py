"""What a build will spend, before it runs: calls, prompt and completion tokens and money per role.

The sources are read and chunked as a build reads them (`load_all`, the build's chunking and order), the
generation steps planned as the round loop plans them (`plan_steps`: kinds in turns, multi-hop share,
batches of `generation.batch_chunks`), and each step's prompt rendered from the real templates. No model is
called. What cannot be known before the models answer is an assumption, listed with the estimate
(pipeline.estimate_assumptions): how many candidates are accepted (the stop rule), how often a reply needs a
repair, how long replies are, and tokens from characters (a ratio per model family, no tokenizer).

Two figures per role: the expected one (the round loop's stop rules replayed with expected values) and a
ceiling without any budget (every chunk of every round used, every step repaired, every reply at
max_tokens, every candidate put to the targets and judges).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from benchmint.config import BuildConfig
from benchmint.cost import currency_of, money
from benchmint.errors import SourceError
from benchmint.fence import fence
from benchmint.modelspec import ModelSpec
from benchmint.prompts import load_prompt
from benchmint.records import Chunk, Document
from generators.adaptive import RoundPlan
from generators.multi_hop import MultiHopGenerator
from generators.single_hop import SingleHopGenerator
from pipeline.budget import budget_stop, prices, question_stop
from pipeline.build import load_all
from pipeline.estimate_assumptions import Assumptions, prompt_tokens
from pipeline.roles import model_roles, with_default_targets
from pipeline.steps import COMPUTED, MULTI_HOP, chunks_with_quantities, interleave, plan_steps
from pipeline.wiring import Wiring

QUESTION_CHARS = 120  # a typical question as the targets and judges see it
CHOICES_CHARS = 4 * 40  # four choices of a multiple-choice question
ANSWER_CHARS = 60  # a gold answer or a target's reply, quoted to a judge
CITATIONS_CHARS = 240  # the cited passages of a gold check
REPAIR_NOTE_TOKENS = 40  # "That reply is not valid: ... Reply again with only the corrected JSON object"


@dataclass
class Tally:
    """Calls and tokens of one role (expected values, so fractional until rounded)."""

    calls: float = 0.0
    prompt_tokens: float = 0.0
    completion_tokens: float = 0.0

    def add(self, calls: float, prompt: float, completion: float) -> None:
        self.calls += calls
        self.prompt_tokens += calls * prompt
        self.completion_tokens += calls * completion


@dataclass
class RoleEstimate:
    role: str
    """generator, target1.., judge1.., contamination_judge: the roles of the manifest's token_usage."""
    model: str
    """The model's label."""
    calls: int
    """Expected model calls (repairs included)."""
    prompt_tokens: int
    """Expected prompt tokens."""
    completion_tokens: int
    """Expected completion tokens."""
    cost: float | None
    """Expected money; None when the model has no price."""
    max_calls: int
    """Ceiling without a budget: every chunk, every repair, every candidate checked."""
    max_prompt_tokens: int
    """Ceiling of the prompt tokens."""
    max_completion_tokens: int
    """Ceiling of the completion tokens (every reply at max_tokens)."""
    max_cost: float | None
    """Ceiling of the money; None when the model has no price."""


@dataclass
class Estimate:
    name: str
    """The benchmark."""
    documents: int
    """Documents read (as the build reads them)."""
    skipped: list[dict[str, str]]
    """Sources that could not be read, with the reason."""
    chunks: int
    """Chunks of all documents (the build's chunking)."""
    steps: int
    """Expected generation steps (each a chunk, or a pair for multi-hop); the manifest's chunks_used."""
    max_steps: int
    """Generation steps when every chunk of every round is used."""
    candidates: float
    """Expected candidates written."""
    accepted: float
    """Expected accepted questions (at most `questions`)."""
    questions: int
    """Accepted questions wanted."""
    stop: str
    """Why the replayed round loop stopped."""
    currency: str
    """The currency of every cost."""
    roles: list[RoleEstimate] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    """What the estimate assumes, in words."""

    def total(self, key: str) -> float | None:
        values = [getattr(r, key) for r in self.roles]
        if key in ("cost", "max_cost"):
            priced = [v for v in values if v is not None]
            return round(sum(priced), 6) if priced else None
        return sum(values)

    def as_dict(self) -> dict[str, Any]:
        keys = ("calls", "prompt_tokens", "completion_tokens", "cost", "max_calls", "max_prompt_tokens",
                "max_completion_tokens", "max_cost")
        return {**asdict(self), "total": {k: self.total(k) for k in keys}}


class Replay:
    """The round loop replayed with expected values: per batch, the generator's steps, then the
    validators' calls on the batch's candidates, then the stop rules."""

    def __init__(self, cfg: BuildConfig, roles: dict[str, ModelSpec], docs: dict[str, Document],
                 chunks: list[Chunk], a: Assumptions):
        self.cfg, self.roles, self.docs, self.chunks, self.a = cfg, roles, docs, chunks, a
        self.n = cfg.generation.questions_per_chunk
        self.single = SingleHopGenerator(None, self.n, list(cfg.generation.kinds), cfg.seed)  # type: ignore[arg-type]
        self.multi = MultiHopGenerator(None, max(1, self.n - 1), cfg.seed)  # type: ignore[arg-type]
        self.target_prompt = load_prompt("target_answer")
        self.judge_prompts = (load_prompt("judge_answer"), load_prompt("judge_gold"))
        self.agent_prompt = load_prompt("adaptive_patterns")
        self.expected = {r: Tally() for r in roles}
        self.ceiling = {r: Tally() for r in roles}
        self.targets = [r for r in roles if r.startswith("target")]
        self.judges = [r for r in roles if r.startswith("judge")]
        # closed-book (answerability) and with the document (difficulty); one set of calls when both are closed-book
        d = cfg.difficulty
        modes = ["closed_book"] * (d.closed_book != "off") + ["with_document" if d.with_document else "closed_book"]
        self.modes = list(dict.fromkeys(modes))
        self.quantities = chunks_with_quantities(chunks) if COMPUTED in cfg.generation.kinds else None
        # multi-hop partners are found by embeddings in a build; the next chunk stands in (a like-sized passage)
        self.pairs = ({c.id: chunks[(i + 1) % len(chunks)] for i, c in enumerate(chunks)}
                      if cfg.generation.multi_hop > 0 and len(chunks) > 1 else {})
        self.steps = self.max_steps = 0
        self.candidates = self.accepted = 0.0
        self.stop = ""

    def cpt(self, role: str) -> float:
        return self.a.chars_per_token(self.roles[role])

    def usage(self) -> dict[str, dict[str, float]]:
        return {r: {"prompt_tokens": t.prompt_tokens, "completion_tokens": t.completion_tokens}
                for r, t in self.expected.items()}

    def step(self, chunk: Chunk, kind: str, partner: Chunk | None, tally: dict[str, Tally], ceiling: bool) -> float:
        """One generation step's calls on `tally`; its candidates."""
        spec = self.roles["generator"]
        if partner is not None:
            n = self.multi.n
            msgs = self.multi.messages(chunk, self.docs[chunk.document_id], partner, self.docs[partner.document_id])
        else:
            n = self.n
            msgs = self.single.messages(chunk, self.docs[chunk.document_id], kind)
        p = prompt_tokens(msgs, self.cpt("generator"))
        reply = spec.max_tokens if ceiling else min(spec.max_tokens, self.a.reply_tokens_per_question * n)
        repair = 1.0 if ceiling else self.a.repair_rate_for(spec, kind)
        tally["generator"].add(1, p, reply)
        tally["generator"].add(repair, p + reply + REPAIR_NOTE_TOKENS, reply)
        self.validators(chunk, kind, n, tally, ceiling)
        return n

    def validators(self, chunk: Chunk, kind: str, n: float, tally: dict[str, Tally], ceiling: bool) -> None:
        """The model calls of the validators on one step's `n` candidates."""
        reach = n * (1.0 if ceiling else self.a.reach_targets)
        base = kind.split(":", 1)[0] if kind != MULTI_HOP else "open"
        question = QUESTION_CHARS + (CHOICES_CHARS if base == "mcq" else 0)
        for role in self.targets:
            spec, cpt = self.roles[role], self.cpt(role)
            reply = 128 if ceiling else self.a.target_reply_tokens  # TargetRunner asks max_tokens=128
            for mode in self.modes:
                context = f"Source text:\n{fence(chunk.text)}\n\n" if mode == "with_document" else ""
                msgs = self.target_prompt.render(context=context, question="x" * question, choices="",
                                                 instruction="Answer with a short phrase.")
                tally[role].add(reach, prompt_tokens(msgs, cpt), min(reply, spec.max_tokens))
        answer, gold = self.judge_prompts
        for role in self.judges:
            cpt = self.cpt(role)
            reply = 160 if ceiling else self.a.judge_reply_tokens  # JudgePanel asks max_tokens=160
            judged = (1.0 if ceiling else self.a.judged_open) if base == "open" else 0.0
            votes = reach * judged * len(self.targets) * len(self.modes)
            msgs = answer.render(question="x" * question, gold="x" * ANSWER_CHARS, reply="x" * ANSWER_CHARS)
            tally[role].add(votes, prompt_tokens(msgs, cpt), reply)
            if self.cfg.difficulty.check_gold:
                checks = reach * (1.0 if ceiling else self.a.gold_checked)
                msgs = gold.render(question="x" * question, gold="x" * ANSWER_CHARS,
                                   passages=fence("x" * CITATIONS_CHARS, tag="passages"))
                tally[role].add(checks, prompt_tokens(msgs, cpt), reply)
        if "contamination_judge" in self.roles:
            share = 1.0 if ceiling else self.a.contamination_judged
            msgs = answer.render(question="x" * question, gold="x" * QUESTION_CHARS, reply="")
            tally["contamination_judge"].add(n * share, prompt_tokens(msgs, self.cpt("contamination_judge")),
                                             60 if ceiling else self.a.judge_reply_tokens)

    def agent_call(self, tally: dict[str, Tally], ceiling: bool) -> None:
        """The adaptive agent names the failure patterns once per round after round 0 (max_tokens=200)."""
        sample = "x" * (QUESTION_CHARS + ANSWER_CHARS * 3) * self.cfg.adaptive.sample * 2
        msgs = self.agent_prompt.render(failed=fence(sample, tag="questions"), passed="")
        tally["generator"].add(1, prompt_tokens(msgs, self.cpt("generator")), 200 if ceiling else 120)

    def round_chunks(self, r: int, n: int) -> list[Chunk]:
        """`n` chunks in the order round `r` takes them: from where the last round stopped, in corpus order,
        starting over when all were used (a build's agent picks its own, of like sizes)."""
        start = (r * self.cfg.adaptive.chunks_per_round) % len(self.chunks) if r else 0
        return [self.chunks[(start + i) % len(self.chunks)] for i in range(min(n, len(self.chunks)))]

    def run(self) -> None:
        cfg = self.cfg
        plan = RoundPlan(kinds=list(cfg.generation.kinds), multi_hop=cfg.generation.multi_hop)
        rounds, batch = cfg.adaptive.rounds, cfg.generation.batch_chunks
        size = len(self.chunks) if rounds == 1 else cfg.adaptive.chunks_per_round
        min_measured = cfg.adaptive.min_measured if rounds > 1 and self.targets else 0
        for r in range(rounds):
            if r > 0:
                self.agent_call(self.expected, False)
            # the round's chunks in the order it takes them; it takes `size`, then goes on past them, a batch
            # at a time, while too few questions were measured, over them all again up to max_passes times
            planned = plan_steps(self.round_chunks(r, len(self.chunks)), plan, self.pairs, self.quantities)
            planned *= cfg.adaptive.max_passes if min_measured else 1
            measured, b, limit = 0.0, 0, min(size, len(planned))
            while not self.stop:
                if b >= limit:
                    if measured >= min_measured or limit >= len(planned):
                        break
                    limit = min(limit + batch, len(planned))
                    continue
                for chunk, kind, partner in planned[b: min(b + batch, limit)]:
                    c = self.step(chunk, kind, partner, self.expected, False)
                    self.steps += 1
                    self.candidates += c
                    self.accepted += c * self.a.acceptance
                    measured += c * self.a.reach_targets if self.targets else 0
                b += batch
                if why := question_stop(cfg.questions, rounds, self.accepted):
                    self.stop = why
                elif why := budget_stop(cfg.adaptive, self.usage(), self.roles):
                    self.stop = why
            if self.stop:
                break
        self.stop = self.stop or ("chunks exhausted" if rounds == 1 else f"{rounds} rounds done")
        self.accepted = min(self.accepted, cfg.questions)
        self.run_ceiling(plan, rounds)

    def run_ceiling(self, plan: RoundPlan, rounds: int) -> None:
        for r in range(rounds):
            if r > 0:
                self.agent_call(self.ceiling, True)
            for chunk, kind, partner in plan_steps(self.chunks, plan, self.pairs, self.quantities):
                self.step(chunk, kind, partner, self.ceiling, True)
                self.max_steps += 1


def estimate(cfg: BuildConfig, wiring: Wiring, assumptions: Assumptions | None = None) -> Estimate:
    """The estimate of a build of `cfg`: its sources read and chunked through `wiring`, no model called."""
    docs, skipped = load_all(cfg, wiring)
    if not docs:
        raise SourceError(f"no readable document in {', '.join(cfg.sources + cfg.feeds)}; benchmint reads pdf, md, "
                          "txt and html files, and RSS/Atom feed entries")
    chunks = interleave(docs, wiring.chunk(docs, cfg.chunking.max_tokens, cfg.chunking.overlap))
    cfg = with_default_targets(cfg)
    roles = model_roles(cfg)
    a = assumptions or Assumptions.defaults(bool(cfg.models.targets))
    replay = Replay(cfg, roles, {d.id: d for d in docs}, chunks, a)
    if chunks:
        replay.run()
    by_role = prices(roles)
    out = []
    for role, spec in roles.items():
        e, c, price = replay.expected[role], replay.ceiling[role], by_role[role]
        out.append(RoleEstimate(
            role=role, model=spec.label, calls=round(e.calls), prompt_tokens=round(e.prompt_tokens),
            completion_tokens=round(e.completion_tokens),
            cost=round(money(e.prompt_tokens, e.completion_tokens, price), 6) if price is not None else None,
            max_calls=round(c.calls), max_prompt_tokens=round(c.prompt_tokens),
            max_completion_tokens=round(c.completion_tokens),
            max_cost=round(money(c.prompt_tokens, c.completion_tokens, price), 6) if price is not None else None))
    return Estimate(name=cfg.name, documents=len(docs), skipped=[s.model_dump() for s in skipped], chunks=len(chunks),
                    steps=replay.steps, max_steps=replay.max_steps, candidates=round(replay.candidates, 1),
                    accepted=round(replay.accepted, 1), questions=cfg.questions,
                    stop=replay.stop if chunks else "no chunk", currency=currency_of(by_role), roles=out,
                    assumptions=a.lines(roles, cfg))
