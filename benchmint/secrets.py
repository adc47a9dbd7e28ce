"""Secrets never stored: one URL redaction, a process-local stash for URLs that carry a secret,
and a scrubber for text that may echo one.

A URL with a key in it (`https://user:KEY@host/v1`, `?api_key=...`) is redacted before it
enters a config that a flow, a deployment, a manifest or a log sees; the raw URL stays in this
process's environment under a name derived from the redacted form (`stash`), and the code that
opens the connection asks for it back (`reveal`). Every secret value seen is remembered, so error
bodies, evidence and log records can be scrubbed of it (`scrub`).

An API key itself is never in a config: the config names the environment variable that holds it
(`api_key_env`), and its value is remembered (`remember_env`) so that nothing kept echoes it.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus, unquote, unquote_plus

REDACTED = "REDACTED"

# Query (and `;` path) parameters whose values are never secret (feeds and model endpoints use
# them); every other parameter's value is redacted. Matched case-insensitively after
# percent-decoding the name.
SAFE_PARAMS = frozenset({
    "api-version", "model", "format", "lang", "language", "hl", "page", "per_page", "limit", "offset",
    "sort", "sortby", "sortorder", "order", "q", "query", "search", "search_query", "id_list", "start",
    "max_results", "category", "categories", "tag", "tags", "type", "feed", "output", "rss", "atom",
    "v", "version", "since", "from", "until", "to", "date", "year", "month", "day", "region", "locale",
})

# Where the stash keeps raw URLs: one environment variable per redacted form.
URL_ENV_PREFIX = "BENCHMINT_URL_"

_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):(//)?", re.I)
_URL_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'<>`]+")
_secrets: set[str] = set()
_lock = threading.Lock()


def _safe_name(name: str) -> bool:
    return unquote_plus(name).strip().lower() in SAFE_PARAMS


def _params(text: str, seps: str, secrets: list[str]) -> str:
    """`text` (a query, or a path segment's `;` parameters) with every value but the safe ones
    redacted; the values taken go to `secrets`."""
    out = []
    for piece in re.split(f"([{seps}])", text):
        if not piece or piece in seps:
            out.append(piece)
            continue
        name, eq, value = piece.partition("=")
        if _safe_name(name):
            out.append(piece)
        elif eq:
            secrets.append(value)
            out.append(f"{name}={REDACTED}")
        else:
            secrets.append(name)  # a bare token (`?SECRET`) is a value too
            out.append(REDACTED)
    return "".join(out)


def _segment(seg: str, secrets: list[str]) -> str:
    """A path segment with its `;name=value` parameters redacted."""
    if ";" not in seg:
        return seg
    name, _, params = seg.partition(";")
    return name + ";" + _params(params, ";", secrets)


def _split_tail(rest: str) -> int:
    """Where the authority and path end: at the first '?' or '#'."""
    return min((i for i in (rest.find("?"), rest.find("#")) if i != -1), default=len(rest))


def _parse(url: str) -> tuple[str, list[str]]:
    """(the redacted URL, the secret parts taken out of it)."""
    m = _SCHEME.match(url)
    if m:
        prefix, rest = f"{m.group(1).lower()}:{m.group(2) or ''}", url[m.end():]
    elif url.startswith("//"):  # scheme-relative
        prefix, rest = "//", url[2:]
    else:
        return url, []
    secrets: list[str] = []
    end = _split_tail(rest)
    at = rest.rfind("@", 0, end)  # the last '@': an '@' or '/' inside a password still goes
    if at == -1 and end < len(rest):
        # `user:pa?ss@host` or `user:pa#ss@host`: a '?' or '#' inside a password ended the
        # authority early; what follows ':' is no port, and an '@' comes later.
        auth = rest[:end].split("/")[0]
        if ":" in auth and not auth.startswith("[") and not auth.rpartition(":")[2].isdigit():
            at = rest.find("@", end)
    if at != -1:
        info, rest = rest[:at], rest[at + 1:]
        user, colon, pw = info.partition(":")
        secrets += [info, pw] if colon and pw else [info]
        end = _split_tail(rest)
    head, tail = rest[:end], rest[end:]
    host, slash, path = head.partition("/")
    if ";" in path:  # `;token=` path parameters
        path = "/".join(_segment(seg, secrets) for seg in path.split("/"))
    out = prefix + host + slash + path
    if tail.startswith("?"):
        query, hash_, frag = tail[1:].partition("#")
        out += "?" + _params(query, "&;", secrets)
        tail = hash_ + frag
    if tail.startswith("#"):
        if tail[1:]:
            secrets.append(tail[1:])
            out += "#" + REDACTED
        else:
            out += "#"
    return out, [s for s in secrets if s]


def redact_url(url: str) -> str:
    """The URL with user info removed and the value of every query or `;` path parameter and the
    fragment replaced by REDACTED, except parameters in SAFE_PARAMS (matched case-insensitively,
    after percent-decoding the name). The scheme is lower-cased; any text without one is returned
    as is."""
    return _parse(url)[0]


def has_secret(url: str) -> bool:
    """Does redaction change this URL (beyond the scheme's case)?"""
    m = _SCHEME.match(url)
    normal = (m.group(1).lower() + url[len(m.group(1)):]) if m else url
    return redact_url(url) != normal


def url_env_name(redacted: str) -> str:
    """The environment variable that holds the raw form of a redacted URL in this process."""
    return URL_ENV_PREFIX + hashlib.sha256(redacted.encode()).hexdigest()[:16].upper()


def stash(url: str) -> str:
    """Keep a URL's secret in this process's environment and return the redacted form, which is
    safe to store; `reveal` gives the raw URL back (here and in child processes, which inherit the
    environment). A URL with no secret is returned as is. Two raw URLs with one redacted form
    share one slot: the later wins."""
    red, secrets = _parse(url)
    if not secrets or red == url:  # nothing secret, or redacted already (keep the raw form stashed before)
        return url
    os.environ[url_env_name(red)] = url
    remember(*secrets)
    return red


def reveal(url: str) -> str:
    """The raw URL for a redacted one stashed in this process (or given in the environment
    under `url_env_name`, e.g. to a Prefect worker); any other URL as is."""
    raw = os.environ.get(url_env_name(url))
    if raw:
        remember(*_parse(raw)[1])
    return raw or url


def remember(*values: str | None) -> None:
    """Remember secret values (an API key read from the environment, a URL's password) so that
    `scrub` removes them from any text that is about to be kept. Values under 4 characters are
    ignored (scrubbing them would mangle ordinary text)."""
    found = set()
    for v in values:
        if v:
            found.update(f for f in (v, unquote(v), unquote_plus(v)) if len(f) >= 4)
    with _lock:
        _secrets.update(found)


def remember_env(names: Iterable[str | None]) -> None:
    """Remember the values of these environment variables (the `api_key_env` of each model)."""
    remember(*(os.environ.get(n) for n in names if n))


_KEY_VAR = re.compile(r"(^|_)(API_?KEY|KEY|TOKEN|SECRET|PASSWORD|PASSWD|PASS|CREDENTIALS?)$", re.I)


def key_env_values() -> list[str]:
    """Values of the environment variables whose names say they hold a key (`*_API_KEY`,
    `*_TOKEN`, `*_SECRET`...), for scrubbing a message shown before any config named its keys
    (`--model $OPENAI_API_KEY` by mistake)."""
    return [v for k, v in os.environ.items() if _KEY_VAR.search(k) and len(v) >= 8]


def remember_stashed() -> None:
    """Remember the secrets of every URL stashed in this environment (a child process, e.g. a
    scheduled run of `benchmint serve`, inherits the stash but not the parent's memory)."""
    for name, raw in list(os.environ.items()):
        if name.startswith(URL_ENV_PREFIX):
            remember(*_parse(raw)[1])


def scrub(text: str, extra: tuple[str, ...] | list[str] = (), urls: bool = True) -> str:
    """`text` with every remembered secret (and `extra`), raw or percent-encoded, replaced by
    REDACTED, and (`urls`) any URL in it redacted. (A message built from redacted forms only, such
    as an error line naming `URL#model`, passes urls=False: the model name is no fragment.)"""
    if not text:
        return text
    with _lock:
        values = sorted(_secrets.union(v for v in extra if v and len(v) >= 4), key=len, reverse=True)
    for v in values:
        for form in (v, quote(v, safe=""), quote(v), quote_plus(v, safe="")):
            if form in text:
                text = text.replace(form, REDACTED)
    return _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text) if urls else text


URL_REF = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)  # a reference that starts with a scheme
_SECRET_KEY = re.compile(r"(api[_-]?key|token|secret|password|authorization)$", re.I)


def redact(obj: Any) -> Any:
    """Recursively remove secrets: values of secret-named keys, credentials in URLs."""
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if isinstance(k, str) and _SECRET_KEY.search(k) and not k.endswith("_env"):
                out[k] = REDACTED if v else v
            else:
                out[k] = redact(v)
        return out
    if isinstance(obj, list):
        return [redact(v) for v in obj]
    if isinstance(obj, str) and URL_REF.match(obj):
        return redact_url(obj)
    return obj
