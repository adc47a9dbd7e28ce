"""Build configuration: a YAML file plus CLI overrides, validated with pydantic.

Unknown keys are errors that name the key. Model roles (generator, targets, judges) are
ModelSpecs (benchmint.modelspec): a `local:` model or any OpenAI-compatible endpoint.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from benchmint.config_errors import bool_for_number, first_error
from benchmint.errors import ConfigError
from benchmint.hub_metadata import license_id
from benchmint.modelspec import ModelRoles, ModelSpec, UrlStash, parse_model_ref, stash_model_ref
from benchmint.names import NAME, NAME_RULE, escape_undecodable, expand
from benchmint.records import QuestionKind, Record
from benchmint.secrets import redact, redact_url


class ChunkingConfig(Record):
    max_tokens: int = Field(default=380, ge=32)
    overlap: int = Field(default=40, ge=0)


class GenerationConfig(Record):
    questions_per_chunk: int = Field(default=3, ge=1, le=10)
    # the question mix: kinds take turns over the generation steps (list a kind twice to weight it)
    kinds: list[QuestionKind] = Field(default_factory=lambda: ["open", "mcq"], min_length=1)
    # share of generation steps that write multi-hop questions over two chunks (0: none)
    multi_hop: float = Field(default=0.0, ge=0, le=1)
    # Chunks generated per step before validating; more overlap of model and checks.
    batch_chunks: int = Field(default=2, ge=1)


class DifficultyConfig(Record):
    """Measured on the target models (models.targets); inactive without targets."""

    band: tuple[float, float] = (0.1, 0.8)  # keep questions whose pass rate over targets is in [lo, hi]
    with_document: bool = True  # difficulty from answers with the source text (else closed-book)
    closed_book: Literal["reject", "tag", "off"] = "reject"  # questions the targets answer from memory
    closed_book_max: float = Field(default=0.5, ge=0, le=1)  # closed-book pass rate above this: memory
    check_gold: bool = True  # questions no target answers: the judge panel checks the gold answer

    @field_validator("band", mode="before")
    @classmethod
    def _band(cls, v: Any) -> Any:
        if isinstance(v, str):
            try:
                lo, hi = (float(x) for x in v.split(":"))
            except ValueError:
                raise ValueError(f"band {v!r} must be LO:HI, e.g. 0.1:0.8") from None
            v = (lo, hi)
        return v

    @field_validator("band")
    @classmethod
    def _band_ok(cls, v: tuple[float, float]) -> tuple[float, float]:
        if not 0 <= v[0] <= v[1] <= 1:
            raise ValueError(f"band {v[0]}:{v[1]} must satisfy 0 <= lo <= hi <= 1")
        return v


class AdaptiveConfig(Record):
    rounds: int = Field(default=1, ge=1)  # 1: round 0 only; each further round aims at the failures seen
    chunks_per_round: int = Field(default=6, ge=1)  # round sizes when rounds > 1
    # when rounds > 1, a round goes on past chunks_per_round, a batch at a time (each chunk once a round), until
    # this many of its questions are measured by the targets, so its mean pass rate rests on enough questions;
    # 0: chunks_per_round only. The question count, the token budget and the last chunk still stop it.
    min_measured: int = Field(default=12, ge=0)
    # a round that has taken every chunk and still measured fewer than min_measured takes them again, up to this
    # many passes over the chunks in all, in the shapes that yielded measured questions (1: each chunk once a round)
    max_passes: int = Field(default=2, ge=1)
    # a shape (kind, tactic, multi-hop) with fewer measured questions stays in the next round's mix, still
    # being explored; one with this many or more leaves it only when its pass rate's 95% interval lies
    # wholly above the hardest shape's
    shape_min_measured: int = Field(default=3, ge=1)
    sample: int = Field(default=6, ge=1)  # failed and passed questions shown to the evaluator agent
    max_tokens: int | None = Field(default=None, ge=1)  # budget: completion tokens over every role
    max_cost: float | None = Field(default=None, gt=0)
    """Budget: money over every role (each model's `price`, benchmint.cost); the build stops cleanly, like
    max_tokens, after the batch that reaches it. Every endpoint must then have a price."""
    # harder forms of the kinds the rounds after round 0 may try, kept when the targets fail them
    # (benchmint/prompts/tactics.yaml); [] keeps the rounds to the configured kinds
    # (also known: tf:subtle, a false twin built from another value of the passage)
    tactics: list[str] = Field(default_factory=lambda: ["numeric:computed", "mcq:near_miss", "open:reworded"])

    @field_validator("tactics")
    @classmethod
    def _known_tactics(cls, v: list[str]) -> list[str]:
        from benchmint.prompts import load_tactics

        known = load_tactics().tactics
        bad = [t for t in v if t not in known]
        if bad:
            raise ValueError(f"unknown tactic {', '.join(map(repr, bad))}; known: {', '.join(known)}")
        return v


class GroundingConfig(Record):
    min_ratio: float = Field(default=90.0, ge=0, le=100)
    min_words: int = Field(default=6, ge=1)
    min_answer_support: float = Field(default=0.6, ge=0, le=1)


class DedupConfig(Record):
    threshold: float = Field(default=0.9, gt=0, le=1)


class ContaminationSettings(Record):
    """Which known corpora every build is checked against, and how."""

    enabled: bool = True
    builtin: bool = True  # the public benchmarks shipped offline (see `benchmint corpora list`)
    previous_versions: bool = True  # questions retired from this benchmark never return
    references: list[str] = Field(default_factory=list)  # registered corpus names, or sources
    judge: ModelSpec | None = None  # optional LLM judge for the middle band; none: flagged for review
    # non-English candidates are translated into English (by the judge, else the generator) and checked again
    translate: bool = True
    # keys of validators.contamination.config.ContaminationConfig
    thresholds: dict[str, Any] = Field(default_factory=dict)

    @field_validator("judge", mode="before")
    @classmethod
    def _parse(cls, v: Any) -> Any:
        return parse_model_ref(v) if isinstance(v, str) else v


class FeedPolicy(Record):
    """How feeds are read (corpora/feeds.py)."""

    # fetch entry links (and redirects) to loopback, private, link-local, CGNAT, metadata and other
    # non-public addresses: for tests and intranets only (a feed from elsewhere could aim at this machine)
    allow_private_hosts: bool = False
    # with `since`: entries that carry no date are reported as skipped (skip) or kept (keep)
    undated: Literal["skip", "keep"] = "skip"
    host_delay_s: float = Field(default=0.5, ge=0, le=60)  # at least this between two requests to one host
    max_redirects: int = Field(default=5, ge=0, le=20)


class LoaderConfig(Record):
    """Limits per source file (corpora.documents); a file past one is reported with the reason, not read."""

    max_file_mb: float = Field(default=50.0, gt=0)  # larger files are skipped ("too-large")
    # a worker process reading one file is stopped past this ("timeout"); 0: read in-process, no budget
    max_file_seconds: float = Field(default=60.0, ge=0)


class ScheduleConfig(Record):
    """When `benchmint serve` (or the prefect.yaml deployment) refreshes the benchmark."""

    cron: str = "0 2 * * *"
    timezone: str = "UTC"


LOCAL_WORKERS = 2  # a LocalCluster's worker processes when runner.workers is not set


class RunnerConfig(Record):
    """Where a build's generation steps run (flows/runner.py). Validation, publishing and the rest stay in the
    flow's process."""

    kind: Literal["thread", "dask"] = "thread"
    """thread: on a thread pool in the flow's process. dask: each step is a task on a Dask cluster's worker
    processes, which reach the models by URL (an embedded `local:` model is served once, by the flow's process)."""
    address: str | None = None
    """A Dask scheduler to use (tcp://HOST:PORT); its workers must reach the model endpoints, read the keys'
    variables and see cache_dir. None: a LocalCluster of `workers` worker processes on this machine, started for
    the run and stopped after it."""
    workers: int | None = Field(default=None, ge=1)
    """The LocalCluster's worker processes (kind dask, no address); None: LOCAL_WORKERS. Unset with an address:
    the scheduler runs the workers it has (and a config dumped for a flow run validates again)."""
    endpoint_limits: bool | None = None
    """Share each remote endpoint's requests with every other build on the Prefect server: a batch of
    generation steps holds slots of a global concurrency limit named after the endpoint (created on demand
    with the model's max_concurrency; a team sets its slots once, in the UI's Concurrency page), so builds
    and workers together never send it more. None: on for a Dask run, off on threads."""

    @property
    def local_workers(self) -> int:
        """The LocalCluster's worker processes."""
        return self.workers or LOCAL_WORKERS

    @field_validator("address")
    @classmethod
    def _address_ok(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"tcp://[^\s/]+:\d+", v.strip()):
            raise ValueError(f"{v!r} is not a Dask scheduler address; write tcp://HOST:PORT")
        return v.strip() if v is not None else v

    @model_validator(mode="after")
    def _address_for_dask(self) -> "RunnerConfig":
        if self.address is not None and self.kind != "dask":
            raise ValueError("address names a Dask scheduler: set kind: dask (--runner dask) or drop the address")
        if self.address is not None and self.workers is not None:
            raise ValueError("workers sizes the LocalCluster started when there is no address; a scheduler at an "
                             "address runs the workers it has: drop one of the two")
        return self


class BuildConfig(Record):
    name: str
    sources: list[str] = Field(default_factory=list)
    feeds: list[str] = Field(default_factory=list)  # RSS / Atom / arXiv API URLs
    since: str | None = None  # feeds: only entries published after this (YYYY-MM-DD, or 30d / 12h / 2w)
    feed_policy: FeedPolicy = Field(default_factory=FeedPolicy)
    questions: int = Field(default=10, ge=1)
    models: ModelRoles = Field(default_factory=ModelRoles)
    chunking: ChunkingConfig = Field(default_factory=ChunkingConfig)
    generation: GenerationConfig = Field(default_factory=GenerationConfig)
    grounding: GroundingConfig = Field(default_factory=GroundingConfig)
    dedup: DedupConfig = Field(default_factory=DedupConfig)
    contamination: ContaminationSettings = Field(default_factory=ContaminationSettings)
    difficulty: DifficultyConfig = Field(default_factory=DifficultyConfig)
    adaptive: AdaptiveConfig = Field(default_factory=AdaptiveConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    loader: LoaderConfig = Field(default_factory=LoaderConfig)
    runner: RunnerConfig = Field(default_factory=RunnerConfig)
    output_dir: str = "outputs"
    cache_dir: str | None = None
    # the response cache (cache_dir/responses) is pruned to this after each build or refresh, least recently
    # used replies first; 0: no cap
    cache_max_mb: float = Field(default=2048, ge=0)
    seed: int = 0
    # the dataset card's licence, a Hub licence id (cc-by-4.0, apache-2.0, ...); other: the source documents'
    # own terms apply (the questions quote them)
    license: str = "other"

    @field_validator("name")
    @classmethod
    def _name_ok(cls, v: str) -> str:
        if not NAME.fullmatch(v):
            raise ValueError(NAME_RULE)
        return v

    @field_validator("license")
    @classmethod
    def _license_ok(cls, v: str) -> str:
        return license_id(v)

    @model_validator(mode="before")
    @classmethod
    def _no_bool_numbers(cls, data: Any) -> Any:
        # pydantic takes `questions: true` as 1: a number field given true/false is refused by name
        where = bool_for_number(cls, data)
        if where:
            raise ValueError(f"'{where}' is true/false where a number is wanted; write a number (e.g. 10)")
        return data

    @field_validator("since", mode="before")
    @classmethod
    def _since_text(cls, v: Any) -> Any:
        # YAML reads an unquoted `since: 2025-10-01` as a date: it is the date the user meant
        return v.isoformat() if isinstance(v, (date, datetime)) else v

    @field_validator("output_dir", "cache_dir", mode="before")
    @classmethod
    def _expand_home(cls, v: Any) -> Any:
        return str(expand(v)) if isinstance(v, str) and v.startswith("~") else v

    @model_validator(mode="after")
    def _sources_ok(self) -> "BuildConfig":
        if not self.sources and not self.feeds:
            raise ValueError("name at least one source (a file or folder) or a feed (--feed URL)")
        return self

    @model_validator(mode="after")
    def _prices_ok(self) -> "BuildConfig":
        specs = self.model_specs()
        currencies = sorted({s.price.currency for s in specs if s.price is not None})
        if len(currencies) > 1:
            raise ValueError(f"the models' prices are in {', '.join(currencies)}; give every price in one currency")
        unpriced = [s.label for s in specs if s.effective_price is None]
        if self.adaptive.max_cost is not None and unpriced:
            raise ValueError(f"adaptive.max_cost (--max-cost) counts money, but {', '.join(unpriced)} has no price; "
                             "give it one (price: {input_per_million: X, output_per_million: Y}) or use --max-tokens")
        return self

    def resolved_cache_dir(self) -> Path:
        return cache_root(self.cache_dir)

    def public_dict(self) -> dict[str, Any]:
        """The config as it may be written to a manifest: secrets removed. The default runner (threads) is left
        out: where the steps ran decides nothing in a release, and a thread build's manifest stays as it was."""
        exclude = {"runner"} if self.runner == RunnerConfig() else None
        return redact(self.model_dump(mode="json", exclude=exclude))

    def model_specs(self) -> list[ModelSpec]:
        """Every model the config names, in every role."""
        m = self.models
        return [m.generator, *m.targets, *m.judges, *([self.contamination.judge] if self.contamination.judge else [])]

    def stashed(self) -> "BuildConfig":
        """This config safe to hand to a flow or a deployment (Prefect stores both): every model
        URL and feed URL redacted, the raw forms kept in this process's environment (stash), where
        the connections are opened (reveal). Keys stay in the variables `api_key_env` names."""
        safe = UrlStash()

        def spec(s: ModelSpec) -> ModelSpec:
            return stash_model_ref(s, safe)

        m = self.models
        models = m.model_copy(update={"generator": spec(m.generator), "targets": [spec(s) for s in m.targets],
                                      "judges": [spec(s) for s in m.judges]})
        cont = self.contamination
        if cont.judge is not None:
            cont = cont.model_copy(update={"judge": spec(cont.judge)})
        return self.model_copy(update={"models": models, "contamination": cont, "feeds": [safe(f) for f in self.feeds]})


def cache_root(explicit: str | None = None) -> Path:
    root = explicit or os.environ.get("BENCHMINT_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "benchmint"
    )
    return Path(root)


def load_config(path: str | Path | None, overrides: dict[str, Any]) -> BuildConfig:
    """Read a YAML file (optional) and apply CLI overrides (None values ignored)."""
    data: dict[str, Any] = {}
    if path is not None:
        p = expand(path)
        if not p.is_file():
            raise ConfigError(f"config file {escape_undecodable(str(p))} does not exist; write one or drop --config")
        try:
            text = p.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ConfigError(f"config file {p} is not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset "
                              f"{exc.start}); save it as UTF-8") from None
        except OSError as exc:
            raise ConfigError(f"config file {p} cannot be read ({exc.strerror or type(exc).__name__})") from None
        try:
            loaded = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {p} is not valid YAML: {' '.join(str(exc).split())}") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"config file {p} must hold a mapping at the top level")
        data = loaded
    for key, value in overrides.items():
        if value is None:
            continue
        if key == "model":
            data.setdefault("models", {})["generator"] = value
        elif key in ("targets", "judges"):
            data.setdefault("models", {})[key] = value
        elif key in ("rounds", "max_tokens", "max_cost"):
            data.setdefault("adaptive", {})[key] = value
        elif key == "band":
            data.setdefault("difficulty", {})["band"] = value
        elif key in ("runner", "dask_address", "dask_workers"):
            runner = data.get("runner") if isinstance(data.get("runner"), dict) else {}
            field = {"runner": "kind", "dask_address": "address", "dask_workers": "workers"}[key]
            data["runner"] = {**runner, field: value}
            if key != "runner" and overrides.get("runner") is None:
                data["runner"]["kind"] = "dask"  # --dask-address or --dask-workers alone means a Dask build
        else:
            data[key] = value
    if not data.get("name") and (data.get("sources") or data.get("feeds")):
        # no --name: the first source's folder or file name, or the first feed's host (outputs/<name>/...)
        if data.get("sources"):
            first = data["sources"][0]
        else:
            first = re.sub(r"^\w+://", "", redact_url(str(data["feeds"][0]))).split("/")[0]
        stem = Path(str(first).rstrip("/")).stem if data.get("sources") else first
        data["name"] = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-.") or "benchmark"
    try:
        return BuildConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"config{' ' + str(path) if path else ''}: {first_error(exc)}") from None
    except ConfigError:
        raise


