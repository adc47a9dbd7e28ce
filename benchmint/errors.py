"""Errors a user can cause. The CLI prints each as one clear line, never a traceback."""


class BenchmintError(Exception):
    """Base class: the message names the thing that is wrong and the fix."""


class ConfigError(BenchmintError):
    pass


class ModelError(BenchmintError):
    """A model could not be resolved, started or reached."""


class ModelOutputError(BenchmintError):
    """A model answered, but not in the requested schema (after one repair try)."""

    kind = "schema"  # the fault kind recorded in the manifest


class ModelFault(ModelError):
    """One step's reply was not usable after the retries (a 5xx, a timeout, a truncated or HTML body,
    an error object, a refused request): recorded for that step, and the build goes on."""

    def __init__(self, message: str, kind: str = "fault"):
        super().__init__(message)
        self.kind = kind  # server_error, rate_limited, timeout, connection, not_json, html, error_object, rejected

    def __reduce__(self):  # noqa: ANN204 - pickled with its kind (Prefect keeps task exceptions)
        return (type(self), (str(self), self.kind))


class EndpointDown(BenchmintError):
    """An endpoint failed `max_consecutive_failures` steps in a row (the circuit breaker): the build stops."""


class NothingToPublish(BenchmintError):
    pass


class SourceError(BenchmintError):
    pass
