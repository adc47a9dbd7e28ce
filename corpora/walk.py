"""Sources -> the files to read, and every other entry met on the way with the reason it is not read.

Nothing met in a walked folder vanishes: dot-files and dot-folders, broken links, link loops, links
leaving the folder (not followed), links to folders inside it (walked once, where they are), FIFOs,
sockets, devices and folders that cannot be listed are each reported by name. Named sources are taken
as named (a link the user names is followed); a folder is walked without following links out of it.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from benchmint.records import SkippedSource


@dataclass(frozen=True)
class Entry:
    """One file to read: its path, and the name it is reported under (display_name of the path)."""

    path: Path
    name: str


def display_name(path: str | os.PathLike[str]) -> str:
    """The path as text that any JSON, log or Markdown writer accepts, on one line.

    Bytes that are not UTF-8 (kept by the OS as surrogates) become `\\xNN`; control and format characters
    (newlines, bidi overrides) become `\\xNN` / `\\uNNNN`, so a file name cannot start a heading or a new
    log line.
    """
    text = os.fsencode(path).decode("utf-8", "backslashreplace")
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")
                   for c in text)


def _special_kind(mode: int) -> str:
    for test, what in ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")):
        if test(mode):
            return what
    return "not a regular file"


def _skip(path: str | os.PathLike[str], reason: str, kind: str) -> SkippedSource:
    return SkippedSource(source=display_name(path), reason=reason, kind=kind)


def _inside(real: str, root_real: str) -> bool:
    return real == root_real or real.startswith(root_real.rstrip(os.sep) + os.sep)


def walk_sources(sources: Iterable[str]) -> tuple[list[Entry], list[SkippedSource]]:
    """Files to read (stable order, each real file once) and every entry that will not be read."""
    files: list[Entry] = []
    skipped: list[SkippedSource] = []
    for src in sources:
        p = Path(src).expanduser()
        if any(ch in src for ch in "*?[") and not os.path.lexists(p):
            matched = sorted(Path().glob(src)) if not p.is_absolute() else sorted(Path("/").glob(src.lstrip("/")))
            if not matched:
                skipped.append(SkippedSource(source=src, reason="the pattern matches no file", kind="missing"))
            for m in matched:
                _named(m, files, skipped)
        else:
            _named(p, files, skipped)
    return _unique(files, skipped), skipped


def _named(p: Path, files: list[Entry], skipped: list[SkippedSource]) -> None:
    """A source the user named: followed if a link; a folder is walked, a file read."""
    try:
        st = os.stat(p)
    except OSError as exc:
        if not os.path.lexists(p):
            skipped.append(SkippedSource(source=display_name(p), reason="no such file or folder", kind="missing"))
        else:
            skipped.append(_link_error(p, exc))
        return
    if stat.S_ISDIR(st.st_mode):
        _walk(p, files, skipped)
    elif stat.S_ISREG(st.st_mode):
        files.append(Entry(p, display_name(p)))
    else:
        skipped.append(_skip(p, f"{_special_kind(st.st_mode)}, not a file; not read", "special"))


def _link_error(p: Path, exc: OSError) -> SkippedSource:
    if exc.errno == errno.ELOOP:
        return _skip(p, "symbolic link loop (the link leads back to itself); not followed", "link-loop")
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        try:
            target = os.readlink(p)
        except OSError:
            target = "?"
        return _skip(p, f"broken symbolic link (its target {display_name(target)} does not exist)", "link-broken")
    return _skip(p, f"cannot read: {exc.strerror or exc}", "unreadable")


def _walk(root: Path, files: list[Entry], skipped: list[SkippedSource]) -> None:
    root_real = os.path.realpath(root)
    found: list[Entry] = []
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            skipped.append(_skip(folder, f"cannot read folder: {exc.strerror or exc}; nothing in it was read",
                                 "unreadable"))
            continue
        subfolders = []
        for e in entries:
            path = Path(e.path)
            try:
                is_link = e.is_symlink()
                if e.name.startswith("."):
                    what = "folder" if e.is_dir(follow_symlinks=False) else "file"
                    skipped.append(_skip(path, f"hidden {what} (its name starts with '.'); not read", "hidden"))
                elif is_link:
                    _link(path, root_real, found, skipped)
                elif e.is_dir(follow_symlinks=False):
                    subfolders.append(path)
                elif e.is_file(follow_symlinks=False):
                    found.append(Entry(path, display_name(path)))
                else:
                    mode = e.stat(follow_symlinks=False).st_mode
                    skipped.append(_skip(path, f"{_special_kind(mode)}, not a file; not read", "special"))
            except OSError as exc:
                skipped.append(_skip(path, f"cannot read: {exc.strerror or exc}", "unreadable"))
        stack.extend(reversed(subfolders))
    files.extend(sorted(found, key=lambda f: f.path))  # the order of a sorted recursive listing


def _link(path: Path, root_real: str, files: list[Entry], skipped: list[SkippedSource]) -> None:
    """A link met while walking: followed only to a file inside the walked folder."""
    try:
        st = os.stat(path)
    except OSError as exc:
        skipped.append(_link_error(path, exc))
        return
    real = os.path.realpath(path)
    if not _inside(real, root_real):
        skipped.append(_skip(path, f"symbolic link to {display_name(real)}, outside the walked folder; not followed",
                             "link-outside"))
    elif stat.S_ISDIR(st.st_mode):
        skipped.append(_skip(path, f"symbolic link to the folder {display_name(real)} inside the walked folder; "
                                   "not followed (that folder is walked where it is)", "link-folder"))
    elif stat.S_ISREG(st.st_mode):
        files.append(Entry(path, display_name(path)))
    else:
        skipped.append(_skip(path, f"symbolic link to {_special_kind(st.st_mode)}; not read", "special"))


def _unique(files: list[Entry], skipped: list[SkippedSource]) -> list[Entry]:
    """Each real file once; a second path to it (a link, a source named twice) is reported."""
    owner: dict[str, str] = {}  # real path -> the name it is read under
    for f in sorted(files, key=lambda f: f.path.is_symlink()):  # real paths claim their files before links
        owner.setdefault(os.path.realpath(f.path), f.name)
    out: list[Entry] = []
    done: set[str] = set()
    for f in files:
        real = os.path.realpath(f.path)
        if owner[real] != f.name:
            skipped.append(SkippedSource(source=f.name, reason=f"the same file as {owner[real]}", kind="duplicate"))
        elif real not in done:  # (the same path named twice is read once, quietly)
            done.add(real)
            out.append(f)
    return out
