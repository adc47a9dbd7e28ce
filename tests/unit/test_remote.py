"""Generation steps that run in another process (a Dask worker), without Dask or Prefect: the `runner:`
config section, the generator spec a step takes instead of a live client (pickle, cloudpickle, JSON, no
secret in it), the process's one client per spec, and the usage, faults and breaker events a step sends
back, merged into the flow's pool as if the step had run there. The endpoint is a stand-in on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import os
import pickle
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cloudpickle
import pytest

from benchmint.config import BuildConfig, load_config
from benchmint.errors import ConfigError, EndpointDown
from benchmint.llm import ModelClient
from benchmint.modelspec import ModelSpec
from benchmint.pool import ModelPool
from benchmint.records import Chunk, Document
from benchmint.remote import ClientSpec, client_for
from benchmint.response_cache import ResponseCache
from benchmint.usage import StepUsage, UsageBook
from generators.adaptive import RoundPlan
from generators.multi_hop import MultiHopGenerator
from generators.single_hop import SingleHopGenerator
from generators.spec import GeneratorSpec, generator_for, spec_of
from pipeline.generation import generate_from_spec
from pipeline.records import StepOutcome
from pipeline.rounds import RoundLoop
from pipeline.steps import as_generation_steps
from pipeline.wiring import BySpec, Direct
from tests.endpoint_standin import HttpStandIn, QuietHandler
from validators.base import Context
from validators.chain import ValidatorChain

PUMP = "The Orrin-7 pump delivers 340 litres per minute at full speed and 12 litres per minute at idle."
GOOD = json.dumps({"questions": [{"citations": ["The Orrin-7 pump delivers 340 litres per minute"],
                                  "question": "How many litres per minute does the Orrin-7 pump deliver at full speed?",
                                  "answer": "340 litres per minute", "difficulty": 2}]})


def doc(i: str, text: str) -> Document:
    return Document(id=i, title=f"Doc {i}", source=f"{i}.md", text=text, format="md")


def chunk(d: Document, index: int = 0) -> Chunk:
    return Chunk(id=f"{d.id}-c{index}", document_id=d.id, index=index, start=0, end=len(d.text), text=d.text,
                 n_tokens=20)


class Endpoint(HttpStandIn):
    """Answers from `script` ((status, content) per request, in order), then GOOD."""

    def __init__(self, script: list[tuple[int, str]] = ()):
        self.script, self.requests = list(script), 0
        lock, outer = threading.Lock(), self

        class Handler(QuietHandler):
            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers["Content-Length"]))
                with lock:
                    outer.requests += 1
                    status, content = outer.script.pop(0) if outer.script else (200, GOOD)
                body = ({"id": "x", "object": "chat.completion", "created": 0, "model": "m",
                         "choices": [{"index": 0, "finish_reason": "stop",
                                      "message": {"role": "assistant", "content": content}}],
                         "usage": {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70}}
                        if status == 200 else {"error": {"message": content}})
                self.send_body(status, json.dumps(body).encode())

        self._listen(Handler)


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "b.yaml"
    p.write_text("name: b\nsources: [docs]\n" + text)
    return p


# --------------------------------------------------------------------------- the config section


def test_the_runner_section_defaults_to_threads_and_takes_a_scheduler_or_a_local_cluster(tmp_path):
    assert load_config(_write(tmp_path, ""), {}).runner.model_dump() == {"kind": "thread", "address": None,
                                                                         "workers": None, "endpoint_limits": None}
    assert load_config(_write(tmp_path, "runner: {kind: dask}\n"), {}).runner.local_workers == 2
    cfg = load_config(_write(tmp_path, "runner: {kind: dask, address: 'tcp://10.0.0.5:8786'}\n"), {})
    assert cfg.runner.kind == "dask" and cfg.runner.address == "tcp://10.0.0.5:8786"
    # a flow receives the config dumped (flows/secret_safe.py) and validates it again
    assert BuildConfig.model_validate(cfg.stashed().model_dump(mode="json")).runner.address == cfg.runner.address
    assert load_config(_write(tmp_path, "runner: {kind: dask, workers: 4}\n"), {}).runner.workers == 4
    # the flags: --dask-address or --dask-workers alone mean a Dask build, over the file's thread
    flags = {"runner": None, "dask_address": "tcp://sched:8786", "dask_workers": None}
    assert load_config(_write(tmp_path, "runner: {kind: thread}\n"), flags).runner.kind == "dask"
    assert load_config(_write(tmp_path, ""), {"runner": "dask", "dask_workers": 3}).runner.workers == 3
    assert load_config(_write(tmp_path, ""), {"runner": "dask"}).runner.address is None
    public = load_config(_write(tmp_path, ""), flags).public_dict()
    assert public["runner"] == {"kind": "dask", "address": "tcp://sched:8786", "workers": None,
                                 "endpoint_limits": None}
    assert "runner" not in load_config(_write(tmp_path, ""), {}).public_dict()  # the default: manifests as before


@pytest.mark.parametrize("text,flags,message", [
    ("runner: {kind: dask, adress: 'tcp://h:1'}\n", {}, "unknown key 'runner.adress'; remove it or check its spelling"),
    ("runner: {kind: slurm}\n", {}, "'runner.kind': Input should be 'thread' or 'dask'"),
    ("runner: {kind: dask, address: 'http://h:8786'}\n", {}, "not a Dask scheduler address; write tcp://HOST:PORT"),
    ("runner: {address: 'tcp://h:8786'}\n", {}, "set kind: dask (--runner dask) or drop the address"),
    ("runner: {kind: dask, address: 'tcp://h:8786', workers: 3}\n", {}, "drop one of the two"),
    ("runner: {kind: dask, workers: 0}\n", {}, "'runner.workers': Input should be greater than or equal to 1"),
    ("", {"runner": "thread", "dask_address": "tcp://h:8786"}, "set kind: dask"),
])
def test_a_wrong_runner_section_is_one_line(tmp_path, text, flags, message):
    with pytest.raises(ConfigError) as err:
        load_config(_write(tmp_path, text), flags)
    assert message in str(err.value) and "\n" not in str(err.value)


# --------------------------------------------------------------------------- the spec


def _generator(url: str, tmp_path: Path, multi: bool = False, **spec) -> SingleHopGenerator | MultiHopGenerator:
    client = ModelClient(ModelSpec(model="m", base_url=url, max_retries=1, **spec), "generator", UsageBook(),
                         ResponseCache(tmp_path / "responses"))
    return MultiHopGenerator(client, 2, seed=5) if multi else SingleHopGenerator(client, 2, ["open", "mcq"], seed=5)


@pytest.mark.parametrize("multi", [False, True])
def test_a_generator_spec_round_trips_through_pickle_cloudpickle_and_json(tmp_path, multi):
    spec = spec_of(_generator("http://127.0.0.1:9/v1", tmp_path, multi))
    for back in (pickle.loads(pickle.dumps(spec)), cloudpickle.loads(cloudpickle.dumps(spec)),
                 GeneratorSpec.model_validate_json(spec.model_dump_json())):
        assert back == spec
    assert spec.kind == ("multi_hop" if multi else "single_hop") and spec.seed == 5 and spec.questions == 2
    assert spec.client.identity == "http://127.0.0.1:9/v1#m" and spec.client.cache == str(tmp_path / "responses")


def test_a_local_model_spec_names_the_flows_server_and_the_cache_identity(tmp_path):
    """An embedded model is reached at the server the flow's pool started; its label and cache keys stay the
    local model's, so a worker writes the questions and hits the cache entries a thread build does."""
    local = ModelSpec(model="local:smollm2-135m", max_concurrency=3)
    client = ModelClient(local, "generator", UsageBook(), None, base_url="http://127.0.0.1:41234/v1",
                         identity="local:smollm2.gguf:1234")
    spec = spec_of(SingleHopGenerator(client))
    assert spec.client.spec == local and spec.client.base_url == "http://127.0.0.1:41234/v1"
    assert spec.client.cache is None
    rebuilt = client_for(spec.client)
    assert rebuilt.spec.label == "local:smollm2-135m" and rebuilt.identity == client.identity
    assert rebuilt.served_model == "local" and rebuilt.concurrency == 3
    assert rebuilt.cache_key([{"role": "user", "content": "x"}], {}) == client.cache_key(
        [{"role": "user", "content": "x"}], {})


