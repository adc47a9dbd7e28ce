"""Exports written into every release, so evaluation tools load it with no glue.

- `lm_eval_tasks/`: lm-evaluation-harness task YAMLs, one per question kind and a
  group over them. Every task reads its kind's config of the release
  (`dataset_path` = the release folder, `dataset_name` = the kind, split `test`:
  the dataset card's `configs:` block makes `datasets.load_dataset` resolve it)
  and generates (`generate_until`), with the source text before the question:
  - open: exact match (case and punctuation ignored) on the first line;
  - numeric: the first number of the reply (a regex filter), exact match;
  - mcq: asked as a letter, the letter taken by a regex filter, exact match;
  - tf: True/False taken by a regex filter, exact match.
  Log-likelihood multiple choice is not the default: llama.cpp's server reports
  echoed log-probs one token late, so `mcq_loglikelihood.yaml.example` is there
  for servers that get it right.
  `lm_eval run --model local-chat-completions --model_args base_url=...,model=...
   --apply_chat_template --include_path <release>/lm_eval_tasks --tasks <group>`
- `inspect_task.py`: one inspect_ai task per kind (`inspect eval
  <release>/inspect_task.py@mcq --model openai-api/local/<model>`), reading the
  same configs with `hf_dataset`.
The YAMLs name the release folder by its absolute path at publish time; a
release that is moved is re-exported with `benchmint export` (later) or by editing
`dataset_path`.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

_CONTEXT = "{% if context %}Source text:\n{{context}}\n\n{% endif %}"
_PROMPTS = {
    "open": _CONTEXT + "Question: {{question}}\nAnswer with a short phrase, on one line.\nAnswer:",
    "numeric": _CONTEXT + "Question: {{question}}\nAnswer with the number and its unit, on one line.\nAnswer:",
    "mcq": _CONTEXT + "Question: {{question}}\nA. {{choices[0]}}\nB. {{choices[1]}}\nC. {{choices[2]}}\n"
                      "D. {{choices[3]}}\nAnswer with the letter of the correct choice only.\nAnswer:",
    "tf": _CONTEXT + "Statement: {{question}}\nIs the statement true or false? Answer True or False.\nAnswer:",
}
_TARGETS = {"open": "{{answer}}", "numeric": "{{answer}}", "mcq": "{{answer_letter}}", "tf": "{{answer}}"}
_FILTERS = {
    "numeric": r"(-?[0-9][0-9,]*(?:\.[0-9]+)?)",
    "mcq": r"\b([ABCD])\b",
    "tf": r"\b([Tt]rue|[Ff]alse)\b",
}


def task_prefix(name: str, version: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", f"benchmint_{name}_{version}".lower()).strip("_")


def lm_eval_task(kind: str, prefix: str, release_dir: Path) -> dict:
    task: dict = {
        "task": f"{prefix}_{kind}",
        "tag": [prefix],
        "dataset_path": str(release_dir),
        "dataset_name": kind,
        "test_split": "test",
        "output_type": "generate_until",
        "doc_to_text": _PROMPTS[kind],
        "doc_to_target": _TARGETS[kind],
        "generation_kwargs": {"until": ["\n"], "max_gen_toks": 48, "do_sample": False, "temperature": 0.0},
        "metric_list": [{"metric": "exact_match", "aggregation": "mean", "higher_is_better": True,
                         "ignore_case": True, "ignore_punctuation": kind in ("open", "numeric"),
                         **({"regexes_to_ignore": [","]} if kind == "numeric" else {})}],
        "metadata": {"version": 1.0},
    }
    if kind in _FILTERS:
        task["filter_list"] = [{"name": "extract", "filter": [
            {"function": "regex", "regex_pattern": _FILTERS[kind], "group_select": 0},
            {"function": "take_first"}]}]
    return task


_LOGLIKELIHOOD_EXAMPLE = """# Log-likelihood multiple choice, for servers whose echoed log-probs are right
# (llama.cpp's server reports them one token late, so this is not the default).
# Rename to .yaml and run with --model local-completions.
task: {prefix}_mcq_loglikelihood
dataset_path: {release}
dataset_name: mcq
test_split: test
output_type: multiple_choice
doc_to_text: "Question: {{{{question}}}}\\nAnswer:"
doc_to_choice: "{{{{choices}}}}"
doc_to_target: gold_index
metric_list:
  - metric: acc
    aggregation: mean
    higher_is_better: true
