"""The build flow: sources -> documents -> chunks -> questions -> validators -> release.

Thin wiring: each step is a library function run as a Prefect task (retries,
readable task-run names); the flow loops over chunks until the requested number
of questions is accepted or the chunks run out, then publishes and records a
markdown summary artifact.
"""

from __future__ import annotations

import math
import re
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.cache_policies import NONE as NO_CACHE

from benchmint import __version__, progress
from benchmint.config import BuildConfig, FeedPolicy
from benchmint.errors import BenchmintError, ConfigError, ModelFault, ModelOutputError, NothingToPublish, SourceError
from benchmint.llm import ModelPool
from benchmint.local_server import default_targets
from benchmint.modelspec import ModelSpec
from benchmint.names import escape_undecodable
from benchmint.quantities import like_quantities
from benchmint.records import Chunk, Document, Question, SkippedSource, Verdict
from benchmint.release import publish, versions
from benchmint.runlock import run_lock
from corpora.chunking import chunk_documents
from corpora.documents import load_documents
from corpora.feeds import load_feeds, parse_since
from flows.secret_safe import safe_config_params, secret_safe_flow, secured
from generators.adaptive import AdaptiveAgent, RoundPlan
from generators.multi_hop import MultiHopGenerator, pair_chunks
from generators.single_hop import SingleHopGenerator
from validators.answerability import AnswerabilityValidator
from validators.base import Context
from validators.chain import ValidatorChain
from validators.contamination_setup import contamination_validator
from validators.difficulty import DifficultyValidator
from validators.judges import JudgePanel
from validators.scoring import TargetRunner


def _transient(task, task_run, state) -> bool:  # noqa: ANN001 - Prefect's retry_condition_fn signature
    """Retry unexpected failures; a user error (BenchmintError) fails at once."""
    exc = state.result(raise_on_failure=False)
    return not isinstance(exc, BenchmintError)


@task(name="load-sources", cache_policy=NO_CACHE, retries=1, retry_condition_fn=_transient)
def load_sources_task(sources: list[str], max_file_mb: float = 50.0,
                      max_file_seconds: float = 60.0) -> tuple[list[Document], list[SkippedSource]]:
    return load_documents(sources, max_file_mb, max_file_seconds) if sources else ([], [])


@task(name="load-feeds", cache_policy=NO_CACHE, retries=1, retry_condition_fn=_transient)
def load_feeds_task(feeds: list[str], since: str | None, cache_dir: Path,
                    policy: FeedPolicy | None = None) -> tuple[list[Document], list[SkippedSource]]:
    return load_feeds(feeds, parse_since(since), cache_dir, policy=policy)


@task(name="chunk-documents", cache_policy=NO_CACHE)
def chunk_task(docs: list[Document], max_tokens: int, overlap: int) -> list[Chunk]:
    return chunk_documents(docs, max_tokens, overlap)


@task(cache_policy=NO_CACHE, retries=1, retry_delay_seconds=2, retry_condition_fn=_transient)
def generate_task(generator: SingleHopGenerator, chunk: Chunk, doc: Document, round_: int = 0,
                  kind: str | None = None, focus: str = "") -> tuple[list[Question], dict[str, str] | None]:
    """Questions for one chunk; a reply that is not usable is recorded ({"error", "kind"}), not raised."""
    try:
        return generator.generate_one(chunk, doc, round_, kind, focus), None
    except (ModelOutputError, ModelFault) as exc:
        return [], {"error": str(exc), "kind": exc.kind}


@task(name="validate", cache_policy=NO_CACHE)
def validate_task(chain: ValidatorChain, candidates: list[Question], ctx: Context) -> tuple[list[Question], list[Question]]:
    return chain.run(candidates, ctx)


@task(name="publish", cache_policy=NO_CACHE)
def publish_task(out_root: str, name: str, accepted: list[Question], rejected: list[Question],
                 manifest: dict[str, Any], titles: dict[str, str], contexts: dict[str, str],
                 retired: list[Question] | None = None, expected_parent: str | None | bool = False) -> str:
    return str(publish(Path(out_root), name, accepted, rejected, manifest, titles, contexts, retired, expected_parent))


