"""Issue 12, items 3, 6 and 7: inputs checked before any work, one writer per benchmark, a release is
data. Real files, real flows (the session Prefect harness), real CLI processes, the SmolLM2 model; the
only stand-in is a 'foreign endpoint' HTTP server on 127.0.0.1 that records any request it gets."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from benchmint import release
from benchmint.cli import app
from benchmint.config import BuildConfig, load_config
from benchmint.errors import BenchmintError, ConfigError
from benchmint.names import check_output_dir
from benchmint.runlock import run_lock
from tests.fixtures import REPO, release_question

runner = CliRunner()


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    return {**env, "PYTHONPATH": str(REPO), **extra}


def _one_line_error(result) -> str:  # noqa: ANN001 - a click Result
    text = result.output.strip()
    assert result.exit_code != 0, text
    assert "Traceback" not in text and len(text.splitlines()) == 1 and text.startswith("error:"), text
    return text


def _publish(out: Path, name: str, n: int = 2, manifest: dict | None = None, **kw) -> Path:
    return release.publish(out, name, [release_question(i) for i in range(n)], [], manifest or {}, {}, **kw)


# --------------------------------------------------------------------------- item 3: check before work


def test_output_folder_is_checked_before_any_model(tmp_path, monkeypatch):
    src = tmp_path / "docs"
    src.mkdir()
    (src / "a.md").write_text("# A\n\nSome text about pumps and valves in the harbour.\n")
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    for out, why in ((a_file, "is a file, not a folder"), (a_file / "sub", "is a file, not a folder"),
                     ("/proc/benchmint-out", "cannot write in /proc")):
        res = runner.invoke(app, ["build", str(src), "--model", "local:smollm2-135m", "--output-dir", str(out)])
        assert res.exit_code == 2 and why in _one_line_error(res)
    monkeypatch.setenv("HOME", str(tmp_path))
    cfg = load_config(None, {"sources": [str(src)], "output_dir": "~/bench-out"})
    assert cfg.output_dir == str(tmp_path / "bench-out") and check_output_dir(cfg.output_dir) == tmp_path / "bench-out"
    assert not (Path.cwd() / "~").exists()


def test_config_file_checks(tmp_path):
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("name: café\nsources: [docs]\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="is not UTF-8 text .* save it as UTF-8"):
        load_config(latin1, {})
    dated = tmp_path / "dated.yaml"
    dated.write_text("name: x\nfeeds: [http://127.0.0.1:1/feed]\nsince: 2025-10-01\n")
    assert load_config(dated, {}).since == "2025-10-01"
    for text, key in (("questions: true", "'questions'"), ("seed: false", "'seed'"),
                      ("models:\n  generator: {model: 'local:smollm2-135m', max_tokens: true}",
                       "'models.generator.max_tokens'"),
                      ("generation:\n  questions_per_chunk: true", "'generation.questions_per_chunk'")):
        f = tmp_path / "bool.yaml"
        f.write_text(f"name: x\nsources: [docs]\n{text}\n")
        with pytest.raises(ConfigError, match=f"{key} is true/false where a number is wanted"):
            load_config(f, {})
    assert load_config(None, {"sources": ["docs"], "questions": 4}).questions == 4
    # a threshold typo or a bad value: found at config load, before any model starts (exit 2, one line)
    for text, want in (("fuzy_threshold: 80", "unknown key 'contamination.thresholds.fuzy_threshold'"),
                       ("semantic_threshold: 2", "'contamination.thresholds.semantic_threshold'")):
        f = tmp_path / "thresholds.yaml"
        f.write_text(f"name: x\nsources: [{tmp_path}]\ncontamination:\n  thresholds:\n    {text}\n")
        res = runner.invoke(app, ["build", "--config", str(f), "--output-dir", str(tmp_path / "out")])
        assert res.exit_code == 2 and want in _one_line_error(res)
    assert not (tmp_path / "out").exists()


def test_file_names_that_are_not_utf8_are_kept_escaped(tmp_path):
    from corpora.documents import load_documents

    src = tmp_path / "docs"
    src.mkdir()
    raw = os.path.join(os.fsencode(src), b"caf\xe9-notes.md")
    with open(raw, "wb") as f:
        f.write(b"# Caf\xc3\xa9 notes\n\nThe Orrin-7 pump is serviced every 14 days by the harbour crew.\n")
    docs, skipped = load_documents([str(src)])
    named = [d.source for d in docs] + [s.source for s in skipped]
    assert any(n.endswith("caf\\xe9-notes.md") for n in named), named  # the loader names it escaped
    manifest = {"sources": {"documents": [{"id": d.id, "title": d.title, "source": d.source} for d in docs],
                            "skipped": [s.model_dump() for s in skipped]}}
    folder = release.publish(tmp_path / "out", "names", [release_question(1)], [], manifest, {d.id: d.title for d in docs})
    text = (folder / "manifest.json").read_text(encoding="utf-8")
    assert "caf\\\\xe9-notes.md" in text  # JSON of the escaped form caf\xe9-notes.md
    (folder / "README.md").read_text(encoding="utf-8")
    (folder / "CHANGELOG.md").read_text(encoding="utf-8")


def _damaged(out: Path) -> None:
    _publish(out, "nomanifest")
    os.chmod(out / "nomanifest" / "v1", 0o755)
    (out / "nomanifest" / "v1" / "manifest.json").unlink()
    _publish(out, "badjson")
    (out / "badjson" / "v1" / "manifest.json").chmod(0o644)
    (out / "badjson" / "v1" / "manifest.json").write_text('{"name": "badjson", "counts": ')
    _publish(out, "badrows")
    (out / "badrows" / "v1" / "questions.jsonl").chmod(0o644)
    (out / "badrows" / "v1" / "questions.jsonl").write_text("[1, 2]\n")
    _publish(out, "badtypes")
    (out / "badtypes" / "v1" / "manifest.json").chmod(0o644)
    (out / "badtypes" / "v1" / "manifest.json").write_text('{"sources": [1], "models": 3, "counts": []}')


def test_damaged_releases_give_one_line(tmp_path):
    out = tmp_path / "out"
    _damaged(out)
    cfg = tmp_path / "def.yaml"
    cfg.write_text(f"name: x\nsources: [{tmp_path}]\n")
    for name in ("nomanifest", "badjson", "badrows", "badtypes"):
        for args in (["show", name], ["versions", name], ["diff", name, "v1", "v1"],
                     ["refresh", name, "--config", str(cfg)], ["eval", str(out / name / "v1"), "--model", "local:x"]):
            if name == "badtypes" and args[0] in ("refresh", "eval", "diff"):
                continue  # a manifest of wrong types is read only by show and versions
            if name == "badrows" and args[0] == "versions":
                continue  # versions lists the manifests only
            res = runner.invoke(app, [*args, *(["--output-dir", str(out)] if args[0] != "eval" else [])])
            assert "damaged" in _one_line_error(res), (name, args)


# --------------------------------------------------------------------------- read commands stay inside outputs/


def test_names_that_leave_the_output_folder_are_refused(tmp_path):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    _publish(out, "real")
    _publish(tmp_path, "elsewhere")
    (out / "link").symlink_to(elsewhere, target_is_directory=True)
    os.chmod(out / "real", 0o755)
    (out / "real" / "v2").symlink_to(elsewhere / "v1", target_is_directory=True)  # a version leading out
    for name in ("../elsewhere", str(elsewhere), "link", "..", ".hidden", "a/b"):
        for args in (["show", name], ["versions", name], ["diff", name, "v1", "v1"], ["refresh", name],
                     ["push", name, "--repo", "o/r"], ["init", name, "--path", str(tmp_path / "x.yaml")]):
            if name == "link" and args[0] == "init":
                continue  # a plain name: init writes NAME.yaml, outputs/ is not involved
            res = runner.invoke(app, [*args, *(["--output-dir", str(out)] if args[0] != "init" else [])])
            msg = _one_line_error(res)
            assert "benchmark name" in msg or "leads out of the output folder" in msg, (args, msg)
    res = runner.invoke(app, ["versions", "real", "--output-dir", str(out)])
    assert res.exit_code == 0 and "1 version(s)" in res.output  # the symlinked v2 is not a version
    assert _one_line_error(runner.invoke(app, ["show", "real", "v2", "--output-dir", str(out)]))


# --------------------------------------------------------------------------- item 6: one writer per benchmark


HOLD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from benchmint.runlock import run_lock
    with run_lock(Path(sys.argv[1]), sys.argv[2]):
        print("held", flush=True)
        time.sleep(120)
""")


