"""`benchmint build`: mint a benchmark from sources and publish its next version."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from benchmint.cli.ui import fail, flow_params, interrupt, out, with_progress
from benchmint.config import load_config
from benchmint.cost import role_money, total_text
from benchmint.errors import BenchmintError
from pipeline.records import drop_text, rate_text


def build(
    sources: Annotated[Optional[list[str]], typer.Argument(
        help="Files or folders (walked recursively) of pdf, md, txt, html.")] = None,
    name: Annotated[Optional[str], typer.Option(
        "--name", "-n", help="Benchmark name: outputs/<name>/<version>/.")] = None,
    model: Annotated[Optional[str], typer.Option(
        "--model", "-m", help="Generator: local:NAME, local:/path.gguf or URL#model.")] = None,
    questions: Annotated[Optional[int], typer.Option(
        "--questions", "-q", help="Questions to publish (with --rounds > 1: chosen from every round).")] = None,
    config: Annotated[Optional[Path], typer.Option(
        "--config", "-c", help="YAML config file; flags override it.")] = None,
    output_dir: Annotated[Optional[str], typer.Option(
        "--output-dir", help="Where releases go (default outputs).")] = None,
    targets: Annotated[Optional[str], typer.Option(
        "--targets", help="Models under test, comma-separated: they answer every candidate.")] = None,
    judges: Annotated[Optional[str], typer.Option(
        "--judges", help="Judge panel, comma-separated (default: the generator).")] = None,
    rounds: Annotated[Optional[int], typer.Option(
        "--rounds", help="Generation rounds; after round 0 each aims at the targets' failures.")] = None,
    band: Annotated[Optional[str], typer.Option(
        "--band", help="Keep questions whose target pass rate is in LO:HI (default 0.1:0.8).")] = None,
    max_tokens: Annotated[Optional[int], typer.Option(
        "--max-tokens", help="Budget: stop after this many completion tokens (all roles).")] = None,
    max_cost: Annotated[Optional[float], typer.Option(
        "--max-cost", help="Budget: stop once the money spent (each model's price) reaches this.")] = None,
    feed: Annotated[Optional[list[str]], typer.Option(
        "--feed", help="An RSS / Atom / arXiv API feed URL; repeatable.")] = None,
    since: Annotated[Optional[str], typer.Option(
        "--since", help="Feeds: only entries published after YYYY-MM-DD (or 30d, 12h, 2w).")] = None,
    push_to_hub: Annotated[Optional[str], typer.Option(
        "--push-to-hub", help="Also publish the new version to this Hub dataset repo.")] = None,
    wait: Annotated[float, typer.Option(
        "--wait", help="Seconds to wait for another build or refresh of NAME to end.")] = 0.0,
    runner: Annotated[Optional[str], typer.Option(
        "--runner", help="Where generation steps run: thread (default) or dask (Dask worker processes).")] = None,
    dask_address: Annotated[Optional[str], typer.Option(
        "--dask-address", help="A Dask scheduler, tcp://HOST:PORT (implies --runner dask; default: a LocalCluster).")
    ] = None,
    dask_workers: Annotated[Optional[int], typer.Option(
        "--dask-workers", help="Worker processes of the LocalCluster (implies --runner dask; default 2).")] = None,
) -> None:
    """Build a benchmark from SOURCES and publish its next version."""
    try:
        cfg = load_config(config, {"name": name, "sources": sources or None, "model": model,
                                   "questions": questions, "output_dir": output_dir, "targets": targets,
                                   "judges": judges, "rounds": rounds, "band": band, "max_tokens": max_tokens,
                                   "max_cost": max_cost, "feeds": feed or None, "since": since,
                                   "runner": runner, "dask_address": dask_address, "dask_workers": dask_workers})
        preflight(cfg)
        params = flow_params(cfg)
    except BenchmintError as exc:
        fail(str(exc), 2)
    from benchmint.local_models import resolve_local_gguf

    # fail fast, before Prefect starts, on a local model that is not there
    for spec in [cfg.models.generator, *cfg.models.targets, *cfg.models.panel()]:
        if spec.is_local:
            resolve_local_gguf(spec.model, cfg.resolved_cache_dir())
    from flows.build import build_benchmark  # imports prefect: after the environment is set

    # `kill` (SIGTERM) takes the same path as Ctrl-C, so the local model server is stopped.
    signal.signal(signal.SIGTERM, interrupt)

    summary = with_progress(build_benchmark, params, wait)
    _print_summary(summary)
    if push_to_hub:
        _push(Path(summary["release"]), push_to_hub)


def preflight(cfg) -> None:  # noqa: ANN001 - a BuildConfig
    """What a build or refresh needs, checked before any model starts: the output folder can be written,
    the feeds' date is a date, every contamination threshold is a known key with a valid value."""
    from benchmint.names import check_output_dir
    from corpora.feeds import parse_since
    from validators.contamination_setup import thresholds

    check_output_dir(cfg.output_dir)
    parse_since(cfg.since)  # a bad date is a flag error, before anything starts
    thresholds(cfg.contamination)


