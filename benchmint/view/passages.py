"""Where a question's citations are in the text the release holds, for highlighting.

A release keeps the source text of its published questions (the export rows' `context`: the text of
the question's chunks), not the documents: a citation's start/end are offsets into the document, so the
quote itself is looked up in the text, as grounding did (exact, then normalized, then fuzzy). A rejected
candidate's passage is not published; the text of a published question from the same chunks stands in
for it, or the text around the quote in another passage of the same document, and the page says which.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz

from benchmint.records import normalize_text, normalize_with_map

MIN_RATIO = 90.0  # grounding's default: a fuzzier match would highlight words the quote does not hold
WINDOW = 300  # characters shown either side of a quote found outside the question's own passage


@dataclass
class Excerpt:
    """A piece of source text with the citation spans in it."""

    text: str
    spans: list[tuple[int, int]] = field(default_factory=list)
    """Highlighted character ranges, sorted and not overlapping."""
    cut_before: bool = False
    """The excerpt starts inside a longer text (shown with an ellipsis)."""
    cut_after: bool = False


@dataclass
class Passage:
    """What the page shows as a question's source: excerpts, which quotes were found, and where it came from."""

    excerpts: list[Excerpt]
    found: list[bool]
    """Per citation, in order: found in one of the excerpts."""
    note: str = ""
    """How the text was obtained, when it is not the question's own source text."""


def find_quote(quote: str, text: str, normalized: tuple[str, list[int]] | None = None) -> tuple[int, int] | None:
    """The span of `quote` in `text`: verbatim, else on normalized text, else a fuzzy match of MIN_RATIO+."""
    if not quote.strip() or not text:
        return None
    i = text.find(quote)
    if i >= 0:
        return i, i + len(quote)
    hay, idx = normalized or normalize_with_map(text)
    needle = normalize_text(quote)
    if not needle or not hay:
        return None
    j = hay.find(needle)
    if j >= 0:
        return idx[j], idx[j + len(needle) - 1] + 1
    al = fuzz.partial_ratio_alignment(needle, hay)
    if al is not None and al.score >= MIN_RATIO and al.dest_end > al.dest_start:
        return idx[al.dest_start], idx[al.dest_end - 1] + 1
    return None


def merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _strs(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def quotes(q: dict[str, Any]) -> list[str]:
    cites = q.get("citations") if isinstance(q.get("citations"), list) else []
    return [str(c.get("quote", "")) if isinstance(c, dict) else "" for c in cites]


class PassageIndex:
    """The source texts the release holds, by question, by chunk and by document."""

    def __init__(self, questions: list[dict[str, Any]], contexts: dict[str, str]):
        self.contexts = contexts
        self.by_chunks: dict[tuple[str, ...], str] = {}
        self.chunk_text: dict[str, str] = {}
        self.by_document: dict[str, list[str]] = {}
        self._normalized: dict[str, tuple[str, list[int]]] = {}
        for q in questions:
            text = contexts.get(str(q.get("id")))
            if not text:
                continue
            chunks = tuple(_strs(q.get("chunk_ids")))
            self.by_chunks.setdefault(chunks, text)
            if len(chunks) == 1:  # a single chunk's context is that chunk's text (multi-hop ones are joined)
                self.chunk_text.setdefault(chunks[0], text)
            for d in _strs(q.get("document_ids")):
                if text not in self.by_document.setdefault(d, []):
                    self.by_document[d].append(text)

    def passage(self, q: dict[str, Any]) -> Passage:
        cites = quotes(q)
        own = self.contexts.get(str(q.get("id")))
        if own:
            return self._whole([own], cites, "")
        chunks = tuple(_strs(q.get("chunk_ids")))
        if chunks and chunks in self.by_chunks:
            return self._whole([self.by_chunks[chunks]], cites,
                               "Source text of a published question written from the same chunks.")
        known = [self.chunk_text[c] for c in chunks if c in self.chunk_text]
        if known:
            return self._whole(["\n\n".join(known)], cites,
                               f"{len(known)} of its {len(chunks)} chunks are in this release (the text of "
                               "published questions written from them); the rest is not.")
        return self._windows(q, cites)

    def _norm(self, text: str) -> tuple[str, list[int]]:
        if text not in self._normalized:
            self._normalized[text] = normalize_with_map(text)
        return self._normalized[text]

    def _whole(self, texts: list[str], cites: list[str], note: str) -> Passage:
        ex = Excerpt(texts[0])
        found = []
        for quote in cites:
            span = find_quote(quote, ex.text, self._norm(ex.text))
            found.append(span is not None)
            if span:
                ex.spans.append(span)
        ex.spans = merge(ex.spans)
        return Passage([ex], found, note)

    def _windows(self, q: dict[str, Any], cites: list[str]) -> Passage:
        """Each quote in the text around it, from a published passage of the same document."""
        texts = [t for d in _strs(q.get("document_ids")) for t in self.by_document.get(d, [])]
        excerpts, found = [], []
        for quote in cites:
            hit = next(((t, s) for t in texts if (s := find_quote(quote, t, self._norm(t)))), None)
            found.append(hit is not None)
            if hit:
                text, (a, b) = hit
                lo, hi = max(0, a - WINDOW), min(len(text), b + WINDOW)
                excerpts.append(Excerpt(text[lo:hi], [(a - lo, b - lo)], lo > 0, hi < len(text)))
        if excerpts:
            note = ("The source passage of this candidate is not in the release (only published questions' "
                    "passages are); each quote found is shown in the text around it, from a published "
                    "question's passage of the same document.")
        else:
            note = ("The source passage of this candidate is not in the release (only published questions' "
                    "passages are), and its quotes are not found in the text the release has: they are "
                    "shown as written.")
        return Passage(excerpts, found, note)
