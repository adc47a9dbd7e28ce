"""The `benchmint` command line (typer + rich)."""

from __future__ import annotations

from benchmint.env import apply_offline_defaults

# Offline by design: set before prefect / datasets / transformers are imported. Prefect's console logs (and
# its tracebacks) would fight the progress display and the one-line errors; the API, and so the UI, still
# gets every log. Warnings reach the user as progress notes.
apply_offline_defaults(PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL="CRITICAL")

import signal  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Annotated, Optional  # noqa: E402

from benchmint.logscrub import scrubbing_excepthook  # noqa: E402

# set before typer is imported: typer hands tracebacks to the hook it found at import
sys.excepthook = scrubbing_excepthook
import typer  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.errors import NotRenderableError  # noqa: E402
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
    from rich.markup import escape

    from benchmint.names import escape_undecodable
    from benchmint.secrets import key_env_values, scrub

    # a file name that is not UTF-8 cannot be printed as is: its escaped form names it; the messages name
    # URLs in their redacted forms already (`URL#model` keeps its model name)
    console.print(f"[bold red]error:[/] {escape(escape_undecodable(scrub(msg, key_env_values(), urls=False)))}",
                  highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _safe(cfg):  # noqa: ANN001, ANN202 - a BuildConfig in, its JSON form out
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


@app.command()
def build(
    sources: Annotated[Optional[list[str]], typer.Argument(help="Files or folders (walked recursively) of pdf, md, txt, html.")] = None,
    name: Annotated[Optional[str], typer.Option("--name", "-n", help="Benchmark name: outputs/<name>/<version>/.")] = None,
    model: Annotated[Optional[str], typer.Option("--model", "-m", help="Generator: local:NAME, local:/path.gguf or URL#model.")] = None,
    questions: Annotated[Optional[int], typer.Option("--questions", "-q", help="Accepted questions wanted.")] = None,
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="YAML config file; flags override it.")] = None,
    output_dir: Annotated[Optional[str], typer.Option("--output-dir", help="Where releases go (default outputs).")] = None,
    targets: Annotated[Optional[str], typer.Option("--targets", help="Models under test, comma-separated: they answer every candidate.")] = None,
    judges: Annotated[Optional[str], typer.Option("--judges", help="Judge panel, comma-separated (default: the generator).")] = None,
    rounds: Annotated[Optional[int], typer.Option("--rounds", help="Generation rounds; after round 0 each aims at the targets' failures.")] = None,
    band: Annotated[Optional[str], typer.Option("--band", help="Keep questions whose target pass rate is in LO:HI (default 0.1:0.8).")] = None,
    max_tokens: Annotated[Optional[int], typer.Option("--max-tokens", help="Budget: stop after this many completion tokens (all roles).")] = None,
    feed: Annotated[Optional[list[str]], typer.Option("--feed", help="An RSS / Atom / arXiv API feed URL; repeatable.")] = None,
    since: Annotated[Optional[str], typer.Option("--since", help="Feeds: only entries published after YYYY-MM-DD (or 30d, 12h, 2w).")] = None,
    push_to_hub: Annotated[Optional[str], typer.Option("--push-to-hub", help="Also publish the new version to this Hub dataset repo.")] = None,
    wait: Annotated[float, typer.Option("--wait", help="Seconds to wait for another build or refresh of NAME to end.")] = 0.0,
) -> None:
    """Build a benchmark from SOURCES and publish its next version."""
    try:
        cfg = load_config(config, {"name": name, "sources": sources or None, "model": model,
                                   "questions": questions, "output_dir": output_dir, "targets": targets,
                                   "judges": judges, "rounds": rounds, "band": band, "max_tokens": max_tokens,
                                   "feeds": feed or None, "since": since})
        _preflight(cfg)
        params = _safe(cfg)
    except BenchmintError as exc:
        _fail(str(exc), 2)
    try:  # fail fast, before Prefect starts, on a local model that is not there
        from benchmint.local_server import resolve_local_gguf

        for spec in [cfg.models.generator, *cfg.models.targets, *cfg.models.panel()]:
            if spec.is_local:
                resolve_local_gguf(spec.model, cfg.resolved_cache_dir())
    except BenchmintError as exc:
        _fail(str(exc))
    from flows.build import build_benchmark  # imports prefect: after the environment is set

    # `kill` (SIGTERM) takes the same path as Ctrl-C, so the local model server is stopped.
    signal.signal(signal.SIGTERM, _interrupt)

    summary = _with_progress(build_benchmark, params, wait)
    _print_summary(summary)
    if push_to_hub:
        _push(Path(summary["release"]), push_to_hub)


