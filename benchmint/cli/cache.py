"""`benchmint cache info|prune`: the response cache (model replies kept so a rerun repeats no call), and its
size cap, enforced after every publish (pipeline.build.trim_cache). Only CACHE_DIR/responses is ever
pruned: the cache dir also holds the joined models and the registered corpora."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from benchmint.cli.ui import fail, out
from benchmint.config import BuildConfig, cache_root
from benchmint.response_cache import cache_files, prune, responses_dir

MB = 1024 * 1024
DEFAULT_MAX_MB = BuildConfig.model_fields["cache_max_mb"].default

cache_app = typer.Typer(no_args_is_help=True,
                        help="The response cache: model replies kept on disk so that a rerun repeats no call.")

CacheDir = Annotated[Optional[str], typer.Option(
    "--cache-dir", help="The cache dir (default: $BENCHMINT_CACHE, else ~/.cache/benchmint).")]


def _mb(n: int) -> str:
    return f"{n / MB:.1f} MB"


@cache_app.command("info")
def cache_info(
    cache_dir: CacheDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Where the response cache is, its files and its size."""
    root = responses_dir(cache_root(cache_dir))
    files = [f for f in cache_files(root) if not f.tmp]
    size = sum(f.size for f in files)
    if as_json:
        typer.echo(json.dumps({"path": str(root), "files": len(files), "bytes": size}))
        return
    out.print(f"response cache: {root}\nfiles: {len(files)}\nsize: {_mb(size)} ({size} bytes); builds prune it "
              f"to cache_max_mb (default {DEFAULT_MAX_MB:g} MB)", markup=False, highlight=False, soft_wrap=True)


@cache_app.command("prune")
def cache_prune(
    max_mb: Annotated[Optional[float], typer.Option(
        "--max-mb", min=0, help="Keep at most this many MB, the most recently used replies (0: remove all).")] = None,
    older_than: Annotated[Optional[float], typer.Option(
        "--older-than", min=0, help="Remove replies not used for this many days.")] = None,
    cache_dir: CacheDir = None,
) -> None:
    """Remove cached replies: those not used for DAYS, then the least recently used past N MB."""
    if max_mb is None and older_than is None:
        fail(f"say what to remove: --max-mb N and/or --older-than DAYS (builds keep the cache under "
             f"cache_max_mb, default {DEFAULT_MAX_MB:g} MB)", 2)
    root = responses_dir(cache_root(cache_dir))
    res = prune(root, max_bytes=None if max_mb is None else int(max_mb * MB),
                older_than_s=None if older_than is None else older_than * 86400)
    out.print(f"removed {res.removed_files} file(s) ({_mb(res.removed_bytes)}); {res.kept_files} left "
              f"({_mb(res.kept_bytes)}) in {root}", markup=False, highlight=False, soft_wrap=True)
