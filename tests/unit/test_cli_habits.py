"""CLI habits (issue 15, item 5): one error path, --version, completion, plain progress lines in a log, --json."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tomllib

from rich.console import Console
from typer.testing import CliRunner

from benchmint import __version__, progress, release
from benchmint.cli import app, ui
from benchmint.errors import BenchmintError
from tests.fixtures import REPO, release_question

runner = CliRunner()


def _cli(*args: str, cwd) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    return subprocess.run([sys.executable, "-m", "benchmint.cli", *args], cwd=cwd, capture_output=True, text=True,
                          env={**env, "PYTHONPATH": str(REPO)}, timeout=120)


def _published(tmp_path):
    out = tmp_path / "out"
    manifest = {"sources": {"documents": [{"id": "d", "title": "Orrin manual", "source": "orrin.md"}]},
                "models": {"generator": "local:qwen2.5-coder-1.5b"}}
    release.publish(out, "b", [release_question(1), release_question(2, "mcq")], [release_question(9)], manifest,
                    {"d": "Orrin manual"})
    release.publish(out, "b", [release_question(2, "mcq"), release_question(3)], [], manifest, {"d": "Orrin manual"})
    return out


# --------------------------------------------------------------------------- one error path


def test_the_script_runs_main_the_one_error_path():
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert scripts["benchmint"] == "benchmint.cli:main"
    assert "main()" in (REPO / "benchmint" / "cli" / "__main__.py").read_text(encoding="utf-8")


def test_errors_are_one_line_through_main(tmp_path):
    r = _cli("show", "no-such-name", "--output-dir", str(tmp_path), cwd=tmp_path)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 1 and "Traceback" not in r.stderr + r.stdout, r.stderr
    assert len(lines) == 1 and lines[0].startswith("error: no published version of 'no-such-name'"), r.stderr
    # push has no handler of its own now: the app's group says it
    r = _cli("push", "nope", "--repo", "o/r", "--output-dir", str(tmp_path), cwd=tmp_path)
    assert r.returncode == 1 and r.stderr.strip().startswith("error: no published version of 'nope'"), r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_a_command_without_its_own_handler_is_one_line_in_the_app_too(tmp_path):
    # the app itself (CliRunner, not main()) ends a BenchmintError as one line with status 1
    res = runner.invoke(app, ["versions", "nope", "--output-dir", str(tmp_path)])
    text = res.output.strip()
    assert res.exit_code == 1 and not isinstance(res.exception, BenchmintError), res.exception
    assert len(text.splitlines()) == 1 and text.startswith("error: no published version of 'nope'"), text


# --------------------------------------------------------------------------- --version, completion


def test_version_option_and_command():
    for args in (["--version"], ["version"]):
        res = runner.invoke(app, args)
        assert res.exit_code == 0 and res.output.strip() == f"benchmint {__version__}", (args, res.output)


def test_help_lists_completion_version_and_cache():
    res = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    for shown in ("--install-completion", "--show-completion", "--version", "cache", "versions", "show"):
        assert shown in res.output, shown


# --------------------------------------------------------------------------- plain progress lines


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_plain_reporter_writes_stages_notes_and_throttled_counts():
    lines: list[str] = []
    clock = Clock()
    rep = progress.PlainReporter(lines.append, every=10, clock=clock)
    rep.stage("reading sources")
    rep.stage("reading sources")  # no change: no line
    clock.t += 3
    rep.stage("generating and validating")
    rep.advance(0, 10, 1, 20)  # first counts of a stage: at once
    clock.t += 2
    rep.advance(1, 10, 2, 20)  # 2 s later: held back
    clock.t += 2
    rep.advance(2, 10, 3, 20)  # held back
    rep.note("skipped a.pdf: too-large")
    clock.t += 7
    rep.advance(3, 10, 4, 20)  # 11 s after the last counts line: written
    clock.t += 1
    rep.advance(3, 10, 5, 20)  # held back
    clock.t += 3600
    rep.stage("publishing")  # writes the held counts first
    rep.advance(10, 10, 9, 20)  # the target reached: at once
    rep.advance(10, 10, 9, 20)  # the same counts: nothing
    rep.close()  # nothing held
    assert lines == [
        "[0:00:00] reading sources",
        "[0:00:03] generating and validating",
        "[0:00:03] accepted 0/10 questions, chunks 1/20",
        "[0:00:07] skipped a.pdf: too-large",
        "[0:00:14] accepted 3/10 questions, chunks 4/20",
        "[1:00:15] accepted 3/10 questions, chunks 5/20",
        "[1:00:15] publishing",
        "[1:00:15] accepted 10/10 questions, chunks 9/20",
    ]


def test_plain_reporter_close_writes_the_last_counts():
    lines: list[str] = []
    clock = Clock()
    rep = progress.PlainReporter(lines.append, every=10, clock=clock)
    rep.advance(1, 5, 1, 3)
    clock.t += 1
    rep.advance(2, 5, 2, 3)
    assert lines == ["[0:00:00] accepted 1/5 questions, chunks 1/3"]
    rep.close()
    assert lines[-1] == "[0:00:01] accepted 2/5 questions, chunks 2/3"


def _run_flow(monkeypatch, console: Console) -> object:
    monkeypatch.setattr(ui, "console", console)
    seen = []

    def flow(x: int) -> int:
        rep = progress.current.get()
        seen.append(rep)
        rep.stage("reading sources")
        rep.advance(1, 2, 1, 4)
        rep.note("targets: smollm2")
        return x + 1

    assert ui.with_progress(flow, 1) == 2
    assert isinstance(progress.current.get(), progress.NullReporter)  # reset after the run
    return seen[0]


def test_with_progress_writes_plain_lines_when_not_a_terminal(monkeypatch):
    buf = io.StringIO()
    rep = _run_flow(monkeypatch, Console(file=buf, force_terminal=False, width=40))
    assert isinstance(rep, progress.PlainReporter)
    lines = buf.getvalue().splitlines()
    assert [ln.split("] ", 1)[1] for ln in lines] == ["reading sources", "accepted 1/2 questions, chunks 1/4",
                                                        "targets: smollm2"], lines
    assert all(ln.startswith("[0:00:0") for ln in lines)


def test_with_progress_keeps_the_live_display_on_a_terminal(monkeypatch):
    rep = _run_flow(monkeypatch, Console(file=io.StringIO(), force_terminal=True))
    assert isinstance(rep, ui.RichReporter)


# --------------------------------------------------------------------------- --json


def test_versions_json(tmp_path):
    out = _published(tmp_path)
    res = runner.invoke(app, ["versions", "b", "--output-dir", str(out), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["name"] == "b" and [r["version"] for r in data["versions"]] == ["v1", "v2"]
    v1, v2 = data["versions"]
    assert v1["parent"] == "" and v2["parent"] == "v1" and v2["questions"] == 2
    assert v2["by_kind"] == {"mcq": 1, "open": 1} and v2["generator"] == "local:qwen2.5-coder-1.5b"
    assert len(v2["content_hash"]) == 12 and v1["content_hash"] != v2["content_hash"]


def test_show_json(tmp_path):
    out = _published(tmp_path)
    res = runner.invoke(app, ["show", "b", "v1", "--output-dir", str(out), "--json", "--sample", "1"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert (data["name"], data["version"], data["parent"], data["questions"]) == ("b", "v1", None, 2)
    assert data["by_kind"] == {"mcq": 1, "open": 1} and data["rejected"] == 1
    assert data["models"] == {"generator": "local:qwen2.5-coder-1.5b"}
    assert data["sources"] == [{"title": "Orrin manual", "source": "orrin.md"}]
    assert len(data["sample"]) == 1 and data["sample"][0]["source"] == "Orrin manual"
    assert data["sample"][0]["question"].startswith("What is fact number") and data["created_at"]
    assert data["round_drop"] is None  # a one-round build
    latest = json.loads(runner.invoke(app, ["show", "b", "--output-dir", str(out), "--json"]).stdout)
    assert latest["version"] == "v2" and latest["parent"] == "v1" and len(latest["sample"]) == 2


def test_show_json_of_a_damaged_release_is_one_line(tmp_path):
    out = _published(tmp_path)
    m = out / "b" / "v2" / "manifest.json"
    m.chmod(0o644)
    m.write_text('{"sources": [1], "models": 3, "counts": []}')
    res = runner.invoke(app, ["show", "b", "--output-dir", str(out), "--json"])
    text = res.output.strip()
    assert res.exit_code == 1 and len(text.splitlines()) == 1 and "damaged" in text, text
