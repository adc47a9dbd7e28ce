"""The build flow: sources -> documents -> chunks -> questions -> validators -> release.

Thin wiring: each step is a library function run as a Prefect task (retries,
readable task-run names); the flow loops over chunks until the requested number
of questions is accepted or the chunks run out, then publishes and records a
markdown summary artifact.
"""

from __future__ import annotations

import re
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NONE as NO_CACHE

from benchmint import progress
from benchmint.config import BuildConfig
from benchmint.errors import BenchmintError, ModelOutputError, NothingToPublish, SourceError
from benchmint.llm import ModelPool
from benchmint.records import Chunk, Document, Question, SkippedSource, Verdict
from benchmint.release import publish
from corpora.chunking import chunk_documents
from corpora.documents import load_documents
from generators.single_hop import SingleHopGenerator
from validators.base import Context
from validators.chain import ValidatorChain
from validators.contamination_setup import contamination_validator


def _transient(task, task_run, state) -> bool:  # noqa: ANN001 - Prefect's retry_condition_fn signature
    """Retry unexpected failures; a user error (BenchmintError) fails at once."""
    exc = state.result(raise_on_failure=False)
    return not isinstance(exc, BenchmintError)


@task(name="load-sources", cache_policy=NO_CACHE, retries=1, retry_condition_fn=_transient)
def load_sources_task(sources: list[str]) -> tuple[list[Document], list[SkippedSource]]:
    return load_documents(sources)


@task(name="chunk-documents", cache_policy=NO_CACHE)
def chunk_task(docs: list[Document], max_tokens: int, overlap: int) -> list[Chunk]:
    return chunk_documents(docs, max_tokens, overlap)


@task(cache_policy=NO_CACHE, retries=1, retry_delay_seconds=2, retry_condition_fn=_transient)
def generate_task(generator: SingleHopGenerator, chunk: Chunk, doc: Document) -> tuple[list[Question], str | None]:
    """Questions for one chunk; invalid model output is recorded, not raised."""
    try:
        return generator.generate_one(chunk, doc), None
    except ModelOutputError as exc:
        return [], str(exc)


@task(name="validate", cache_policy=NO_CACHE)
def validate_task(chain: ValidatorChain, candidates: list[Question], ctx: Context) -> tuple[list[Question], list[Question]]:
    return chain.run(candidates, ctx)


@task(name="publish", cache_policy=NO_CACHE)
def publish_task(out_root: str, name: str, accepted: list[Question], rejected: list[Question],
                 manifest: dict[str, Any], titles: dict[str, str]) -> str:
    return str(publish(Path(out_root), name, accepted, rejected, manifest, titles))


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


