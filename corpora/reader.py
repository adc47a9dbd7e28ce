"""Reads files one at a time in a worker process, so that a time budget per file can be enforced.

A parser stuck on a hostile file (a PDF whose streams expand without end, markup that sends a library
into super-linear work) cannot be interrupted inside this process, so the worker is killed at the
budget and the next file gets a fresh one. The worker comes from a forkserver that has imported the
readers once, so starting one costs a fork, not an interpreter start. With a budget of 0, or where no
worker process can be started, files are read in this process without a budget (logged).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from pathlib import Path
from typing import Any

from benchmint.records import Document
from corpora.clean import clean_title
from corpora.skip import Unreadable
from corpora.walk import Entry

log = logging.getLogger(__name__)
_STARTUP_S = 120.0  # the first worker waits on the forkserver importing the readers


class FileReader:
    """`load(entry)` -> Document, or Unreadable (including "timeout" and "crashed")."""

    def __init__(self, max_bytes: int, max_seconds: float) -> None:
        self.max_bytes = max_bytes
        self.max_seconds = max_seconds
        self._proc: Any = None
        self._conn: Any = None
        self._in_process = max_seconds <= 0

    def __enter__(self) -> "FileReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def load(self, entry: Entry) -> Document:
        if not self._in_process and self._proc is None:
            self._start()
        if self._in_process:
            reply = _read(os.fsencode(entry.path), entry.name, self.max_bytes)
        else:
            self._conn.send((os.fsencode(entry.path), entry.name))
            if not self._conn.poll(self.max_seconds):
                self._stop(kill=True)
                raise Unreadable(f"reading took longer than the {self.max_seconds:g} s budget per file "
                                 "(loader.max_file_seconds); stopped", "timeout")
            try:
                reply = self._conn.recv()
            except (EOFError, OSError):
                code = self._stop(kill=True)
                raise Unreadable(f"the reader process died on this file (exit code {code}); not read",
                                 "crashed") from None
        if reply[0] == "ok":
            return Document.model_validate(reply[1])
        raise Unreadable(reply[1], reply[2])

    def _start(self) -> None:
        try:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["corpora.documents", "pypdf", "trafilatura"])
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_serve, args=(child, self.max_bytes), name="benchmint-reader", daemon=True)
            proc.start()
            child.close()
            if not parent.poll(_STARTUP_S) or parent.recv() != "ready":
                raise OSError("the reader process did not start")
        except (OSError, EOFError, ValueError, RuntimeError) as exc:
            log.warning("no reader process (%s); reading files in this process, without a time budget", exc)
            self._in_process = True
            return
        self._proc, self._conn = proc, parent

    def _stop(self, kill: bool = False) -> int | None:
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        if proc is None:
            return None
        try:
            if kill:
                proc.kill()
            else:
                conn.send(None)
            proc.join(10)
            if proc.is_alive():
                proc.kill()
                proc.join(10)
        except (OSError, ValueError):
            pass
        finally:
            conn.close()
        return proc.exitcode

    def close(self) -> None:
        self._stop()


def _serve(conn: Any, max_bytes: int) -> None:
    """The worker: read each file it is sent, answer with _read's reply."""
    import corpora.documents  # noqa: F401 - imported before "ready", so the budget covers reading only

    conn.send("ready")
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        conn.send(_read(msg[0], msg[1], max_bytes))


def _read(raw_path: bytes, name: str, max_bytes: int) -> tuple:
    """("ok", document fields) or ("skip", reason, kind)."""
    from corpora.documents import load_file

    try:
        return ("ok", load_file(Path(os.fsdecode(raw_path)), name, max_bytes).model_dump())
    except Unreadable as exc:
        return ("skip", str(exc), exc.kind)
    except OSError as exc:
        return ("skip", f"cannot read: {exc.strerror or exc}", "unreadable")
    except MemoryError:
        return ("skip", "reading it ran out of memory; not read", "too-large")
    except Exception as exc:  # noqa: BLE001 - a reader bug on one file must not end the run; it is reported
        log.debug("reader failed on %s", name, exc_info=True)  # the reason carries the gist
        return ("skip", f"the reader failed on this file ({type(exc).__name__}: {clean_title(str(exc), 200)})",
                "crashed")
