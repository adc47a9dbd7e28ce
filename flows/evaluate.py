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
A Prefect table artifact holds the leaderboard.
"""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NONE as NO_CACHE

from benchmint.config import cache_root
from benchmint.errors import SourceError
from benchmint.llm import ModelClient, ModelPool
from benchmint.modelspec import ModelSpec, parse_model_ref
from benchmint.records import Question
from benchmint.release import read_questions
from benchmint.stats import mean_with_ci, paired_difference
from flows.build import _slug
from flows.secret_safe import safe_model_params, secret_safe_flow
from validators.judges import JudgePanel
from validators.scoring import Mode, TargetResult, TargetRunner


def resolve_release(path: str | Path) -> Path:
    """A version folder (outputs/NAME/v3) or a benchmark folder (outputs/NAME -> its latest version)."""
    p = Path(path).expanduser()
    if (p / "questions.jsonl").is_file():
        return p
    if (p / "latest" / "questions.jsonl").is_file():
        return (p / "latest").resolve()
    raise SourceError(f"{p} is not a benchmint release (no questions.jsonl); point at outputs/NAME or outputs/NAME/vN")


def load_release(release: Path) -> tuple[list[Question], dict[str, str], dict[str, Any]]:
    """(questions, source text by question id, manifest)."""
    questions = [Question.model_validate(row) for row in read_questions(release)]
    contexts: dict[str, str] = {}
    parquet = release / "questions.parquet"
    if parquet.is_file():
        import pyarrow.parquet as pq

        table = pq.read_table(parquet)
        if "context" in table.column_names:
            contexts = dict(zip(table.column("id").to_pylist(), table.column("context").to_pylist()))
    manifest_path = release / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.is_file() else {}
    return questions, contexts, manifest


def slug(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", label).strip("_") or "model"


def cluster(q: Question) -> str:
    """The cluster of a question for the intervals: its (first) source document."""
    return q.document_ids[0] if q.document_ids else q.id


def score_results(questions: list[Question], results: dict[str, TargetResult]) -> dict[str, Any]:
    """Accuracy overall and per kind, clustered by source document; missing replies count as wrong
    and are reported."""
    scores = [1.0 if results[q.id].correct else 0.0 for q in questions]
    overall = mean_with_ci(scores, [cluster(q) for q in questions])
    by_kind: dict[str, dict[str, Any]] = {}
    for kind in sorted({q.kind for q in questions}):
        idx = [i for i, q in enumerate(questions) if q.kind == kind]
        by_kind[kind] = mean_with_ci([scores[i] for i in idx], [cluster(questions[i]) for i in idx]).as_dict()
    return {"accuracy": overall.as_dict(), "by_kind": by_kind,
            "missing": sum(results[q.id].correct is None for q in questions)}


def per_question(questions: list[Question], results: dict[str, TargetResult]) -> list[dict[str, Any]]:
    return [{"id": q.id, "kind": q.kind, "document_id": q.document_ids[0] if q.document_ids else "",
             "question": q.question, "gold": q.answer, **results[q.id].as_dict()} for q in questions]


def paired(questions: list[Question], scores: dict[str, dict[str, TargetResult]], model: str) -> dict[str, Any]:
    mine = [1.0 if scores[model][q.id].correct else 0.0 for q in questions]
    clusters = [cluster(q) for q in questions]
    out = {}
    for other, res in scores.items():
        if other == model:
            continue
        theirs = [1.0 if res[q.id].correct else 0.0 for q in questions]
        out[other] = paired_difference(mine, theirs, clusters).as_dict()
    return out


def chart(board: list[dict[str, Any]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [b["model"] for b in board]
    acc = [b["accuracy"]["mean"] for b in board]
    lo = [a - b["accuracy"]["ci_low"] for a, b in zip(acc, board)]
    hi = [b["accuracy"]["ci_high"] - a for a, b in zip(acc, board)]
    fig, ax = plt.subplots(figsize=(max(4.0, 1.6 * len(names) + 2), 3.6), dpi=120)
    ax.bar(range(len(names)), acc, yerr=[lo, hi], capsize=6, color="#4C72B0")
    ax.set_xticks(range(len(names)), names, rotation=15, ha="right", fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_ylabel("accuracy (95% CI, clustered by document)")
    ax.set_title(title, fontsize=10)
    for i, a in enumerate(acc):
        ax.text(i, min(0.97, a + 0.02), f"{a:.2f}", ha="center", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


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
        results = answer_task(runner, questions, mode, contexts)
        usage = pool.usage.as_dict()
    labels = [c.spec.label for c in clients]
    by_model: dict[str, dict[str, TargetResult]] = defaultdict(dict)
    for q in questions:
        for label, r in zip(labels, results[q.id]):
            by_model[label][q.id] = r
    out_dir = folder / "evals"
    out_dir.mkdir(exist_ok=True)
    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    board = []
    for label in labels:
        res = by_model[label]
        summary = score_results(questions, res)
        record = {"model": label, "release": manifest.get("name", folder.parent.name),
                  "version": manifest.get("version", folder.name), "content_hash": manifest.get("content_hash"),
                  "mode": mode, "judges": [j.label for j in judge_specs], "created_at": created,
                  "n_questions": len(questions), **summary, "paired_differences": paired(questions, by_model, label),
                  "questions": per_question(questions, res)}
        d = out_dir / slug(label)
        d.mkdir(exist_ok=True)
        tmp = d / "results.json.tmp"
        tmp.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        tmp.replace(d / "results.json")
        board.append({"model": label, "accuracy": summary["accuracy"], "by_kind": summary["by_kind"],
                      "missing": summary["missing"], "results": str(d / "results.json")})
    board.sort(key=lambda b: -b["accuracy"]["mean"])
    for rank, b in enumerate(board, 1):
        b["rank"] = rank
    title = f"{manifest.get('name', folder.parent.name)} {manifest.get('version', folder.name)} ({mode.replace('_', ' ')})"
    leaderboard = {"release": str(folder), "mode": mode, "created_at": created, "n_questions": len(questions),
                   "models": board, "token_usage": usage, "seconds": round(time.monotonic() - t0, 1)}
    (out_dir / "leaderboard.json").write_text(json.dumps(leaderboard, indent=2) + "\n", encoding="utf-8")
    chart(board, out_dir / "leaderboard.png", title)
    leaderboard["chart"] = str(out_dir / "leaderboard.png")
    create_table_artifact(
        key=f"eval-{_slug(title, 50)}",
        table=[{"rank": b["rank"], "model": b["model"], "accuracy": round(b["accuracy"]["mean"], 3),
                "95% CI": f"[{b['accuracy']['ci_low']:.3f}, {b['accuracy']['ci_high']:.3f}]",
                "missing": b["missing"]} for b in board],
        description=f"leaderboard: {title}, {len(questions)} questions")
    return leaderboard
