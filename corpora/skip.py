"""Why a source was not loaded: one exception type carrying a short kind and a reason for people."""

from __future__ import annotations

from benchmint.records import SkippedSource

# The kinds a skipped source can carry (SkippedSource.kind); the reason says the rest in words.
KINDS = (
    "missing", "hidden", "link-broken", "link-loop", "link-outside", "link-folder", "special", "unreadable",
    "unsupported", "empty", "too-large", "timeout", "crashed", "binary", "encoding", "not-prose", "too-short",
    "corrupt", "encrypted", "duplicate",
)


class Unreadable(Exception):
    """A file that cannot become a Document; the message is the reason, `kind` one of KINDS."""

    def __init__(self, reason: str, kind: str = "unreadable") -> None:
        super().__init__(reason)
        self.kind = kind

    def skipped(self, source: str) -> SkippedSource:
        return SkippedSource(source=source, reason=str(self), kind=self.kind)
