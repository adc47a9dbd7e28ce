"""Evaluate models on a published release: accuracy with clustered 95% intervals.

`evaluate_models(release, models)` (a Prefect flow; `benchmint eval` runs it)
puts every question of the release to each model (with the source text the
question was written from, or closed-book), grades the replies with
validators/scoring.py (the same grading the difficulty validator uses; open
answers that are not an exact match go to the judge panel), and writes under
the release:

    evals/<model>/results.json   accuracy overall and per kind with 95% intervals
                                 clustered by source document, paired differences
                                 with every other model, per-question records
    evals/leaderboard.json       the models ranked, with intervals
    evals/leaderboard.png        the chart

The published files of the release are not touched (evals/ is beside them).
A Prefect table artifact holds the leaderboard. The scoring is the core's (pipeline.evaluation).
"""

from __future__ import annotations

import time
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NONE as NO_CACHE

from benchmint import progress
from benchmint.config import cache_root
from benchmint.errors import SourceError
from benchmint.llm import ModelClient
from benchmint.modelspec import ModelSpec, parse_model_ref
from benchmint.pool import ModelPool
from benchmint.records import Question
from flows.secret_safe import safe_model_params, secret_safe_flow
from pipeline.evaluation import (
    board_title,
    by_model,
    leaderboard_table,
    load_release,
    resolve_release,
    save_leaderboard,
    write_evals,
)
from pipeline.names import slug
from validators.judges import JudgePanel
from validators.scoring import Mode, TargetResult, TargetRunner

__all__ = ["evaluate_models", "resolve_release"]


@task(cache_policy=NO_CACHE)
def answer_task(runner: TargetRunner, questions: list[Question], mode: Mode, contexts: dict[str, str]) -> dict[str, list[TargetResult]]:
    return runner.run(questions, mode, lambda q: contexts.get(q.id, ""))


@secret_safe_flow(safe_model_params, name="evaluate-models", log_prints=True)
def evaluate_models(release: str, models: list[Any], judges: list[Any] | None = None,
                    closed_book: bool = False, cache_dir: str | None = None) -> dict[str, Any]:
    """Run `models` on a release; write evals/ under it; return the leaderboard."""
    safe = safe_model_params({"models": models, "judges": judges or []})  # a deployment's run: stash here too
    models, judges = safe["models"], safe["judges"]
    log = get_run_logger()
    t0 = time.monotonic()
    folder = resolve_release(release)
    questions, contexts, manifest = load_release(folder)
    if not questions:
        raise SourceError(f"{folder} holds no question")
    specs = [parse_model_ref(m) for m in models]
    judge_specs: list[ModelSpec] = [parse_model_ref(j) for j in (judges or [])]
    mode: Mode = "closed_book" if closed_book or not any(contexts.values()) else "with_document"
    if mode == "closed_book" and not closed_book:
        log.warning("%s has no source text per question (an older release): evaluating closed-book", folder)
    roles = {f"model{i}": s for i, s in enumerate(specs, 1)} | {f"judge{i}": s for i, s in enumerate(judge_specs, 1)}
    cache = cache_root(cache_dir)
    with ModelPool(roles, cache) as pool:
        clients: list[ModelClient] = [pool[f"model{i}"] for i in range(1, len(specs) + 1)]
        panel = JudgePanel([pool[f"judge{i}"] for i in range(1, len(judge_specs) + 1)]) if judge_specs else None
        runner = TargetRunner(clients, panel)
        rep = progress.current.get()
        judged = f"; judges {', '.join(s.label for s in judge_specs)}" if judge_specs else ""
        rep.stage(f"answering {len(questions)} questions {mode.replace('_', ' ')}: "
                  f"{', '.join(c.spec.label for c in clients)}{judged}")
        results = answer_task(runner, questions, mode, contexts)
        rep.stage("writing results and the leaderboard")
        usage = pool.usage.as_dict()
    labels = [c.spec.label for c in clients]
    board = write_evals(folder, manifest, questions, mode, by_model(questions, labels, results), labels,
                        [j.label for j in judge_specs])
    title = board_title(folder, manifest, mode)
    leaderboard = save_leaderboard(folder, {**board, "token_usage": usage, "seconds": round(time.monotonic() - t0, 1)},
                                   title)
    create_table_artifact(key=f"eval-{slug(title, 50)}", table=leaderboard_table(leaderboard["models"]),
                          description=f"leaderboard: {title}, {len(questions)} questions")
    return leaderboard