@task(name="recheck-published", cache_policy=NO_CACHE)
def recheck_task(keep: list[Question], contamination: Any, runner: TargetRunner | None, ctx: Context,
                 cfg: BuildConfig) -> tuple[list[Question], list[Question]]:
    """Published questions of unchanged documents: retire those that became contaminated (a corpus
    was added) or saturated (every target now answers them); keep the rest."""
    kept, retired = [], []
    checks = contamination.check(keep, ctx) if contamination is not None else [None] * len(keep)
    mode = "with_document" if cfg.difficulty.with_document else "closed_book"
    results = runner.run(keep, mode, ctx.chunks) if runner is not None else {}
    for q, v in zip(keep, checks, strict=True):
        rs = [r for r in results.get(q.id, []) if r.correct is not None]
        if v is not None and not v.passed:
            retired.append(q.model_copy(update={"retired_reason": f"contaminated: {v.reason}"}))
        elif rs and all(r.correct for r in rs):
            retired.append(q.model_copy(update={
                "retired_reason": f"saturated: every target answers it ({', '.join(r.target for r in rs)})"}))
        else:
            kept.append(q)
    return kept, retired


@task(cache_policy=NO_CACHE, retries=1, retry_delay_seconds=2, retry_condition_fn=_transient)
def generate_pair_task(generator: MultiHopGenerator, a: Chunk, da: Document, b: Chunk, db: Document,
                       round_: int, focus: str) -> tuple[list[Question], dict[str, str] | None]:
    """Multi-hop questions for one pair of chunks; a reply that is not usable is recorded, not raised."""
    try:
        return generator.generate_pair(a, da, b, db, round_, focus), None
    except (ModelOutputError, ModelFault) as exc:
        return [], {"error": str(exc), "kind": exc.kind}


@task(cache_policy=NO_CACHE)
def plan_round_task(agent: AdaptiveAgent, questions: list[Question], cfg: BuildConfig) -> RoundPlan:
    return agent.plan(questions, list(cfg.generation.kinds), cfg.generation.multi_hop)


def refresh_fingerprint(cfg: BuildConfig) -> str:
    """What, besides the documents, decides which published questions stay: the contamination
    settings and the corpora's identities (registry entries, files' size and time), the targets,
    the judges and the difficulty settings. A refresh whose documents and fingerprint are
    unchanged has nothing to recheck."""
    import hashlib
    import json

    from corpora.reference.registry import read_registry

    registry = read_registry(cfg.resolved_cache_dir())
    refs = []
    for ref in cfg.contamination.references:
        path = Path(ref).expanduser()
        if ref in registry:
            refs.append(registry[ref])
        elif path.exists():
            st = path.stat()
            refs.append({"path": str(path.resolve()), "size": st.st_size, "mtime": int(st.st_mtime)})
        else:
            refs.append(ref)
    blob = {"contamination": cfg.contamination.model_dump(mode="json"), "references": refs,
            "targets": [t.label for t in cfg.models.targets], "judges": [j.label for j in cfg.models.panel()],
            "difficulty": cfg.difficulty.model_dump(mode="json"), "benchmint": __version__}
    return hashlib.sha256(json.dumps(blob, sort_keys=True, default=str).encode()).hexdigest()


def model_roles(cfg: BuildConfig) -> dict[str, ModelSpec]:
    """Every model the build uses, by role (a model in several roles shares one server)."""
    roles: dict[str, ModelSpec] = {"generator": cfg.models.generator}
    for i, spec in enumerate(cfg.models.targets, 1):
        roles[f"target{i}"] = spec
    for i, spec in enumerate(cfg.models.panel(), 1):
        roles[f"judge{i}"] = spec
    if cfg.contamination.enabled and cfg.contamination.judge is not None:
        roles["contamination_judge"] = cfg.contamination.judge
    return roles