def _preflight(cfg) -> None:  # noqa: ANN001 - a BuildConfig
    """What a build or refresh needs, checked before any model starts: the output folder can be written,
    the feeds' date is a date, every contamination threshold is a known key with a valid value."""
    from benchmint.names import check_output_dir
    from corpora.feeds import parse_since
    from validators.contamination_setup import thresholds

    check_output_dir(cfg.output_dir)
    parse_since(cfg.since)  # a bad date is a flag error, before anything starts
    thresholds(cfg.contamination)


def _push(release: Path, repo: str) -> None:
    from benchmint import catalog

    try:
        out.print(f"pushed {release} to {catalog.push_to_hub(release, repo)}", highlight=False)
    except BenchmintError as exc:
        _fail(f"{release} is published locally, but {exc}")


@app.command()
def refresh(
    name: Annotated[str, typer.Argument(help="Benchmark name (outputs/NAME).")],
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="Its definition (default NAME.yaml if present, else the definition this machine last built it with).")] = None,
    output_dir: Annotated[Optional[str], typer.Option("--output-dir", help="Where releases are (default outputs).")] = None,
    wait: Annotated[float, typer.Option("--wait", help="Seconds to wait for another build or refresh of NAME to end.")] = 0.0,
) -> None:
    """Re-read the sources; retire stale questions, add new ones; publish only on a change."""
    try:
        cfg = _refresh_config(name, config, output_dir)
        params = _safe(cfg)
    except BenchmintError as exc:
        _fail(str(exc), 2)
    from flows.refresh import refresh_benchmark

    signal.signal(signal.SIGTERM, _interrupt)
    summary = _with_progress(refresh_benchmark, params, wait)
    if summary["release"] is None:
        out.print(summary.get("message") or f"unchanged: {name} stays at {summary['refreshed_from']}; no new version",
                  highlight=False)
        return
    out.print(f"{name}: {summary['refreshed_from']} -> {summary['version']}: {summary['added']} added, "
              f"{len(summary['retired'])} retired, {summary['kept']} kept ({summary['release']}/CHANGELOG.md)",
              highlight=False)
    for r in summary["retired"]:
        out.print(f"  retired {r['id']}: {r['reason']}", highlight=False)


@app.command()
def serve(
    name: Annotated[str, typer.Argument(help="Benchmark name (outputs/NAME).")],
    cron: Annotated[Optional[str], typer.Option("--cron", help="When to refresh (default: the config's schedule.cron, 0 2 * * *).")] = None,
    timezone: Annotated[Optional[str], typer.Option("--timezone", help="The cron's timezone (default: schedule.timezone, UTC).")] = None,
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="Its definition (default NAME.yaml if present, else the definition this machine last built it with).")] = None,
    output_dir: Annotated[Optional[str], typer.Option("--output-dir", help="Where releases are (default outputs).")] = None,
) -> None:
    """Serve the nightly refresh of NAME as a scheduled Prefect deployment (no work pool needed).

    Runs until stopped; with PREFECT_API_URL pointing at `prefect server start`, the deployment,
    its runs and their artifacts show in the Prefect UI."""
    from benchmint.config import ScheduleConfig

    try:
        cfg = _refresh_config(name, config, output_dir)
        sched = ScheduleConfig(cron=cron or cfg.schedule.cron, timezone=timezone or cfg.schedule.timezone)
        from prefect.schedules import Cron

        schedule = Cron(sched.cron, timezone=sched.timezone)
        params = _safe(cfg)  # the deployment's stored parameters; scheduled runs inherit the stash
    except BenchmintError as exc:
        _fail(str(exc), 2)
    except ValueError as exc:
        _fail(f"schedule {cron or cfg.schedule.cron!r} ({timezone or cfg.schedule.timezone}): {exc}", 2)
    from flows.refresh import refresh_benchmark

    out.print(f"serving deployment refresh-benchmark/{name}-nightly: {sched.cron} ({sched.timezone}); Ctrl-C stops it",
              highlight=False)
    refresh_benchmark.serve(name=f"{name}-nightly", schedules=[schedule], global_limit=1,
                            parameters={"config": params}, tags=["benchmint", name],
                            description=f"Nightly refresh of the benchmint benchmark {name}",
                            print_starting_message=False)