metadata:
  version: 1.0
"""


def write_lm_eval_tasks(folder: Path, release_dir: Path, name: str, version: str, kinds: list[str]) -> list[str]:
    """Write lm_eval_tasks/ into `folder` (the release being written, which will live at release_dir)."""
    out = folder / "lm_eval_tasks"
    out.mkdir()
    prefix = task_prefix(name, version)
    names = []
    for kind in kinds:
        task = lm_eval_task(kind, prefix, release_dir)
        (out / f"{kind}.yaml").write_text(yaml.safe_dump(task, sort_keys=False, allow_unicode=True), encoding="utf-8")
        names.append(task["task"])
    group = {"group": prefix, "task": names,
             "aggregate_metric_list": [{"metric": "exact_match", "aggregation": "mean", "weight_by_size": True}],
             "metadata": {"version": 1.0}}
    (out / "_group.yaml").write_text(yaml.safe_dump(group, sort_keys=False), encoding="utf-8")
    if "mcq" in kinds:
        (out / "mcq_loglikelihood.yaml.example").write_text(
            _LOGLIKELIHOOD_EXAMPLE.format(prefix=prefix, release=release_dir), encoding="utf-8")
    return [prefix, *names]


INSPECT_TASK = '''"""inspect_ai tasks for this release: one per question kind.

    inspect eval inspect_task.py@{first} --model openai-api/local/MODEL
    (with LOCAL_BASE_URL=http://127.0.0.1:PORT/v1 and LOCAL_API_KEY set)

Each task reads this folder's `{{kind}}` config with `datasets` (the card's
`configs:` block); the question is asked with the source text it was written from.
"""

from pathlib import Path

from inspect_ai import Task, task
from inspect_ai.dataset import Sample, hf_dataset
from inspect_ai.scorer import choice, match, pattern
from inspect_ai.solver import generate, multiple_choice

HERE = str(Path(__file__).resolve().parent)


def _input(record: dict, instruction: str) -> str:
    context = f"Source text:\\n{{record['context']}}\\n\\n" if record.get("context") else ""
    return f"{{context}}Question: {{record['question']}}\\n{{instruction}}"


def _dataset(kind: str, to_sample):
    return hf_dataset(HERE, split="test", name=kind, sample_fields=to_sample, cached=False)


def _open(record: dict) -> Sample:
    return Sample(id=record["id"], input=_input(record, "Answer with a short phrase."), target=record["answer"],
                  metadata={{"kind": record["kind"]}})


def _numeric(record: dict) -> Sample:
    return Sample(id=record["id"], input=_input(record, "Answer with the number only."), target=record["answer"],
                  metadata={{"unit": record["unit"], "tolerance": record["tolerance"]}})


def _mcq(record: dict) -> Sample:
    context = f"Source text:\\n{{record['context']}}\\n\\n" if record.get("context") else ""
    return Sample(id=record["id"], input=context + record["question"], choices=list(record["choices"]),
                  target=record["answer_letter"])


def _tf(record: dict) -> Sample:
    return Sample(id=record["id"], input=_input(record, "Is the statement true or false? Answer True or False."),
                  target=record["answer"])

{tasks}'''

_INSPECT_TASKS = {
    "open": "@task\ndef open() -> Task:\n"
            "    return Task(dataset=_dataset(\"open\", _open), solver=generate(),"
            " scorer=match(location=\"any\", ignore_case=True))\n",
    "numeric": "@task\ndef numeric() -> Task:\n"
               "    return Task(dataset=_dataset(\"numeric\", _numeric), solver=generate(),"
               " scorer=match(numeric=True))\n",
    "mcq": "@task\ndef mcq() -> Task:\n"
           "    return Task(dataset=_dataset(\"mcq\", _mcq), solver=multiple_choice(), scorer=choice())\n",
    "tf": "@task\ndef tf() -> Task:\n"
          "    return Task(dataset=_dataset(\"tf\", _tf), solver=generate(),"
          " scorer=pattern(r\"\\b(True|False)\\b\", ignore_case=True))\n",
}


def write_inspect_task(folder: Path, kinds: list[str]) -> None:
    tasks = "\n\n".join(_INSPECT_TASKS[k] for k in kinds)
    (folder / "inspect_task.py").write_text(INSPECT_TASK.format(first=kinds[0], tasks="\n\n" + tasks), encoding="utf-8")
