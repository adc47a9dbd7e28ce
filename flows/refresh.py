"""The incremental refresh: re-read every source, and publish a new version only on a change.

`refresh_benchmark(config)`:
1. reads every source and feed again (documents are identified by the hash of their
   text, so an unchanged document has the same id);
2. compares them with the documents of the latest version: a published question whose
   document disappeared or changed is retired with that reason;
3. rechecks the other published questions (inside the build pipeline): retired when
   they became contaminated (a corpus was added) or saturated (every target now
   answers them);
4. writes new questions only from documents the latest version did not have;
5. publishes the next version (CHANGELOG.md: added, retired with the reason, kept;
   the parent version in the manifest) only when the question set changed, and
   says so when it did not.
Work on unchanged documents costs no model call: generation is not repeated for them,
and the rechecks' model calls (a judge, the targets) are answered by the on-disk
response cache, keyed on the model, the prompt (with its version) and the inputs.
One build or refresh per benchmark at a time (the run lock, benchmint/runlock.py): a second one
waits (`wait_s`), then stops with a message naming the holder; the publish checks that the version
it started from is still the latest.
The config comes from the user (a file, or the record this machine wrote when it published), never
from the manifest of the release being refreshed (see benchmint/definitions.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import get_run_logger

from benchmint import catalog, progress
from benchmint.errors import SourceError
from benchmint.names import bench_dir_inside
from benchmint.records import Question
from benchmint.release import read_questions, versions
from benchmint.runlock import run_lock
from flows.build import _artifact, load_all, refresh_fingerprint, run_pipeline
from flows.secret_safe import safe_config_params, secret_safe_flow, secured


def latest_state(bench_dir: Path) -> tuple[str, dict[str, Any], list[Question]]:
    found = versions(bench_dir)
    if not found:
        raise SourceError(f"no published version of '{bench_dir.name}' in {bench_dir.parent}/ to refresh; "
                          f"build it first: benchmint build --config FILE")
    rows = read_questions(bench_dir / found[-1])
    return found[-1], catalog.manifest(bench_dir, found[-1]), [Question.model_validate(r) for r in rows]


@secret_safe_flow(safe_config_params, name="refresh-benchmark", flow_run_name="refresh-{config[name]}", log_prints=True)
def refresh_benchmark(config: dict[str, Any], wait_s: float = 0.0) -> dict[str, Any]:
    """Refresh benchmark `config['name']`; returns a summary (with `release` None when unchanged)."""
    cfg = secured(config)
    log = get_run_logger()
    rep = progress.current.get()
    bench_dir = bench_dir_inside(cfg.output_dir, cfg.name)
    with run_lock(bench_dir, "refresh", wait_s):
        version, manifest, published = latest_state(bench_dir)
        docs, skipped = load_all(cfg)
        now = {d.id for d in docs}
        before = {d["id"]: d for d in manifest.get("sources", {}).get("documents", [])}
        gone = {i: d for i, d in before.items() if i not in now}
        new = now - set(before)
        keep = [q for q in published if all(d in now for d in q.document_ids)]
        retire = []
        for q in published:
            missing = [gone[d] for d in q.document_ids if d in gone]
            if missing:
                why = "; ".join(f"its document {m['title']!r} ({m['source']}) was removed or changed" for m in missing)
                retire.append(q.model_copy(update={"retired_reason": why}))
        if not new and not gone and manifest.get("refresh_fingerprint") == refresh_fingerprint(cfg):
            # the same documents, the same corpora, targets and settings: nothing to recheck, no model to start
            msg = f"unchanged: the {len(docs)} documents, the corpora and the targets are those of {version}"
            log.info("%s; no new version", msg)
            summary = {"name": cfg.name, "kind": "refresh", "release": None, "version": version, "added": 0,
                       "kept": len(published), "retired": [], "refreshed_from": version, "message": msg,
                       "accepted": len(published), "rejected": 0, "generated": 0, "chunks_used": 0, "chunks": 0,
                       "skipped": [s.model_dump() for s in skipped], "rejections_by_validator": {},
                       "token_usage": {}, "rounds": [], "missing": {}, "stopped_because": "unchanged"}
            _artifact(cfg.name, summary, f"unchanged: {cfg.name} stays at {version}; no model call")
            return summary
        log.info("refresh %s from %s: %d documents (%d new, %d gone); %d questions to recheck, %d to retire",
                 cfg.name, version, len(docs), len(new), len(gone), len(keep), len(retire))
        rep.note(f"{cfg.name} {version}: {len(new)} new document(s), {len(gone)} removed or changed")
        summary = run_pipeline(cfg, (docs, skipped), keep=keep, only_docs=new, retire=retire, kind="refresh",
                               parent=version)
        summary["refreshed_from"] = version
        if summary["release"] is None:
            log.info("unchanged: %s stays at %s", cfg.name, version)
        return summary