def _refresh_config(name: str, config: Optional[Path], output_dir: Optional[str]):  # noqa: ANN202 - BuildConfig
    """NAME's definition: --config, NAME.yaml, or the one this machine last published NAME with.

    Never the config inside a manifest: a release is data, and one received from elsewhere could name
    any endpoint, key variable or folder. A benchmark this machine never published needs --config."""
    from benchmint import catalog, definitions
    from benchmint.names import check_name

    check_name(name)
    if config is None and Path(f"{name}.yaml").is_file():
        config = Path(f"{name}.yaml")
    overrides: dict = {"name": name, "output_dir": output_dir}
    if config is None:
        d = catalog.bench_dir(output_dir or "outputs", name)
        stored = definitions.recall(d)
        if stored is None:
            raise BenchmintError(
                f"{d} was not published on this machine (no local record of its definition); refresh takes "
                f"endpoints, key variables and sources only from your own definition, never from a release's "
                f"manifest: pass --config FILE (`benchmint init {name}` writes one)")
        overrides = {**{k: v for k, v in stored.items() if k not in ("name", "output_dir")},
                     "name": name, "output_dir": output_dir or "outputs"}
    cfg = load_config(config, overrides)
    d = catalog.bench_dir(cfg.output_dir, name)  # published, and inside the output folder
    catalog.check_release(d / catalog.resolve_version(d, None))  # a damaged latest version: one line, now
    _preflight(cfg)
    return cfg


def _with_progress(flow_fn, *args):  # noqa: ANN001, ANN002, ANN202 - a Prefect flow and its result
    """Run a flow under the rich progress display; user errors and Ctrl-C end as one line."""
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console, transient=False) as prog:
            token = progress.current.set(RichReporter(prog))
            try:
                return flow_fn(*args)
            finally:
                progress.current.reset(token)
    except BenchmintError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("interrupted; nothing was published", 130)


def _print_summary(s: dict) -> None:
    from benchmint.names import escape_undecodable

    s = escape_undecodable(s)
    for sk in s["skipped"]:
        out.print(f"[yellow]skipped[/] {sk['source']}: {sk['reason']}", highlight=False)
    t = Table(title=f"benchmint build: {s['name']}", show_header=False)
    t.add_row("published", s["release"])
    t.add_row("accepted", str(s["accepted"]))
    t.add_row("rejected", f"{s['rejected']} " + ", ".join(f"{k}: {n}" for k, n in sorted(s["rejections_by_validator"].items())))
    t.add_row("chunks used", f"{s['chunks_used']} / {s['chunks']}")
    if len(s.get("rounds", [])) > 1 or any(r.get("mean_target_pass_rate") is not None for r in s.get("rounds", [])):
        for r in s["rounds"]:
            rate = r["mean_target_pass_rate"]
            t.add_row(f"round {r['round']}", f"{r['generated']} generated, {r['accepted']} accepted, mean target pass rate "
                                             f"{'-' if rate is None else f'{rate:.2f}'}")
    miss = s.get("missing", {})
    if miss.get("target_replies") or miss.get("judge_votes"):
        t.add_row("missing", f"{miss['target_replies']} target replies, {miss['judge_votes']} judge votes "
                             "(failed after retries; recorded per question)")
    if s.get("faults"):
        t.add_row("faults", ", ".join(f"{k}: {n}" for k, n in sorted(s["faults"].items()))
                  + " (unusable replies, retried or recorded; see the manifest)")
    for role, u in s["token_usage"].items():
        t.add_row(f"tokens ({role})", f"{u['prompt_tokens']} prompt + {u['completion_tokens']} completion, "
                                      f"{u['calls']} calls, {u['cache_hits']} cached")
    out.print(t)


