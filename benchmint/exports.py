"""Exports written into every release, so evaluation tools load it with no glue.

- `lm_eval_tasks/`: lm-evaluation-harness task YAMLs, one per question kind and a
  group over them. Every task reads its kind's config of the release
  (`dataset_path` = the release folder, `dataset_name` = the kind, split `test`:
  the dataset card's `configs:` block makes `datasets.load_dataset` resolve it)
  and generates (`generate_until`), with the source text before the question. The
  first line of the reply is graded as `benchmint eval` grades it (process_results
  in lm_eval_tasks/benchmint_grading.py, a copy of benchmint/export_grading.py):
  numeric within the question's tolerance after unit conversion, mcq by the letter
  (or the choice's text), tf by true/false, open by normalized exact match (or the
  gold phrase in a short reply) with no judge, where benchmint's judge may say yes.
  Every task reports `exact_match` under the filter `extract`, which the group's
  size-weighted aggregate names (without it the group averages only some kinds).
  Log-likelihood multiple choice is not the default: llama.cpp's server reports
  echoed log-probs one token late, so `mcq_loglikelihood.yaml.example` is there
  for servers that get it right.
  `lm_eval run --model local-chat-completions --model_args base_url=...,model=...
   --apply_chat_template --include_path <release>/lm_eval_tasks --tasks <group>`
- `inspect_task.py`: one inspect_ai task per kind (`inspect eval
  <release>/inspect_task.py@mcq --model openai-api/local/<model>`), reading the
  same configs with `hf_dataset`, graded as `benchmint eval` grades (numeric with
  the tolerance and units, open answers by exact match, else benchmint's judge
  rubric through a grader model): benchmint/inspect_task_template.py, filled in.
  Both read the kind's parquet file by path too (see lm_eval_task).
The YAMLs name the release folder by its absolute path at publish time; a
release that is moved is re-exported with `benchmint export` (later) or by editing
`dataset_path` and `data_files`.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from benchmint.prompts import load_prompt
from benchmint.quantities import _UNIT_TABLE

_CONTEXT = "{% if context %}Source text:\n{{context}}\n\n{% endif %}"
_PROMPTS = {
    "open": _CONTEXT + "Question: {{question}}\nAnswer with a short phrase, on one line.\nAnswer:",
    "numeric": _CONTEXT + "Question: {{question}}\nAnswer with the number and its unit, on one line.\nAnswer:",
    "mcq": _CONTEXT + "Question: {{question}}\nA. {{choices[0]}}\nB. {{choices[1]}}\nC. {{choices[2]}}\n"
                      "D. {{choices[3]}}\nAnswer with the letter of the correct choice only.\nAnswer:",
    "tf": _CONTEXT + "Statement: {{question}}\nIs the statement true or false? Answer True or False.\nAnswer:",
}
_TARGETS = {"open": "{{answer}}", "numeric": "{{answer}}", "mcq": "{{answer_letter}}", "tf": "{{answer}}"}
TEMPLATES = Path(__file__).parent
_GRADING_IMPORT = re.compile(r"^# export: this import is replaced.*\nfrom benchmint\.export_grading import .*$", re.M)


def task_prefix(name: str, version: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", f"benchmint_{name}_{version}".lower()).strip("_")


def lm_eval_task(kind: str, prefix: str, release_dir: Path) -> dict:
    task: dict = {
        "task": f"{prefix}_{kind}",
        "dataset_path": str(release_dir),
        "dataset_name": kind,
        "test_split": "test",
        # the files by path too: datasets caches a card's config by folder name and config name alone, so
        # two releases named v1 would share one cache entry; named data files key it by their paths
        "dataset_kwargs": {"data_files": {"test": str(release_dir / f"{kind}.parquet")}},
        "output_type": "generate_until",
        "doc_to_text": _PROMPTS[kind],
        "doc_to_target": _TARGETS[kind],
        "generation_kwargs": {"until": ["\n"], "max_gen_toks": 48, "do_sample": False, "temperature": 0.0},
        # graded by benchmint's grading, copied beside the YAMLs (benchmint_grading.py): the tolerance and
        # units of a numeric answer, the letter or the choice's text, true/false; open answers without a judge
        "process_results": f"!function benchmint_grading.process_{kind}",
        "metric_list": [{"metric": "exact_match", "aggregation": "mean", "higher_is_better": True}],
        "metadata": {"version": 1.0},
        # every kind reports under one filter name, so the group's aggregate (which names it) covers them all
        "filter_list": [{"name": "extract", "filter": [{"function": "take_first"}]}],
    }
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
        text = yaml.safe_dump(task, sort_keys=False, allow_unicode=True)
        text = re.sub(r"^process_results: '(!function [\w.]+)'$", r"process_results: \1", text, flags=re.M)
        (out / f"{kind}.yaml").write_text(text, encoding="utf-8")
        names.append(task["task"])
    group = {"group": prefix, "task": names,
             "aggregate_metric_list": [{"metric": "exact_match", "aggregation": "mean", "weight_by_size": True,
                                        "filter_list": ["extract"]}],
             "metadata": {"version": 1.0}}
    (out / "_group.yaml").write_text(yaml.safe_dump(group, sort_keys=False), encoding="utf-8")
    (out / "benchmint_grading.py").write_text(with_grading("lm_eval_grading_template.py"), encoding="utf-8")
    if "mcq" in kinds:
        (out / "mcq_loglikelihood.yaml.example").write_text(
            _LOGLIKELIHOOD_EXAMPLE.format(prefix=prefix, release=release_dir), encoding="utf-8")
    return [prefix, *names]


def grading_source() -> str:
    """benchmint/export_grading.py with benchmint's unit table filled in."""
    units = {alias: list(info) for alias, info in sorted(_UNIT_TABLE.items())}
    src, n = re.subn(r"^UNITS: dict = .*$", lambda m: f"UNITS = {units!r}", (TEMPLATES / "export_grading.py")
                     .read_text(encoding="utf-8"), count=1, flags=re.M)
    assert n == 1  # the module and this writer are kept together
    return src