COMPUTED = "numeric:computed"


def plan_steps(round_chunks: list[Chunk], plan: RoundPlan, pairs: dict[str, Chunk],
               quantities: set[str] | None = None) -> list[tuple[Chunk, str, Chunk | None]]:
    """(chunk, kind, partner chunk for multi-hop or None) per generation step of a round.

    A share `plan.multi_hop` of the steps (spread evenly) pair the chunk with its partner for a
    multi-hop question; the kinds (or their harder forms) take turns over the other steps in the
    plan's order. A computed-number step goes to a chunk that has like quantities to combine
    (swapping kinds with another step when its own chunk has none); `quantities`, the ids of the
    chunks that have them, is found from the round's chunks when not given.
    """
    steps = []
    turn = 0
    for k, c in enumerate(round_chunks):
        partner = pairs.get(c.id)
        hop = partner is not None and math.ceil((k + 1) * plan.multi_hop) > math.ceil(k * plan.multi_hop)
        if hop:
            steps.append((c, "multi_hop", partner))
        else:
            steps.append((c, plan.kinds[turn % len(plan.kinds)], None))
            turn += 1
    if COMPUTED not in plan.kinds:
        return steps
    if quantities is None:
        quantities = {c.id for c in round_chunks if like_quantities(c.text)}
    for i, (c, kind, partner) in enumerate(steps):
        if kind == COMPUTED and c.id not in quantities:
            j = next((j for j, (c2, k2, p2) in enumerate(steps)
                      if p2 is None and k2 != COMPUTED and c2.id in quantities), None)
            if j is not None:
                steps[i], steps[j] = (c, steps[j][1], None), (steps[j][0], COMPUTED, None)
    return steps


def _completion_tokens(pool: ModelPool) -> int:
    return int(sum(u["completion_tokens"] for u in pool.usage.as_dict().values()))


def interleave(docs: list[Document], chunks: list[Chunk]) -> list[Chunk]:
    """Round-robin over documents, so early questions come from every document."""
    by_doc: dict[str, list[Chunk]] = {d.id: [] for d in docs}
    for c in chunks:
        by_doc[c.document_id].append(c)
    out, depth = [], max((len(v) for v in by_doc.values()), default=0)
    for i in range(depth):
        out.extend(v[i] for v in by_doc.values() if i < len(v))
    return out


def _slug(text: str, n: int = 24) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:n] or "doc"


@secret_safe_flow(safe_config_params, name="build-benchmark", flow_run_name="build-{config[name]}", log_prints=True)
def build_benchmark(config: dict[str, Any], wait_s: float = 0.0) -> dict[str, Any]:
    """Run the whole pipeline once and publish the next version. Returns a summary.

    Holds the benchmark's run lock throughout (a refresh of the same name waits or stops), and
    publishes only when the latest version is still the one seen at the start."""
    cfg = secured(config)
    bench_dir = Path(cfg.output_dir) / cfg.name
    with run_lock(bench_dir, "build", wait_s):
        found = versions(bench_dir)
        return run_pipeline(cfg, parent=found[-1] if found else None)


def load_all(cfg: BuildConfig) -> tuple[list[Document], list[SkippedSource]]:
    """Documents from the sources and the feeds (tasks of the running flow)."""
    rep = progress.current.get()
    rep.stage("reading sources")
    docs, skipped = load_sources_task(cfg.sources, cfg.loader.max_file_mb, cfg.loader.max_file_seconds)
    if cfg.feeds:
        rep.stage("reading feeds")
        feed_docs, feed_skipped = load_feeds_task(cfg.feeds, cfg.since, cfg.resolved_cache_dir(), cfg.feed_policy)
        known = {d.id for d in docs}
        docs += [d for d in feed_docs if d.id not in known]
        skipped += feed_skipped
    return docs, skipped


