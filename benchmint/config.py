"""Build configuration: a YAML file plus CLI overrides, validated with pydantic.

Unknown keys are errors that name the key. Model roles (generator now; judges and
targets later) are ModelSpecs: a `local:` model or any OpenAI-compatible endpoint.
"""

from __future__ import annotations

import os
import re
import types
import typing
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from benchmint.errors import ConfigError
from benchmint.names import NAME, NAME_RULE, escape_undecodable, expand
from benchmint.records import Record
from benchmint.secrets import REDACTED, redact_url, stash

DEFAULT_MODEL = "local:qwen2.5-coder-1.5b"


class ModelSpec(Record):
    """One model behind an OpenAI-compatible endpoint, or an embedded `local:` model."""

    model: str
    base_url: str | None = None
    api_key_env: str | None = None  # the *name* of the variable holding the key
    json_mode: Literal["auto", "json_object_schema", "json_schema", "json_object"] = "auto"
    max_concurrency: int = Field(default=4, ge=1)
    timeout_s: float = Field(default=600.0, gt=0)  # a deadline for one whole reply, however it trickles in
    max_retries: int = Field(default=4, ge=0)
    # One step's total time (every try and the repair try, waits included): bounds a call that would
    # otherwise take (1 + max_retries) x 2 x timeout_s.
    max_call_s: float = Field(default=900.0, gt=0)
    retry_after_max_s: float = Field(default=120.0, ge=0)  # a longer Retry-After fails the step instead of waiting
    # The circuit breaker: this many failed steps in a row on one endpoint stop the build (0: never).
    max_consecutive_failures: int = Field(default=5, ge=0)
    temperature: float = 0.2
    max_tokens: int = Field(default=1200, ge=16)
    n_ctx: int = Field(default=4096, ge=512)  # local models only
    requests_per_minute: float | None = Field(default=None, gt=0)
    """The endpoint's request quota (a hosted API's rate limit), kept on this side: every client of the
    endpoint in the process waits its turn instead of meeting 429s. None: no limit."""
    tokens_per_minute: float | None = Field(default=None, gt=0)
    """The endpoint's token quota (prompt + completion): a request is charged its max_tokens plus an
    estimate of its prompt before it is sent, corrected by the reply's usage. None: no limit."""

    @property
    def is_local(self) -> bool:
        return self.base_url is None and self.model.startswith("local:")

    @property
    def label(self) -> str:
        return self.model if self.is_local else f"{self.model}@{redact_url(self.base_url or '')}"


_URL_REF = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)


def redact_ref(ref: str) -> str:
    """A model reference as an error may show it: the URL redacted (with or without a scheme),
    the model name after '#' kept."""
    url, hash_, name = ref.partition("#")
    if _URL_REF.match(url):
        url = redact_url(url)
    elif any(c in url for c in "@?;"):
        url = redact_url("x://" + url)[len("x://"):]  # `user:KEY@host/v1`: redacted like a URL
    return url + hash_ + name


def parse_model_ref(ref: str | dict[str, Any] | ModelSpec) -> ModelSpec:
    """`local:NAME`, `local:/path/model.gguf`, `URL#model`, or a config mapping. Errors show the
    reference redacted (a URL may carry a key)."""
    if isinstance(ref, ModelSpec):
        return ref
    if isinstance(ref, dict):
        try:
            return ModelSpec.model_validate(ref)
        except ValidationError as exc:
            raise ConfigError(f"invalid model entry {redact(ref)!r}: {_first_error(exc)}") from None
    ref = ref.strip()
    shown = redact_ref(ref)
    if ref.startswith("local:"):
        if ref == "local:":
            raise ConfigError("model 'local:' names no model; try 'local:qwen2.5-coder-1.5b' (see `benchmint models`)")
        return ModelSpec(model=ref)
    if re.match(r"^https?://", ref, re.I):
        if "#" not in ref:
            raise ConfigError(f"model {shown!r} has no model name; write it as URL#model, e.g. http://localhost:8000/v1#my-model")
        url, name = ref.split("#", 1)
        if not name:
            raise ConfigError(f"model {shown!r} has an empty model name after '#'")
        return ModelSpec(model=name, base_url=url, api_key_env="OPENAI_API_KEY")
    raise ConfigError(
        f"model {shown!r} is not understood; use local:NAME (see `benchmint models`), "
        "local:/path/model.gguf, or URL#model for an OpenAI-compatible endpoint"
    )


