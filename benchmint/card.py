"""The dataset card (README.md) of a release: a YAML header the Hub and `datasets` read, and the body.

The card is a function of the manifest and the rows alone (no clock, no environment), so one release
always gets the same text. Its header passes the Hub's metadata rules, checked offline by
benchmint.hub_metadata.card_problems.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

import yaml

from benchmint.card_validity import inline, validity_section
from benchmint.cost import role_money, total_text
from benchmint.hub_metadata import size_category
from benchmint.language import detect_languages

_ROLES = {"generator": "generator (wrote the questions)",
          "target": "targets (the models under test: their answers give `pass_rate`)",
          "judge": "judges (checked the answers and the gold answers)",
          "contamination_judge": "contamination judge"}


def card_metadata(m: dict[str, Any], rows: list[dict[str, Any]], kinds: list[str]) -> dict[str, Any]:
    """The card's YAML header, as a mapping (keys in the order written)."""
    languages = detect_languages(f"{r.get('question', '')}\n{r.get('answer', '')}" for r in rows)
    tasks = ["question-answering", *(["multiple-choice"] if {"mcq", "tf"} & set(kinds) else [])]
    # `datasets` caches a local folder's config under a hash of the config's fields, not of the files, so two
    # releases both named v1 (or `latest` after a refresh) would share one cache entry: the content hash in a
    # field it hashes gives each content its own.
    about = f"{m['name']} {m['version']}, content {m.get('content_hash', '')}"
    configs = [{"config_name": "all", "default": True, "description": about,
                "data_files": [{"split": "test", "path": "questions.parquet"}]}]
    configs += [{"config_name": k, "description": about, "data_files": [{"split": "test", "path": f"{k}.parquet"}]}
                for k in kinds]
    return {
        "license": (m.get("config") or {}).get("license") or "other",
        "language": languages,
        "multilinguality": ["multilingual" if len(languages) > 1 else "monolingual"],
        "annotations_creators": ["machine-generated"],  # questions, answers and citations are model-written
        "language_creators": ["found"],  # the text they quote is the source documents'
        "size_categories": [size_category(len(rows))],
        "source_datasets": ["original"],
        "task_categories": tasks,
        "pretty_name": f"{m['name']} {m['version']}",
        "tags": ["benchmint", "synthetic"],
        # paths inside the release: `datasets.load_dataset(folder or Hub repo, config)` reads these parquet files
        "configs": configs,
    }


def _license_text(license_: str) -> str:
    if license_ == "other":
        return ("`license: other`: the questions quote the source documents (the `citations` and the `context` "
                "field hold their text verbatim), so the source documents' own terms apply to this dataset. "
                "Check them before you share it.")
    return (f"Released under `{license_}` (the build's `license:`). The questions quote the source documents "
            "verbatim (`citations`, `context`): their terms must allow this licence.")


def _models(m: dict[str, Any]) -> list[str]:
    by_role: dict[str, list[str]] = defaultdict(list)
    for role, label in (m.get("models") or {}).items():
        by_role[re.sub(r"\d+$", "", role)].append(f"`{inline(label)}`")
    return [f"- {_ROLES.get(role, inline(role))}: {', '.join(labels)}" for role, labels in by_role.items()]


def _cost(m: dict[str, Any]) -> list[str]:
    """One line: the tokens (and money, when priced) each role spent; cached replies cost nothing."""
    usage, cost = m.get("token_usage") or {}, m.get("cost") or {}
    if not usage:
        return []
    roles = "; ".join(f"{inline(role)} {u.get('prompt_tokens', 0)} prompt + {u.get('completion_tokens', 0)} "
                      f"completion tokens{role_money(u, cost)}" for role, u in usage.items())
    total = f"; total {total_text(cost)}" if total_text(cost) else ""
    return [f"- cost: {roles}{total}"]


