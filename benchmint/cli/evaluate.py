"""`benchmint eval`: models on a release, with intervals, paired differences and a chart."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from benchmint.cli.ui import fail, interrupt, out, with_progress
from benchmint.config import cache_root
from benchmint.errors import BenchmintError


def eval_(
    release: Annotated[Path, typer.Argument(
        help="A release folder (outputs/NAME/vN) or a benchmark folder (its latest).")],
    model: Annotated[list[str], typer.Option("--model", "-m", help="A model to evaluate; repeatable.")],
    judge: Annotated[Optional[list[str]], typer.Option(
        "--judge", help="Judge for open answers; repeatable (default: the release's judges).")] = None,
    no_judge: Annotated[bool, typer.Option(
        "--no-judge", help="No judge: open answers by exact match, else token F1 >= 0.5.")] = False,
    closed_book: Annotated[bool, typer.Option("--closed-book", help="Ask without the source text.")] = False,
) -> None:
    """Evaluate models on a release: accuracy with 95% intervals, paired differences, a chart."""
    from benchmint.local_models import resolve_local_gguf
    from benchmint.modelspec import parse_model_ref

    try:
        from benchmint.catalog import check_release
        from flows.evaluate import resolve_release

        folder = resolve_release(release)
        manifest = check_release(folder)
        # a release is data: of its judges, only embedded local models are started by default
        stored = manifest.get("judges") if isinstance(manifest.get("judges"), list) else []
        judges = [] if no_judge else (judge or [j for j in stored if isinstance(j, str) and j.startswith("local:")])
        specs = [parse_model_ref(ref) for ref in [*model, *judges]]
        for spec in specs:
            if spec.is_local:
                resolve_local_gguf(spec.model, cache_root())
        from benchmint.logscrub import install_log_scrubber
        from benchmint.modelspec import stash_model_refs

        # the flow's parameters are stored by Prefect: URLs redacted (raw forms stashed), keys by name
        safe = stash_model_refs([*model, *judges])
        model, judges = safe[:len(model)], safe[len(model):]
        install_log_scrubber(s.api_key_env for s in specs)
    except BenchmintError as exc:
        fail(str(exc), 2)
    from flows.evaluate import evaluate_models

    signal.signal(signal.SIGTERM, interrupt)
    board = with_progress(evaluate_models, str(folder), list(model), judges, closed_book,
                          interrupted="interrupted; no result was written")
    t = Table(title=f"{folder} ({board['mode'].replace('_', ' ')}, {board['n_questions']} questions)")
    for col in ("rank", "model", "accuracy", "95% CI", "missing"):
        t.add_column(col)
    for b in board["models"]:
        a = b["accuracy"]
        t.add_row(str(b["rank"]), b["model"], f"{a['mean']:.3f}", f"[{a['ci_low']:.3f}, {a['ci_high']:.3f}]",
                  str(b["missing"]))
    out.print(t)
    out.print(f"results: {folder / 'evals'} (chart: {board['chart']})", highlight=False)
    from benchmint.view import refresh_view

    page = refresh_view(folder)  # the release's review page, with the leaderboard now
    if page is not None:
        out.print(f"review page: {page}", highlight=False)
