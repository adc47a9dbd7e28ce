"""One fence for text quoted into a prompt: a `<document>` block (or another data block) that
the quoted text cannot close or reopen.

Document text, citations copied from it, generated questions and model replies are data. Every
prompt that carries them puts them in a block built by `fence`, and `neutralize` defuses anything
inside that a model could read as the block's own tag: any spacing (`< /document >`), any case,
attributes (`</document foo="bar">`), and look-alike characters (fullwidth `＜／ｄｏｃｕｍｅｎｔ＞`,
other forms that NFKC folds, the common angle-bracket and letter confusables, zero-width
characters inside the name). Such a tag keeps its words; only its brackets are replaced by `&lt;`
and `&gt;`, so the text still reads the same and nothing else in it changes. Text without a
tag-like form passes through unchanged (the response cache sees the same messages as before).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache

# The names of every block a prompt builds around quoted text: a tag of any of them is defused in
# any fenced text, so text quoted in one kind of block cannot forge another.
FENCE_TAGS = ("document", "documents", "item", "passages", "questions", "reply", "excerpt")

# Look-alikes NFKC does not fold. Brackets: single/double angle quotes, math and CJK angle
# brackets, modifier letters, Canadian syllabics, ornaments. Letters: the Cyrillic and Greek
# letters that look like the Latin ones in the tag names.
_CONFUSABLES = {
    **dict.fromkeys("‹〈⟨〈《≺❮❬❰⧼˂ᐸ⟪〔﹤«", "<"),
    **dict.fromkeys("›〉⟩〉》≻❯❭❱⧽˃ᐳ⟫〕﹥»", ">"),
    **dict.fromkeys("∕⁄⧸／⟋", "/"),
    "а": "a", "с": "c", "ԁ": "d", "е": "e", "һ": "h", "і": "i", "ј": "j", "к": "k", "м": "m", "о": "o",
    "р": "p", "ѕ": "s", "т": "t", "у": "y", "х": "x", "ո": "n", "ս": "u", "ı": "i",
    "α": "a", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "μ": "u",
}
# Invisible characters a tag name could hide behind ("docu\u200bment").
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e"
                                    "\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\ufeff"))
_NAME_MAX = max(map(len, FENCE_TAGS))
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-")
# Every character that reads as '<' or '>' once folded (`fold_char`), for Unicode 14-15: found by a
# scan of every code point (tests/unit/test_fence.py repeats the scan, so a new Unicode version is noticed).
OPEN_LIKE = ("<\u00ab\u02c2\u1438\u2039\u227a\u2329\u276c\u276e\u2770\u27e8\u27ea\u29fc\u3008\u300a\u3014"
             "\ufe39\ufe3d\ufe3f\ufe5d\ufe64\uff1c\U0001f12a\U0001f240\U0001f241\U0001f242\U0001f243"
             "\U0001f244\U0001f245\U0001f246\U0001f247\U0001f248")
CLOSE_LIKE = (">\u00bb\u02c3\u1433\u203a\u227b\u232a\u276d\u276f\u2771\u27e9\u27eb\u29fd\u3009\u300b\u3015"
              "\ufe3a\ufe3e\ufe40\ufe5e\ufe65\uff1e")
_OPEN = re.compile("[" + re.escape(OPEN_LIKE) + "]")
_BRACKET = re.compile("[" + re.escape(OPEN_LIKE + CLOSE_LIKE) + "]")
# The same grammar on plain ASCII, read by the regex engine: most text never needs the folded read.
_ASCII_TAG = re.compile(r"<\s*(?:\\\s*)?(?:/\s*)?(?:" + "|".join(sorted(FENCE_TAGS, key=len, reverse=True))
                        + r")(?![A-Za-z0-9_-])", re.I)
_ASCII_PREFIX = re.compile(r"<[\s\\/]*[A-Za-z0-9_-]*")


@lru_cache(maxsize=4096)
def fold_char(c: str) -> str:
    """What one character reads as: NFKC, case-folded, look-alikes mapped, invisibles dropped."""
    if ord(c) < 128:
        return c.lower()
    f = unicodedata.normalize("NFKC", c).translate(_INVISIBLE)
    f = "".join(_CONFUSABLES.get(x, x) for x in f).casefold()
    return "".join(_CONFUSABLES.get(x, x) for x in f)


def _folded_from(text: str, at: int) -> Iterator[tuple[str, int]]:
    """(folded character, index of its original) for what follows the '<' read at `at`."""
    first = fold_char(text[at])
    for ch in first[first.index("<") + 1:]:
        yield ch, at
    for i in range(at + 1, len(text)):
        for ch in fold_char(text[i]):
            yield ch, i


def _tag_end(text: str, at: int) -> int | None:
    """When a fence tag opens at `at` (a '<'-like character): the index just past its name, else None.
    Read folded: spaces (and invisible characters), an optional backslash and slash, spaces, the name."""
    if text[at] == "<":  # the ASCII fast path, when no other character can change the reading
        m = _ASCII_TAG.match(text, at) or _ASCII_PREFIX.match(text, at)
        if m.end() == len(text) or text[m.end()].isascii():
            return m.end() if m.re is _ASCII_TAG else None
    name, end, slash, backslash = "", at + 1, False, False
    for ch, i in _folded_from(text, at):
        if not name:
            if ch.isspace():
                continue
            if ch == "\\" and not (backslash or slash):
                backslash = True
                continue
            if ch == "/" and not slash:
                slash = True
                continue
        if ch not in _NAME_CHARS:
            break
        name, end = name + ch, i + 1
        if len(name) > _NAME_MAX:
            return None
    return end if name in FENCE_TAGS else None


def neutralize(text: str) -> str:
    """`text` with every form of a fence tag defused: its brackets become `&lt;` / `&gt;`.
    Linear in the length: only the characters after a '<'-like one are folded and read."""
    if not text or _OPEN.search(text) is None:
        return text
    out: list[str] = []
    last = 0
    pos = 0
    while (m := _OPEN.search(text, pos)) is not None:
        at = m.start()
        end = _tag_end(text, at)
        pos = at + 1
        if end is None:
            continue
        out += [text[last:at], "&lt;"]
        last = pos
        close = _BRACKET.search(text, max(end, pos))
        if close is not None and "<" not in fold_char(close.group()):
            out += [text[last:close.start()], "&gt;"]
            last = pos = close.end()
    out.append(text[last:])
    return "".join(out)


def fence(text: str, tag: str = "document", **attrs: str) -> str:
    """`text` in a `<tag ...>` block it cannot close or reopen (see `neutralize`)."""
    if tag not in FENCE_TAGS:
        raise ValueError(f"fence tag {tag!r} is not one of {FENCE_TAGS}")
    head = "".join(f' {k}="{_attr(v)}"' for k, v in attrs.items())
    return f"<{tag}{head}>\n{neutralize(text)}\n</{tag}>"


def _attr(value: str) -> str:
    """An attribute value on one line, with no quote or bracket that could end the tag."""
    value = " ".join(neutralize(str(value)).split())
    return value.replace('"', "'").replace("<", "&lt;").replace(">", "&gt;")