def run_pipeline(cfg: BuildConfig, loaded: tuple[list[Document], list[SkippedSource]] | None = None,
                 keep: list[Question] | None = None, only_docs: set[str] | None = None,
                 retire: list[Question] | None = None, kind: str = "build",
                 parent: str | None | bool = False) -> dict[str, Any]:
    """Generate, validate and publish (`parent`: the version this run started from; see release.publish). A refresh passes the documents it read (`loaded`), the
    published questions to keep (`keep`: rechecked for contamination and saturation first) and
    the documents to write new questions from (`only_docs`); it publishes only on a change."""
    log = get_run_logger()
    rep = progress.current.get()
    t_start = time.monotonic()
    docs, skipped = loaded if loaded is not None else load_all(cfg)
    for s in skipped:
        log.warning("skipped %s: %s", escape_undecodable(s.source), s.reason)  # the API takes UTF-8 only
        rep.note(f"skipped {s.source}: {s.reason}")
    if not docs:
        raise SourceError(f"no readable document in {', '.join(cfg.sources + cfg.feeds)}; benchmint reads pdf, md, "
                          "txt and html files, and RSS/Atom feed entries" + (f" published after {cfg.since}" if cfg.since else ""))
    all_chunks = interleave(docs, chunk_task(docs, cfg.chunking.max_tokens, cfg.chunking.overlap))
    chunks = all_chunks if only_docs is None else [c for c in all_chunks if c.document_id in only_docs]
    log.info("%d documents, %d chunks, %d to write questions from", len(docs), len(all_chunks), len(chunks))
    titles = {d.id: d.title for d in docs}

    cache_dir = cfg.resolved_cache_dir()
    ctx = Context(config=cfg, documents={d.id: d for d in docs}, chunks={c.id: c for c in all_chunks},
                  cache_dir=cache_dir, run_id=uuid.uuid4().hex[:12])
    kept: list[Question] = []
    retired: list[Question] = list(retire or [])  # with retired_reason set
    accepted: list[Question] = []
    rejected: list[Question] = []
    generated = 0
    output_errors: list[dict[str, Any]] = []
    if cfg.adaptive.rounds > 1 and not cfg.models.targets:
        # adaptive rounds aim at the targets' failures: with none named, the embedded models are the targets
        found = default_targets()
        if not found:
            raise ConfigError("adaptive rounds (--rounds > 1) aim at the targets' failures: name the targets "
                              "with --targets M1,M2 (or models.targets in the config)")
        cfg = cfg.model_copy(update={"models": cfg.models.model_copy(update={"targets": found})})
        rep.note(f"targets: {', '.join(t.label for t in found)} (the embedded models; name others with --targets)")
    roles = model_roles(cfg)

    rep.stage(f"starting models ({', '.join(sorted({s.label for s in roles.values()}))})")
    with ModelPool(roles, cache_dir) as pool:
        ctx.models = pool
        rep.stage("loading contamination corpora")
        contamination = contamination_validator(
            cfg.contamination, Path(cfg.output_dir) / cfg.name, cache_dir,
            judge=pool.clients.get("contamination_judge"))
        if contamination is not None:
            contamination.prepare(ctx.embedder, cache_dir)
        judges = [pool[r] for r in roles if r.startswith("judge")]
        panel = JudgePanel(judges) if judges else None
        targets = [pool[r] for r in roles if r.startswith("target")]
        runner = TargetRunner(targets, panel) if targets else None
        measure = []
        if runner is not None:
            d = cfg.difficulty
            if d.closed_book != "off":
                measure.append(AnswerabilityValidator(runner, d.closed_book_max, d.closed_book))
            measure.append(DifficultyValidator(runner, d.band, d.with_document, panel, d.check_gold))
        chain = ValidatorChain(cfg, extra=[contamination] if contamination is not None else [], measure=measure)
        if keep:
            rep.stage(f"rechecking {len(keep)} published questions")
            kept, rechecked = recheck_task(keep, contamination, runner, ctx, cfg)
            pool.check()
            retired += rechecked
            chain.dedup.add_existing(kept, ctx)
        single = SingleHopGenerator(pool["generator"], cfg.generation.questions_per_chunk,
                                    cfg.generation.kinds, cfg.seed)
        multi = MultiHopGenerator(pool["generator"], max(1, cfg.generation.questions_per_chunk - 1), cfg.seed)
        agent = (AdaptiveAgent(pool["generator"], cfg.adaptive.sample, tactics=cfg.adaptive.tactics)
                 if cfg.adaptive.rounds > 1 else None)
        pairs: dict[str, Chunk] | None = None
        quantities: set[str] | None = None  # chunks with like quantities, found once when a plan computes numbers
        prompts = single.prompts()
        rounds: list[dict[str, Any]] = []
        used: set[str] = set()
        plan = RoundPlan(kinds=list(cfg.generation.kinds), multi_hop=cfg.generation.multi_hop)
        stop = ""
        progress_id = create_progress_artifact(
            progress=0.0, key=f"progress-{_slug(cfg.name, 40)}",
            description=f"{cfg.name}: accepted questions, as a share of the {cfg.questions} wanted") if chunks else None
        for r in range(cfg.adaptive.rounds if chunks else 0):
            if r > 0:
                rep.stage(f"round {r}: naming the failure patterns")
                plan = plan_round_task.with_options(task_run_name=f"plan-round-{r}")(agent, accepted + rejected, cfg)
                pool.check()
            if COMPUTED in plan.kinds and quantities is None:
                quantities = {c.id for c in chunks if like_quantities(c.text)}
            if r == 0:
                round_chunks = chunks if cfg.adaptive.rounds == 1 else chunks[: cfg.adaptive.chunks_per_round]
            else:
                round_chunks = agent.pick_chunks(chunks, accepted + rejected, used, cfg.adaptive.chunks_per_round,
                                                 prefer=quantities if COMPUTED in plan.kinds else None)
            if plan.multi_hop > 0 and pairs is None:
                pairs = {a: ctx.chunks[b] for a, b in pair_chunks(all_chunks, ctx.embedder).items()}
            # each adaptive round starts its own plan's turns, in its order (untried shapes first)
            steps = plan_steps(round_chunks, plan, pairs or {}, quantities)
            rep.stage(f"round {r}: generating and validating" if cfg.adaptive.rounds > 1 else "generating and validating")
            tokens0 = _completion_tokens(pool)
            rnd = {"round": r, "generated": 0, "accepted": 0, "rejected": 0, "rejected_by_validator": Counter(),
                   "pass_rates": [], "chunks": 0}
            for b in range(0, len(steps), cfg.generation.batch_chunks):
                candidates: list[Question] = []
                for chunk, kind, other in steps[b : b + cfg.generation.batch_chunks]:
                    doc = ctx.documents[chunk.document_id]
                    focus = ""
                    if r > 0 and agent is not None:
                        focus = agent.chunk_focus(plan.focus, [chunk.id] + ([other.id] if other else []),
                                                  accepted + rejected)
                    if other is not None:
                        odoc = ctx.documents[other.document_id]
                        qs, err = generate_pair_task.with_options(
                            task_run_name=f"generate-r{r}-{_slug(doc.title, 16)}-c{chunk.index}+{_slug(odoc.title, 16)}-c{other.index}")(
                            multi, chunk, doc, other, odoc, r, focus)
                        used.add(other.id)
                        prompts[multi.prompt.id] = multi.prompt.version
                    else:
                        qs, err = generate_task.with_options(
                            task_run_name=f"generate-r{r}-{_slug(doc.title)}-c{chunk.index}")(single, chunk, doc, r, kind, focus)
                        prompts.update(single.prompts([kind]))
                    used.add(chunk.id)
                    rnd["chunks"] += 1
                    if err:
                        log.warning("chunk %s of %s: %s", chunk.index, doc.title, err["error"])
                        output_errors.append({"chunk_id": chunk.id, "round": r, **err})
                    pool.check()  # the circuit breaker: an endpoint that failed too many steps in a row stops the build
                    candidates.extend(qs)
                generated += len(candidates)
                ok, bad = validate_task(chain, candidates, ctx)
                pool.check()
                accepted.extend(ok)
                rejected.extend(bad)
                rnd["generated"] += len(candidates)
                rnd["accepted"] += len(ok)
                rnd["rejected"] += len(bad)
                rnd["rejected_by_validator"].update(v.validator for q in bad for v in q.verdicts
                                                   if v.blocking and not v.passed)
                rnd["pass_rates"] += [q.pass_rate for q in candidates if q.pass_rate is not None]
                rep.advance(min(len(accepted), cfg.questions), cfg.questions, len(used), len(chunks))
                update_progress_artifact(progress_id, progress=min(100.0, 100.0 * len(accepted) / cfg.questions))
                if len(accepted) >= cfg.questions:
                    stop = f"{cfg.questions} questions accepted"
                    break
                if cfg.adaptive.max_tokens and _completion_tokens(pool) >= cfg.adaptive.max_tokens:
                    stop = f"token budget of {cfg.adaptive.max_tokens} completion tokens spent"
                    break
            rates = rnd.pop("pass_rates")
            rnd["rejected_by_validator"] = dict(rnd["rejected_by_validator"])
            rnd["mean_target_pass_rate"] = round(sum(rates) / len(rates), 4) if rates else None
            rnd["measured"] = len(rates)
            rnd["completion_tokens"] = _completion_tokens(pool) - tokens0
            if r > 0 and agent is not None:
                rnd.update(agent.describe(plan))
            rounds.append(rnd)
            log.info("round %d: %s", r, rnd)
            if stop:
                break
        stop = stop or ("no new document" if not chunks else "chunks exhausted" if cfg.adaptive.rounds == 1
                        else f"{cfg.adaptive.rounds} rounds done")
        done = len(used)
        usage = pool.usage.as_dict()
        model_seconds = pool.usage.model_seconds()
        missing = {"target_replies": runner.missing if runner else 0, "judge_votes": panel.missing_votes if panel else 0}
        faults = pool.faults()
        if panel is not None:
            prompts.update(panel.prompt_versions())
        if runner is not None:
            prompts[runner.prompt.id] = runner.prompt.version
        if agent is not None:
            prompts[agent.prompt.id] = agent.prompt.version

    surplus = accepted[cfg.questions:]
    accepted = accepted[: cfg.questions]
    for q in surplus:
        q.verdicts.append(Verdict(validator="budget", passed=False, blocking=True,
                                  reason=f"passed every validator, beyond the requested {cfg.questions} questions"))
    rejected.extend(surplus)

    new_accepted = len(accepted)
    accepted = kept + accepted
    rejections = Counter(v.validator for q in rejected for v in q.verdicts if v.blocking and not v.passed)
    manifest = {
        "config": cfg.public_dict(),
        "sources": {
            "documents": [{"id": d.id, "title": d.title, "source": d.source, "format": d.format,
                           "chars": len(d.text),
                           **({"published_at": d.published_at.isoformat()} if d.published_at else {})} for d in docs],
            "feeds": list(cfg.feeds), "since": cfg.since,
            "skipped": [s.model_dump() for s in skipped],
            "chunks": len(all_chunks), "chunks_used": done,
        },
        "models": {role: spec.label for role, spec in roles.items()},
        "targets": [t.label for t in cfg.models.targets],
        "judges": [j.label for j in cfg.models.panel()],
        "rounds": rounds,
        "stopped_because": stop,
        "missing": missing,
        "refresh_fingerprint": refresh_fingerprint(cfg),
        "contamination": contamination.describe() if contamination is not None else {"enabled": False, "corpora": []},
        "prompts": prompts,
        "validators": chain.summary(),
        "rejections_by_validator": dict(rejections),
        "generated": generated,
        "model_output_errors": output_errors,
        "faults": faults,
        "token_usage": usage,
        "timing": {"total_s": round(time.monotonic() - t_start, 2), "model_s": round(model_seconds, 2)},
    }
    summary = {"name": cfg.name, "accepted": len(accepted), "rejected": len(rejected), "generated": generated,
               "skipped": [s.model_dump() for s in skipped], "rejections_by_validator": dict(rejections),
               "token_usage": usage, "chunks_used": done, "chunks": len(all_chunks), "release": None,
               "kind": kind, "added": new_accepted, "kept": len(kept),
               "retired": [{"id": q.id, "question": q.question, "reason": q.retired_reason} for q in retired],
               "rounds": [{k: x[k] for k in ("round", "generated", "accepted", "mean_target_pass_rate")} for x in rounds],
               "missing": missing, "stopped_because": stop, "faults": faults["replies"]}
    if kind == "refresh" and not new_accepted and not retired:
        summary["timing"] = {"total_s": round(time.monotonic() - t_start, 2), "model_s": round(model_seconds, 2)}
        _artifact(cfg.name, summary, "unchanged: no question added or retired; no new version published")
        return summary
    if not accepted:
        _artifact(cfg.name, summary, "nothing published: no question was accepted")
        reasons = ", ".join(f"{k}: {n}" for k, n in rejections.most_common()) or "no candidate was generated"
        raise NothingToPublish(f"no question was accepted from {generated} candidates ({reasons}); "
                               "nothing was published. Try more or longer documents, or a stronger --model")
    rep.stage("publishing")
    contexts = {c.id: c.text for c in all_chunks}
    release = publish_task(cfg.output_dir, cfg.name, accepted, rejected, manifest, titles, contexts, retired, parent)
    create_table_artifact(
        key=f"validators-{_slug(cfg.name, 40)}", description=f"{cfg.name}: candidates passed and failed per validator",
        table=[{"validator": k, "passed": v["passed"], "failed": v["failed"]} for k, v in chain.summary().items()])
    create_markdown_artifact(markdown=(Path(release) / "CHANGELOG.md").read_text(encoding="utf-8"),
                             key=f"changelog-{_slug(cfg.name, 40)}", description=f"{cfg.name} {Path(release).name}")
    summary["release"] = release
    summary["version"] = Path(release).name
    summary["timing"] = {"total_s": round(time.monotonic() - t_start, 2), "model_s": round(model_seconds, 2)}
    _artifact(cfg.name, summary, f"published {release}")
    return summary


