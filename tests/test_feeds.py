"""Live feeds served by a real HTTP server on 127.0.0.1: RSS with full content, Atom with a
summary and a link to the full page, a feed that fails and a file that is no feed; `since`
keeps only the later entries, in the library and in a real build (Qwen, real Prefect run)."""

from __future__ import annotations

import functools
import json
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from benchmint.config import BuildConfig, FeedPolicy
from corpora.feeds import load_feeds, parse_since

ARTICLES = {
    "early-1": ("Brannock Ferries retires the Gull class", "2026-08-01",
                "Brannock Ferries announced that its four Gull-class ferries will leave service at the end of the "
                "summer timetable. The Gull class entered service in 1994 and carried 310 passengers each. "),
    "early-2": ("Harwick tide gauge moves", "2026-09-15",
                "The Harwick tide gauge was moved 40 metres north to the new breakwater on 12 September. "
                "Readings from the old position are kept in the archive under station code HWK-1. "),
    "late": ("Brannock Ferries orders two Tern-class electric ferries", "2026-11-20",
             "Brannock Ferries has ordered two Tern-class battery-electric ferries from the Oskerby yard for "
             "delivery in March 2028. Each Tern-class ferry will carry 240 passengers and 38 cars, and its "
             "batteries of 6.2 megawatt-hours will be charged at the Brannock quay in 11 minutes between crossings. "
             "The order is worth 71 million euros, of which the regional transport fund pays 30 percent. "),
}


def _rss() -> str:
    items = "".join(
        f"<item><title>{t}</title><link>http://example.invalid/{k}</link><guid>{k}</guid>"
        f"<pubDate>{_rfc822(d)}</pubDate><description>{body[:80]}</description>"
        f"<content:encoded><![CDATA[<p>{body * 2}</p>]]></content:encoded></item>"
        for k, (t, d, body) in ARTICLES.items())
    return ('<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
            f"<channel><title>Brannock harbour news</title><link>http://example.invalid/</link>{items}</channel></rss>")


def _rfc822(day: str) -> str:
    from datetime import datetime, timezone
    from email.utils import format_datetime
    return format_datetime(datetime.fromisoformat(day).replace(hour=9, tzinfo=timezone.utc))


@pytest.fixture(scope="module")
def feed_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("feeds")
    (root / "rss.xml").write_text(_rss(), encoding="utf-8")
    page = ("<html><head><title>Oskerby yard launches the Tern hull</title></head><body><article>"
            "<h1>Oskerby yard launches the Tern hull</h1>"
            "<p>The Oskerby yard launched the first Tern-class hull on 25 November, four weeks ahead of plan. "
            "The hull is 68 metres long and was welded from 410 tonnes of marine aluminium.</p>"
            "<p>Fitting out will take eleven months at the yard's covered berth number 3, after which sea trials "
            "start off the Skerrow lighthouse.</p></article></body></html>")
    (root / "tern.html").write_text(page, encoding="utf-8")
    (root / "notafeed.txt").write_text("just some words, not a feed", encoding="utf-8")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    atom = ('<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            "<title>Oskerby yard</title><id>urn:oskerby</id><updated>2026-11-25T10:00:00Z</updated>"
            f"<entry><title>Oskerby yard launches the Tern hull</title><id>urn:tern</id><link href=\"{base}/tern.html\"/>"
            "<updated>2026-11-25T10:00:00Z</updated><summary>The first Tern hull is in the water.</summary></entry>"
            "</feed>")
    (root / "atom.xml").write_text(atom, encoding="utf-8")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield base
    server.shutdown()


def test_since_keeps_only_later_entries_and_bad_feeds_are_skipped(feed_server, tmp_path):
    urls = [f"{feed_server}/rss.xml", f"{feed_server}/atom.xml", f"{feed_server}/missing.xml",
            f"{feed_server}/notafeed.txt", "http://127.0.0.1:9/feed.xml"]
    # the Atom entry links to a page on this machine: allowed here, as for an intranet
    local = FeedPolicy(allow_private_hosts=True, host_delay_s=0)
    docs, skipped = load_feeds(urls, parse_since("2026-10-01"), tmp_path, policy=local)
    titles = {d.title: d for d in docs}
    assert set(titles) == {ARTICLES["late"][0], "Oskerby yard launches the Tern hull"}
    late = titles[ARTICLES["late"][0]]
    assert late.metadata["text_from"] == "feed content" and "6.2 megawatt-hours" in late.text
    assert late.published_at.isoformat().startswith("2026-11-20")
    tern = titles["Oskerby yard launches the Tern hull"]
    assert tern.metadata["text_from"] == "linked page" and "410 tonnes" in tern.text  # fetched from the link
    reasons = {s.source: s.reason for s in skipped}
    assert "HTTP 404" in reasons[f"{feed_server}/missing.xml"]
    assert "not an RSS or Atom feed" in reasons[f"{feed_server}/notafeed.txt"]
    assert "unreachable" in reasons["http://127.0.0.1:9/feed.xml"]
    # the second read is a conditional request: 304, the remembered copy, the same documents
    again, _ = load_feeds(urls[:1], parse_since("2026-10-01"), tmp_path, policy=local)
    assert [d.id for d in again] == [late.id] and again[0].metadata["fetch"] == "not modified"
    every, _ = load_feeds(urls[:1], None, tmp_path, policy=local)
    assert len(every) == 3


def test_parse_since():
    from datetime import datetime, timezone

    now = datetime(2026, 11, 29, tzinfo=timezone.utc)
    assert parse_since("30d", now) == datetime(2026, 10, 30, tzinfo=timezone.utc)
    assert parse_since("2026-10-01").year == 2026 and parse_since(None) is None
    with pytest.raises(Exception, match="not a date"):
        parse_since("last tuesday")


def test_a_build_from_a_feed_asks_only_about_entries_after_since(feed_server, tmp_path, prefect_harness, cache_dir):
    from flows.build import build_benchmark

    cfg = BuildConfig(name="harbour", feeds=[f"{feed_server}/rss.xml"], since="2026-10-01", questions=1,
                      output_dir=str(tmp_path / "out"), cache_dir=str(cache_dir))
    summary = build_benchmark(cfg.model_dump(mode="json"))
    release = Path(summary["release"])
    manifest = json.loads((release / "manifest.json").read_text())
    docs = manifest["sources"]["documents"]
    assert [d["title"] for d in docs] == [ARTICLES["late"][0]] and docs[0]["published_at"].startswith("2026-11-20")
    rows = [json.loads(x) for x in (release / "questions.jsonl").read_text().splitlines()]
    assert rows and all(r["document_ids"] == [docs[0]["id"]] for r in rows)
