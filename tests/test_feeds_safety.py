"""Feeds fetched safely, against a real HTTP server on 127.0.0.1 that records every request:
entry links to loopback, private, link-local and metadata addresses are not fetched (the server
never sees them) and are reported by name with a reason; the config key allows them; undated
entries are reported with `since` (or kept by policy); requests to one host keep the configured
gap; the feed cache holds no raw token."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from benchmint.config import BuildConfig, FeedPolicy, load_config
from benchmint.secrets import stash
from corpora.feeds import load_feeds, parse_since

BODY = ("The Skerrow lighthouse keeper logged 41 ships passing the point on the night of 3 November, "
        "the most since the log began in 1911. The light's new lens, fitted in June, reaches 23 nautical miles. ")
PAGE = f"<html><head><title>Skerrow log</title></head><body><article><p>{BODY * 2}</p></article></body></html>"


class Recorder:
    """What the server saw: (path, arrival time, Host header) per request."""

    def __init__(self):
        self.seen: list[tuple[str, float, str]] = []
        self.lock = threading.Lock()

    def paths(self) -> list[str]:
        with self.lock:
            return [p for p, _, _ in self.seen]


def _item(title: str, link: str, date: str | None, summary: str = "short") -> str:
    pub = f"<pubDate>{date}</pubDate>" if date else ""
    return f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid>{pub}<description>{summary}</description></item>"


def _rss(items: list[str]) -> str:
    return ('<?xml version="1.0"?><rss version="2.0"><channel><title>Skerrow news</title>'
            f"<link>http://example.invalid/</link>{''.join(items)}</channel></rss>")


@pytest.fixture
def server():
    rec = Recorder()
    routes: dict[str, tuple[int, dict[str, str], str]] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the http.server name)
            with rec.lock:
                rec.seen.append((self.path, time.monotonic(), self.headers.get("Host", "")))
            status, headers, body = routes.get(self.path.split("?", 1)[0], (404, {}, "not here"))
            data = body.encode()
            self.send_response(status)
            for k, v in {"Content-Type": "text/html; charset=utf-8", **headers}.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield base, routes, rec
    httpd.shutdown()
    httpd.server_close()


FAST = FeedPolicy(host_delay_s=0)


def test_entry_links_to_private_addresses_are_not_fetched_and_are_reported(server, tmp_path):
    base, routes, rec = server
    port = base.rsplit(":", 1)[1]
    hostile = {
        "loopback": f"{base}/secret-admin",
        "loopback by decimal": f"http://2130706433:{port}/secret-decimal",
        "loopback ipv6": f"http://[::1]:{port}/secret-v6",
        "private": "http://10.20.30.40/secret-private",
        "metadata": "http://169.254.169.254/latest/meta-data/iam/",
        "metadata by name": "http://metadata.google.internal/computeMetadata/v1/",
        "metadata ipv6": "http://[fd00:ec2::254]/latest/meta-data/",
        "cgnat": "http://100.100.100.200/latest/meta-data/",
        "oracle metadata": "http://192.0.0.192/opc/v2/instance/",
        "mapped": f"http://[::ffff:127.0.0.1]:{port}/secret-mapped",
        "localhost": f"http://localhost:{port}/secret-localhost",
        "file": "file://etc/passwd",
    }
    routes["/rss.xml"] = (200, {"Content-Type": "application/rss+xml"},
                          _rss([_item(k, v, "Tue, 24 Nov 2026 09:00:00 GMT") for k, v in hostile.items()]))
    for path in ("/secret-admin", "/secret-decimal", "/secret-v6", "/secret-mapped", "/secret-localhost"):
        routes[path] = (200, {}, PAGE)

    docs, skipped = load_feeds([f"{base}/rss.xml"], None, tmp_path, policy=FAST)

    assert docs == []  # nothing but the short summaries: every entry skipped
    assert rec.paths() == ["/rss.xml"]  # the server saw the feed and not one entry link
    reasons = {s.source: s.reason for s in skipped}
    for what, link in hostile.items():
        shown = next(r for src, r in reasons.items() if src == link or src.rstrip("/") == link.rstrip("/"))
        assert "linked page not fetched" in shown, (what, shown)
        assert ("scheme" in shown) if what == "file" else ("allow_private_hosts" in shown), (what, shown)
    assert "loopback" in reasons[hostile["loopback"]]
    assert "link-local" in reasons[hostile["metadata"]]
    assert "private" in reasons[hostile["private"]]
    assert "carrier-grade NAT" in reasons[hostile["cgnat"]]
    assert "private zone" in reasons[hostile["metadata by name"]]

    # the config key lets them through (tests, intranets): the local pages are fetched and read
    local = ("loopback", "loopback by decimal", "localhost")
    routes["/local.xml"] = (200, {}, _rss([_item(k, hostile[k], "Tue, 24 Nov 2026 09:00:00 GMT") for k in local]))
    allowed, _ = load_feeds([f"{base}/local.xml"], None, tmp_path,
                            policy=FeedPolicy(allow_private_hosts=True, host_delay_s=0))
    assert sorted(d.title for d in allowed) == sorted(local)
    assert all("41 ships" in d.text and d.metadata["text_from"] == "linked page" for d in allowed)
    assert "/secret-admin" in rec.paths() and "/secret-localhost" in rec.paths()
    # connected to the checked address, the name kept for the Host header
    hosts = {p: h for p, _, h in rec.seen}
    assert hosts["/secret-localhost"] == f"localhost:{port}"


def test_a_host_name_is_resolved_and_every_address_checked(server, tmp_path):
    base, routes, rec = server
    name = socket.gethostname()
    try:
        addresses = {i[4][0] for i in socket.getaddrinfo(name, 80)}
    except socket.gaierror:
        pytest.skip(f"this machine's name {name!r} does not resolve")
    link = f"http://{name}:{base.rsplit(':', 1)[1]}/by-name"
    routes["/rss.xml"] = (200, {}, _rss([_item("by name", link, None)]))
    _, skipped = load_feeds([f"{base}/rss.xml"], None, tmp_path, policy=FAST)
    reason = {s.source: s.reason for s in skipped}[link]
    # the machine's own name resolves to one of its own (non-public) addresses: refused, the address named
    assert "not fetched" in reason and any(a in reason for a in addresses), reason
    assert "/by-name" not in rec.paths()


def test_redirects_are_checked_hop_by_hop(server, tmp_path):
    base, routes, rec = server
    routes["/moved.xml"] = (301, {"Location": "/rss.xml"}, "")  # on the named host: followed
    routes["/rss.xml"] = (200, {}, _rss([_item("kept", "http://example.invalid/a", None, BODY * 2)]))
    routes["/evil.xml"] = (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, "")
    routes["/loop.xml"] = (302, {"Location": "/loop.xml"}, "")
    docs, skipped = load_feeds([f"{base}/moved.xml", f"{base}/evil.xml", f"{base}/loop.xml"], None, tmp_path,
                               policy=FeedPolicy(host_delay_s=0, max_redirects=3))
    assert [d.title for d in docs] == ["kept"]
    reasons = {s.source: s.reason for s in skipped}
    assert "feed not fetched: redirected there" in reasons[f"{base}/evil.xml"] and "169.254.169.254" in reasons[f"{base}/evil.xml"]
    assert "TooManyRedirects" in reasons[f"{base}/loop.xml"]
    assert rec.paths().count("/loop.xml") == 4  # the first request and three redirects, no more


def test_undated_entries_are_reported_with_since_or_kept_by_policy(server, tmp_path):
    base, routes, _ = server
    routes["/rss.xml"] = (200, {}, _rss([
        _item("dated new", "http://example.invalid/new", "Tue, 24 Nov 2026 09:00:00 GMT", BODY * 2),
        _item("dated old", "http://example.invalid/old", "Tue, 01 Sep 2026 09:00:00 GMT", BODY * 2),
        _item("no date", "http://example.invalid/undated", None, BODY * 2 + " Undated."),
    ]))
    since = parse_since("2026-10-01")
    docs, skipped = load_feeds([f"{base}/rss.xml"], since, tmp_path, policy=FAST)
    assert [d.title for d in docs] == ["dated new"]
    reasons = {s.source: s.reason for s in skipped}
    assert "no publication date" in reasons["http://example.invalid/undated"]
    assert "undated: keep" in reasons["http://example.invalid/undated"]
    assert reasons[f"{base}/rss.xml"] == "1 entry published on or before since 2026-10-01"  # counted, not silent
    kept, skipped2 = load_feeds([f"{base}/rss.xml"], since, tmp_path, policy=FeedPolicy(undated="keep", host_delay_s=0))
    assert sorted(d.title for d in kept) == ["dated new", "no date"]
    assert "http://example.invalid/undated" not in {s.source for s in skipped2}


def test_requests_to_one_host_keep_the_configured_gap(server, tmp_path):
    base, routes, rec = server
    routes["/rss.xml"] = (200, {}, _rss([_item(f"page {i}", f"{base}/page-{i}", None) for i in range(3)]))
    for i in range(3):
        routes[f"/page-{i}"] = (200, {}, PAGE)
    delay = 0.4
    docs, _ = load_feeds([f"{base}/rss.xml"], None, tmp_path,
                         policy=FeedPolicy(allow_private_hosts=True, host_delay_s=delay))
    assert len(docs) == 3
    times = [t for _, t, _ in rec.seen]
    assert len(times) == 4  # the feed, then three pages, one host
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert min(gaps) >= delay * 0.9, gaps  # arrival times: a little jitter from the connection


def test_the_feed_cache_holds_no_raw_token(server, tmp_path):
    base, routes, rec = server
    token = "CANARY-feed-tok-5d1f0e"
    routes["/private.xml"] = (200, {"ETag": '"v1"'}, _rss([_item("entry", "http://example.invalid/e", None, BODY * 2)]))
    redacted = stash(f"{base}/private.xml?token={token}")  # what the config holds (the CLI redacts)
    assert token not in redacted
    docs, skipped = load_feeds([redacted], None, tmp_path / "cache", policy=FAST)
    assert len(docs) == 1 and not skipped
    assert rec.paths() == [f"/private.xml?token={token}"]  # the raw URL went to the server, and only there
    files = list((tmp_path / "cache").rglob("*"))
    assert any(f.suffix == ".json" for f in files)
    for f in files:
        if f.is_file():
            assert token not in f.read_bytes().decode("utf-8", "replace"), f
            assert token not in f.name
    assert token not in repr(docs) and token not in repr(skipped)
    # the second read is a conditional request on the same (hashed) cache entry
    again, _ = load_feeds([redacted], None, tmp_path / "cache", policy=FAST)
    assert again[0].metadata["fetch"] in ("fetched", "not modified")


def test_the_policy_is_a_config_key():
    cfg = load_config(None, {"feeds": ["http://127.0.0.1:1/x.xml"]})
    assert cfg.feed_policy.allow_private_hosts is False and cfg.feed_policy.undated == "skip"
    assert cfg.feed_policy.host_delay_s > 0
    cfg = BuildConfig(name="t", feeds=["http://x/"], feed_policy={"allow_private_hosts": True, "undated": "keep"})
    assert cfg.feed_policy.allow_private_hosts and cfg.feed_policy.undated == "keep"
    with pytest.raises(Exception, match="undated"):
        BuildConfig(name="t", feeds=["http://x/"], feed_policy={"undated": "drop"})


def test_the_init_template_shows_the_policy_defaults():
    from pathlib import Path

    import yaml

    import benchmint

    raw = (Path(benchmint.__file__).parent / "init_template.yaml").read_text(encoding="utf-8")
    shown = yaml.safe_load(raw.replace("{name}", "t"))["feed_policy"]
    assert shown == FeedPolicy().model_dump()


def test_https_goes_to_the_checked_address_and_checks_the_name_certificate(tmp_path):
    """The connection is pinned to the address that was checked; TLS still verifies the
    certificate against the host name (SNI), so pinning breaks no https link."""
    import shutil
    import ssl
    import subprocess

    import httpx

    from corpora.netguard import BlockedURL, HostPacer, SafeFetcher

    if not shutil.which("openssl"):
        pytest.skip("no openssl to make a certificate")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(tmp_path / "k.pem"),
                    "-out", str(tmp_path / "c.pem"), "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost"], check=True, capture_output=True)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = f"host={self.headers.get('Host')}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(tmp_path / "c.pem", tmp_path / "k.pem")
    httpd.socket = server_ctx.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    port = httpd.server_address[1]
    try:
        with httpx.Client(verify=ssl.create_default_context(cafile=str(tmp_path / "c.pem"))) as client:
            allowed = SafeFetcher(client, allow_private=True, pacer=HostPacer(0))
            r = allowed.get(f"https://localhost:{port}/page")
            assert r.status_code == 200 and r.text == f"host=localhost:{port}"
            assert str(r.url) == f"https://localhost:{port}/page"  # reported under its name, not the address
            with pytest.raises(httpx.ConnectError):  # the certificate names localhost, not 127.0.0.1
                allowed.get(f"https://127.0.0.1:{port}/page")
            with pytest.raises(BlockedURL, match="localhost is a name of this machine"):
                SafeFetcher(client, pacer=HostPacer(0)).get(f"https://localhost:{port}/page")
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_malformed_links_and_redirects_are_reported_never_a_traceback(server, tmp_path):
    base, routes, rec = server
    bad = ["http://[::1", "http://x:99999/", "http://" + "a" * 300 + ".com/", "javascript:alert(1)",
           "http://exa mple.invalid/", f"{base}/bad-location"]
    routes["/rss.xml"] = (200, {}, _rss([_item(f"bad {i}", link, None) for i, link in enumerate(bad)]))
    routes["/bad-location"] = (302, {"Location": "http://[::1"}, "")
    routes["/feed-bad-location.xml"] = (302, {"Location": "http://[zz::1]:x/"}, "")
    docs, skipped = load_feeds([f"{base}/rss.xml", f"{base}/feed-bad-location.xml", "http://[::1"], None, tmp_path,
                               policy=FeedPolicy(allow_private_hosts=True, host_delay_s=0))
    assert docs == []
    reasons = [s.reason for s in skipped]
    assert len(skipped) == len(bad) + 2, reasons  # every entry and both broken feeds, each with a reason
    by = {s.source: s.reason for s in skipped}
    assert "not a valid URL" in by["http://[::1"] and "javascript" in by["javascript:alert(1)"]
    assert "unreachable" in by[f"{base}/bad-location"]  # httpx refuses the Location itself
    assert "unreachable" in by[f"{base}/feed-bad-location.xml"]


def test_the_policy_reaches_the_feed_task_of_a_real_flow_run(server, tmp_path, prefect_harness):
    """The build flow's own reading step (load_all: the load-feeds task) in a real Prefect flow run,
    from a config dict as a deployment would pass it: private entry links refused by default,
    fetched when the config allows them."""
    from prefect import flow

    from flows.build import load_all

    base, routes, rec = server
    routes["/rss.xml"] = (200, {}, _rss([_item("local page", f"{base}/page", None)]))
    routes["/page"] = (200, {}, PAGE)

    @flow(name="read-feeds")
    def read(config: dict) -> tuple[list, list]:
        return load_all(BuildConfig.model_validate(config))

    base_cfg = {"name": "t", "feeds": [f"{base}/rss.xml"], "cache_dir": str(tmp_path)}
    docs, skipped = read(BuildConfig.model_validate(base_cfg).model_dump(mode="json"))
    assert docs == [] and "/page" not in rec.paths()
    assert any("not fetched" in s.reason and s.source == f"{base}/page" for s in skipped)
    allowed = {**base_cfg, "feed_policy": {"allow_private_hosts": True, "host_delay_s": 0}}
    docs, _ = read(BuildConfig.model_validate(allowed).model_dump(mode="json"))
    assert [d.title for d in docs] == ["local page"] and "/page" in rec.paths()
