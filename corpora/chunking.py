"""Documents -> Chunks: token-aware windows with overlap, on sentence boundaries.

Tokens are counted with a fixed regex pre-tokenizer (words split into pieces of
at most 6 characters, each punctuation mark one token), which tracks BPE counts
of current chat models closely enough for sizing prompts, needs no download and
costs almost nothing. Every chunk keeps its exact character span: chunk.text ==
document.text[chunk.start:chunk.end].
"""

from __future__ import annotations

import math
import re

from benchmint.records import Chunk, Document, sha256_text

_TOKEN = re.compile(r"\w+|[^\w\s]")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\n\s*\n|\n(?=\s*(?:[-*#•]|\d+[.)])\s)")


def count_tokens(text: str) -> int:
    return sum(math.ceil(len(m.group()) / 6) for m in _TOKEN.finditer(text))


def sentence_spans(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        if m.start() > start:
            spans.append((start, m.start()))
        start = m.end()
    if start < len(text):
        spans.append((start, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]


def _split_long(text: str, start: int, end: int, max_tokens: int) -> list[tuple[int, int]]:
    """Cut one over-long sentence at token boundaries."""
    pieces, piece_start, used = [], start, 0
    for m in _TOKEN.finditer(text, start, end):
        n = math.ceil(len(m.group()) / 6)
        if used + n > max_tokens and used > 0:
            pieces.append((piece_start, m.start()))
            piece_start, used = m.start(), 0
        used += n
    pieces.append((piece_start, end))
    return [(s, e) for s, e in pieces if text[s:e].strip()]


def chunk_document(doc: Document, max_tokens: int = 380, overlap: int = 40) -> list[Chunk]:
    text = doc.text
    units: list[tuple[int, int, int]] = []
    for s, e in sentence_spans(text):
        n = count_tokens(text[s:e])
        if n > max_tokens:
            units.extend((a, b, count_tokens(text[a:b])) for a, b in _split_long(text, s, e, max_tokens))
        else:
            units.append((s, e, n))
    chunks: list[Chunk] = []
    i = 0
    while i < len(units):
        j, used = i, 0
        while j < len(units) and (used + units[j][2] <= max_tokens or j == i):
            used += units[j][2]
            j += 1
        start, end = units[i][0], units[j - 1][1]
        chunks.append(Chunk(
            id=sha256_text(f"{doc.id}:{start}:{end}")[:16], document_id=doc.id, index=len(chunks),
            start=start, end=end, text=text[start:end], n_tokens=used,
        ))
        if j >= len(units):
            break
        # Step back over trailing sentences worth at most `overlap` tokens.
        k, back = j, 0
        while k - 1 > i and back + units[k - 1][2] <= overlap:
            k -= 1
            back += units[k][2]
        i = k
    return chunks


def chunk_documents(docs: list[Document], max_tokens: int = 380, overlap: int = 40) -> list[Chunk]:
    return [c for d in docs for c in chunk_document(d, max_tokens, overlap)]
