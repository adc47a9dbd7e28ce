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

from benchmint.cli import (  # noqa: E402
    build,
    cache,
    contamination,
    deploy,
    estimate,
    evaluate,
    refresh,
    releases,
    start,
    view,
)
from benchmint.cli.ui import OneLineErrors, fail  # noqa: E402
from benchmint.errors import BenchmintError  # noqa: E402

# OneLineErrors: a BenchmintError from any command is one line, never a traceback
app = typer.Typer(cls=OneLineErrors, add_completion=True, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Mint fresh, grounded, versioned LLM benchmarks from your own documents.")
app.callback()(start.root_options)
# in the order `benchmint --help` lists them
app.command()(build.build)
app.command()(estimate.estimate)
app.command()(refresh.refresh)
app.command()(refresh.nightly)
app.command()(refresh.serve)
app.command()(deploy.deploy)
app.command()(start.models)
app.add_typer(contamination.corpora_app, name="corpora")
app.command()(contamination.decontaminate)
app.command("eval")(evaluate.eval_)
app.command()(start.init)
app.command()(releases.push)
app.command()(releases.versions)
app.command()(releases.show)
app.command("diff")(releases.diff_)
app.command()(view.view)
app.command()(start.version)
app.add_typer(cache.cache_app, name="cache")


def main() -> None:
    """The `benchmint` script and `python -m benchmint.cli`: the app, its errors as one line."""
    try:
        # one name however it was started, so `--install-completion` completes the `benchmint` script
        app(prog_name="benchmint")
    except BenchmintError as exc:  # past OneLineErrors: raised outside any command (e.g. in completion)
        try:
            fail(str(exc))
        except typer.Exit as done:
            sys.exit(done.exit_code)
