"""The published versions: `benchmint versions`, `show`, `diff` and `push`."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer
from rich.errors import NotRenderableError
from rich.table import Table

from benchmint.card_validity import validity_rows
from benchmint.cli.ui import fail, out
from pipeline.records import drop_text, rate_text


def push(
    name: Annotated[str, typer.Argument(help="Benchmark name (outputs/NAME).")],
    version_: Annotated[Optional[str], typer.Argument(metavar="VERSION", help="v1, v2, ... (default: latest).")] = None,
    repo: Annotated[str, typer.Option("--repo", help="Hub dataset repository, e.g. my-org/my-bench.")] = "",
    output_dir: Annotated[str, typer.Option("--output-dir", help="Where releases are (default outputs).")] = "outputs",
) -> None:
    """Upload every file of a version to a Hub dataset repo and tag it vN (needs a network and a token)."""
    from benchmint import catalog

    if not repo:
        fail("name the Hub repository: --repo ORG/NAME", 2)
    d = catalog.bench_dir(output_dir, name)
    url = catalog.push_to_hub(d / catalog.resolve_version(d, version_), repo,
                              say=lambda line: out.print(line, highlight=False, markup=False))
    out.print(f"pushed to {url}", highlight=False)


def versions(
    name: Annotated[str, typer.Argument(help="Benchmark name (outputs/NAME).")],
    output_dir: Annotated[str, typer.Option("--output-dir", help="Where releases are (default outputs).")] = "outputs",
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output (JSON).")] = False,
) -> None:
    """List the published versions of a benchmark."""
    from benchmint import catalog

    d = catalog.bench_dir(output_dir, name)
    try:
        rows = catalog.version_rows(d)
    except (KeyError, TypeError, AttributeError, ValueError, NotRenderableError) as exc:
        fail(f"a version in {output_dir}/{name} is damaged ({type(exc).__name__}: {exc}); rebuild it, or remove it")
    if as_json:
        _print_json({"name": name, "versions": rows})
        return
    t = Table(title=f"{name}: {len(rows)} version(s)")
    for col in ("version", "created", "parent", "questions", "by kind", "generator", "content hash"):
        t.add_column(col)
    for r in rows:
        t.add_row(r["version"], r["created_at"], r["parent"], str(r["questions"]),
                  ", ".join(f"{k} {n}" for k, n in sorted(r["by_kind"].items())), r["generator"], r["content_hash"])
    out.print(t)


def show(
    name: Annotated[str, typer.Argument(help="Benchmark name (outputs/NAME).")],
    version_: Annotated[Optional[str], typer.Argument(metavar="VERSION", help="v1, v2, ... (default: latest).")] = None,
    output_dir: Annotated[str, typer.Option("--output-dir", help="Where releases are (default outputs).")] = "outputs",
    sample: Annotated[int, typer.Option("--sample", help="Questions to show.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output (JSON): the fields shown.")] = False,
) -> None:
    """One version: counts, models, sources, and a sample of its questions."""
    from benchmint import catalog

    d = catalog.bench_dir(output_dir, name)
    v = catalog.resolve_version(d, version_)
    try:
        m, qs = catalog.manifest(d, v), catalog.questions(d, v)
        if as_json:
            _print_json(_show_fields(name, v, m, qs, sample))
        else:
            _show(name, v, m, qs, sample)
    except (KeyError, TypeError, AttributeError, ValueError, IndexError, NotRenderableError) as exc:
        fail(f"{d / v} is damaged ({type(exc).__name__}: {exc}); rebuild it, or remove the folder")


def _show(name: str, v: str, m: dict, qs: list[dict], sample: int) -> None:
    t = Table(title=f"{name} {v}", show_header=False)
    t.add_row("created", m.get("created_at", ""))
    t.add_row("parent", m.get("parent_version") or "(none)")
    by_kind = ", ".join(f"{k} {n}" for k, n in sorted(m.get("counts", {}).get("by_kind", {}).items()))
    t.add_row("questions", f"{len(qs)} ({by_kind})")
    t.add_row("rejected", str(m.get("counts", {}).get("rejected", 0)))
    for role, label in m.get("models", {}).items():
        t.add_row(f"model ({role})", label)
    for doc in m.get("sources", {}).get("documents", []):
        t.add_row("source", f"{doc['title']} ({doc['source']})")
    for r in m.get("rounds", []):
        if r.get("mean_target_pass_rate") is not None:
            t.add_row(f"round {r['round']}",
                      f"{r['accepted']} accepted, mean target pass rate {rate_text(r)}")
    if d := m.get("round_drop"):
        t.add_row(f"pass rate drop, round {d['first_round']} to {d['last_round']}", drop_text(d))
    for label, value in validity_rows(m):
        t.add_row(label, value)
    out.print(t)
    titles = _doc_titles(m)
    q = Table(title=f"sample of {min(sample, len(qs))}")
    for col in ("kind", "question", "answer", "source"):
        q.add_column(col, overflow="fold")
    for row in qs[:sample]:
        source = titles.get(row["document_ids"][0], "") if row["document_ids"] else ""
        q.add_row(row["kind"], row["question"], row["answer"], source)
    out.print(q)


def _show_fields(name: str, v: str, m: dict, qs: list[dict], sample: int) -> dict:
    """What `show` prints, as data (the manifest's summary fields and the sample)."""
    titles, counts = _doc_titles(m), m.get("counts", {})
    docs = m.get("sources", {}).get("documents", [])
    return {
        "name": name, "version": v, "created_at": m.get("created_at", ""), "parent": m.get("parent_version"),
        "questions": len(qs), "by_kind": counts.get("by_kind", {}), "rejected": counts.get("rejected", 0),
        "models": m.get("models", {}),
        "sources": [{"title": doc["title"], "source": doc["source"]} for doc in docs],
        "rounds": [{"round": r["round"], "accepted": r["accepted"], "mean_target_pass_rate": r["mean_target_pass_rate"]}
                   for r in m.get("rounds", []) if r.get("mean_target_pass_rate") is not None],
        "round_drop": m.get("round_drop"),
        "validity": {"contamination": {k: (m.get("contamination") or {}).get(k) for k in ("verdicts", "calibration")},
                     **(m.get("validity") or {})},
        "sample": [{"id": row.get("id"), "kind": row["kind"], "question": row["question"], "answer": row["answer"],
                    "source": titles.get(row["document_ids"][0], "") if row["document_ids"] else ""}
                   for row in qs[:sample]],
    }


def _print_json(data: object) -> None:
    # plain stdout, not the rich console: no wrapping, markup or colour in what a program parses;
    # ASCII escapes keep a file name that is not UTF-8 printable
    typer.echo(json.dumps(data, indent=2))


def _doc_titles(m: dict) -> dict[str, str]:
    return {d["id"]: d["title"] for d in m.get("sources", {}).get("documents", [])}


def diff_(
    name: Annotated[str, typer.Argument(help="Benchmark name (outputs/NAME).")],
    a: Annotated[str, typer.Argument(help="The older version.")],
    b: Annotated[str, typer.Argument(help="The newer version.")],
    output_dir: Annotated[str, typer.Option("--output-dir", help="Where releases are (default outputs).")] = "outputs",
) -> None:
    """Questions added and removed between two versions."""
    from benchmint import catalog

    d = catalog.bench_dir(output_dir, name)
    try:
        res = catalog.diff(d, catalog.resolve_version(d, a), catalog.resolve_version(d, b))
        _print_diff(name, res)
    except (KeyError, TypeError, AttributeError, ValueError, NotRenderableError) as exc:
        fail(f"a version of {output_dir}/{name} is damaged ({type(exc).__name__}: {exc}); rebuild it, or remove it")


def _print_diff(name: str, res: dict) -> None:
    out.print(f"{name} {res['from']} -> {res['to']}: {len(res['added'])} added, {len(res['removed'])} removed, "
              f"{len(res['kept'])} kept", highlight=False)
    for label, rows, style in (("added", res["added"], "green"), ("removed", res["removed"], "red")):
        if rows:
            t = Table(title=label, title_style=style)
            for col in ("id", "kind", "question"):
                t.add_column(col, overflow="fold")
            for row in rows:
                t.add_row(row["id"], row["kind"], row["question"])
            out.print(t)
