"""`benchmint view`: a release's review page, one self-contained HTML file (benchmint.view)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from benchmint.cli.ui import fail


def view(
    name: Annotated[str, typer.Argument(help="Benchmark name (outputs/NAME).")],
    version_: Annotated[Optional[str], typer.Argument(metavar="VERSION", help="v1, v2, ... (default: latest).")] = None,
    output_dir: Annotated[str, typer.Option("--output-dir", help="Where releases are (default outputs).")] = "outputs",
    out_file: Annotated[Optional[str], typer.Option(
        "--out", help="The HTML file to write (default OUTPUT_DIR/NAME/views/VERSION.html).")] = None,
) -> None:
    """Write a version's review page (questions with their highlighted citations, rejected candidates and
    why, rounds, leaderboard) as one HTML file that loads nothing; prints its path."""
    from benchmint import catalog
    from benchmint.names import escape_undecodable, expand
    from benchmint.view import write_view

    d = catalog.bench_dir(output_dir, name)
    v = catalog.resolve_version(d, version_)
    target = expand(out_file) if out_file else None
    if target is not None and target.is_dir():
        target = target / f"{name}-{v}.html"
    try:
        path = write_view(d / v, target)
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        fail(f"cannot write the review page of {name} {v}{where}: {exc.strerror or type(exc).__name__}; "
             "pass another --out")
    except (KeyError, TypeError, AttributeError, ValueError, IndexError) as exc:
        fail(f"{d / v} is damaged ({type(exc).__name__}: {exc}); rebuild it, or remove the folder")
    # plain stdout: a script takes the path as it is
    typer.echo(escape_undecodable(str(path)))
