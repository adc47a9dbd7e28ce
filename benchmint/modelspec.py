"""Model references and the model roles of a build: a `local:` model or any OpenAI-compatible endpoint
(`URL#model`), parsed into a ModelSpec; its URL redacted for errors and stashed for a flow's parameters."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator

from benchmint.config_errors import first_error
from benchmint.cost import FREE, Price
from benchmint.errors import ConfigError
from benchmint.records import Record
from benchmint.secrets import URL_REF, redact, redact_url, stash

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
    sampling: dict[str, float | int | bool | str] = Field(default_factory=dict)
    """Further sampling parameters sent as they are in every request, as the endpoint names them
    (llama.cpp: repeat_penalty, top_k, min_p; vLLM: repetition_penalty; OpenAI: top_p, frequency_penalty)."""
    n_ctx: int = Field(default=4096, ge=512)  # local models only
    speculative: str = Field(default="", pattern=r"^(|ngram-(simple|map-k|map-k4v|mod|cache)( [-\w. ]*)?)$")
    """A local model's draft-free speculative decoding: llama-server's `--spec-type`, optionally with its flags
    ("ngram-simple --spec-ngram-simple-size-n 4 --spec-ngram-simple-size-m 16": drafts copied from the prompt,
    as a question's verbatim citations are; 15-20% more tokens/s on Qwen 1.5B here, BENCHMARKS.md). "": off.
    The first role of a GGUF decides for its one server."""
    requests_per_minute: float | None = Field(default=None, gt=0)
    """The endpoint's request quota (a hosted API's rate limit), kept on this side: every client of the
    endpoint in the process waits its turn instead of meeting 429s. None: no limit."""
    tokens_per_minute: float | None = Field(default=None, gt=0)
    """The endpoint's token quota (prompt + completion): a request is charged its max_tokens plus an
    estimate of its prompt before it is sent, corrected by the reply's usage. None: no limit."""
    price: Price | None = None
    """What the endpoint charges per million tokens (benchmint.cost). None: a local model costs nothing,
    an endpoint's money is not counted (its tokens are)."""

    @property
    def effective_price(self) -> Price | None:
        """The price money is counted at: the configured one, free for a local model, else None (unpriced)."""
        return self.price if self.price is not None else FREE if self.is_local else None

    @property
    def is_local(self) -> bool:
        return self.base_url is None and self.model.startswith("local:")

    @property
    def label(self) -> str:
        return self.model if self.is_local else f"{self.model}@{redact_url(self.base_url or '')}"


def redact_ref(ref: str) -> str:
    """A model reference as an error may show it: the URL redacted (with or without a scheme),
    the model name after '#' kept."""
    url, hash_, name = ref.partition("#")
    if URL_REF.match(url):
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
            raise ConfigError(f"invalid model entry {redact(ref)!r}: {first_error(exc)}") from None
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


class UrlStash:
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
    if isinstance(ref, str) and URL_REF.match(ref.strip()):
        url, hash_, name = ref.strip().partition("#")
        return stash_url(url) + hash_ + name
    return ref


def stash_model_refs(refs: list[Any]) -> list[Any]:
    """`stash_model_ref` over a list of references (two that differ only in their keys: an error)."""
    one = UrlStash()
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