def dataset_card(m: dict[str, Any], rows: list[dict[str, Any]], kinds: list[str]) -> str:
    meta = card_metadata(m, rows, kinds)
    header = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, default_flow_style=False, width=10_000)
    docs = m.get("sources", {}).get("documents", [])
    skipped = m.get("sources", {}).get("skipped", [])
    by_kind = ", ".join(f"{k}: {n}" for k, n in sorted(m["counts"]["by_kind"].items()))
    name, version = m["name"], m["version"]
    lines = [
        "---", header.rstrip("\n"), "---", "",
        f"# {name} — {version}", "",
        f"A benchmark minted by benchmint {m['benchmint_version']} on {m['created_at']} from "
        f"{len(docs)} source document(s). Every question is answered by verbatim citations from its source, "
        "checked by the grounding, quality and dedup validators; rejected candidates and their verdicts are "
        "in `rejected.jsonl`.", "",
        "## Licence", "", _license_text(meta["license"]), "",
        "## Contents", "",
        f"- questions: {len(rows)} ({by_kind})",
        f"- language: {', '.join(meta['language'])} (detected from the questions and answers)",
        f"- rejected candidates: {m['counts']['rejected']}",
        f"- parent version: {m['parent_version'] or '(none)'}",
        f"- content hash (sha256): `{m['content_hash']}`", "",
        *validity_section(m, rows), "",
        "## Models by role", "", *(_models(m) or ["- (not recorded)"]), "",
        "## Load it", "", "```python", "import datasets",
        "ds = datasets.load_dataset(\"path/to/this/folder\", split=\"test\")          # all kinds",
        "mcq = datasets.load_dataset(\"path/to/this/folder\", \"mcq\", split=\"test\")   # one kind",
        "ds = datasets.load_from_disk(\"path/to/this/folder/dataset\")",
        f"# from the Hub, once pushed (`benchmint push {name} {version} --repo ORG/NAME`): each version is a tag",
        f"ds = datasets.load_dataset(\"ORG/NAME\", \"all\", split=\"test\", revision=\"{version}\")",
        "```", "",
        "## Evaluate it", "",
        "- lm-evaluation-harness: `lm_eval run --model local-chat-completions "
        "--model_args base_url=URL/chat/completions,"
        f"model=M,tokenizer_backend=None,tokenized_requests=False --apply_chat_template --include_path lm_eval_tasks "
        f"--tasks {m.get('exports', {}).get('lm_eval_group', '')}` (the task files name this folder by the path it "
        "was built at: in another copy, set their `dataset_path` and `data_files` to it, or to the Hub repository)",
        f"- inspect_ai: `inspect eval inspect_task.py@{kinds[0] if kinds else 'open'} --model openai-api/local/M` "
        "(with LOCAL_BASE_URL and LOCAL_API_KEY)",
        "- benchmint: `benchmint eval path/to/this/folder --model M` (95% intervals clustered by document)", "",
        "Fields: `id`, `question`, `answer`, `kind` (open | mcq | numeric | tf), `choices` (empty when none; "
        "tf: True, False), `gold_index` (-1 when none), `answer_letter` (null when none), `unit` and `tolerance` "
        "(numeric: a reply within `tolerance` of `answer`, in `unit`, is right), `citations` (verbatim quotes), "
        "`document_ids`, `document_titles`, `chunk_ids`, `generator_model`, `prompt_id`, `prompt_version`, "
        "`estimated_difficulty` (1-5 as the generator judged it; -1 when unknown), `round` (0: first pass; "
        "1+: adaptive rounds), `hops` (chunks the question needs), `pass_rate` (share of the target models that "
        "answered it right; -1 when not measured), `discrimination`, `context` (the source text it was written "
        "from).", "",
        "## Sources", "",
        *[f"- {d['title']} (`{d['source']}`, sha256 `{d['id'][:12]}…`)" for d in docs],
        *([""] + ["Skipped:"] + [f"- `{s['source']}`: {s['reason']}" for s in skipped] if skipped else []), "",
        "## How it was made", "",
        *[f"- prompt `{pid}` version {ver}" for pid, ver in m.get("prompts", {}).items()],
        *[f"- validator {name}: {c.get('passed', 0)} passed, {c.get('failed', 0)} failed"
          for name, c in m.get("validators", {}).items()],
        *_cost(m), "",
        "## Limitations", "",
        "Questions are written by a language model and checked automatically: citations are verified against "
        "the source text, but an answer can still be incomplete or a question ambiguous. Difficulty here is the "
        "generator's estimate; `pass_rate` is measured on the target models named above, when any were configured. "
        "The language is detected from the questions' function words and scripts, and may miss a rare one.", "",
    ]
    return "\n".join(lines)