@app.command()
def models() -> None:
    """List the embedded local models and whether they are installed."""
    from benchmint.local_server import list_local_models

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


corpora_app = typer.Typer(no_args_is_help=True, help="Known corpora that builds are checked against for contamination.")
app.add_typer(corpora_app, name="corpora")


@corpora_app.command("add")
def corpora_add(
    name: Annotated[str, typer.Argument(help="A name for the corpus.")],
    source: Annotated[str, typer.Argument(help="A saved dataset folder, json/jsonl/parquet/csv file(s), or a hub id.")],
    fields: Annotated[Optional[str], typer.Option("--fields", help="question[,choices...][,answer] field names, or "
                                                  "question=Q,choices=A|B|C|D,answer=X; guessed when omitted.")] = None,
    split: Annotated[Optional[str], typer.Option("--split", help="Split to read (hub or saved DatasetDict).")] = None,
) -> None:
    """Register a known corpus (loaded once now to check it)."""
    from corpora.reference import add_corpus

    try:
        entry = add_corpus(name, source, fields, split=split)
    except BenchmintError as exc:
        _fail(str(exc))
    out.print(f"added corpus [bold]{entry['name']}[/]: {entry['size']} items from {entry['source']}", highlight=False)
    out.print(entry["note"], highlight=False)


@corpora_app.command("list")
def corpora_list() -> None:
    """List registered and builtin corpora."""
    from corpora.reference import list_corpora

    try:
        rows = list_corpora()
    except BenchmintError as exc:
        _fail(str(exc))
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
    from corpora.reference import remove_corpus

    try:
        entry = remove_corpus(name)
    except BenchmintError as exc:
        _fail(str(exc))
    out.print(f"removed corpus {entry['name']} ({entry['source']})", highlight=False)


@app.command()
def decontaminate(
    input: Annotated[Path, typer.Argument(help="JSONL rows with id and question (answer, choices optional).")],
    reference: Annotated[list[str], typer.Option("--reference", "-r", help="A corpus name or a source; repeatable.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write one verdict row per question.")],
    no_judge: Annotated[bool, typer.Option("--no-judge", help="No LLM judge: the middle band is flagged for review.")] = False,
    judge: Annotated[str, typer.Option("--judge", help="Judge model for the middle band.")] = "local:qwen2.5-coder-1.5b",
) -> None:
    """Check any question file against known corpora."""
    from benchmint.config import parse_model_ref
    from benchmint.llm import ModelPool
    from validators.contamination import decontaminate_file

    try:
        roles = {} if no_judge else {"judge": parse_model_ref(judge)}
        with ModelPool(roles, cache_root()) as pool:
            summary = decontaminate_file(input, reference, output, judge=pool.clients.get("judge"))
    except BenchmintError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("interrupted; nothing was written", 130)
    out.print(f"{summary['questions']} questions: {summary['contaminated']} contaminated, {summary['review']} for review, "
              f"{summary['clean']} clean -> {summary['output']}", highlight=False)


