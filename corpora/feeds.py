"""Live feeds -> Documents: RSS, Atom and arXiv's Atom API, parsed by feedparser.

Each entry becomes a Document with its title, link and `published_at`. Its text
is the entry's full content when the feed carries it, else the page at the
entry's link, fetched and turned into text by trafilatura; when that fails too,
the summary (if it is long enough to ask questions about). `since` keeps only
entries published after a date (a model's knowledge cutoff, say), so the
questions are about what the models cannot have seen.

Fetching is polite: a timeout, a User-Agent naming benchmint, a pause between two
requests to one host, and conditional requests (ETag / Last-Modified remembered
between runs in the cache folder, under a hash of the URL; a 304 reuses the copy
kept from the last fetch). It is also safe: entry links and redirects to this
machine, private networks or cloud metadata are not fetched unless the config
allows it (corpora/netguard.py). A feed that fails (unreachable, HTTP error, not a
feed) is reported with the reason and skipped; the run goes on. With `since`, an
entry with no date is reported (or kept: feed_policy.undated), never dropped unsaid.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx

from benchmint import __version__
from benchmint.config import FeedPolicy
from benchmint.errors import ConfigError
from benchmint.records import Document, SkippedSource, clean_title, sha256_text
from benchmint.secrets import redact_url, reveal
from corpora.clean import clean_text
from corpora.htmltext import read_html
from corpora.netguard import BlockedURL, HostPacer, SafeFetcher

USER_AGENT = f"benchmint/{__version__} (+https://github.com/benchmint; feed reader)"
MIN_CHARS = 200  # shorter than this, an entry holds too little to ask about


def parse_since(value: str | datetime | None, now: datetime | None = None) -> datetime | None:
    """`2026-10-01`, an ISO datetime, or a relative `30d` / `12h` / `2w` -> an aware datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    m = re.fullmatch(r"\s*(\d+)\s*([hdw])\s*", str(value))
    if m:
        n, unit = int(m.group(1)), m.group(2)
        return now - {"h": timedelta(hours=n), "d": timedelta(days=n), "w": timedelta(weeks=n)}[unit]
    try:
        dt = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"since {value!r} is not a date: use YYYY-MM-DD, an ISO datetime, "
                          "or 30d / 12h / 2w") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


class FeedCache:
    """ETag / Last-Modified and the last body per feed, under <cache>/feeds/. Files are named by a
    hash of the URL and hold only its redacted form: a feed URL may carry a key (`?token=`)."""

    def __init__(self, root: Path):
        self.root = root / "feeds"

    def _paths(self, url: str) -> tuple[Path, Path]:
        key = hashlib.sha256(url.encode()).hexdigest()[:24]
        return self.root / f"{key}.json", self.root / f"{key}.body"

    def get(self, url: str) -> tuple[dict[str, str], bytes | None]:
        meta_p, body_p = self._paths(url)
        if not meta_p.is_file() or not body_p.is_file():
            return {}, None
        return json.loads(meta_p.read_text()), body_p.read_bytes()

    def put(self, url: str, headers: httpx.Headers, body: bytes) -> None:
        meta_p, body_p = self._paths(url)
        self.root.mkdir(parents=True, exist_ok=True)
        meta = {k: headers[k] for k in ("etag", "last-modified") if k in headers}
        tmp = body_p.with_suffix(".tmp")
        tmp.write_bytes(body)
        tmp.replace(body_p)
        meta_p.write_text(json.dumps({"feed": redact_url(url), **meta}))


def fetch(url: str, fetcher: SafeFetcher, cache: FeedCache | None) -> tuple[bytes, str]:
    """(body, how: 'fetched' | 'not modified') for a feed URL as the config holds it (redacted:
    the raw URL comes from benchmint.secrets.reveal here, at the last moment). The feed's own host
    is trusted, since the user named it; a redirect to another host is checked like any link.
    Raises httpx errors and BlockedURL for the caller to report."""
    raw = reveal(url)
    headers = {"User-Agent": USER_AGENT}
    meta, cached = cache.get(raw) if cache is not None else ({}, None)
    if cached is not None:
        if "etag" in meta:
            headers["If-None-Match"] = meta["etag"]
        if "last-modified" in meta:
            headers["If-Modified-Since"] = meta["last-modified"]
    try:
        host = httpx.URL(raw).host
    except httpx.InvalidURL:
        host = None  # get() reports it
    r = fetcher.get(raw, headers=headers, trusted_host=host)
    if r.status_code == 304 and cached is not None:
        return cached, "not modified"
    r.raise_for_status()
    if cache is not None:
        cache.put(raw, r.headers, r.content)
    return r.content, "fetched"


