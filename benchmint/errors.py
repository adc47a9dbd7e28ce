"""Errors a user can cause. The CLI prints each as one clear line, never a traceback."""


class BenchmintError(Exception):
    """Base class: the message names the thing that is wrong and the fix."""


class ConfigError(BenchmintError):
    pass


class ModelError(BenchmintError):
    """A model could not be resolved, started or reached."""


class ModelOutputError(BenchmintError):
    """A model answered, but not in the requested schema (after one repair try)."""


class NothingToPublish(BenchmintError):
    pass


class SourceError(BenchmintError):
    pass
