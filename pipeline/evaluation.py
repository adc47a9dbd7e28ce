"""Scoring models on a published release: accuracy with intervals clustered by source document,
paired differences, the leaderboard, the chart, and the files under the release's evals/ folder."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmint.errors import SourceError
from benchmint.records import Question
from benchmint.release import read_questions
from benchmint.stats import mean_with_ci, paired_difference
from pipeline.names import model_slug
from validators.scoring import Mode, TargetResult


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
    """`model`'s accuracy minus every other model's, paired by question, clustered by document."""
    mine = [1.0 if scores[model][q.id].correct else 0.0 for q in questions]
    clusters = [cluster(q) for q in questions]
    out = {}
    for other, res in scores.items():
        if other == model:
            continue
        theirs = [1.0 if res[q.id].correct else 0.0 for q in questions]
        out[other] = paired_difference(mine, theirs, clusters).as_dict()
    return out


def by_model(questions: list[Question], labels: list[str],
             results: dict[str, list[TargetResult]]) -> dict[str, dict[str, TargetResult]]:
    """The runner's results (per question, one per model in `labels` order) regrouped per model."""
    out: dict[str, dict[str, TargetResult]] = defaultdict(dict)
    for q in questions:
        for label, r in zip(labels, results[q.id]):
            out[label][q.id] = r
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


def board_title(folder: Path, manifest: dict[str, Any], mode: Mode) -> str:
    name, version = manifest.get('name', folder.parent.name), manifest.get('version', folder.name)
    return f"{name} {version} ({mode.replace('_', ' ')})"


def write_evals(folder: Path, manifest: dict[str, Any], questions: list[Question], mode: Mode,
                scores: dict[str, dict[str, TargetResult]], labels: list[str], judges: list[str]) -> dict[str, Any]:
    """evals/<model>/results.json per model, evals/leaderboard.json and its chart under the release
    (its published files untouched); returns the leaderboard (without token usage and time)."""
    out_dir = folder / "evals"
    out_dir.mkdir(exist_ok=True)
    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    board = []
    for label in labels:
        res = scores[label]
        summary = score_results(questions, res)
        record = {"model": label, "release": manifest.get("name", folder.parent.name),
                  "version": manifest.get("version", folder.name), "content_hash": manifest.get("content_hash"),
                  "mode": mode, "judges": judges, "created_at": created,
                  "n_questions": len(questions), **summary, "paired_differences": paired(questions, scores, label),
                  "questions": per_question(questions, res)}
        d = out_dir / model_slug(label)
        d.mkdir(exist_ok=True)
        tmp = d / "results.json.tmp"
        tmp.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        tmp.replace(d / "results.json")
        board.append({"model": label, "accuracy": summary["accuracy"], "by_kind": summary["by_kind"],
                      "missing": summary["missing"], "results": str(d / "results.json")})
    board.sort(key=lambda b: -b["accuracy"]["mean"])
    for rank, b in enumerate(board, 1):
        b["rank"] = rank
    return {"release": str(folder), "mode": mode, "created_at": created, "n_questions": len(questions), "models": board}


def save_leaderboard(folder: Path, leaderboard: dict[str, Any], title: str) -> dict[str, Any]:
    out_dir = folder / "evals"
    (out_dir / "leaderboard.json").write_text(json.dumps(leaderboard, indent=2) + "\n", encoding="utf-8")
    chart(leaderboard["models"], out_dir / "leaderboard.png", title)
    return {**leaderboard, "chart": str(out_dir / "leaderboard.png")}


def leaderboard_table(board: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The leaderboard as table rows (rank, model, accuracy, interval, missing)."""
    return [{"rank": b["rank"], "model": b["model"], "accuracy": round(b["accuracy"]["mean"], 3),
             "95% CI": f"[{b['accuracy']['ci_low']:.3f}, {b['accuracy']['ci_high']:.3f}]",
             "missing": b["missing"]} for b in board]