def _published(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        t = entry.get(key)
        if t:
            return datetime.fromtimestamp(calendar.timegm(t), tz=timezone.utc)
    return None


def fragment_text(html: str) -> str:
    """Text of an HTML fragment (a feed's content or summary), one paragraph per block element.
    (trafilatura is for whole pages: it discards short fragments as boilerplate.)"""
    import lxml.html

    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (ValueError, lxml.etree.ParserError):
        return html
    for el in root.iter("p", "div", "li", "br", "h1", "h2", "h3", "h4", "tr", "blockquote", "pre"):
        el.tail = "\n\n" + (el.tail or "")
    return root.text_content()


def _entry_text(entry: Any, fetcher: SafeFetcher) -> tuple[str, str, str]:
    """(text, where it came from, why the linked page was not used: "" when it was or none was needed)."""
    for c in entry.get("content") or []:
        value = c.get("value") or ""
        text = clean_text(fragment_text(value) if "html" in (c.get("type") or "") else value)
        if len(text) >= MIN_CHARS:
            return text, "feed content", ""
    link, why = entry.get("link"), ""
    if link:
        try:
            r = fetcher.get(link, headers={"User-Agent": USER_AGENT})
            r.raise_for_status()
            text = clean_text(read_html(r.text)[1])
            if len(text) >= MIN_CHARS:
                return text, "linked page", ""
            why = f"linked page too short ({len(text)} characters)"
        except BlockedURL as exc:
            why = f"linked page not fetched: {exc.reason}{_ALLOW_HINT if exc.private else ''}"
        except httpx.HTTPStatusError as exc:
            why = f"linked page answered HTTP {exc.response.status_code}"
        except httpx.HTTPError as exc:
            why = f"linked page unreachable ({type(exc).__name__})"
    summary = entry.get("summary") or ""
    return clean_text(fragment_text(summary) if "<" in summary else summary), "summary", why


_ALLOW_HINT = " (set feed_policy.allow_private_hosts: true to allow it, for an intranet)"


def _shown(link: str) -> str:
    """A link as it may be stored and printed: redacted, on one line."""
    return " ".join(redact_url(str(link)).split())[:500]


def load_feeds(urls: list[str], since: datetime | None = None, cache_dir: Path | None = None,
               timeout_s: float = 20.0, policy: FeedPolicy | None = None) -> tuple[list[Document], list[SkippedSource]]:
    """Documents from every entry of every feed (published after `since`), and what was skipped and why.
    `urls` as the config holds them (redacted; see `fetch`); `policy`: feed_policy of the config."""
    import feedparser

    policy = policy or FeedPolicy()
    docs: list[Document] = []
    skipped: list[SkippedSource] = []
    cache = FeedCache(cache_dir) if cache_dir is not None else None
    with httpx.Client(timeout=timeout_s, follow_redirects=False,
                      limits=httpx.Limits(max_keepalive_connections=0)) as client:
        # no kept-alive connections: a connection is made to a checked address, for one request
        fetcher = SafeFetcher(client, allow_private=policy.allow_private_hosts, pacer=HostPacer(policy.host_delay_s),
                              max_redirects=policy.max_redirects, deadline_s=max(timeout_s, 1.0) * 3)
        for url in urls:
            try:
                body, how = fetch(url, fetcher, cache)
            except BlockedURL as exc:
                hint = _ALLOW_HINT if exc.private else ""
                skipped.append(SkippedSource(source=_shown(url), reason=f"feed not fetched: {exc.reason}{hint}"))
                continue
            except httpx.HTTPStatusError as exc:
                skipped.append(SkippedSource(source=_shown(url),
                                             reason=f"feed answered HTTP {exc.response.status_code}"))
                continue
            except httpx.HTTPError as exc:
                skipped.append(SkippedSource(source=_shown(url),
                                             reason=f"feed unreachable ({type(exc).__name__}); check the URL"))
                continue
            parsed = feedparser.parse(body)
            if not parsed.entries and (parsed.bozo or not parsed.feed):
                skipped.append(SkippedSource(source=_shown(url),
                                             reason="not an RSS or Atom feed (no entries could be parsed)"))
                continue
            feed_title = clean_title(parsed.feed.get("title") or _shown(url))
            older = 0
            for entry in parsed.entries:
                link = entry.get("link") or entry.get("id") or url
                published = _published(entry)
                if since is not None and published is None and policy.undated == "skip":
                    skipped.append(SkippedSource(
                        source=_shown(link), reason=f"entry has no publication date, so it may be older than since "
                        f"{since:%Y-%m-%d}; set feed_policy.undated: keep to keep such entries"))
                    continue
                if since is not None and published is not None and published <= since:
                    older += 1  # before the cutoff: the models may have seen it (counted below)
                    continue
                text, origin, why = _entry_text(entry, fetcher)
                if len(text) < MIN_CHARS:
                    skipped.append(SkippedSource(source=_shown(link), reason=f"entry text too short ({len(text)} "
                                                 f"characters{'; ' + why if why else ''})"))
                    continue
                if why.startswith("linked page not fetched"):
                    skipped.append(SkippedSource(source=_shown(entry.get("link")),
                                                 reason=why + "; the entry's summary was used instead"))
                docs.append(Document(
                    id=sha256_text(text), title=entry.get("title") or _shown(link), source=_shown(link), text=text,
                    format="feed", published_at=published,
                    metadata={"feed": _shown(url), "feed_title": feed_title, "link": _shown(link), "text_from": origin,
                              "fetch": how, **({"link_not_used": why} if why else {})}))
            if older:
                skipped.append(SkippedSource(source=_shown(url), reason=f"{older} entr{'y' if older == 1 else 'ies'} "
                                             f"published on or before since {since:%Y-%m-%d}"))
    return docs, skipped