def with_grading(template: str) -> str:
    """A template whose import of benchmint.export_grading is replaced by that module's code."""
    body = re.sub(r'^""".*?"""\n+', "", grading_source(), count=1, flags=re.S)  # its docstring speaks of itself
    body = "# --- benchmint's grading (a copy of benchmint/export_grading.py)\n" + body
    src, n = _GRADING_IMPORT.subn(lambda m: body, (TEMPLATES / template).read_text(encoding="utf-8"), count=1)
    assert n == 1, template
    return src


def judge_template() -> str:
    """benchmint's judge prompt (system and user) as one inspect `model_graded_qa` template: its
    placeholders renamed to inspect's, every other brace doubled for str.format."""
    p = load_prompt("judge_answer")
    text = (p.system + "\n\n" + p.user).replace("{", "{{").replace("}", "}}")
    for ours, theirs in (("question", "question"), ("gold", "criterion"), ("reply", "answer")):
        text = text.replace("{{" + ours + "}}", "{" + theirs + "}")
    return text


def inspect_task_source(kinds: list[str], version: str) -> str:
    """The template with the release's constants filled in and only the tasks of its kinds."""
    src = with_grading("inspect_task_template.py")
    for name, value in (("VERSION", version), ("JUDGE_TEMPLATE", judge_template())):
        src, n = re.subn(rf"^{name} = .*$", lambda m, name=name, value=value: f"{name} = {value!r}",
                         src, count=1, flags=re.M)
        assert n == 1, name  # the template and this writer are kept together
    head, tasks = re.split(r"(?m)^(?=@task)", src, maxsplit=1)
    blocks = [b for b in re.split(r"(?m)^(?=@task)", tasks) if b]
    kept = [b.rstrip("\n") for b in blocks if re.search(r'_task\("(\w+)"', b).group(1) in kinds]
    return head + "\n\n\n".join(kept) + "\n"


def write_inspect_task(folder: Path, kinds: list[str], version: str = "v1") -> None:
    (folder / "inspect_task.py").write_text(inspect_task_source(kinds, version), encoding="utf-8")
