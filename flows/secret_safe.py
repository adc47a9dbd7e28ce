"""Prefect flows whose stored parameters never hold a secret, however they are called.

Prefect writes a flow run's parameters (and a deployment's) to its database, shows them in the
UI and logs them on a validation error. The CLI already hands flows configs whose URLs are
redacted (`BuildConfig.stashed`); a flow called from Python with a raw config gets the same
treatment here, before the run is created: its parameters pass through `safe_parameters` (which
stashes the URLs and installs the log scrubber), and what Prefect serializes is redacted once
more as a last net.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from prefect import Flow
from prefect.task_runners import TaskRunner
from prefect.utilities.callables import get_call_parameters

from benchmint.config import BuildConfig
from benchmint.errors import BenchmintError
from benchmint.logscrub import install_log_scrubber
from benchmint.modelspec import stash_model_refs
from benchmint.secrets import redact, scrub

Params = dict[str, Any]


class SecretSafeFlow(Flow):
    """A flow whose parameters are made safe (`safe_parameters`) before Prefect sees them.
    An error whose message echoes a secret leaves the flow scrubbed. `runner_for` (optional) names
    the task runner the parameters ask for (a Dask build's config): a call runs on it."""

    def __init__(self, fn: Callable[..., Any], safe_parameters: Callable[[Params], Params],
                 runner_for: Callable[[Params], TaskRunner | None] | None = None, **kwargs: Any):
        @functools.wraps(fn)
        def run(*args: Any, **kw: Any) -> Any:
            with scrubbing_errors():  # Prefect keeps a failed run's message in its database
                return fn(*args, **kw)

        super().__init__(fn=run, **kwargs)
        self.safe_parameters = safe_parameters
        self.runner_for = runner_for

    def __call__(self, *args: Any, return_state: bool = False, wait_for: Any = None, **kwargs: Any) -> Any:
        params = self.safe_parameters(get_call_parameters(self.fn, args, kwargs))
        runner = self.runner_for(params) if self.runner_for is not None else None
        if runner is not None and type(runner) is not type(self.task_runner):
            return self.with_options(task_runner=runner)(**params, return_state=return_state, wait_for=wait_for)
        return super().__call__(**params, return_state=return_state, wait_for=wait_for)

    def with_options(self, **kwargs: Any) -> "SecretSafeFlow":
        # Prefect's copy is a plain Flow, which would store raw parameters: the copy keeps this class's guards
        new = super().with_options(**kwargs)
        new.__class__ = type(self)
        new.safe_parameters, new.runner_for = self.safe_parameters, self.runner_for
        return new

    def serialize_parameters(self, parameters: Params) -> Params:
        return redact(super().serialize_parameters(parameters))

    def serve(self, *args: Any, parameters: Params | None = None, **kwargs: Any) -> Any:
        return super().serve(*args, parameters=self.safe_parameters(parameters) if parameters else None, **kwargs)


def secret_safe_flow(safe_parameters: Callable[[Params], Params],
                     runner_for: Callable[[Params], TaskRunner | None] | None = None,
                     **flow_kwargs: Any) -> Callable[..., SecretSafeFlow]:
    """`@flow(...)` for a SecretSafeFlow."""
    return lambda fn: SecretSafeFlow(fn, safe_parameters, runner_for, **flow_kwargs)


def safe_config_params(params: Params) -> Params:
    """`config` (a BuildConfig as a dict) with every URL stashed; an invalid config is only
    redacted (the flow then fails on it as before, with nothing secret stored)."""
    config = params.get("config")
    if not isinstance(config, (dict, BuildConfig)):
        return params
    try:
        cfg = BuildConfig.model_validate(config)
    except (ValueError, BenchmintError):
        return {**params, "config": redact(config if isinstance(config, dict) else config.model_dump(mode="json"))}
    install_log_scrubber(s.api_key_env for s in cfg.model_specs())
    return {**params, "config": cfg.stashed().model_dump(mode="json")}


def safe_model_params(params: Params) -> Params:
    """`models` and `judges` (model references) with every URL stashed."""
    from benchmint.modelspec import parse_model_ref

    models, judges = params.get("models") or [], params.get("judges") or []
    if not isinstance(models, list) or not isinstance(judges, list):
        return params  # the flow's parameter validation reports it
    safe = stash_model_refs([*models, *judges])
    envs = []
    for ref in safe:
        try:
            envs.append(parse_model_ref(ref).api_key_env)
        except BenchmintError:
            pass  # the flow reports it
    install_log_scrubber(envs)
    out = {**params, "models": safe[:len(models)]}
    if "judges" in params:
        out["judges"] = safe[len(models):]
    return out


def scrubbed_error(exc: BaseException) -> BaseException:
    """`exc`, or one of its type with a scrubbed message when its message echoes a secret
    (Prefect keeps a failed run's message in its database)."""
    text = str(exc)
    clean = scrub(text)
    if clean == text:
        return exc
    try:
        return type(exc)(clean)
    except Exception:  # noqa: BLE001 - an exception type that takes other arguments
        return RuntimeError(f"{type(exc).__name__}: {clean}")


@contextmanager
def scrubbing_errors() -> Iterator[None]:
    """Re-raise an error whose message echoes a secret with the message scrubbed."""
    try:
        yield
    except Exception as exc:
        err = scrubbed_error(exc)
        if err is exc:
            raise
        raise err from None


def secured(config: Params | BuildConfig) -> BuildConfig:
    """The config a flow body works with: URLs stashed (a no-op for the CLI's redacted configs;
    a deployment made elsewhere may hold raw ones), log records scrubbed of its keys' values and
    of every stashed secret (a scheduled run of `benchmint serve` is a child process: it inherits
    the stash, not the memory)."""
    cfg = BuildConfig.model_validate(config)
    install_log_scrubber(s.api_key_env for s in cfg.model_specs())
    return cfg.stashed()
