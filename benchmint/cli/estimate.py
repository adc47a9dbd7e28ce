"""`benchmint estimate`: what a build of SOURCES would spend, per role, before it runs (no model is called)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from benchmint.cli.ui import fail, out
from benchmint.config import load_config
from benchmint.cost import money_text
from benchmint.errors import BenchmintError


def estimate(
    sources: Annotated[Optional[list[str]], typer.Argument(
        help="Files or folders (walked recursively) of pdf, md, txt, html, as `build` takes them.")] = None,
    config: Annotated[Optional[Path], typer.Option(
        "--config", "-c", help="YAML config file (models, prices, chunking); flags override it.")] = None,
    questions: Annotated[Optional[int], typer.Option("--questions", "-q", help="Accepted questions wanted.")] = None,
    model: Annotated[Optional[str], typer.Option(
        "--model", "-m", help="Generator: local:NAME, local:/path.gguf or URL#model.")] = None,
    targets: Annotated[Optional[str], typer.Option(
        "--targets", help="Models under test, comma-separated.")] = None,
    judges: Annotated[Optional[str], typer.Option("--judges", help="Judge panel, comma-separated.")] = None,
    rounds: Annotated[Optional[int], typer.Option("--rounds", help="Generation rounds.")] = None,
    feed: Annotated[Optional[list[str]], typer.Option(
        "--feed", help="An RSS / Atom / arXiv API feed URL; repeatable (it is read).")] = None,
    since: Annotated[Optional[str], typer.Option("--since", help="Feeds: only entries published after this.")] = None,
    acceptance: Annotated[Optional[float], typer.Option(
        "--acceptance", min=0.01, max=1.0,
        help="Accepted questions per candidate (default 0.6 with targets, 0.75 without).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output (JSON).")] = False,
) -> None:
    """Estimate what a build of SOURCES would spend: chunks, calls and tokens per role, and money for priced models."""
    from corpora.feeds import parse_since
    from pipeline.estimate import estimate as run_estimate
    from pipeline.estimate_assumptions import Assumptions
    from pipeline.wiring import Direct

    try:
        cfg = load_config(config, {"sources": sources or None, "questions": questions, "model": model,
                                   "targets": targets, "judges": judges, "rounds": rounds, "feeds": feed or None,
                                   "since": since})
        parse_since(cfg.since)
        a = Assumptions.defaults(bool(cfg.models.targets) or cfg.adaptive.rounds > 1)
        if acceptance is not None:
            a.acceptance = acceptance
        e = run_estimate(cfg, Direct(), a)
    except BenchmintError as exc:
        fail(str(exc), 2)
    if as_json:
        typer.echo(json.dumps(e.as_dict(), indent=2))
        return
    _print(e)


def _n(x: float | None) -> str:
    return f"{x:,.0f}" if x is not None else "-"


def _print(e) -> None:  # noqa: ANN001 - a pipeline.estimate.Estimate
    from benchmint.names import escape_undecodable

    for sk in e.skipped:
        out.print(f"[yellow]skipped[/] {escape_undecodable(sk['source'])}: {sk['reason']}", highlight=False)
    out.print(f"benchmint estimate: {e.name}: {e.documents} documents, {e.chunks} chunks; {e.questions} questions "
              f"wanted, about {e.steps} generation steps ({e.candidates:g} candidates, {e.accepted:g} accepted; "
              f"stops: {e.stop}); at most {e.max_steps} steps", highlight=False)

    def money(x: float | None) -> str:
        return money_text(x, e.currency) if x is not None else "no price"

    t = Table(title="expected (at most, without a budget)")
    for col in ("role", "model", "calls", "prompt tokens", "completion tokens", "money"):
        t.add_column(col, justify="left" if col in ("role", "model") else "right")
    rows = [(r.role, r.model, r) for r in e.roles]
    for role, model, r in rows:
        t.add_row(role, escape_undecodable(model), f"{_n(r.calls)} ({_n(r.max_calls)})",
                  f"{_n(r.prompt_tokens)} ({_n(r.max_prompt_tokens)})",
                  f"{_n(r.completion_tokens)} ({_n(r.max_completion_tokens)})",
                  f"{money(r.cost)} ({money(r.max_cost)})")
    t.add_row("total", "", f"{_n(e.total('calls'))} ({_n(e.total('max_calls'))})",
              f"{_n(e.total('prompt_tokens'))} ({_n(e.total('max_prompt_tokens'))})",
              f"{_n(e.total('completion_tokens'))} ({_n(e.total('max_completion_tokens'))})",
              f"{money(e.total('cost'))} ({money(e.total('max_cost'))})")
    out.print(t)
    if any(r.cost is None for r in e.roles):
        out.print("money: a model with no price is left out of the total (models.<role>.price in the config)",
                  highlight=False)
    out.print("assumptions:", highlight=False)
    for line in e.assumptions:
        out.print(f"- {line}", highlight=False, markup=False)
