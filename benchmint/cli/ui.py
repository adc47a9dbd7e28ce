"""What every command shares: the consoles, one-line errors, the progress display, a flow's parameters."""

from __future__ import annotations

from typing import Any

import click
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from typer.core import TyperGroup

from benchmint import progress
from benchmint.config import BuildConfig
from benchmint.errors import BenchmintError

console = Console(stderr=True)
out = Console()


def interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def fail(msg: str, code: int = 1) -> None:
    """Print `error: MSG` as one line (secrets scrubbed) and exit with `code`: every command's errors end here."""
    from rich.markup import escape

    from benchmint.names import escape_undecodable
    from benchmint.secrets import key_env_values, scrub

    # a file name that is not UTF-8 cannot be printed as is: its escaped form names it; the messages name
    # URLs in their redacted forms already (`URL#model` keeps its model name)
    console.print(f"[bold red]error:[/] {escape(escape_undecodable(scrub(msg, key_env_values(), urls=False)))}",
                  highlight=False, soft_wrap=True)
    raise typer.Exit(code)


class OneLineErrors(TyperGroup):
    """The app's command group: a BenchmintError from any command (or sub-command) ends as one line
    and exit status 1, whether the app runs from main() or from a test's CliRunner. Commands catch
    only what they word differently or exit with another status."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BenchmintError as exc:
            fail(str(exc))


def flow_params(cfg: BuildConfig) -> dict[str, Any]:
    """The config as a flow or a deployment may receive it (Prefect stores both): every URL
    redacted, the raw forms stashed in this process's environment; the keys' values and the URLs'
    secrets remembered, and every log record of this process scrubbed of them."""
    from benchmint.logscrub import install_log_scrubber

    safe = cfg.stashed()
    install_log_scrubber(s.api_key_env for s in cfg.model_specs())
    return safe.model_dump(mode="json")


class RichReporter:
    def __init__(self, prog: Progress):
        self.prog = prog
        self.task = prog.add_task("starting", total=None)

    def stage(self, text: str) -> None:
        self.prog.update(self.task, description=text)

    def advance(self, accepted: int, target: int, chunks_done: int, chunks_total: int) -> None:
        self.prog.update(self.task, total=target, completed=accepted,
                         description=f"accepted questions (chunks {chunks_done}/{chunks_total})")

    def note(self, text: str) -> None:
        from benchmint.names import escape_undecodable
        from benchmint.secrets import scrub

        self.prog.console.print(f"[yellow]{escape_undecodable(scrub(text))}[/]", highlight=False)


def _plain_line(text: str) -> None:
    from benchmint.names import escape_undecodable
    from benchmint.secrets import scrub

    console.print(escape_undecodable(scrub(text)), markup=False, highlight=False, soft_wrap=True)


def with_progress(flow_fn, *args,  # noqa: ANN001, ANN002, ANN201 - a Prefect flow, its arguments, its result
                  interrupted: str = "interrupted; nothing was published"):
    """Run a flow under the rich progress display on a terminal, or with plain progress lines elsewhere (a log
    file, a pipe: a live display draws nothing there); Ctrl-C ends as one line, `interrupted` (user errors:
    OneLineErrors)."""
    try:
        if not console.is_terminal:
            plain = progress.PlainReporter(_plain_line)
            token = progress.current.set(plain)
            try:
                return flow_fn(*args)
            finally:
                progress.current.reset(token)
                plain.close()
        columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn())
        with Progress(*columns, console=console, transient=False) as prog:
            token = progress.current.set(RichReporter(prog))
            try:
                return flow_fn(*args)
            finally:
                progress.current.reset(token)
    except KeyboardInterrupt:
        fail(interrupted, 130)