class _Stash:
    """`stash` over the URLs of one config: two raw URLs with one redacted form would share one
    slot (and one key), so they are refused."""

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}

    def __call__(self, url: str) -> str:
        red = redact_url(url)
        if red != url and self.seen.setdefault(red, url) != url:
            raise ConfigError(f"two URLs differ only in their secrets ({red}); give the keys by variable name "
                              "(api_key_env) instead of in the URLs")
        return stash(url)


def stash_model_ref(ref: Any, stash_url: Any = stash) -> Any:
    """A model reference (string, mapping or ModelSpec) safe to hand to a flow: its URL stashed
    (`benchmint.secrets.stash`) and redacted."""
    if isinstance(ref, ModelSpec):
        return ref.model_copy(update={"base_url": stash_url(ref.base_url)}) if ref.base_url else ref
    if isinstance(ref, dict) and isinstance(ref.get("base_url"), str):
        return {**ref, "base_url": stash_url(ref["base_url"])}
    if isinstance(ref, str) and _URL_REF.match(ref.strip()):
        url, hash_, name = ref.strip().partition("#")
        return stash_url(url) + hash_ + name
    return ref


def stash_model_refs(refs: list[Any]) -> list[Any]:
    """`stash_model_ref` over a list of references (two that differ only in their keys: an error)."""
    one = _Stash()
    return [stash_model_ref(r, one) for r in refs]


class ModelRoles(Record):
    generator: ModelSpec = Field(default_factory=lambda: ModelSpec(model=DEFAULT_MODEL))
    # models under test: they answer every candidate (closed-book, and with the document)
    targets: list[ModelSpec] = Field(default_factory=list)
    # the judge panel (majority vote); empty with targets set: the generator judges alone
    judges: list[ModelSpec] = Field(default_factory=list)

    @field_validator("generator", mode="before")
    @classmethod
    def _parse(cls, v: Any) -> Any:
        return parse_model_ref(v) if isinstance(v, str) else v

    @field_validator("targets", "judges", mode="before")
    @classmethod
    def _parse_list(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = [x for x in v.split(",") if x.strip()]
        return [parse_model_ref(x) if isinstance(x, str) else x for x in v] if isinstance(v, list) else v

    def panel(self) -> list[ModelSpec]:
        return self.judges or ([self.generator] if self.targets else [])


class ChunkingConfig(Record):
    max_tokens: int = Field(default=380, ge=32)
    overlap: int = Field(default=40, ge=0)


Kind = Literal["open", "mcq", "numeric", "tf"]


class GenerationConfig(Record):
    questions_per_chunk: int = Field(default=3, ge=1, le=10)
    # the question mix: kinds take turns over the generation steps (list a kind twice to weight it)
    kinds: list[Kind] = Field(default_factory=lambda: ["open", "mcq"], min_length=1)
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
    sample: int = Field(default=6, ge=1)  # failed and passed questions shown to the evaluator agent
    max_tokens: int | None = Field(default=None, ge=1)  # budget: completion tokens over every role
    # harder forms of the kinds the rounds after round 0 may try, kept when the targets fail them
    # (generators/prompts/tactics.yaml); [] keeps the rounds to the configured kinds
    # (also known: tf:subtle, a false twin built from another value of the passage)
    tactics: list[str] = Field(default_factory=lambda: ["numeric:computed", "mcq:near_miss", "open:reworded"])

    @field_validator("tactics")
    @classmethod
    def _known_tactics(cls, v: list[str]) -> list[str]:
        from generators.prompts import load_tactics

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
    thresholds: dict[str, Any] = Field(default_factory=dict)  # keys of validators.contamination.ContaminationConfig

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
    output_dir: str = "outputs"
    cache_dir: str | None = None
    seed: int = 0

    @field_validator("name")
    @classmethod
    def _name_ok(cls, v: str) -> str:
        if not NAME.fullmatch(v):
            raise ValueError(NAME_RULE)
        return v

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

    def resolved_cache_dir(self) -> Path:
        return cache_root(self.cache_dir)

    def public_dict(self) -> dict[str, Any]:
        """The config as it may be written to a manifest: secrets removed."""
        return redact(self.model_dump(mode="json"))

    def model_specs(self) -> list[ModelSpec]:
        """Every model the config names, in every role."""
        m = self.models
        return [m.generator, *m.targets, *m.judges, *([self.contamination.judge] if self.contamination.judge else [])]

    def stashed(self) -> "BuildConfig":
        """This config safe to hand to a flow or a deployment (Prefect stores both): every model
        URL and feed URL redacted, the raw forms kept in this process's environment (stash), where
        the connections are opened (reveal). Keys stay in the variables `api_key_env` names."""
        safe = _Stash()

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
        elif key in ("rounds", "max_tokens"):
            data.setdefault("adaptive", {})[key] = value
        elif key == "band":
            data.setdefault("difficulty", {})["band"] = value
        else:
            data[key] = value
    if not data.get("name") and (data.get("sources") or data.get("feeds")):
        # no --name: the first source's folder or file name, or the first feed's host (outputs/<name>/...)
        first = data["sources"][0] if data.get("sources") else re.sub(r"^\w+://", "", redact_url(str(data["feeds"][0]))).split("/")[0]
        stem = Path(str(first).rstrip("/")).stem if data.get("sources") else first
        data["name"] = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-.") or "benchmark"
    try:
        return BuildConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"config{' ' + str(path) if path else ''}: {_first_error(exc)}") from None
    except ConfigError:
        raise