def test_build_and_refresh_exclude_each_other(tmp_path, prefect_harness):
    """Another process holds the run lock as a build (then as a refresh): the other flow stops with one
    line naming the holder, before reading a source or starting a model, and publishes nothing."""
    from flows.build import build_benchmark
    from flows.refresh import refresh_benchmark

    src = tmp_path / "docs"
    src.mkdir()
    (src / "a.md").write_text("# A\n\nThe Orrin-7 pump is serviced every 14 days by the harbour crew.\n")
    cfg = BuildConfig(name="race", sources=[str(src)], output_dir=str(tmp_path / "out"), cache_dir=str(tmp_path / "c"),
                      models={"generator": "local:smollm2-135m"}).model_dump(mode="json")
    bench = tmp_path / "out" / "race"
    for holder, flow in (("build", refresh_benchmark), ("refresh", build_benchmark), ("build", build_benchmark)):
        proc = subprocess.Popen([sys.executable, "-c", HOLD, str(bench), holder], env=_env(), text=True,
                                stdout=subprocess.PIPE)
        try:
            assert proc.stdout.readline().strip() == "held"
            with pytest.raises(BenchmintError, match=rf"race is busy: a {holder} \(pid {proc.pid} "):
                flow(cfg, 0.5)
        finally:
            proc.kill()
            proc.wait()
    assert release.versions(bench) == [] and not (tmp_path / "c" / "responses").exists()


