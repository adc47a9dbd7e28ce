"""The `benchmint` command line (typer + rich): this app registers the commands of the modules beside it.

It sits on top of every package (it starts the flows), and nothing imports it (pyproject.toml's import
contracts)."""

from __future__ import annotations

from benchmint.env import apply_offline_defaults

# Offline by design: set before prefect / datasets / transformers are imported. Prefect's console logs (and
# its tracebacks) would fight the progress display and the one-line errors; the API, and so the UI, still
# gets every log. Warnings reach the user as progress notes.
apply_offline_defaults(PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL="CRITICAL")

import sys  # noqa: E402

from benchmint.logscrub import scrubbing_excepthook  # noqa: E402

# set before typer is imported: typer hands tracebacks to the hook it found at import
sys.excepthook = scrubbing_excepthook
import typer  # noqa: E402

from benchmint.cli import build, contamination, evaluate, refresh, releases, start  # noqa: E402
from benchmint.cli.ui import console  # noqa: E402
from benchmint.errors import BenchmintError  # noqa: E402

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Mint fresh, grounded, versioned LLM benchmarks from your own documents.")
# in the order `benchmint --help` lists them
app.command()(build.build)
app.command()(refresh.refresh)
app.command()(refresh.serve)
app.command()(start.models)
app.add_typer(contamination.corpora_app, name="corpora")
app.command()(contamination.decontaminate)
app.command("eval")(evaluate.eval_)
app.command()(start.init)
app.command()(releases.push)
app.command()(releases.versions)
app.command()(releases.show)
app.command("diff")(releases.diff_)
app.command()(start.version)


def main() -> None:  # pragma: no cover
    try:
        app()
    except BenchmintError as exc:
        console.print(f"[bold red]error:[/] {exc}")
        sys.exit(1)
