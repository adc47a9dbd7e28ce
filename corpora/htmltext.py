"""HTML -> (title, text). trafilatura finds the main text of ordinary pages; a linear tag scanner reads
the pages it cannot (deeply nested markup, thousands of unclosed tags) and the ones it finds no text in.

Every pattern here is linear: a tag pattern starts only at '<' and never runs past the next '<' or '>',
and a skipped element (script, style, comment) is ended by one forward search whose failure is remembered,
so thousands of tags left open read the rest of the page once, not once each.
"""

from __future__ import annotations

import html as html_lib
import re

from corpora.clean import clean_title

_TITLE_OPEN = re.compile(r"<title\b[^<>]*>", re.I)
_TITLE_CLOSE = re.compile(r"</title\s{0,20}>", re.I)
_TAG = re.compile(r"<!--|<(/?)([A-Za-z][A-Za-z0-9:-]{0,30})(?:[\s/][^<>]*)?>|<![^<>]*>|<\?[^<>]*>")
# Elements whose content is not text; each is skipped to its end tag, or to the end of the page if open.
# A <title> left open skips only itself (its text is the title, read apart).
_SKIP = ("script", "style", "noscript", "template", "svg", "math", "textarea", "select", "iframe", "object", "title")
_END = {name: re.compile(f"</{name}", re.I) for name in _SKIP}
_BLOCK = frozenset(
    "address article aside blockquote body br dd details dialog div dl dt fieldset figcaption figure footer "
    "form h1 h2 h3 h4 h5 h6 header hr html li main nav ol p pre section summary table tbody td tfoot th thead "
    "tr ul caption".split()
)
# Trafilatura walks the tree in Python with costs that grow with depth; past this it is skipped.
MAX_NESTING_FOR_TRAFILATURA = 150


def html_title(html: str) -> str:
    """The first <title>, found in linear time (the old lazy `.*?` rescanned the page per unclosed tag)."""
    m = _TITLE_OPEN.search(html)
    if not m:
        return ""
    window = html[m.end(): m.end() + 4000]
    end = _TITLE_CLOSE.search(window)
    raw = window[: end.start()] if end else window.split("<", 1)[0][:300]
    return clean_title(html_lib.unescape(raw))


def scan_text(html: str) -> tuple[str, int]:
    """(visible text with block breaks, the deepest nesting seen), in one pass over the page."""
    out: list[str] = []
    no_end: dict[str, int] = {}
    broke = False
    pos = depth = deepest = 0
    n = len(html)
    for m in _TAG.finditer(html):
        if m.start() < pos:
            continue  # inside a skipped element
        if m.start() > pos:
            segment = html[pos: m.start()]
            out.append(segment)
            broke = broke and segment.isspace()
        pos = m.end()
        if m.group() == "<!--":
            end = html.find("-->", pos)
            pos = n if end < 0 else end + 3
            continue
        name = (m.group(2) or "").lower()
        if not name:
            continue  # <!doctype>, <?xml?>
        closing = m.group(1) == "/"
        if not closing and name in _SKIP:
            # A search that found no end tag is not repeated for a later open tag of that name.
            end = None if pos >= no_end.get(name, n + 1) else _END[name].search(html, pos)
            if end is None:
                no_end[name] = min(no_end.get(name, n + 1), pos)
            if end:
                pos = end.start()
            elif name != "title":
                pos = n
            continue
        if name in _BLOCK:
            if not broke:  # one break per run of block tags: 50,000 nested <div>s make one, not 100,000
                out.append("\n\n" if name not in ("br", "td", "th", "li", "dt", "dd") else "\n")
                broke = True
        if closing:
            depth = max(0, depth - 1)
        elif not m.group().endswith("/>") and name not in ("br", "hr", "img", "meta", "link", "input", "wbr"):
            depth += 1
            deepest = max(deepest, depth)
    if pos < n:
        out.append(html[pos:])
    text = html_lib.unescape("".join(out))
    return text, deepest


def read_html(html: str) -> tuple[str, str]:
    """(title, main text). Trafilatura's text when it finds some in a page of sane depth, else the scan's."""
    title = html_title(html)
    text, deepest = scan_text(html)
    if deepest <= MAX_NESTING_FOR_TRAFILATURA:
        import trafilatura

        extracted = trafilatura.extract(html, include_comments=False, include_tables=True, favor_recall=True,
                                        output_format="txt", with_metadata=False) or ""
        if len(extracted.split()) >= 5:
            text = extracted
        if not title:
            meta = trafilatura.extract_metadata(html)
            title = clean_title((meta.title if meta is not None else None) or "")
    return title, text