HOLD_IN_A_FLOW = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from prefect import flow
    from benchmint.runlock import run_lock
    from flows.stale_runs import holder_note

    @flow(name="build-benchmark", flow_run_name="build-gone")
    def held():
        with run_lock(Path(sys.argv[1]), "build", note=holder_note()):
            print("held", flush=True)
            time.sleep(120)

    held()
""")


def test_the_next_run_sets_a_killed_runs_flow_run_crashed(tmp_path, prefect_harness):
    """A flow run killed with SIGKILL while it holds the run lock stays Running in Prefect; the next run of the
    benchmark (a refresh here, which then stops: nothing is published yet) sets it Crashed, saying why. A holder
    that ends cleanly leaves no record for the next one."""
    from prefect import get_client
    from prefect.client.schemas.objects import StateType
    from prefect.settings import PREFECT_API_URL

    from flows.refresh import refresh_benchmark

    bench = tmp_path / "out" / "gone"
    proc = subprocess.Popen([sys.executable, "-c", HOLD_IN_A_FLOW, str(bench)], text=True, stdout=subprocess.PIPE,
                            env=_env(PREFECT_API_URL=PREFECT_API_URL.value()))
    try:
        assert proc.stdout.readline().strip() == "held"
    finally:
        proc.kill()
        proc.wait()
    with get_client(sync_client=True) as client:
        (killed,) = [r for r in client.read_flow_runs() if r.name == "build-gone"]
        assert killed.state.type == StateType.RUNNING
        cfg = BuildConfig(name="gone", sources=[str(tmp_path)], output_dir=str(tmp_path / "out"),
                          cache_dir=str(tmp_path / "c"), models={"generator": "local:smollm2-135m"})
        with pytest.raises(BenchmintError, match="no published version"):
            refresh_benchmark(cfg.model_dump(mode="json"))
        state = client.read_flow_run(killed.id).state
    assert state.type == StateType.CRASHED and "ended without finishing" in state.message, state
    assert f"pid {proc.pid}" in state.message

    (bench / "v1").mkdir(parents=True)  # the lock file stays beside a version
    with run_lock(bench, "build", note={"flow_run_id": str(killed.id)}):
        pass
    with run_lock(bench, "refresh") as died:
        assert died is None


def test_a_run_that_publishes_nothing_leaves_no_folder(tmp_path):
    """The first run of a name that publishes nothing removes the folder it made; a run that waited on it
    then holds the lock file that is there, so a third run still sees it busy."""
    bench = tmp_path / "fresh"
    got: list[str] = []
    with run_lock(bench, "build"):
        waiter = threading.Thread(target=lambda: got.append(_hold_then_probe(bench)))
        waiter.start()
        time.sleep(0.3)
    waiter.join(10)
    assert got == ["busy"]
    assert not bench.exists()
    (bench / "v1").mkdir(parents=True)  # a folder with a version stays, lock file and all
    with run_lock(bench, "refresh"):
        pass
    assert (bench / "v1").is_dir() and (bench / ".run.lock").exists()


def _hold_then_probe(bench: Path) -> str:
    with run_lock(bench, "refresh", wait_s=5):
        try:
            with run_lock(bench, "build"):
                return "free"
        except BenchmintError:
            return "busy"


def test_publish_checks_its_parent(tmp_path):
    _publish(tmp_path, "p", expected_parent=None)
    with pytest.raises(release.ParentMoved, match="v1 was published while this run worked from no version"):
        _publish(tmp_path, "p", n=3, expected_parent=None)
    with pytest.raises(release.ParentMoved, match="run it again to build on v1"):
        _publish(tmp_path, "p", n=3, expected_parent="v0")
    assert release.versions(tmp_path / "p") == ["v1"] and not list((tmp_path / "p").glob(".tmp-*"))
    assert _publish(tmp_path, "p", n=3, expected_parent="v1").name == "v2"


def test_a_killed_publish_is_repaired(tmp_path):
    """What a kill between the version's rename and the `latest` link leaves (a stale link, a temporary
    folder of read-only files) is put right by the next run, as soon as it holds the lock."""
    _publish(tmp_path, "k")
    _publish(tmp_path, "k", n=3)
    bench = tmp_path / "k"
    os.replace(bench / "latest", bench / ".old")
    os.symlink("v1", bench / "latest")
    os.remove(bench / ".old")
    tmp = bench / ".tmp-v3-deadbeef"
    (tmp / "dataset").mkdir(parents=True)
    (tmp / "dataset" / "half.arrow").write_text("x")
    release.make_read_only(tmp)
    with run_lock(bench, "build"):
        assert os.readlink(bench / "latest") == "v2" and not tmp.exists()


PUBLISH_LOOP = textwrap.dedent("""
    import sys
    from pathlib import Path
    from benchmint import release
    from tests.fixtures import release_question
    out = Path(sys.argv[1])
    print("ready", flush=True)
    for i in range(10_000):
        release.publish(out, "atomic", [release_question(j) for j in range(i % 7 + 1)], [release_question(99)], {}, {})
