"""The `benchmint` command line (typer + rich)."""

from __future__ import annotations

import os

# Offline by design: set before prefect / datasets / transformers are imported.
for _k, _v in {"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "HF_HUB_OFFLINE": "1",
               "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
               "HF_HUB_DISABLE_PROGRESS_BARS": "1", "TRANSFORMERS_VERBOSITY": "error",
               # Prefect's console logs (and its tracebacks) would fight the progress display and the one-line
               # errors; the API, and so the UI, still gets every log. Warnings reach the user as progress notes.
               "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "CRITICAL",
               "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120"}.items():
    os.environ.setdefault(_k, _v)

import signal  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Annotated, Optional  # noqa: E402

import typer  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn  # noqa: E402
from rich.table import Table  # noqa: E402

from benchmint import __version__, progress  # noqa: E402
from benchmint.config import cache_root, load_config  # noqa: E402
from benchmint.errors import BenchmintError  # noqa: E402

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Mint fresh, grounded, versioned LLM benchmarks from your own documents.")
console = Console(stderr=True)
out = Console()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _fail(msg: str, code: int = 1) -> None:
    console.print(f"[bold red]error:[/] {msg}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


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
        self.prog.console.print(f"[yellow]{text}[/]", highlight=False)


@app.command()
def build(
    sources: Annotated[Optional[list[str]], typer.Argument(help="Files or folders (walked recursively) of pdf, md, txt, html.")] = None,
    name: Annotated[Optional[str], typer.Option("--name", "-n", help="Benchmark name: outputs/<name>/<version>/.")] = None,
    model: Annotated[Optional[str], typer.Option("--model", "-m", help="Generator: local:NAME, local:/path.gguf or URL#model.")] = None,
    questions: Annotated[Optional[int], typer.Option("--questions", "-q", help="Accepted questions wanted.")] = None,
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="YAML config file; flags override it.")] = None,
    output_dir: Annotated[Optional[str], typer.Option("--output-dir", help="Where releases go (default outputs).")] = None,
) -> None:
    """Build a benchmark from SOURCES and publish its next version."""
    try:
        cfg = load_config(config, {"name": name, "sources": sources or None, "model": model,
                                   "questions": questions, "output_dir": output_dir})
    except BenchmintError as exc:
        _fail(str(exc), 2)
    try:  # fail fast, before Prefect starts, on a local model that is not there
        from benchmint.llm import resolve_local_gguf

        if cfg.models.generator.is_local:
            resolve_local_gguf(cfg.models.generator.model, cfg.resolved_cache_dir())
    except BenchmintError as exc:
        _fail(str(exc))
    from flows.build import build_benchmark  # imports prefect: after the environment is set

    # `kill` (SIGTERM) takes the same path as Ctrl-C, so the local model server is stopped.
    signal.signal(signal.SIGTERM, _interrupt)

    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console, transient=False) as prog:
            token = progress.current.set(RichReporter(prog))
            try:
                summary = build_benchmark(cfg.model_dump(mode="json"))
            finally:
                progress.current.reset(token)
    except BenchmintError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("interrupted; nothing was published", 130)
    _print_summary(summary)


def _print_summary(s: dict) -> None:
    for sk in s["skipped"]:
        out.print(f"[yellow]skipped[/] {sk['source']}: {sk['reason']}", highlight=False)
    t = Table(title=f"benchmint build: {s['name']}", show_header=False)
    t.add_row("published", s["release"])
    t.add_row("accepted", str(s["accepted"]))
    t.add_row("rejected", f"{s['rejected']} " + ", ".join(f"{k}: {n}" for k, n in sorted(s["rejections_by_validator"].items())))
    t.add_row("chunks used", f"{s['chunks_used']} / {s['chunks']}")
    for role, u in s["token_usage"].items():
        t.add_row(f"tokens ({role})", f"{u['prompt_tokens']} prompt + {u['completion_tokens']} completion, "
                                      f"{u['calls']} calls, {u['cache_hits']} cached")
    out.print(t)


@app.command()
def models() -> None:
    """List the embedded local models and whether they are installed."""
    from benchmint.llm import list_local_models

    t = Table(title="local models (use with --model)")
    t.add_column("model", no_wrap=True)
    t.add_column("installed", no_wrap=True)
    t.add_column("description")
    t.add_column("where / how to install", overflow="fold")
    for row in list_local_models(cache_root()):
        t.add_row(row["model"], "yes" if row["installed"] else "no", row["description"],
                  row["where"] if row["installed"] else row["install"])
    out.print(t)
    out.print("Any OpenAI-compatible endpoint works too: --model http://host:port/v1#model-name "
              "(API key from OPENAI_API_KEY, or api_key_env in the config).")


@app.command()
def version() -> None:
    """Print benchmint's version."""
    out.print(f"benchmint {__version__}")


def main() -> None:  # pragma: no cover
    try:
        app()
    except BenchmintError as exc:
        console.print(f"[bold red]error:[/] {exc}")
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