def _artifact(name: str, s: dict[str, Any], headline: str) -> None:
    lines = [f"# benchmint build: {name}", "", f"**{headline}**", "",
             "| accepted | rejected | generated | chunks used |", "|---|---|---|---|",
             f"| {s['accepted']} | {s['rejected']} | {s['generated']} | {s['chunks_used']} / {s['chunks']} |", ""]
    if s["rejections_by_validator"]:
        lines += ["| validator | rejected |", "|---|---|"]
        lines += [f"| {k} | {n} |" for k, n in sorted(s["rejections_by_validator"].items())]
        lines.append("")
    if any(r.get("mean_target_pass_rate") is not None for r in s.get("rounds", [])):
        lines += ["| round | generated | accepted | mean target pass rate |", "|---|---|---|---|"]
        lines += [f"| {r['round']} | {r['generated']} | {r['accepted']} | {r['mean_target_pass_rate']} |" for r in s["rounds"]]
        lines.append("")
    if s.get("missing", {}).get("target_replies") or s.get("missing", {}).get("judge_votes"):
        lines += [f"Missing: {s['missing']['target_replies']} target replies, {s['missing']['judge_votes']} judge votes.", ""]
    if s["skipped"]:
        lines += ["Skipped sources:", ""] + [f"- `{x['source']}`: {x['reason']}" for x in s["skipped"]] + [""]
    for role, u in s["token_usage"].items():
        lines.append(f"- {role}: {u['calls']} calls, {u['cache_hits']} cached, "
                     f"{u['prompt_tokens']} prompt + {u['completion_tokens']} completion tokens")
    create_markdown_artifact(markdown=escape_undecodable("\n".join(lines)), key=f"build-{_slug(name, 40)}",
                             description=escape_undecodable(headline))
