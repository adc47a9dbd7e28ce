"""Getting started: `benchmint init` (a definition file), `models` (the embedded ones), `version` (and `--version`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from benchmint import __version__
from benchmint.cli.ui import fail, out
from benchmint.config import cache_root
from benchmint.errors import BenchmintError


def init(
    name: Annotated[str, typer.Argument(help="Benchmark name.")],
    path: Annotated[Optional[Path], typer.Option(
        "--path", help="Where to write the config (default NAME.yaml).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a benchmark definition (YAML) with every key and its default."""
    from benchmint.names import check_name

    try:
        check_name(name)  # the name must be usable as a folder name
    except BenchmintError as exc:
        fail(str(exc), 2)
    target = path or Path(f"{name}.yaml")
    if target.exists() and not force:
        fail(f"{target} exists; pass --force to overwrite it or --path to write elsewhere", 2)
    template = (Path(__file__).parent.parent / "init_template.yaml").read_text(encoding="utf-8")
    target.write_text(template.replace("{name}", name).replace("{file}", str(target)), encoding="utf-8")
    out.print(f"wrote {target}: add sources or feeds, then `benchmint build --config {target}`", highlight=False)


def models() -> None:
    """List the embedded local models and whether they are installed."""
    from benchmint.local_models import list_local_models

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


def version() -> None:
    """Print benchmint's version."""
    out.print(f"benchmint {__version__}")


def _print_version(value: bool) -> None:
    if value:
        version()
        raise typer.Exit()


def root_options(
    version_: Annotated[Optional[bool], typer.Option(
        "--version", callback=_print_version, is_eager=True, help="Print benchmint's version and exit.")] = None,
) -> None:
    """The options before any command: --version (and typer's completion options)."""
