"""A build run: read the sources, chunk them, recheck what a refresh keeps, run the rounds, and finish
with the manifest and a typed summary (publishing when there is something to publish).

`BuildRun(cfg, wiring).run()` is the whole pipeline; `flows.build` runs it inside a Prefect flow with a
wiring of tasks and artifacts, tests run it with `pipeline.wiring.Direct`.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from benchmint import progress
from benchmint.config import BuildConfig
from benchmint.cost import with_cost
from benchmint.errors import BenchmintError, NothingToPublish, SourceError
from benchmint.names import escape_undecodable
from benchmint.pool import ModelPool
from benchmint.records import Document, Question, SkippedSource
from benchmint.response_cache import prune, responses_dir
from pipeline.budget import prices
from pipeline.manifest import ModelsUsed, RunFacts, build_manifest, build_summary
from pipeline.records import BuildSummary, Manifest
from pipeline.roles import model_roles, with_default_targets
from pipeline.rounds import RoundLoop
from pipeline.selection import choose
from pipeline.steps import interleave
from pipeline.wiring import Wiring
from validators.base import ChainTools, Context
from validators.chain import DEFAULT_CHAIN, build_chain
from validators.judges import JudgePanel
from validators.scoring import TargetRunner

log_default = logging.getLogger("benchmint.pipeline")


def load_all(cfg: BuildConfig, wiring: Wiring) -> tuple[list[Document], list[SkippedSource]]:
    """Documents from the sources and the feeds (a feed entry already read from a source is left out)."""
    rep = progress.current.get()
    rep.stage("reading sources")
    docs, skipped = wiring.load_sources(cfg)
    if cfg.feeds:
        rep.stage("reading feeds")
        feed_docs, feed_skipped = wiring.load_feeds(cfg)
        known = {d.id for d in docs}
        docs += [d for d in feed_docs if d.id not in known]
        skipped += feed_skipped
    return docs, skipped


def review_page(release: Path, log: logging.Logger | logging.LoggerAdapter = log_default) -> str | None:
    """Write the release's review page (benchmint.view) and return its path. The release is published
    already: a page that cannot be written is a warning (`benchmint view` writes it later), never a
    failed build."""
    from benchmint.view import write_view

    try:
        return str(write_view(release))
    except (OSError, BenchmintError, KeyError, TypeError, ValueError, AttributeError) as exc:
        log.warning("the review page of %s was not written (%s: %s); run `benchmint view %s %s`",
                    escape_undecodable(str(release)), type(exc).__name__, exc, release.parent.name, release.name)
        return None


def trim_cache(cfg: BuildConfig, log: logging.Logger | logging.LoggerAdapter = log_default) -> None:
    """The response cache back under cfg.cache_max_mb, least recently used replies first, after every
    publish (CLI, `serve`, a deployment's worker: the nightly runs nobody watches are the ones that grow
    it). The release is published already: a failure here is a warning, never the run's error."""
    if not cfg.cache_max_mb:
        return
    root = responses_dir(cfg.resolved_cache_dir())
    try:
        res = prune(root, max_bytes=int(cfg.cache_max_mb * 2**20))
    except OSError as exc:
        log.warning("the response cache %s was not pruned: %s", root, exc.strerror or exc)
        return
    if res.removed_files:
        log.warning("the response cache was over cache_max_mb (%g MB): removed the %d least recently used "
                    "replies (%.1f MB)", cfg.cache_max_mb, res.removed_files, res.removed_bytes / 2**20)