@app.command("eval")
def eval_(
    release: Annotated[Path, typer.Argument(help="A release folder (outputs/NAME/vN) or a benchmark folder (its latest).")],
    model: Annotated[list[str], typer.Option("--model", "-m", help="A model to evaluate; repeatable.")],
    judge: Annotated[Optional[list[str]], typer.Option("--judge", help="Judge for open answers; repeatable (default: the release's judges).")] = None,
    no_judge: Annotated[bool, typer.Option("--no-judge", help="No judge: open answers by exact match, else token F1 >= 0.5.")] = False,
    closed_book: Annotated[bool, typer.Option("--closed-book", help="Ask without the source text.")] = False,
) -> None:
    """Evaluate models on a release: accuracy with 95% intervals, paired differences, a chart."""
    from benchmint.config import parse_model_ref
    from benchmint.local_server import resolve_local_gguf

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
        from benchmint.config import stash_model_refs
        from benchmint.logscrub import install_log_scrubber

        # the flow's parameters are stored by Prefect: URLs redacted (raw forms stashed), keys by name
        safe = stash_model_refs([*model, *judges])
        model, judges = safe[:len(model)], safe[len(model):]
        install_log_scrubber(s.api_key_env for s in specs)
    except BenchmintError as exc:
        _fail(str(exc), 2)
    from flows.evaluate import evaluate_models

    signal.signal(signal.SIGTERM, _interrupt)
    try:
        with console.status("evaluating"):
            board = evaluate_models(str(folder), list(model), judges, closed_book)
    except BenchmintError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("interrupted; no result was written", 130)
    t = Table(title=f"{folder} ({board['mode'].replace('_', ' ')}, {board['n_questions']} questions)")
    for col in ("rank", "model", "accuracy", "95% CI", "missing"):
        t.add_column(col)
    for b in board["models"]:
        a = b["accuracy"]
        t.add_row(str(b["rank"]), b["model"], f"{a['mean']:.3f}", f"[{a['ci_low']:.3f}, {a['ci_high']:.3f}]", str(b["missing"]))
    out.print(t)
    out.print(f"results: {folder / 'evals'} (chart: {board['chart']})", highlight=False)


def _doc_titles(m: dict) -> dict[str, str]:
    return {d["id"]: d["title"] for d in m.get("sources", {}).get("documents", [])}


