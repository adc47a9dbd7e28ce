"""Reads files one at a time in a worker process, so that a time budget per file can be enforced.

A parser stuck on a hostile file (a PDF whose streams expand without end, markup that sends a library
into super-linear work) cannot be interrupted inside this process, so the worker is killed at the
budget and the next file gets a fresh one. The worker is a fresh interpreter (`python -m corpora.reader`)
talking over a pipe pair: unlike multiprocessing's spawn and forkserver it never re-runs the caller's
main script, and unlike fork it copies no threads' locks. It imports the readers before it says it is
ready, so the budget covers reading only. With a budget of 0, or where no worker can be started, files
are read in this process without a budget (logged).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from benchmint.records import Document
from corpora.clean import clean_title
from corpora.skip import Unreadable
from corpora.walk import Entry

log = logging.getLogger(__name__)
_STARTUP_S = 120.0  # a loaded machine can take long to import the readers
_ROOT = str(Path(__file__).resolve().parent.parent)  # the folder holding the corpora package


class FileReader:
    """`load(entry)` -> Document, or Unreadable (including "timeout" and "crashed")."""

    def __init__(self, max_bytes: int, max_seconds: float) -> None:
        self.max_bytes = max_bytes
        self.max_seconds = max_seconds
        self._proc: subprocess.Popen | None = None
        self._conn_in: Any = None
        self._conn_out: Any = None
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
            try:
                self._conn_out.send((os.fsencode(os.path.abspath(entry.path)), entry.name))
                answered = self._conn_in.poll(self.max_seconds)
            except OSError:  # the worker is gone: poll answers at once, recv below reports it
                answered = True
            if not answered:
                self._stop(kill=True)
                raise Unreadable(f"reading took longer than the {self.max_seconds:g} s budget per file "
                                 "(loader.max_file_seconds); stopped", "timeout")
            try:
                reply = self._conn_in.recv()
            except (EOFError, OSError):
                code = self._stop(kill=True)
                raise Unreadable(f"the reader process died on this file (exit code {code}); not read",
                                 "crashed") from None
        if reply[0] == "ok":
            return Document.model_validate(reply[1])
        raise Unreadable(reply[1], reply[2])

    def _start(self) -> None:
        to_child_r, to_child_w = os.pipe()
        to_parent_r, to_parent_w = os.pipe()
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([_ROOT, *filter(None, [os.environ.get("PYTHONPATH")])]))
        proc = conn_in = conn_out = None
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "corpora.reader", str(to_child_r), str(to_parent_w), str(self.max_bytes)],
                pass_fds=(to_child_r, to_parent_w), env=env,
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            conn_in, conn_out = Connection(to_parent_r, writable=False), Connection(to_child_w, readable=False)
            to_parent_r = to_child_w = -1  # owned by the connections now
            if not conn_in.poll(_STARTUP_S) or conn_in.recv() != "ready":
                raise OSError("the reader process did not start")
        except (OSError, EOFError, ValueError) as exc:
            log.warning("no reader process (%s); reading files in this process, without a time budget", exc)
            for conn in (conn_in, conn_out):
                if conn is not None:
                    conn.close()
            if proc is not None:
                proc.kill()
                proc.wait()
            self._in_process = True
            return
        finally:
            for fd in (to_child_r, to_parent_w, to_parent_r, to_child_w):
                if fd >= 0:
                    os.close(fd)
        self._proc, self._conn_in, self._conn_out = proc, conn_in, conn_out

    def _stop(self, kill: bool = False) -> int | None:
        proc = self._proc
        if proc is None:
            return None
        try:
            if not kill:
                self._conn_out.send(None)
                proc.wait(10)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            pass
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            self._conn_in.close()
            self._conn_out.close()
            self._proc = self._conn_in = self._conn_out = None
        return proc.returncode

    def close(self) -> None:
        self._stop()


def _serve(conn_in: Connection, conn_out: Connection, max_bytes: int) -> None:
    """The worker: read each file it is sent, answer with _read's reply."""
    import pypdf  # noqa: F401
    import trafilatura  # noqa: F401

    import corpora.documents  # noqa: F401 - imported before "ready", so the budget covers reading only

    conn_out.send("ready")
    while True:
        try:
            msg = conn_in.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        conn_out.send(_read(msg[0], msg[1], max_bytes))


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


if __name__ == "__main__":
    logging.disable(logging.WARNING)  # the parent reports every outcome; library chatter has no reader
    _serve(Connection(int(sys.argv[1]), writable=False), Connection(int(sys.argv[2]), readable=False), int(sys.argv[3]))
