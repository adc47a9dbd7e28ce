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
The rules are the core's (pipeline.refresh); this flow wires them to Prefect.
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

from typing import Any

from prefect import get_run_logger

from benchmint import progress
from benchmint.names import bench_dir_inside
from flows.build import load_all, run_build
from flows.runner import off_its_runner, runner_for
from flows.secret_safe import safe_config_params, secret_safe_flow, secured
from flows.stale_runs import flow_run_lock
from flows.tasks import report_summary
from pipeline.records import BuildSummary
from pipeline.refresh import diff_documents, latest_state, nothing_to_recheck


@secret_safe_flow(safe_config_params, runner_for, name="refresh-benchmark", flow_run_name="refresh-{config[name]}",
                  log_prints=True)
def refresh_benchmark(config: dict[str, Any], wait_s: float = 0.0) -> dict[str, Any]:
    """Refresh benchmark `config['name']`; returns a summary (with `release` None when unchanged)."""
    log = get_run_logger()
    if off_its_runner({"config": config}):
        log.info("runner.kind is dask: the refresh runs as a subflow run on its Dask task runner")
        return refresh_benchmark(config, wait_s)
    cfg = secured(config)
    rep = progress.current.get()
    bench_dir = bench_dir_inside(cfg.output_dir, cfg.name)
    with flow_run_lock(bench_dir, "refresh", wait_s, log):
        state = latest_state(bench_dir)
        version = state.version
        docs, skipped = load_all(cfg)
        diff = diff_documents(state.manifest, docs, state.questions)
        if nothing_to_recheck(diff, state.manifest, cfg):
            msg = f"unchanged: the {len(docs)} documents, the corpora and the targets are those of {version}"
            log.info("%s; no new version", msg)
            summary = BuildSummary(name=cfg.name, kind="refresh", version=version, kept=len(state.questions),
                                   refreshed_from=version, message=msg, accepted=len(state.questions),
                                   skipped=[s.model_dump() for s in skipped], stopped_because="unchanged")
            report_summary(summary, f"unchanged: {cfg.name} stays at {version}; no model call")
            return summary.as_dict()
        log.info("refresh %s from %s: %d documents (%d new, %d gone); %d questions to recheck, %d to retire",
                 cfg.name, version, len(docs), len(diff.new), len(diff.gone), len(diff.keep), len(diff.retire))
        rep.note(f"{cfg.name} {version}: {len(diff.new)} new document(s), {len(diff.gone)} removed or changed")
        summary = run_build(cfg, loaded=(docs, skipped), keep=diff.keep, only_docs=diff.new, retire=diff.retire,
                            kind="refresh", parent=version)
        summary["refreshed_from"] = version
        if summary["release"] is None:
            log.info("unchanged: %s stays at %s", cfg.name, version)
        return summary