""")


def test_kill_9_during_publish_leaves_no_half_written_version(tmp_path):
    from bench.kill_build import check_version

    rng = random.Random(12)
    bench = tmp_path / "atomic"
    for _ in range(6):
        proc = subprocess.Popen([sys.executable, "-c", PUBLISH_LOOP, str(tmp_path)], env=_env(), cwd=REPO, text=True,
                                stdout=subprocess.PIPE, start_new_session=True)
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.2, 2.5))
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        found = release.versions(bench)
        assert all(check_version(bench / v) == "" for v in found), [check_version(bench / v) for v in found]
        with run_lock(bench, "build"):  # the next run repairs the link and the leftovers
            assert not found or os.readlink(bench / "latest") == found[-1]
            assert not list(bench.glob(".tmp-*"))
    assert len(release.versions(bench)) >= 1


# --------------------------------------------------------------------------- item 7: a release is data


class _Recorder(BaseHTTPRequestHandler):
    seen: list[str] = []

    def _any(self) -> None:
        self.seen.append(f"{self.command} {self.path} {dict(self.headers)}")
        self.send_response(500)
        self.end_headers()

    do_GET = do_POST = do_PUT = _any  # noqa: N815 - the http.server names

    def log_message(self, *args: object) -> None:
        pass


AUDITED = textwrap.dedent("""
    import json, sys
    watch, log = sys.argv[1].split(","), open(sys.argv[2], "a")
    def hook(event, args):
        if event in ("open", "os.listdir", "os.scandir") and args and isinstance(args[0], (str, bytes)):
            p = args[0].decode(errors="replace") if isinstance(args[0], bytes) else args[0]
            if any(p == w or p.startswith(w.rstrip("/") + "/") for w in watch) and (event != "open" or p.startswith(watch[-1])):
                log.write(json.dumps([event, p]) + "\\n"); log.flush()
    sys.addaudithook(hook)
    sys.argv = ["benchmint"] + sys.argv[3:]
    from benchmint.cli import app
    app()
