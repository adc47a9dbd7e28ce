"""Every log record of this process scrubbed of remembered secrets before any handler sees it.

Installed as the log record factory rather than as a handler filter: a filter on a logger does
not see records that propagate from its children, and Prefect adds its own handlers (the API
log handler that writes to the Prefect database, the console handler) that no filter of ours
is attached to. A record is made once, so scrubbing it at creation covers every handler.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from collections.abc import Iterable
from types import TracebackType

from benchmint.secrets import key_env_values, remember_env, remember_stashed, scrub

_installed = False
_lock = threading.Lock()


def scrub_record(record: logging.LogRecord) -> logging.LogRecord:
    """The record with its message, traceback and stack scrubbed (formatted once, here)."""
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a bad format string: keep the record as logging would show it
        message = f"{record.msg} {record.args}"
    clean = scrub(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[0] is not None:
        text = logging.Formatter().formatException(record.exc_info)
        clean = scrub(text)
        if clean != text:
            # handlers that render exc_info themselves (rich) would show the raw traceback
            record.exc_info, record.exc_text = None, clean
    if record.stack_info:
        record.stack_info = scrub(record.stack_info)
    return record


def install_log_scrubber(key_envs: Iterable[str | None] = ()) -> None:
    """Scrub every log record made from now on in this process (idempotent), after remembering
    the values of `key_envs` (API key variables) and of every stashed URL's secrets."""
    global _installed
    remember_env(key_envs)
    remember_stashed()
    with _lock:
        if _installed:
            return
        make = logging.getLogRecordFactory()

        def factory(*args, **kwargs) -> logging.LogRecord:  # noqa: ANN002, ANN003 - logging's signature
            return scrub_record(make(*args, **kwargs))

        logging.setLogRecordFactory(factory)
        _installed = True


def scrubbing_excepthook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    """sys.excepthook: an unexpected traceback, printed scrubbed of every remembered secret and of
    the values of key-named environment variables."""
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    sys.stderr.write(scrub(text, key_env_values()))
    sys.stderr.flush()