def test_a_spec_carries_no_secret_and_the_worker_reveals_the_url_itself(tmp_path, monkeypatch):
    monkeypatch.setenv("REMOTE_TEST_KEY", "sk-remote-very-secret")
    raw = "https://user:pw-9981@api.example.invalid/v1?api_key=sk-inline-5512"
    spec = spec_of(_generator(raw, tmp_path, api_key_env="REMOTE_TEST_KEY"))
    for blob in (spec.model_dump_json(), pickle.dumps(spec).decode("latin-1"),
                 cloudpickle.dumps(spec).decode("latin-1")):
        assert "sk-remote-very-secret" not in blob and "sk-inline-5512" not in blob and "pw-9981" not in blob
    assert "REDACTED" in spec.client.base_url and spec.client.spec.api_key_env == "REMOTE_TEST_KEY"
    worker = client_for(spec.client)  # this process holds the stash, as a LocalCluster's workers inherit it
    assert "sk-inline-5512" in str(worker._url) and worker._secrets == ("sk-remote-very-secret",)
    assert "pw-9981" not in worker.shown_url


def test_one_client_and_one_generator_per_spec_in_a_process(tmp_path):
    spec = spec_of(_generator("http://127.0.0.1:9/v1", tmp_path))
    copy = GeneratorSpec.model_validate_json(spec.model_dump_json())
    with ThreadPoolExecutor(8) as pool:
        clients = set(map(id, pool.map(lambda _: client_for(copy.client), range(32))))
        generators = set(map(id, pool.map(lambda _: generator_for(copy), range(32))))
    assert clients == {id(client_for(spec.client))} and generators == {id(generator_for(spec))}
    assert generator_for(spec).client is client_for(spec.client)
    other = spec.model_copy(update={"seed": 6})
    assert generator_for(other) is not generator_for(spec) and generator_for(other).client is client_for(spec.client)
    assert client_for(spec.client.model_copy(update={"role": "judge"})) is not client_for(spec.client)