def _number_type(tp: Any) -> bool:
    args = typing.get_args(tp) if typing.get_origin(tp) in (typing.Union, types.UnionType) else (tp,)
    return any(a in (int, float) for a in args)


def _sub_models(tp: Any) -> list[type[BaseModel]]:
    """Record types a field holds: itself, its optional form, or the items of a list."""
    found = []
    for a in (tp, *typing.get_args(tp)):
        if isinstance(a, type) and issubclass(a, BaseModel):
            found.append(a)
    return found


def bool_for_number(model: type[BaseModel], data: Any, loc: str = "") -> str | None:
    """The dotted key of the first number field of `model` that `data` gives as true/false, or None."""
    if not isinstance(data, dict):
        return None
    for key, value in data.items():
        f = model.model_fields.get(key) if isinstance(key, str) else None
        if f is None:
            continue
        where = f"{loc}{key}"
        if isinstance(value, bool) and _number_type(f.annotation):
            return where
        for sub in _sub_models(f.annotation):
            items = value if isinstance(value, list) else [value]
            for i, item in enumerate(items):
                found = bool_for_number(sub, item, f"{where}.{i}." if isinstance(value, list) else f"{where}.")
                if found:
                    return found
    return None


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
    if err["type"] == "extra_forbidden":
        return f"unknown key '{loc}'; remove it or check its spelling"
    if err["type"] == "missing":
        return f"missing key '{loc}'"
    msg = str(err["msg"]).removeprefix("Value error, ")
    return msg if loc == "(top level)" else f"'{loc}': {msg}"


_SECRET_KEY = re.compile(r"(api[_-]?key|token|secret|password|authorization)$", re.I)


def redact(obj: Any) -> Any:
    """Recursively remove secrets: values of secret-named keys, credentials in URLs."""
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if isinstance(k, str) and _SECRET_KEY.search(k) and not k.endswith("_env"):
                out[k] = REDACTED if v else v
            else:
                out[k] = redact(v)
        return out
    if isinstance(obj, list):
        return [redact(v) for v in obj]
    if isinstance(obj, str) and _URL_REF.match(obj):
        return redact_url(obj)
    return obj
