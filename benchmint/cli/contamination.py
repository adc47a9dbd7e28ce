"""Contamination: the known corpora (`benchmint corpora add|list|remove`) and `benchmint decontaminate`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from benchmint.cli.ui import fail, out
from benchmint.config import cache_root

corpora_app = typer.Typer(no_args_is_help=True, help="Known corpora that builds are checked against for contamination.")


@corpora_app.command("add")
def corpora_add(
    name: Annotated[str, typer.Argument(help="A name for the corpus.")],
    source: Annotated[str, typer.Argument(help="A saved dataset folder, json/jsonl/parquet/csv file(s), or a hub id.")],
    fields: Annotated[Optional[str], typer.Option("--fields", help="question[,choices...][,answer] field names, or "
                                                  "question=Q,choices=A|B|C|D,answer=X; guessed when omitted.")] = None,
    split: Annotated[Optional[str], typer.Option("--split", help="Split to read (hub or saved DatasetDict).")] = None,
) -> None:
    """Register a known corpus (loaded once now to check it)."""
    from corpora.reference.registry import add_corpus

    entry = add_corpus(name, source, fields, split=split)
    out.print(f"added corpus [bold]{entry['name']}[/]: {entry['size']} items from {entry['source']}", highlight=False)
    out.print(entry["note"], highlight=False)


@corpora_app.command("list")
def corpora_list() -> None:
    """List registered and builtin corpora."""
    from corpora.reference.registry import list_corpora

    rows = list_corpora()
    t = Table(title="known corpora")
    for col in ("name", "kind", "items", "available", "source"):
        t.add_column(col, overflow="fold")
    for r in rows:
        t.add_row(r["name"], r.get("kind", ""), str(r.get("size", "")), "yes" if r.get("available") else "no",
                  r.get("source", ""))
    out.print(t)


@corpora_app.command("remove")
def corpora_remove(name: Annotated[str, typer.Argument(help="A registered corpus name.")]) -> None:
    """Unregister a corpus."""
    from corpora.reference.registry import remove_corpus

    entry = remove_corpus(name)
    out.print(f"removed corpus {entry['name']} ({entry['source']})", highlight=False)


def decontaminate(
    input: Annotated[Path, typer.Argument(help="JSONL rows with id and question (answer, choices optional).")],
    reference: Annotated[list[str], typer.Option("--reference", "-r", help="A corpus name or a source; repeatable.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write one verdict row per question.")],
    no_judge: Annotated[bool, typer.Option(
        "--no-judge", help="No LLM judge: the middle band is flagged for review.")] = False,
    judge: Annotated[str, typer.Option(
        "--judge", help="Judge model for the middle band.")] = "local:qwen2.5-coder-1.5b",
) -> None:
    """Check any question file against known corpora."""
    from benchmint.modelspec import parse_model_ref
    from benchmint.pool import ModelPool
    from validators.contamination.files import decontaminate_file

    try:
        roles = {} if no_judge else {"judge": parse_model_ref(judge)}
        with ModelPool(roles, cache_root()) as pool:
            summary = decontaminate_file(input, reference, output, judge=pool.clients.get("judge"))
    except KeyboardInterrupt:
        fail("interrupted; nothing was written", 130)
    out.print(f"{summary['questions']} questions: {summary['contaminated']} contaminated, "
              f"{summary['review']} for review, "
              f"{summary['clean']} clean -> {summary['output']}", highlight=False)
