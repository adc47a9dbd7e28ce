"""Secrets never stored: one URL redaction, a process-local stash for URLs that carry a secret,
and a scrubber for text that may echo one.

A URL with a key in it (`https://user:KEY@host/v1`, `?api_key=...`) is redacted before it
enters a config that a flow, a deployment, a manifest or a log sees; the raw URL stays in this
process's environment under a name derived from the redacted form (`stash`), and the code that
opens the connection asks for it back (`reveal`). Every secret value seen is remembered, so error
bodies, evidence and log records can be scrubbed of it (`scrub`).
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from urllib.parse import quote, unquote

REDACTED = "REDACTED"

# Query parameters whose values are never secret (feeds and model endpoints use them); every
# other parameter's value is redacted.
SAFE_PARAMS = frozenset({
    "api-version", "model", "format", "lang", "language", "hl", "page", "per_page", "limit", "offset",
    "sort", "sortby", "sortorder", "order", "q", "query", "search", "search_query", "id_list", "start",
    "max_results", "category", "categories", "tag", "tags", "type", "feed", "output", "rss", "atom",
    "v", "version", "since", "from", "until", "to", "date", "year", "month", "day", "region", "locale",
})

_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):(//)?", re.I)
_secrets: set[str] = set()
_lock = threading.Lock()


def redact_url(url: str) -> str:
    """The URL with user info removed and the value of every query parameter and fragment
    replaced by REDACTED, except parameters in SAFE_PARAMS (matched case-insensitively, after
    percent-decoding the name)."""
    m = _SCHEME.match(url)
    if not m:
        return url
    scheme, rest = m.group(1).lower(), url[m.end():]
    # The authority ends at the first '?' or '#'. Take the last '@' before them as the end of the
    # user info, so an '@' or '/' inside a password still goes (a path with '@' loses a little).
    head_end = min((i for i in (rest.find("?"), rest.find("#")) if i != -1), default=len(rest))
    head, tail = rest[:head_end], rest[head_end:]
    if "@" in head:
        head = head[head.rfind("@") + 1:]
    query, frag = "", ""
    if tail.startswith("?"):
        query, _, frag = tail[1:].partition("#")
        frag = ("#" + frag) if "#" in tail else ""
    elif tail.startswith("#"):
        frag = tail
    parts = []
    for piece in re.split(r"([&;])", query) if query else []:
        if piece in ("&", ";") or not piece:
            parts.append(piece)
            continue
        name, eq, _value = piece.partition("=")
        if eq and unquote(name).strip().lower() not in SAFE_PARAMS:
            piece = f"{name}={REDACTED}"
        elif not eq and unquote(name).strip().lower() not in SAFE_PARAMS:
            piece = REDACTED  # a bare token (`?SECRET`) is a value too
        parts.append(piece)
    out = f"{scheme}://{head}" if m.group(2) else f"{scheme}:{head}"
    if query:
        out += "?" + "".join(parts)
    if frag:
        out += "#" + REDACTED
    return out


def has_secret(url: str) -> bool:
    """Does redaction change this URL (beyond the scheme's case)?"""
    m = _SCHEME.match(url)
    normal = (m.group(1).lower() + url[len(m.group(1)):]) if m else url
    return redact_url(url) != normal


def url_env_name(redacted: str) -> str:
    """The environment variable that holds the raw form of a redacted URL in this process."""
    return "BENCHMINT_URL_" + hashlib.sha256(redacted.encode()).hexdigest()[:16].upper()


def stash(url: str) -> str:
    """Keep a URL's secret in this process's environment and return the redacted form, which is
    safe to store; `reveal` gives the raw URL back. A URL with no secret is returned as is."""
    if not has_secret(url):
        return url
    red = redact_url(url)
    os.environ[url_env_name(red)] = url
    remember(*_url_secret_values(url))
    return red


def reveal(url: str) -> str:
    """The raw URL for a redacted one stashed in this process (or given in the environment
    under `url_env_name`); any other URL as is."""
    raw = os.environ.get(url_env_name(url))
    if raw:
        remember(*_url_secret_values(raw))
    return raw or url


def _url_secret_values(url: str) -> list[str]:
    """The secret parts of a raw URL: the user info's password (and user), redacted values."""
    out = []
    m = _SCHEME.match(url)
    rest = url[m.end():] if m else url
    head_end = min((i for i in (rest.find("?"), rest.find("#")) if i != -1), default=len(rest))
    head = rest[:head_end]
    if "@" in head:
        info = head[: head.rfind("@")]
        user, _, pw = info.partition(":")
        out += [pw or user, info]
    tail = rest[head_end:]
    query, _, frag = tail.lstrip("?").partition("#") if tail.startswith("?") else ("", "", tail[1:])
    if frag:
        out.append(frag)
    for piece in re.split(r"[&;]", query):
        name, eq, value = piece.partition("=")
        if value and unquote(name).strip().lower() not in SAFE_PARAMS:
            out.append(value)
        elif not eq and name and unquote(name).strip().lower() not in SAFE_PARAMS:
            out.append(name)
    return [s for s in out if s]


def remember(*values: str | None) -> None:
    """Remember secret values (an API key read from the environment, a URL's password) so that
    `scrub` removes them from any text that is about to be kept."""
    with _lock:
        _secrets.update(v for v in values if v and len(v) >= 4)


def scrub(text: str, extra: tuple[str, ...] | list[str] = ()) -> str:
    """`text` with every remembered secret (and `extra`), raw or percent-encoded, replaced by
    REDACTED, and any URL in it redacted."""
    if not text:
        return text
    with _lock:
        values = sorted(_secrets.union(v for v in extra if v and len(v) >= 4), key=len, reverse=True)
    for v in values:
        for form in {v, quote(v, safe=""), quote(v)}:
            if form in text:
                text = text.replace(form, REDACTED)
    return re.sub(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'<>]+", lambda m: redact_url(m.group(0)), text)