@app.command()
def init(
    name: Annotated[str, typer.Argument(help="Benchmark name.")],
    path: Annotated[Optional[Path], typer.Option("--path", help="Where to write the config (default NAME.yaml).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a benchmark definition (YAML) with every key and its default."""
    from benchmint.names import check_name

    try:
        check_name(name)  # the name must be usable as a folder name
    except BenchmintError as exc:
        _fail(str(exc), 2)
    target = path or Path(f"{name}.yaml")
    if target.exists() and not force:
        _fail(f"{target} exists; pass --force to overwrite it or --path to write elsewhere", 2)
    template = (Path(__file__).parent / "init_template.yaml").read_text(encoding="utf-8")
    target.write_text(template.replace("{name}", name).replace("{file}", str(target)), encoding="utf-8")
    out.print(f"wrote {target}: add sources or feeds, then `benchmint build --config {target}`", highlight=False)


@app.command()
def push(
    name: Annotated[str, typer.Argument(help="Benchmark name (outputs/NAME).")],
    version_: Annotated[Optional[str], typer.Argument(metavar="VERSION", help="v1, v2, ... (default: latest).")] = None,
    repo: Annotated[str, typer.Option("--repo", help="Hub dataset repository, e.g. my-org/my-bench.")] = "",
    output_dir: Annotated[str, typer.Option("--output-dir", help="Where releases are (default outputs).")] = "outputs",
) -> None:
    """Publish a version to the Hugging Face Hub with `datasets` (needs a network and a token)."""
    from benchmint import catalog

    if not repo:
        _fail("name the Hub repository: --repo ORG/NAME", 2)
    try:
        d = catalog.bench_dir(output_dir, name)
        url = catalog.push_to_hub(d / catalog.resolve_version(d, version_), repo)
    except BenchmintError as exc:
        _fail(str(exc))
    out.print(f"pushed to {url}", highlight=False)


@app.command()
def versions(
    name: Annotated[str, typer.Argument(help="Benchmark name (outputs/NAME).")],
    output_dir: Annotated[str, typer.Option("--output-dir", help="Where releases are (default outputs).")] = "outputs",
) -> None:
    """List the published versions of a benchmark."""
    from benchmint import catalog

    try:
        d = catalog.bench_dir(output_dir, name)
        rows = catalog.version_rows(d)
    except BenchmintError as exc:
        _fail(str(exc))
    except (KeyError, TypeError, AttributeError, ValueError, NotRenderableError) as exc:
        _fail(f"a version in {output_dir}/{name} is damaged ({type(exc).__name__}: {exc}); rebuild it, or remove it")
    t = Table(title=f"{name}: {len(rows)} version(s)")
    for col in ("version", "created", "parent", "questions", "by kind", "generator", "content hash"):
        t.add_column(col)
    for r in rows:
        t.add_row(r["version"], r["created_at"], r["parent"], str(r["questions"]),
                  ", ".join(f"{k} {n}" for k, n in sorted(r["by_kind"].items())), r["generator"], r["content_hash"])
    out.print(t)


@app.command()
def show(
    name: Annotated[str, typer.Argument(help="Benchmark name (outputs/NAME).")],
    version_: Annotated[Optional[str], typer.Argument(metavar="VERSION", help="v1, v2, ... (default: latest).")] = None,
    output_dir: Annotated[str, typer.Option("--output-dir", help="Where releases are (default outputs).")] = "outputs",
    sample: Annotated[int, typer.Option("--sample", help="Questions to show.")] = 5,
) -> None:
    """One version: counts, models, sources, and a sample of its questions."""
    from benchmint import catalog

    try:
        d = catalog.bench_dir(output_dir, name)
        v = catalog.resolve_version(d, version_)
        m, qs = catalog.manifest(d, v), catalog.questions(d, v)
        _show(name, v, m, qs, sample)
    except BenchmintError as exc:
        _fail(str(exc))
    except (KeyError, TypeError, AttributeError, ValueError, IndexError, NotRenderableError) as exc:
        _fail(f"{d / v} is damaged ({type(exc).__name__}: {exc}); rebuild it, or remove the folder")


def _show(name: str, v: str, m: dict, qs: list[dict], sample: int) -> None:
    t = Table(title=f"{name} {v}", show_header=False)
    t.add_row("created", m.get("created_at", ""))
    t.add_row("parent", m.get("parent_version") or "(none)")
    t.add_row("questions", f"{len(qs)} (" + ", ".join(f"{k} {n}" for k, n in sorted(m.get("counts", {}).get("by_kind", {}).items())) + ")")
    t.add_row("rejected", str(m.get("counts", {}).get("rejected", 0)))
    for role, label in m.get("models", {}).items():
        t.add_row(f"model ({role})", label)
    for doc in m.get("sources", {}).get("documents", []):
        t.add_row("source", f"{doc['title']} ({doc['source']})")
    for r in m.get("rounds", []):
        if r.get("mean_target_pass_rate") is not None:
            t.add_row(f"round {r['round']}", f"{r['accepted']} accepted, mean target pass rate {r['mean_target_pass_rate']:.2f}")
    out.print(t)
    titles = _doc_titles(m)
    q = Table(title=f"sample of {min(sample, len(qs))}")
    for col in ("kind", "question", "answer", "source"):
        q.add_column(col, overflow="fold")
    for row in qs[:sample]:
        q.add_row(row["kind"], row["question"], row["answer"], titles.get(row["document_ids"][0], "") if row["document_ids"] else "")
    out.print(q)


@app.command("diff")
def diff_(
    name: Annotated[str, typer.Argument(help="Benchmark name (outputs/NAME).")],
    a: Annotated[str, typer.Argument(help="The older version.")],
    b: Annotated[str, typer.Argument(help="The newer version.")],
    output_dir: Annotated[str, typer.Option("--output-dir", help="Where releases are (default outputs).")] = "outputs",
) -> None:
    """Questions added and removed between two versions."""
    from benchmint import catalog

    try:
        d = catalog.bench_dir(output_dir, name)
        res = catalog.diff(d, catalog.resolve_version(d, a), catalog.resolve_version(d, b))
        _print_diff(name, res)
    except BenchmintError as exc:
        _fail(str(exc))
    except (KeyError, TypeError, AttributeError, ValueError, NotRenderableError) as exc:
        _fail(f"a version of {output_dir}/{name} is damaged ({type(exc).__name__}: {exc}); rebuild it, or remove it")


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