""")


def test_a_received_release_does_not_steer_refresh(tmp_path, monkeypatch, cache_dir):
    """A release folder from elsewhere whose manifest names a foreign endpoint (a stand-in on 127.0.0.1
    that records every request), a local key's variable and /etc and a private folder as sources:
    refresh without --config refuses with one line; with the user's --config it refreshes from the
    user's own sources and model. Either way the stand-in gets no request, and neither /etc nor the
    private folder is listed or read (audit hooks of the CLI process)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    private = tmp_path / "private"
    private.mkdir()
    (private / "keys.md").write_text("# Keys\n\nThe vault code is CANARY-7731 and opens the east store.\n")
    foreign = {"name": "got", "sources": ["/etc", str(private)], "output_dir": "outputs",
               "models": {"generator": {"model": "m", "base_url": f"http://127.0.0.1:{server.server_port}/v1",
                                        "api_key_env": "AWS_SECRET_ACCESS_KEY"}}}
    out = tmp_path / "out"
    monkeypatch.setenv("BENCHMINT_CACHE", str(tmp_path / "other-machine"))  # published elsewhere
    _publish(out, "got", manifest={"config": foreign, "sources": {"documents": [], "skipped": []}})
    monkeypatch.delenv("BENCHMINT_CACHE")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "pump.md").write_text("# Orrin-7 pump\n\nThe Orrin-7 pump moves 4,800 litres per hour and is serviced "
                                  "every 14 days by the Skarvik harbour crew, who log each visit in FathomDesk.\n")
    user_cfg = tmp_path / "mine.yaml"  # not got.yaml: that one, in the current folder, would be taken
    user_cfg.write_text(json.dumps({"name": "got", "sources": [str(mine)], "questions": 2, "cache_dir": str(cache_dir),
                                    "models": {"generator": {"model": "local:smollm2-135m", "max_tokens": 400}},
                                    "contamination": {"enabled": False}}))
    audit = tmp_path / "audit.jsonl"
    env = _env(AWS_SECRET_ACCESS_KEY="CANARY-SECRET-9", BENCHMINT_CACHE=str(tmp_path / "this-machine"))
    try:
        r = subprocess.run([sys.executable, "-c", AUDITED, f"/etc,{private}", str(audit), "refresh", "got",
                            "--output-dir", str(out)], env=env, cwd=tmp_path, capture_output=True, text=True,
                           timeout=300)
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert "not published on this machine" in r.stderr and "--config" in r.stderr
        r = subprocess.run([sys.executable, "-c", AUDITED, f"/etc,{private}", str(audit), "refresh", "got",
                            "--output-dir", str(out), "--config", str(user_cfg)], env=env, cwd=tmp_path,
                           capture_output=True, text=True, timeout=900)
        # it read the user's one document (and SmolLM2 may or may not write an acceptable question from it)
        assert "got v1: 1 new document(s)" in r.stderr, r.stderr[-3000:]
        # none accepted: the question set did not change, so no new version (the refresh says "unchanged")
        assert r.returncode == 0 and ("got: v1 -> v2" in r.stdout or "unchanged: got stays at v1" in r.stdout), r.stdout
    finally:
        server.shutdown()
    assert _Recorder.seen == []
    assert not audit.exists() or audit.read_text() == ""
    v2 = out / "got" / "v2"
    if v2.exists():
        m = json.loads((v2 / "manifest.json").read_text())
        assert [Path(d["source"]).name for d in m["sources"]["documents"]] == ["pump.md"]
        assert m["models"]["generator"] == "local:smollm2-135m" and "CANARY" not in (v2 / "questions.jsonl").read_text()


def test_refresh_takes_the_definition_this_machine_recorded(tmp_path, monkeypatch):
    """A benchmark published here: refresh without --config uses the definition recorded at publish time
    (under the cache), not its manifest's config, even when the manifest was edited afterwards."""
    from benchmint import definitions
    from benchmint.cli.refresh import refresh_config

    monkeypatch.setenv("BENCHMINT_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    mine = tmp_path / "mine"
    mine.mkdir()
    own = BuildConfig(name="own", sources=[str(mine)], output_dir=str(tmp_path / "out"))
    folder = _publish(tmp_path / "out", "own", manifest={"config": own.public_dict()})
    assert definitions.recall(folder.parent)["sources"] == [str(mine)]
    m = folder / "manifest.json"
    m.chmod(0o644)
    m.write_text(json.dumps({**json.loads(m.read_text()), "config": {"name": "own", "sources": ["/etc"]}}))
    cfg = refresh_config("own", None, str(tmp_path / "out"))
    assert cfg.sources == [str(mine)] and cfg.output_dir == str(tmp_path / "out")
    monkeypatch.setenv("BENCHMINT_CACHE", str(tmp_path / "another-machine"))
    with pytest.raises(BenchmintError, match="not published on this machine .* pass --config FILE"):
        refresh_config("own", None, str(tmp_path / "out"))
