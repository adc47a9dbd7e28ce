"""Bytes -> text: byte-order marks first (UTF-8/16/32), then UTF-8, UTF-16 without a mark, then cp1252.

Every step looks at each byte a bounded number of times (linear in the file). NUL bytes that do not
follow the UTF-16 pattern mean binary content.
"""

from __future__ import annotations

import codecs

from corpora.skip import Unreadable

# UTF-32 first: its little-endian mark starts with UTF-16's.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_SAMPLE = 8192


def decode_text(raw: bytes) -> tuple[str, str]:
    """(text, encoding name) or Unreadable("binary" / "encoding")."""
    for bom, enc in _BOMS:
        if raw.startswith(bom):
            try:
                return raw[len(bom):].decode(enc), enc
            except UnicodeDecodeError as exc:
                raise Unreadable(f"marked {enc.upper()} by its byte-order mark, but byte {exc.start + len(bom)} "
                                 f"is not {enc.upper()}; re-save the file as UTF-8", "encoding") from None
    guess = _utf16_without_bom(raw)
    if guess:
        try:
            return raw.decode(guess), guess
        except UnicodeDecodeError:
            pass
    if b"\x00" in raw:
        raise Unreadable("binary content (NUL bytes), not text", "binary")
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # Not UTF-8: the common single-byte encoding of Western text (a superset of latin-1's printable range);
    # its five undefined bytes fall back to latin-1 (control characters the prose check counts).
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def _utf16_without_bom(raw: bytes) -> str | None:
    """UTF-16 text of mostly ASCII characters has a NUL in every other byte."""
    sample = raw[:_SAMPLE]
    pairs = len(sample) // 2
    if pairs < 4 or len(raw) % 2:
        return None
    even_nul = sample[0:2 * pairs:2].count(0)
    odd_nul = sample[1:2 * pairs:2].count(0)
    if odd_nul >= 0.4 * pairs and even_nul <= 0.05 * pairs:
        return "utf-16-le"
    if even_nul >= 0.4 * pairs and odd_nul <= 0.05 * pairs:
        return "utf-16-be"
    return None