def _push(release: Path, repo: str) -> None:
    from benchmint import catalog

    try:
        url = catalog.push_to_hub(release, repo, say=lambda line: out.print(line, highlight=False, markup=False))
        out.print(f"pushed {release} to {url}", highlight=False)
    except BenchmintError as exc:
        fail(f"{release} is published locally, but {exc}")


def _print_summary(s: dict) -> None:
    from benchmint.names import escape_undecodable

    s = escape_undecodable(s)
    for sk in s["skipped"]:
        out.print(f"[yellow]skipped[/] {sk['source']}: {sk['reason']}", highlight=False)
    t = Table(title=f"benchmint build: {s['name']}", show_header=False)
    t.add_row("published", s["release"])
    if s.get("view"):
        t.add_row("review page", s["view"])
    t.add_row("accepted", str(s["accepted"]))
    by_validator = ", ".join(f"{k}: {n}" for k, n in sorted(s["rejections_by_validator"].items()))
    t.add_row("rejected", f"{s['rejected']} {by_validator}")
    t.add_row("chunks used", f"{s['chunks_used']} / {s['chunks']}")
    if len(s.get("rounds", [])) > 1 or any(r.get("mean_target_pass_rate") is not None for r in s.get("rounds", [])):
        for r in s["rounds"]:
            t.add_row(f"round {r['round']}", f"{r['generated']} generated, {r['accepted']} accepted, "
                                             f"mean target pass rate {rate_text(r)}")
    if d := s.get("round_drop"):
        t.add_row(f"pass rate drop, round {d['first_round']} to {d['last_round']}", drop_text(d))
    miss = s.get("missing", {})
    if miss.get("target_replies") or miss.get("judge_votes"):
        t.add_row("missing", f"{miss['target_replies']} target replies, {miss['judge_votes']} judge votes "
                             "(failed after retries; recorded per question)")
    if s.get("faults"):
        t.add_row("faults", ", ".join(f"{k}: {n}" for k, n in sorted(s["faults"].items()))
                  + " (unusable replies, retried or recorded; see the manifest)")
    for role, u in s["token_usage"].items():
        t.add_row(f"tokens ({role})", f"{u['prompt_tokens']} prompt + {u['completion_tokens']} completion, "
                                      f"{u['calls']} calls, {u['cache_hits']} cached{role_money(u, s.get('cost', {}))}")
    if s.get("workers"):
        t.add_row("generated on", ", ".join(f"{w} ({n} step{'s' * (n != 1)})" for w, n in s["workers"].items()))
    if s["token_usage"] and total_text(s.get("cost", {})):
        t.add_row("cost", total_text(s["cost"]))
    out.print(t)
