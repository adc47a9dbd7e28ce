"""The rounds of a build: plan each round's steps, generate a batch of steps concurrently, validate it,
and stop at the token or cost budget (pipeline.budget), the last chunk or the last round; a one-round build also at
the question count (an adaptive one chooses its published set from every round: pipeline.selection).

Concurrency and determinism: a batch (`generation.batch_chunks` steps) is the unit of work. Its steps
run at once on a thread pool, as many at a time as the generator's endpoint takes (its client's
`concurrency`: `max_concurrency` of the model entry; 1 for an embedded model served one request at
a time), and their candidates are taken in plan order. What a step asks depends only on what was
validated before its batch, and the stop rules are checked between batches, so a stop never cuts a
batch: every step of a started batch finishes and is used, in plan order, and no step of a later
batch starts. The same inputs and seed give the same release at any concurrency.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from benchmint import progress
from benchmint.config import BuildConfig
from benchmint.endpoint_budget import EndpointBudget
from benchmint.pool import ModelPool
from benchmint.records import Chunk, Question
from benchmint.stats import clustered_difference, mean_with_ci
from generators.adaptive import AdaptiveAgent, RoundPlan
from generators.base import GenerationStep, Generator
from generators.multi_hop import MultiHopGenerator, pair_chunks
from generators.single_hop import SingleHopGenerator
from pipeline import budget
from pipeline.concurrent import run_in_plan_order
from pipeline.records import RoundDrop, RoundRecord, StepOutcome
from pipeline.steps import COMPUTED, as_generation_steps, chunks_with_quantities, plan_steps
from pipeline.wiring import Wiring
from validators.base import Context
from validators.chain import ValidatorChain


def completion_tokens(pool: ModelPool) -> int:
    return budget.completion_tokens(pool.usage.as_dict())


@dataclass
class Generation:
    """What the rounds produced."""

    accepted: list[Question] = field(default_factory=list)
    rejected: list[Question] = field(default_factory=list)
    generated: int = 0
    output_errors: list[dict[str, object]] = field(default_factory=list)
    used: set[str] = field(default_factory=set)  # chunk ids a step was written from
    prompts: dict[str, str] = field(default_factory=dict)
    rounds: list[RoundRecord] = field(default_factory=list)
    # per round: its measured questions' pass rates and clusters (first chunk ids), for the drop
    measured: list[tuple[list[float], list[str]]] = field(default_factory=list)
    drop: RoundDrop | None = None  # an adaptive build: round 0 to the last measured round
    stop: str = ""
    workers: Counter = field(default_factory=Counter)  # steps run in other processes, by host:pid


def round_drop(measured: list[tuple[list[float], list[str]]]) -> RoundDrop | None:
    """The drop in mean pass rate from round 0 to the last later round that measured questions (None when
    either has none), its interval paired by the chunks both rounds drew on."""
    last = max((r for r, (rates, _) in enumerate(measured) if r > 0 and rates), default=None)
    if not measured or not measured[0][0] or last is None:
        return None
    (a, ca), (b, cb) = measured[0], measured[last]
    est = clustered_difference(a, ca, b, cb)
    return RoundDrop(last_round=last, mean=round(est.mean, 4), ci_low=round(est.ci_low, 4),
                     ci_high=round(est.ci_high, 4), n_first=len(a), n_last=len(b), clusters=est.clusters,
                     shared_clusters=len(set(ca) & set(cb)), method=est.method)


class RoundLoop:
    def __init__(self, cfg: BuildConfig, wiring: Wiring, pool: ModelPool, ctx: Context, chain: ValidatorChain,
                 chunks: list[Chunk], all_chunks: list[Chunk], log: logging.Logger | logging.LoggerAdapter):
        self.cfg, self.wiring, self.pool, self.ctx, self.chain, self.log = cfg, wiring, pool, ctx, chain, log
        self.chunks, self.all_chunks = chunks, all_chunks
        gen = pool["generator"]
        self.single = SingleHopGenerator(gen, cfg.generation.questions_per_chunk, cfg.generation.kinds, cfg.seed)
        self.multi = MultiHopGenerator(gen, max(1, cfg.generation.questions_per_chunk - 1), cfg.seed)
        self.agent = (AdaptiveAgent(gen, cfg.adaptive.sample, tactics=cfg.adaptive.tactics,
                                    shape_min_measured=cfg.adaptive.shape_min_measured)
                      if cfg.adaptive.rounds > 1 else None)
        self.concurrency = max(1, getattr(gen, "concurrency", 1))
        self.endpoint_budget = EndpointBudget.of(gen.spec, gen.base_url)  # shared with other builds, if wired so
        self.out = Generation(prompts=self.single.prompts())
        self._pairs: dict[str, Chunk] | None = None
        self._quantities: set[str] | None = None  # chunks with like quantities, found once when a plan computes numbers

    def generator_for(self, step: GenerationStep) -> Generator:
        return self.multi if step.hops > 1 else self.single

    def run(self) -> Generation:
        cfg, rep = self.cfg, progress.current.get()
        plan = RoundPlan(kinds=list(cfg.generation.kinds), multi_hop=cfg.generation.multi_hop)
        if self.chunks:
            self.wiring.progress_started(cfg)
        for r in range(cfg.adaptive.rounds if self.chunks else 0):
            if r > 0 and self.agent is not None:
                rep.stage(f"round {r}: naming the failure patterns")
                plan = self.wiring.plan_round(self.agent, self.seen(), cfg, r)
                self.pool.check()
            steps = self.plan(r, plan)
            rep.stage(f"round {r}: generating and validating" if cfg.adaptive.rounds > 1
                      else "generating and validating")
            rnd = self.run_round(r, plan, steps)
            self.out.rounds.append(rnd)
            self.log.info("round %d: %s", r, rnd.as_dict())
            if self.out.stop:
                break
        if cfg.adaptive.rounds > 1:
            self.out.drop = round_drop(self.out.measured)
        self.out.stop = self.out.stop or ("no new document" if not self.chunks else "chunks exhausted"
                                          if cfg.adaptive.rounds == 1 else f"{cfg.adaptive.rounds} rounds done")
        return self.out

    def seen(self) -> list[Question]:
        return self.out.accepted + self.out.rejected

    def plan(self, r: int, plan: RoundPlan) -> list[tuple[Chunk, str, Chunk | None]]:
        """The round's (chunk, kind, partner) steps: each adaptive round starts its own plan's turns, in its
        order (untried shapes first)."""
        cfg = self.cfg
        if COMPUTED in plan.kinds and self._quantities is None:
            self._quantities = chunks_with_quantities(self.chunks)
        size = len(self.chunks) if cfg.adaptive.rounds == 1 else cfg.adaptive.chunks_per_round
        round_chunks = self.more_chunks(r, set(), size, plan)
        if plan.multi_hop > 0 and self._pairs is None:
            self._pairs = {a: self.ctx.chunks[b] for a, b in pair_chunks(self.all_chunks, self.ctx.embedder).items()}
        return plan_steps(round_chunks, plan, self._pairs or {}, self._quantities)

    def more_chunks(self, r: int, taken: set[str], n: int, plan: RoundPlan) -> list[Chunk]:
        """Up to `n` chunks the round has not taken yet: in corpus order in round 0, else the agent's pick."""
        left = [c for c in self.chunks if c.id not in taken]
        if r == 0 or self.agent is None:
            return left[:n]
        prefer = self._quantities if COMPUTED in plan.kinds else None
        return self.agent.pick_chunks(left, self.seen(), self.out.used, n, prefer=prefer)

    def run_round(self, r: int, plan: RoundPlan, planned: list[tuple[Chunk, str, Chunk | None]]) -> RoundRecord:
        cfg, out = self.cfg, self.out
        tokens0 = completion_tokens(self.pool)
        rnd = RoundRecord(round=r)
        rejected_by: Counter = Counter()
        rates: list[float] = []
        clusters: list[str] = []
        size = cfg.generation.batch_chunks
        min_measured = cfg.adaptive.min_measured if cfg.adaptive.rounds > 1 else 0
        taken = {c.id for c, _, _ in planned}
        b, step_plan = 0, plan
        while True:
            if b >= len(planned):  # the round's chunks are done: more while too few questions were measured
                short = len(rates) < min_measured
                more = self.more_chunks(r, taken, size, step_plan) if short else []
                if not more and short and rnd.passes < cfg.adaptive.max_passes and self.agent is not None:
                    # every chunk taken: once more over them, in the shapes that reached the targets
                    rnd.passes += 1
                    step_plan, taken = self.agent.again(plan, self.seen()), set()
                    rnd.again_kinds = step_plan.kinds + (["multi_hop"] if step_plan.multi_hop else [])
                    self.log.info("round %d: %d measured of %d; pass %d over the chunks, shapes %s", r, len(rates),
                                  min_measured, rnd.passes, rnd.again_kinds)
                    more = self.more_chunks(r, taken, size, step_plan)
                if not more:
                    break
                taken.update(c.id for c in more)
                planned += plan_steps(more, step_plan, self._pairs or {}, self._quantities)
                continue
            batch = planned[b: b + size]  # never spans two passes: a pass starts when every step before is done
            steps = as_generation_steps(batch, self.ctx.documents, r, step_plan, self.seen())
            b += len(batch)
            candidates = self.generate_batch(steps, rnd)
            out.generated += len(candidates)
            ok, bad = self.wiring.validate(self.chain, candidates, self.ctx)
            self.pool.check()
            out.accepted.extend(ok)
            out.rejected.extend(bad)
            rnd.generated += len(candidates)
            rnd.accepted += len(ok)
            rnd.rejected += len(bad)
            rejected_by.update(v.validator for q in bad for v in q.verdicts if v.blocking and not v.passed)
            measured = [q for q in candidates if q.pass_rate is not None]
            rates += [q.pass_rate for q in measured]
            clusters += [q.chunk_ids[0] if q.chunk_ids else q.id for q in measured]
            shown, done = min(len(out.accepted), cfg.questions), min(b, len(planned))
            if cfg.adaptive.rounds == 1:
                progress.current.get().advance(shown, cfg.questions, len(out.used), len(self.chunks))
            else:  # every round runs, on chunks earlier rounds used too: the round's own steps show it moving
                progress.current.get().advance(shown, cfg.questions, done, len(planned))
            self.wiring.progress(budget.percent_done(cfg.questions, len(out.accepted), cfg.adaptive.rounds, r, done,
                                                     len(planned)))
            if why := budget.question_stop(cfg.questions, cfg.adaptive.rounds, len(out.accepted)):
                out.stop = why
                break
            if why := budget.budget_stop(cfg.adaptive, self.pool.usage.as_dict(), self.pool.roles):
                out.stop = why
                break
        rnd.rejected_by_validator = dict(rejected_by)
        self.out.measured.append((rates, clusters))
        if rates:
            est = mean_with_ci(rates, clusters)
            rnd.mean_target_pass_rate = round(est.mean, 4)
            rnd.pass_rate_ci = [round(est.ci_low, 4), round(est.ci_high, 4)]
        rnd.measured = len(rates)
        rnd.completion_tokens = completion_tokens(self.pool) - tokens0
        if r > 0 and self.agent is not None:
            rnd = rnd.model_copy(update=self.agent.describe(plan))
        return rnd

    def generate_batch(self, steps: list[GenerationStep], rnd: RoundRecord) -> list[Question]:
        """The batch's steps at once (up to the endpoint's concurrency); their candidates in plan order."""
        def work(step: GenerationStep) -> StepOutcome:
            return self.wiring.generate(self.generator_for(step), step)

        def after(step: GenerationStep, outcome: StepOutcome) -> None:
            if outcome.usage is not None:  # run in another process: its calls are not in the pool's book yet
                self.pool.absorb(outcome.usage)
                self.out.workers[outcome.usage.worker] += 1
            self.out.prompts.update(self.generator_for(step).prompt_versions(step))
            self.out.used.update(c.id for c in step.chunks)
            rnd.chunks += 1
            if outcome.error:
                head, doc = step.chunks[0], step.documents[0]
                self.log.warning("chunk %s of %s: %s", head.index, doc.title, outcome.error["error"])
                self.out.output_errors.append({"chunk_id": head.id, "round": step.round, **outcome.error})
            self.pool.check()  # the circuit breaker: an endpoint that failed too many steps in a row stops the build

        with self.wiring.endpoint_slots(self.endpoint_budget, min(self.concurrency, len(steps))) as slots:
            outcomes = run_in_plan_order(steps, work, slots, after)
        return [q for o in outcomes for q in o.questions]
