"""One writer per benchmark: `build` and `refresh` of one name hold the same lock for their whole run.

The lock is an flock on outputs/<name>/.run.lock, so the kernel drops it when its holder dies (kill -9
included) and a stale lock never blocks anyone. The holder writes what it is (build or refresh, its pid,
its host, when it started) into the file, so a second run names it in its one-line message. On taking
the lock, the run repairs what a killed writer may have left: `latest` is pointed at the newest
complete version (see release.repair).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmint.errors import BenchmintError

LOCK_NAME = ".run.lock"
PUBLISH_LOCK_NAME = ".lock"
"""The lock release.publish holds while it writes a version."""


def _record(fh) -> dict[str, Any] | None:  # noqa: ANN001 - an open text file
    """The holder's record in the lock file; None when it holds none (a holder truncates it as it ends)."""
    fh.seek(0)
    try:
        h = json.loads(fh.read() or "null")
    except ValueError:
        return None
    return h if isinstance(h, dict) and h else None


def _holder(fh) -> str:  # noqa: ANN001 - an open text file
    h = _record(fh) or {}
    try:
        return f"a {h['kind']} (pid {h['pid']} on {h['host']}, since {h['since']})"
    except KeyError:
        return "another build or refresh"


def acquire(fh, wait_s: float, busy: Callable[[], str]) -> None:  # noqa: ANN001 - an open file
    """Take an exclusive flock on `fh`, waiting up to `wait_s` seconds; then one line, `busy()`."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise BenchmintError(busy()) from None
            time.sleep(min(0.5, max(0.01, deadline - time.monotonic())))


@contextlib.contextmanager
def run_lock(bench_dir: Path, kind: str, wait_s: float = 0.0,
             note: dict[str, str] | None = None) -> Iterator[dict[str, Any] | None]:
    """Hold the run lock of the benchmark in `bench_dir` while a `kind` ("build", "refresh") runs.

    A second run waits up to `wait_s` seconds, then stops with one line naming the holder. `note`: more to
    write in the holder's record (its Prefect flow run). Gives the record a holder that died left (killed
    before it ended: kill -9, a lost machine), None after a clean end."""
    from benchmint.release import repair

    lock_path = bench_dir / LOCK_NAME
    busy = lambda: (  # noqa: E731 - named once, used by acquire
        f"{bench_dir.name} is busy: {_holder(fh)} holds {lock_path}; one build or refresh of a "
        "benchmark runs at a time, so wait for it to end (or pass --wait SECONDS)")
    while True:
        try:
            bench_dir.mkdir(parents=True, exist_ok=True)
            fh = open(lock_path, "a+", encoding="utf-8")
        except OSError as exc:
            raise BenchmintError(f"cannot write in {bench_dir} ({exc.strerror or type(exc).__name__}); "
                                 "pass a writable --output-dir") from None
        try:
            acquire(fh, wait_s, busy)
        except BaseException:
            fh.close()
            raise
        if _same_file(fh, lock_path):
            break
        # the holder we waited on removed the folder it had made; lock the file that is there now
        fh.close()
    with fh:
        try:
            died = _record(fh)
            fh.seek(0)
            fh.truncate()
            fh.write(json.dumps({"kind": kind, "pid": os.getpid(), "host": socket.gethostname(),
                                 "since": datetime.now(timezone.utc).isoformat(timespec="seconds"), **(note or {})}))
            fh.flush()
            repair(bench_dir)
            yield died
        finally:
            with contextlib.suppress(OSError):
                fh.seek(0)
                fh.truncate()
            # a folder holding only the locks is no benchmark: a run that published nothing leaves no trace
            with contextlib.suppress(OSError):
                left = {p.name for p in bench_dir.iterdir()}
                if left <= {LOCK_NAME, PUBLISH_LOCK_NAME}:  # publish's lock is only taken under this one
                    for name in sorted(left - {LOCK_NAME}):
                        (bench_dir / name).unlink()
                    lock_path.unlink()
                    bench_dir.rmdir()
            fcntl.flock(fh, fcntl.LOCK_UN)


def _same_file(fh, path: Path) -> bool:  # noqa: ANN001 - an open file
    try:
        return os.fstat(fh.fileno()).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False
