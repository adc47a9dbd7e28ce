"""The exports' shapes and the exported inspect task's grading, against benchmint's own grading on the
same inputs (the task file stands alone, so its grading is a copy that must stay in step)."""

from __future__ import annotations

import importlib.util

import pytest

from benchmint.exports import inspect_task_source, judge_template, lm_eval_task, write_lm_eval_tasks
from benchmint.quantities import _NUMBER
from validators.answers import exact_match, extract_letter, parse_bool, token_f1
from validators.grading import grade_numeric

NUMERIC = [  # (reply, gold, unit, tolerance)
    ("4,800 litres", "4800", "litres", 0.5), ("4.8 kilolitres", "4800", "litres", 0.5), ("4800", "4800", "litres", 0),
    ("About 4800 l per day.", "4800", "litres", 0.5), ("4.8 m", "4800", "mm", 0), ("3 km", "3000", "m", 1),
    ("It takes 90 minutes", "1.5", "hours", 0.01), ("1.5 h", "90", "min", 0), ("2 GB", "2000", "MB", 0),
    ("2 GiB", "2048", "MB", 1), ("The answer is 12.", "12.4", "", 0.5), ("12", "12.6", "", 0.5),
    ("-3 degrees celsius", "-3", "°C", 0), ("no idea", "7", "", 0), ("seven days", "7", "days", 0),
    ("one week", "7", "days", 0), ("1,620 millimetres and 520 mm", "520", "mm", 0), ("50 %", "0.5", "", 0),
    ("3.2 kilowatts", "3.2", "kW", 0.1), ("3200 W", "3.2", "kW", 0.1), ("32 kW", "3.2", "kW", 0.1),
    ("2017", "2017", "", 0), ("In 2019, 4,800 litres", "4800", "litres", 0.5), ("5 kg", "5", "litres", 0),
]
LETTER = [("B", ["a", "b", "c", "d"], "B"), ("(c) brine", ["river", "rain", "brine", "sea"], "C"),
          ("Answer: D", list("wxyz"), "D"), ("seawater", ["river water", "rain water", "seawater", "brine"], "C"),
          ("A lot of things", list("wxyz"), None), ("The answer is B.", list("wxyz"), "B"),
          ("I think it is rain water", ["river water", "rain water", "sea", "x"], "B"), ("", list("wxyz"), None),
          ("b.", list("wxyz"), "B"), ("F", list("uvwxyz"), "F"), ("Answer: (e)", list("vwxyz"), "E"),
          ("E", list("wxyz"), None)]
BOOL = ["True", "false.", "Yes, it is", "No", "It is true that", "Not really", "maybe", "", "T",
        "The statement is false"]
OPEN = [("Skarvik", "Skarvik"), ("It was founded in Skarvik.", "Skarvik"), ("the Skarvik harbour", "Skarvik"),
        ("Oslo", "Skarvik"), ("Liesel Abernathy-Okoro", "Liesel Abernathy Okoro"), ("Liesel", "Liesel Abernathy-Okoro"),
        ("A very long reply that mentions Skarvik among many other words here", "Skarvik")]


@pytest.fixture(scope="module")
def exported_task(tmp_path_factory):
    path = tmp_path_factory.mktemp("inspect") / "inspect_task.py"
    path.write_text(inspect_task_source(["mcq", "numeric", "open", "tf"], "v2"), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("exported_inspect_task", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_inspect_task_grades_as_benchmint_does(exported_task):
    t = exported_task
    assert t.NUMBER.pattern == _NUMBER.pattern and t.VERSION == "v2" and "m/s" in t.UNITS
    for reply, gold, unit, tol in NUMERIC:
        ok = grade_numeric(reply, gold, unit, tol)[0]
        assert t.numeric_correct(reply, gold, unit, tol) == ok, (reply, gold, unit)
    for reply, choices, letter in LETTER:
        assert t.picked_letter(reply, choices) == letter, reply
        assert extract_letter(reply, choices) == (None if letter is None else "ABCDEFGHIJ".index(letter)), reply
    for reply in BOOL:
        assert t.as_bool(reply) == parse_bool(reply), reply
    for reply, gold in OPEN:
        assert t.exact_match(reply, gold) == exact_match(reply, gold), (reply, gold)
        assert t.token_f1(reply, gold) == pytest.approx(token_f1(reply, gold)), (reply, gold)


def test_the_inspect_task_file_names_its_tasks_and_the_judge_rubric(tmp_path):
    src = inspect_task_source(["mcq", "tf"], "v1")
    assert "def mcq()" in src and "def tf()" in src and "def numeric()" not in src and "open_answer()" not in src
    assert "benchmint" not in "".join(line for line in src.splitlines() if line.startswith(("import", "from")))
    full = inspect_task_source(["open"], "v1")
    assert '@task(name="open")\ndef open_answer()' in full
    prompt = judge_template().format(question="Q?", criterion="GOLD", answer="REPLY")
    assert "Reference answer: GOLD" in prompt and "Candidate reply: REPLY" in prompt and '"verdict"' in prompt


def test_the_lm_eval_grading_file_grades_as_benchmint_does(tmp_path):
    write_lm_eval_tasks(tmp_path, tmp_path, "x", "v1", ["mcq", "numeric", "open", "tf"])
    path = tmp_path / "lm_eval_tasks" / "benchmint_grading.py"
    spec = importlib.util.spec_from_file_location("exported_lm_eval_grading", path)
    g = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(g)
    assert "import benchmint" not in path.read_text() and "from benchmint" not in path.read_text()
    for reply, gold, unit, tol in NUMERIC:
        doc = {"answer": gold, "unit": unit, "tolerance": tol}
        assert g.process_numeric(doc, [reply])["exact_match"] == float(grade_numeric(reply, gold, unit, tol)[0])
    assert g.process_mcq({"choices": ["a", "b", "c", "d"], "answer_letter": "B"}, ["(b)"]) == {"exact_match": 1.0}
    assert g.process_tf({"answer": "False"}, ["No, it is not"]) == {"exact_match": 1.0}
    assert g.process_open({"answer": "Skarvik"}, ["It was Skarvik."]) == {"exact_match": 1.0}
    yaml_text = (tmp_path / "lm_eval_tasks" / "tf.yaml").read_text()
    assert "process_results: !function benchmint_grading.process_tf\n" in yaml_text


def test_every_lm_eval_task_reports_under_the_filter_the_group_aggregates(tmp_path):
    for kind in ("open", "numeric", "mcq", "tf"):
        task = lm_eval_task(kind, "benchmint_x_v1", tmp_path)
        assert "tag" not in task and [f["name"] for f in task["filter_list"]] == ["extract"]
    import yaml

    write_lm_eval_tasks(tmp_path, tmp_path, "x", "v1", ["open", "tf"])
    group = yaml.safe_load((tmp_path / "lm_eval_tasks" / "_group.yaml").read_text())
    assert group["group"] == "benchmint_x_v1" and group["aggregate_metric_list"][0]["filter_list"] == ["extract"]
