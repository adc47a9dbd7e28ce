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
_TAG = re.compile(r"<\s*\\?/?\s*(?:" + "|".join(sorted(FENCE_TAGS, key=len, reverse=True)) + r")(?![a-z0-9_-])[^<>]*>?",
                  re.I)


@lru_cache(maxsize=4096)
def _fold_char(c: str) -> str:
    """What one character reads as: NFKC, case-folded, look-alikes mapped, invisibles dropped."""
    if ord(c) < 128:
        return c.lower()
    f = unicodedata.normalize("NFKC", c).translate(_INVISIBLE)
    f = "".join(_CONFUSABLES.get(x, x) for x in f).casefold()
    return "".join(_CONFUSABLES.get(x, x) for x in f)


def neutralize(text: str) -> str:
    """`text` with every form of a fence tag defused: its brackets become `&lt;` / `&gt;`."""
    if not text:
        return text
    # a fast path: no bracket-like character at all, nothing to defuse
    if text.isascii() and "<" not in text:
        return text
    folded: list[str] = []
    owner: list[int] = []  # folded position -> index of the original character
    for i, c in enumerate(text):
        f = _fold_char(c)
        folded.append(f)
        owner.extend([i] * len(f))
    view = "".join(folded)
    if "<" not in view:
        return text
    hits: set[int] = set()
    for m in _TAG.finditer(view):
        for j in range(m.start(), m.end()):
            if view[j] in "<>":
                hits.add(owner[j])
    if not hits:
        return text
    out = []
    for i, c in enumerate(text):
        if i in hits:
            out.append("&lt;" if "<" in folded[i] else "&gt;")
        else:
            out.append(c)
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