# --------------------------------------------------------------------------- usage, faults and the breaker


def _step(d=None):
    d = d or doc("a", PUMP)
    return as_generation_steps([(chunk(d), "open", None)], {d.id: d}, 0, RoundPlan(kinds=["open"], multi_hop=0.0),
                               [])[0]


def _without_seconds(usage: dict) -> dict:
    return {r: {k: v for k, v in u.items() if k != "seconds"} for r, u in usage.items()}


def test_a_step_by_spec_sends_back_what_the_flows_book_would_have_counted(tmp_path):
    """The same step (a 500, a retry, then a good reply), once in the flow's process and once by spec: the same
    questions, and the usage merged from the spec's step equals the book the in-process step wrote."""
    script = [(500, "busy")]
    results = {}
    for how in ("direct", "spec"):
        with Endpoint(script) as ep:
            url = ep.url
            cfg = BuildConfig(name="t", sources=["x"], models={"generator": {"model": "m", "base_url": url}})
            with ModelPool({"generator": cfg.models.generator}, tmp_path / how) as pool:
                gen = SingleHopGenerator(pool["generator"], 2, ["open"], seed=1)
                outcome = (Direct() if how == "direct" else BySpec()).generate(gen, _step())
                if outcome.usage is not None:
                    assert pool.usage.as_dict() == {}  # nothing counted here until it is merged
                    pool.absorb(outcome.usage)
                results[how] = (outcome, pool.usage.as_dict(), pool.faults())
    (direct, d_usage, d_faults), (by_spec, s_usage, s_faults) = results["direct"], results["spec"]
    assert direct.usage is None and by_spec.usage.worker.endswith(f":{os.getpid()}")
    same = [q.model_dump(exclude={"generator_model"}) for q in direct.questions]  # its label names the port
    assert [q.model_dump(exclude={"generator_model"}) for q in by_spec.questions] == same and len(same) == 1
    assert _without_seconds(s_usage) == _without_seconds(d_usage)
    assert d_usage["generator"]["calls"] == 1 and d_usage["generator"]["retries"] == 1
    assert s_faults == d_faults == {"replies": {"server_error": 1}, "failed_steps": {},
                                    "by_role": {"generator": {"replies": {"server_error": 1}, "failed_steps": {}}}}
    assert isinstance(s_usage["generator"]["calls"], int)  # not 1.0 in the manifest
    again = BySpec().generate(gen, _step())  # the spec's cache: the worker's reply is a hit now
    assert again.usage.roles["generator"]["cache_hits"] == 1 and "calls" not in again.usage.roles["generator"]


def test_failed_steps_on_workers_open_the_flows_breaker(tmp_path):
    with Endpoint([(500, "down")] * 20) as ep:
        spec = ModelSpec(model="m", base_url=ep.url, max_retries=0, max_consecutive_failures=2)
        with ModelPool({"generator": spec}, tmp_path) as pool:
            gen = SingleHopGenerator(pool["generator"], 1, ["open"])
            outcomes = [generate_from_spec(spec_of(gen), _step(doc(f"d{i}", f"{PUMP} Page {i}."))) for i in range(3)]
            assert all(o.error and o.error["kind"] == "server_error" for o in outcomes)
            assert len(outcomes[0].usage.breaker) == 1 and outcomes[0].usage.breaker[0].startswith("server_error")
            pool.absorb(outcomes[0].usage)
            pool.check()  # one failed step: still closed
            pool.absorb(outcomes[1].usage)
            with pytest.raises(EndpointDown, match="failed 2 steps in a row"):
                pool.check()
        assert ep.requests == 3  # the worker's own breaker never opens: the flow's decides
        assert pool.usage.as_dict()["generator"]["failures"] == 2