@flow(name="build-benchmark", flow_run_name="build-{config[name]}", log_prints=True)
def build_benchmark(config: dict[str, Any]) -> dict[str, Any]:
    """Run the whole pipeline once and publish the next version. Returns a summary."""
    cfg = BuildConfig.model_validate(config)
    log = get_run_logger()
    rep = progress.current.get()
    t_start = time.monotonic()

    rep.stage("reading sources")
    docs, skipped = load_sources_task(cfg.sources)
    for s in skipped:
        log.warning("skipped %s: %s", s.source, s.reason)
        rep.note(f"skipped {s.source}: {s.reason}")
    if not docs:
        raise SourceError(f"no readable document in {', '.join(cfg.sources)}; "
                          "benchmint reads pdf, md, txt and html files")
    chunks = interleave(docs, chunk_task(docs, cfg.chunking.max_tokens, cfg.chunking.overlap))
    log.info("%d documents, %d chunks", len(docs), len(chunks))
    titles = {d.id: d.title for d in docs}

    cache_dir = cfg.resolved_cache_dir()
    ctx = Context(config=cfg, documents={d.id: d for d in docs}, chunks={c.id: c for c in chunks},
                  cache_dir=cache_dir, run_id=uuid.uuid4().hex[:12])
    accepted: list[Question] = []
    rejected: list[Question] = []
    generated = 0
    output_errors: list[dict[str, str]] = []
    roles = {"generator": cfg.models.generator}
    if cfg.contamination.enabled and cfg.contamination.judge is not None:
        roles["contamination_judge"] = cfg.contamination.judge

    rep.stage(f"starting model {cfg.models.generator.label}")
    with ModelPool(roles, cache_dir) as pool:
        ctx.models = pool
        rep.stage("loading contamination corpora")
        contamination = contamination_validator(
            cfg.contamination, Path(cfg.output_dir) / cfg.name, cache_dir,
            judge=pool.clients.get("contamination_judge"))
        if contamination is not None:
            contamination.prepare(ctx.embedder, cache_dir)
        chain = ValidatorChain(cfg, extra=[contamination] if contamination is not None else [])
        generator = SingleHopGenerator(pool["generator"], cfg.generation.questions_per_chunk,
                                       cfg.generation.kinds, cfg.seed)
        rep.stage("generating and validating")
        step = cfg.generation.batch_chunks
        done = 0
        for b in range(0, len(chunks), step):
            candidates: list[Question] = []
            for chunk in chunks[b : b + step]:
                doc = ctx.documents[chunk.document_id]
                qs, err = generate_task.with_options(
                    task_run_name=f"generate-{_slug(doc.title)}-c{chunk.index}")(generator, chunk, doc)
                if err:
                    log.warning("chunk %s of %s: %s", chunk.index, doc.title, err)
                    output_errors.append({"chunk_id": chunk.id, "error": err})
                candidates.extend(qs)
            done = min(b + step, len(chunks))
            generated += len(candidates)
            ok, bad = validate_task(chain, candidates, ctx)
            accepted.extend(ok)
            rejected.extend(bad)
            rep.advance(min(len(accepted), cfg.questions), cfg.questions, done, len(chunks))
            if len(accepted) >= cfg.questions:
                break
        usage = pool.usage.as_dict()
        model_seconds = pool.usage.model_seconds()

    surplus = accepted[cfg.questions:]
    accepted = accepted[: cfg.questions]
    for q in surplus:
        q.verdicts.append(Verdict(validator="budget", passed=False, blocking=True,
                                  reason=f"passed every validator, beyond the requested {cfg.questions} questions"))
    rejected.extend(surplus)

    rejections = Counter(v.validator for q in rejected for v in q.verdicts if v.blocking and not v.passed)
    manifest = {
        "config": cfg.public_dict(),
        "sources": {
            "documents": [{"id": d.id, "title": d.title, "source": d.source, "format": d.format,
                           "chars": len(d.text)} for d in docs],
            "skipped": [s.model_dump() for s in skipped],
            "chunks": len(chunks), "chunks_used": done,
        },
        "models": {role: spec.label for role, spec in roles.items()},
        "contamination": contamination.describe() if contamination is not None else {"enabled": False, "corpora": []},
        "prompts": {generator.prompt.id: generator.prompt.version},
        "validators": chain.summary(),
        "rejections_by_validator": dict(rejections),
        "generated": generated,
        "model_output_errors": output_errors,
        "token_usage": usage,
        "timing": {"total_s": round(time.monotonic() - t_start, 2), "model_s": round(model_seconds, 2)},
    }
    summary = {"name": cfg.name, "accepted": len(accepted), "rejected": len(rejected), "generated": generated,
               "skipped": [s.model_dump() for s in skipped], "rejections_by_validator": dict(rejections),
               "token_usage": usage, "chunks_used": done, "chunks": len(chunks), "release": None}
    if not accepted:
        _artifact(cfg.name, summary, "nothing published: no question was accepted")
        reasons = ", ".join(f"{k}: {n}" for k, n in rejections.most_common()) or "no candidate was generated"
        raise NothingToPublish(f"no question was accepted from {generated} candidates ({reasons}); "
                               "nothing was published. Try more or longer documents, or a stronger --model")
    rep.stage("publishing")
    release = publish_task(cfg.output_dir, cfg.name, accepted, rejected, manifest, titles)
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
    if s["skipped"]:
        lines += ["Skipped sources:", ""] + [f"- `{x['source']}`: {x['reason']}" for x in s["skipped"]] + [""]
    for role, u in s["token_usage"].items():
        lines.append(f"- {role}: {u['calls']} calls, {u['cache_hits']} cached, "
                     f"{u['prompt_tokens']} prompt + {u['completion_tokens']} completion tokens")
    create_markdown_artifact(markdown="\n".join(lines), key=f"build-{_slug(name, 40)}", description=headline)
