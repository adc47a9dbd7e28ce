"""Is it prose? Refuses control-character soup, encoded blobs (base64, hex), minified code and the like.

Both checks are one pass over the text. The word check is weighted by characters: a document whose
non-space characters are mostly outside words (letters, with inner apostrophes or hyphens) is not
prose a question can be written from, however many lines of prose sit around the blob.
"""

from __future__ import annotations

import re

from corpora.clean import count_control
from corpora.skip import Unreadable

MIN_WORDS = 5
MAX_CONTROL_SHARE = 0.01  # more than 1% control characters: binary or a terminal dump, not text
MIN_WORD_SHARE = 0.35  # prose runs at 0.8-0.95; dense tables of figures near 0.5; blobs below 0.1
SAMPLE_CHARS = 400_000  # longer texts are checked on evenly spaced slices this long in all

_TOKEN = re.compile(r"\S+")
_WORD = re.compile(r"[^\W\d_]{1,30}(?:['’\-][^\W\d_]{1,30}){0,4}")
_EDGE = "\"'()[]{}<>«»“”‘’.,;:!?*_`~#|-–—/\\"
_NEUTRAL = re.compile(r"[\w.,:%+\-/$€£°]{1,14}")  # figures, codes, versions: neither words nor junk
_BASE64 = re.compile(r"[A-Za-z0-9+/_\-]{16,}={0,2}")
_HEX = re.compile(r"(?:0x)?[0-9A-Fa-f]{2,16}:?")


def check_control(text: str) -> None:
    n = count_control(text)
    if n > 8 and n > MAX_CONTROL_SHARE * len(text):
        raise Unreadable(f"control characters ({n} of {len(text)} characters), not text", "not-prose")


def sample(text: str, limit: int = SAMPLE_CHARS, windows: int = 40) -> str:
    """The text itself, or `windows` evenly spaced slices of it totalling `limit` characters: the check
    then costs the same on 1 MB as on 50 MB, and still sees every part of a long file."""
    if len(text) <= limit:
        return text
    width, step = limit // windows, len(text) // windows
    return "\n".join(text[i * step: i * step + width] for i in range(windows))


def check_prose(text: str) -> int:
    """The number of words (in the sample checked), or Unreadable("too-short" / "not-prose") with what the
    text looks like."""
    text = sample(text)
    words = word_chars = junk_chars = b64 = hexes = long_tokens = non_words = 0
    for m in _TOKEN.finditer(text):
        tok = m.group()
        core = tok.strip(_EDGE)
        if core and len(core) <= 160 and _WORD.fullmatch(core):
            words += 1
            word_chars += len(core)
            junk_chars += len(tok) - len(core)  # punctuation around a word (a long run of it is junk)
        elif core and _NEUTRAL.fullmatch(core) and any(c.isdigit() for c in core):
            hexes += len(tok) <= 20 and _HEX.fullmatch(tok) is not None  # neutral alone, but a dump is made of them
            non_words += 1  # counted to name what the text is made of, not in the share
        else:
            non_words += 1
            junk_chars += len(tok)
            if len(tok) > 40:
                long_tokens += 1
                if _BASE64.fullmatch(tok) and any(c.isdigit() for c in tok[:400]):
                    b64 += 1
            elif _HEX.fullmatch(tok):
                hexes += 1
    share = word_chars / max(1, word_chars + junk_chars)
    if words < MIN_WORDS and junk_chars < 200:
        raise Unreadable(f"no usable text (fewer than {MIN_WORDS} words)", "too-short")
    if share >= MIN_WORD_SHARE and words >= MIN_WORDS:
        return words
    if b64 > non_words / 2:
        what = "an encoded blob (base64-like runs)"
    elif hexes > non_words / 2:
        what = "a hex dump"
    elif long_tokens > non_words / 4:
        what = "minified code or very long tokens"
    else:
        what = "mostly symbols, not words"
    raise Unreadable(f"not prose: {what}; only {share:.0%} of its characters are words", "not-prose")