@dataclass
class BuildRun:
    """One run of the pipeline. A refresh passes the documents it read (`loaded`), the published
    questions to keep (`keep`: rechecked for contamination and saturation first), those it retires
    (`retire`), and the documents to write new questions from (`only_docs`); it publishes only on a
    change. `parent`: the version this run started from (see release.publish)."""

    cfg: BuildConfig
    wiring: Wiring
    loaded: tuple[list[Document], list[SkippedSource]] | None = None
    keep: list[Question] = field(default_factory=list)
    only_docs: set[str] | None = None
    retire: list[Question] = field(default_factory=list)
    kind: str = "build"
    parent: str | None | bool = False
    log: logging.Logger | logging.LoggerAdapter = log_default

    def run(self) -> BuildSummary:
        cfg, log, rep = self.cfg, self.log, progress.current.get()
        t_start = time.monotonic()
        docs, skipped = self.loaded if self.loaded is not None else load_all(cfg, self.wiring)
        for s in skipped:
            log.warning("skipped %s: %s", escape_undecodable(s.source), s.reason)  # the API takes UTF-8 only
            rep.note(f"skipped {s.source}: {s.reason}")
        if not docs:
            raise SourceError(f"no readable document in {', '.join(cfg.sources + cfg.feeds)}; benchmint reads pdf, md, "
                              "txt and html files, and RSS/Atom feed entries"
                              + (f" published after {cfg.since}" if cfg.since else ""))
        all_chunks = interleave(docs, self.wiring.chunk(docs, cfg.chunking.max_tokens, cfg.chunking.overlap))
        chunks = all_chunks if self.only_docs is None else [c for c in all_chunks if c.document_id in self.only_docs]
        log.info("%d documents, %d chunks, %d to write questions from", len(docs), len(all_chunks), len(chunks))
        cache_dir = cfg.resolved_cache_dir()
        ctx = Context(config=cfg, documents={d.id: d for d in docs}, chunks={c.id: c for c in all_chunks},
                      cache_dir=cache_dir, run_id=uuid.uuid4().hex[:12])
        cfg = with_default_targets(cfg)
        roles = model_roles(cfg)
        kept: list[Question] = []
        retired = list(self.retire)  # with retired_reason set

        rep.stage(f"starting models ({', '.join(sorted({s.label for s in roles.values()}))})")
        with ModelPool(roles, cache_dir) as pool:
            ctx.models = pool
            judges = [pool[r] for r in roles if r.startswith("judge")]
            panel = JudgePanel(judges) if judges else None
            targets = [pool[r] for r in roles if r.startswith("target")]
            runner = TargetRunner(targets, panel) if targets else None
            rep.stage("loading contamination corpora")
            chain = build_chain(DEFAULT_CHAIN, ChainTools(
                config=cfg, runner=runner, panel=panel, judge=pool.clients.get("contamination_judge"),
                translator=pool.clients.get("contamination_judge") or pool.clients.get("generator"),
                bench_dir=Path(cfg.output_dir) / cfg.name, cache_dir=cache_dir, embedder=ctx.embedder))
            contamination, dedup = chain.get("contamination"), chain.get("dedup")
            if self.keep:
                rep.stage(f"rechecking {len(self.keep)} published questions")
                kept, rechecked = self.wiring.recheck(self.keep, contamination, runner, ctx, cfg)
                pool.check()
                retired += rechecked
                if dedup is not None:
                    dedup.add_existing(kept, ctx)
            loop = RoundLoop(cfg, self.wiring, pool, ctx, chain, chunks, all_chunks, log)
            gen = loop.run()
            if panel is not None:
                gen.prompts.update(panel.prompt_versions())
            if runner is not None:
                gen.prompts[runner.prompt.id] = runner.prompt.version
            if loop.agent is not None:
                gen.prompts[loop.agent.prompt.id] = loop.agent.prompt.version
            usage, cost = with_cost(pool.usage.as_dict(), prices(roles))
            models = ModelsUsed(usage=usage, cost=cost, seconds=pool.usage.model_seconds(), faults=pool.faults(),
                                missing={"target_replies": runner.missing if runner else 0,
                                         "judge_votes": panel.missing_votes if panel else 0})
        accepted, surplus, selection = choose(gen.accepted, cfg.questions, adaptive=cfg.adaptive.rounds > 1)
        rejected = gen.rejected + surplus
        run = RunFacts(cfg=cfg, docs=docs, skipped=skipped, all_chunks=all_chunks, roles=roles, gen=gen,
                       models=models, started=t_start)
        manifest = build_manifest(run, chain.summary(),
                                  contamination.describe() if contamination is not None else None, rejected,
                                  selection, kept + accepted)
        summary = build_summary(run, self.kind, kept + accepted, rejected, len(accepted), len(kept), retired)
        return self.finish(run, summary, manifest, kept + accepted, rejected, retired, chain.summary())

    def finish(self, run: RunFacts, summary: BuildSummary, manifest: Manifest, accepted: list[Question],
               rejected: list[Question], retired: list[Question],
               validators: dict[str, dict[str, int]]) -> BuildSummary:
        """Publish when there is something to; report the summary either way."""
        cfg = run.cfg
        if self.kind == "refresh" and not summary.added and not retired:
            summary.timing = run.timing()
            self.wiring.report(summary, "unchanged: no question added or retired; no new version published")
            return summary
        if not accepted:
            self.wiring.report(summary, "nothing published: no question was accepted")
            reasons = ", ".join(f"{k}: {n}" for k, n in
                                Counter(summary.rejections_by_validator).most_common()) or "no candidate was generated"
            raise NothingToPublish(f"no question was accepted from {run.gen.generated} candidates ({reasons}); "
                                   "nothing was published. Try more or longer documents, or a stronger --model")
        progress.current.get().stage("publishing")
        contexts = {c.id: c.text for c in run.all_chunks}
        titles = {d.id: d.title for d in run.docs}
        release = self.wiring.publish(cfg, accepted, rejected, manifest.as_dict(), titles, contexts, retired,
                                      self.parent)
        self.wiring.published(cfg, release, validators)
        summary.view = review_page(Path(release), self.log)
        trim_cache(cfg, self.log)
        summary.release = release
        summary.version = Path(release).name
        summary.timing = run.timing()
        self.wiring.report(summary, f"published {release}")
        return summary
