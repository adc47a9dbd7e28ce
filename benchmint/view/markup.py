"""Escaping and the small pieces of markup every section uses. Every text from a release goes through `e`:
it is input (document text, model output), and the page must show it, never run it."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from benchmint.view.charts import number

# C0 controls other than tab and line breaks are not allowed in HTML text; shown as U+FFFD
_CONTROLS = {c: "\ufffd" for c in [*range(0, 9), 11, 12, *range(14, 32), 127]}


def dicts(value: Any) -> list[dict[str, Any]]:
    """The objects of a list field ([] for anything else): a release is input, a field may hold anything."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def e(value: Any) -> str:
    """`value` as text safe in an element or a quoted attribute."""
    return escape(str(value).translate(_CONTROLS), quote=True)


def marked(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` escaped, with each span inside <mark>."""
    out, pos = [], 0
    for a, b in spans:
        out += [e(text[pos:a]), "<mark>", e(text[a:b]), "</mark>"]
        pos = b
    out.append(e(text[pos:]))
    return "".join(out)


def rate(value: Any) -> str:
    """A pass rate as a number and a meter; 'not measured' when there is none."""
    x = number(value)
    if x is None or x < 0:  # export rows write -1 for "not measured"
        return '<span class="na">not measured</span>'
    return f'{x:.2f} <meter min="0" max="1" value="{x:.3f}"></meter>'


def signed(value: Any) -> str:
    x = number(value)
    return '<span class="na">–</span>' if x is None else f"{x:+.2f}"


def json_block(value: Any, summary: str = "Evidence (JSON)") -> str:
    """A collapsed, escaped, deterministic JSON dump."""
    text = json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False, default=str)
    return f"<details><summary>{e(summary)}</summary><pre>{e(text)}</pre></details>"


def table(head: list[str], rows: list[list[str]], cls: str = "") -> str:
    """A table of cells that are already markup (escape text with `e` first)."""
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'