def test_usage_snapshots_merge_counts_as_ints_and_faults_by_kind():
    book = UsageBook()
    book.add("generator", calls=2, prompt_tokens=10, seconds=0.5)
    book.fault("generator", "timeout")
    snap = StepUsage.model_validate_json(book.snapshot().model_dump_json())
    into = UsageBook()
    into.add("generator", calls=1)
    into.fault("generator", "timeout")
    into.merge(snap)
    into.merge(snap)
    assert into.as_dict()["generator"]["calls"] == 5 and into.as_dict()["generator"]["seconds"] == 1.0
    assert into.faults()["replies"] == {"timeout": 3}


def test_the_rounds_merge_worker_usage_and_record_where_the_steps_ran(tmp_path):
    """RoundLoop with the spec path (BySpec): the same candidates and counts as the thread path, the budget
    stop sees the merged tokens, and the steps are counted by the process that ran them."""
    d = doc("a", PUMP)
    # each chunk its own text: its own prompt, so no step is a cache hit of another
    chunks = [chunk(d, i).model_copy(update={"id": f"a-c{i}", "text": f"{PUMP} Page {i}."}) for i in range(6)]
    runs = {}
    for how, wiring in (("direct", Direct()), ("spec", BySpec())):
        with Endpoint() as ep:
            cfg = BuildConfig(name="t", sources=["x"], cache_dir=str(tmp_path / how), questions=100,
                              generation={"batch_chunks": 2, "kinds": ["open"], "questions_per_chunk": 1},
                              adaptive={"max_tokens": 70},  # 20 completion tokens a step: stops after batch 2
                              models={"generator": {"model": "m", "base_url": ep.url, "max_concurrency": 2}})
            ctx = Context(config=cfg, documents={"a": d}, chunks={c.id: c for c in chunks})
            with ModelPool({"generator": cfg.models.generator}, tmp_path / how) as pool:
                loop = RoundLoop(cfg, wiring, pool, ctx, ValidatorChain([], []), chunks, chunks, logging.getLogger("t"))
                runs[how] = (loop.run(), pool.usage.as_dict())
    (d_gen, d_usage), (s_gen, s_usage) = runs["direct"], runs["spec"]
    assert [q.chunk_ids for q in s_gen.accepted] == [q.chunk_ids for q in d_gen.accepted] == [
        [f"a-c{i}"] for i in range(4)]
    assert s_gen.stop == d_gen.stop and "token" in s_gen.stop
    assert _without_seconds(s_usage) == _without_seconds(d_usage)
    assert s_gen.rounds[0].completion_tokens == d_gen.rounds[0].completion_tokens == 80
    assert not d_gen.workers and dict(s_gen.workers) == {next(iter(s_gen.workers)): 4}
    assert next(iter(s_gen.workers)).endswith(f":{os.getpid()}")


def test_a_step_outcome_with_its_usage_pickles(tmp_path):
    outcome = StepOutcome(error={"error": "x", "kind": "timeout"},
                          usage=StepUsage(roles={"generator": {"calls": 1, "seconds": 0.25}}, worker="h:1"))
    assert pickle.loads(cloudpickle.dumps(outcome)) == outcome
    assert StepOutcome.model_validate_json(outcome.model_dump_json()) == outcome
    assert ClientSpec.model_fields.keys() == {"spec", "role", "base_url", "identity", "cache"}


def test_a_step_sent_elsewhere_carries_no_document_text_and_asks_the_same():
    """GenerationStep.portable: what crosses to a worker (and its scheduler) is the chunk and each document's title,
    not the document's text; the generators write the same prompts from it."""
    big = doc("a", PUMP + " Filler." * 100_000)
    other = doc("b", "The Mistral-3 valve closes in 4 seconds. " * 1_000)
    docs = {big.id: big, other.id: other}
    head = [Chunk(id=f"{d.id}-c0", document_id=d.id, index=0, start=0, end=200, text=d.text[:200], n_tokens=40)
            for d in (big, other)]
    single, pair = as_generation_steps([(head[0], "open", None), (head[0], "multi_hop", head[1])], docs, 0,
                                       RoundPlan(kinds=["open"], multi_hop=1.0), [])
    for step in (single, pair):
        sent = step.portable()
        assert [d.title for d in sent.documents] == [d.title for d in step.documents]
        assert sent.chunks == step.chunks and all(d.text == "" for d in sent.documents)
        assert len(cloudpickle.dumps(sent)) < 10_000 < len(cloudpickle.dumps(step))
    one = SingleHopGenerator(None, 2, ["open", "tf"])
    for kind in ("open", "tf"):
        assert one.messages(single.chunks[0], single.portable().documents[0], kind) == \
            one.messages(single.chunks[0], single.documents[0], kind)
    two, sent = MultiHopGenerator(None, 2), pair.portable()
    assert two.messages(pair.chunks[0], sent.documents[0], pair.chunks[1], sent.documents[1]) == \
        two.messages(pair.chunks[0], pair.documents[0], pair.chunks[1], pair.documents[1])
