"""Fetching what a feed names, safely: no request to this machine, its network or a cloud's
metadata service unless the config allows it, one host at a time at a polite pace.

A feed is input from elsewhere: an entry's link to `http://127.0.0.1:8080/admin` or
`http://169.254.169.254/latest/meta-data/` would make the machine that runs the nightly refresh
fetch it and turn the answer into a document (server-side request forgery). So, before every
request (the entry link and every redirect hop):
- only http and https;
- host names of this machine or a private zone (`localhost`, `*.internal`, `metadata.google.internal`,
  ...) are refused by name;
- the host name is resolved and *every* address checked: loopback, private (RFC 1918, ULA),
  link-local (169.254/16, which holds the metadata services, fe80::/10), CGNAT (100.64/10),
  multicast, reserved, unspecified, and IPv4 addresses inside IPv6 (mapped, 6to4, NAT64);
- the request then goes to the checked address (the name is kept for the Host header and TLS),
  so a DNS answer that changes between the check and the connection (rebinding) gains nothing.
Redirects are followed here, hop by hop, each hop checked the same way. A host the user named
(the feed URL itself) is trusted: `trusted_host` lets its hops on that host through.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from dataclasses import dataclass, field

import httpx

BLOCKED_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback",
                           "metadata", "metadata.google.internal", "metadata.goog", "instance-data",
                           "instance-data.ec2.internal", "metadata.azure.internal", "kubernetes.default"})
BLOCKED_SUFFIXES = (".localhost", ".internal", ".local", ".home.arpa", ".svc", ".cluster.local")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
# Special-purpose ranges some Python versions still call global (192.0.0.192 is Oracle Cloud's
# metadata service; the others are documentation, benchmarking and "this network" ranges).
_SPECIAL = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
    "2001:db8::/32", "fec0::/10"))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
REDIRECTS = (301, 302, 303, 307, 308)


class BlockedURL(Exception):
    """A URL the policy does not fetch; `reason` says why, in words a user can act on."""

    def __init__(self, url: str, reason: str, private: bool = True):
        super().__init__(reason)
        self.url = url
        self.reason = reason
        self.private = private  # refused as a non-public host (the config can allow it), not for its form


def address_problem(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why an address must not be fetched from ("a loopback address"), or None when it is public."""
    if isinstance(ip, ipaddress.IPv6Address):
        nat64 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None
        inner = ip.ipv4_mapped or ip.sixtofour or nat64
        if inner is not None:
            return address_problem(inner)
    checks = (("loopback", ip.is_loopback), ("link-local (cloud metadata lives there)", ip.is_link_local),
              ("unspecified", ip.is_unspecified), ("multicast", ip.is_multicast),
              ("carrier-grade NAT", isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT),
              ("private", ip.is_private), ("reserved", ip.is_reserved),
              ("special-purpose", any(ip.version == n.version and ip in n for n in _SPECIAL)),
              ("not globally routable", not ip.is_global))
    for what, hit in checks:
        if hit:
            return f"{'an' if what[0] in 'aeiou' else 'a'} {what} address"
    return None


def host_problem(host: str) -> str | None:
    """Why a host name is refused by name alone, or None."""
    h = host.lower().rstrip(".")
    if h in BLOCKED_NAMES or h.endswith(BLOCKED_SUFFIXES):
        return "a name of this machine or a private zone"
    return None


def resolve(host: str, port: int) -> list[str]:
    """Every address the host name resolves to (an IP literal resolves to itself)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, OverflowError, ValueError) as exc:  # gaierror, a bad port, a long label
        raise httpx.ConnectError(f"cannot resolve {host}: {exc}") from None
    return list(dict.fromkeys(str(info[4][0]).split("%", 1)[0] for info in infos))


def _parse(url: str, base: httpx.URL | None = None) -> httpx.URL:
    """The URL (joined to `base` for a redirect's Location); BlockedURL when it is not one."""
    try:
        return base.join(url) if base is not None else httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        raise BlockedURL(str(url), f"not a valid URL ({exc})", private=False) from None


@dataclass
class HostPacer:
    """At least `delay_s` between the starts of two requests to one host (thread-safe)."""

    delay_s: float = 0.5
    _next: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait(self, host: str) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next.get(host, 0.0))
            self._next[host] = start + self.delay_s
        if start > now:
            time.sleep(start - now)


@dataclass
class SafeFetcher:
    """GETs with the address policy, pinned connections, manual redirects, a pace per host,
    a size cap and a deadline for the whole reply."""

    client: httpx.Client  # created with follow_redirects=False
    allow_private: bool = False
    pacer: HostPacer = field(default_factory=HostPacer)
    max_redirects: int = 5
    max_bytes: int = 20_000_000
    deadline_s: float = 60.0

    def check(self, url: httpx.URL) -> list[str]:
        """The checked addresses to connect to for `url`, in the resolver's order; raises BlockedURL."""
        if url.scheme not in ("http", "https"):
            raise BlockedURL(str(url), f"scheme {url.scheme or '(none)'!r} is not fetched; only http and https",
                             private=False)
        host = url.raw_host.decode("ascii", "replace")
        if not host:
            raise BlockedURL(str(url), "the URL names no host", private=False)
        why = None if self.allow_private else host_problem(host)
        if why:
            raise BlockedURL(str(url), f"{host} is {why}")
        addresses = resolve(host, url.port or (443 if url.scheme == "https" else 80))
        for a in addresses if not self.allow_private else ():
            why = address_problem(ipaddress.ip_address(a))
            if why:
                shown = host if host == a else f"{host} ({a})"
                raise BlockedURL(str(url), f"{shown} is {why}")
        return addresses

    def get(self, url: str, headers: dict[str, str] | None = None, trusted_host: str | None = None) -> httpx.Response:
        """The final response (body read) after at most `max_redirects` checked hops. Raises
        BlockedURL, httpx.HTTPError (TooManyRedirects, timeouts, ...)."""
        current = _parse(url)
        t0 = time.monotonic()
        for hop in range(self.max_redirects + 1):
            trusted = trusted_host is not None and current.host == trusted_host
            try:
                addresses = [] if trusted else self.check(current)
            except BlockedURL as exc:
                if hop == 0:
                    raise
                raise BlockedURL(exc.url, f"redirected there: {exc.reason}", exc.private) from None
            self.pacer.wait(current.host)
            r = self._send_any(current, addresses, dict(headers or {}), t0)
            if r.status_code in REDIRECTS and "location" in r.headers:
                try:
                    current = _parse(r.headers["location"], base=current)
                except BlockedURL as exc:
                    raise BlockedURL(exc.url, f"redirected there: {exc.reason}", exc.private) from None
                continue
            return r
        raise httpx.TooManyRedirects(f"more than {self.max_redirects} redirects from {url}")

    def _send_any(self, url: httpx.URL, addresses: list[str], headers: dict[str, str], t0: float) -> httpx.Response:
        """Connect to the checked addresses in turn (by name when none is given: a trusted host)."""
        if not addresses:
            return self._send(url, None, headers, t0)
        for a in addresses[:-1]:
            try:
                return self._send(url, a, dict(headers), t0)
            except httpx.ConnectError:
                continue  # the next checked address, as a connection by name would
        return self._send(url, addresses[-1], headers, t0)

    def _send(self, url: httpx.URL, pinned: str | None, headers: dict[str, str], t0: float) -> httpx.Response:
        extensions = {}
        target = url
        if pinned is not None and pinned != url.host:
            headers["Host"] = url.netloc.decode("ascii")
            target = url.copy_with(host=pinned)
            if url.scheme == "https":
                extensions["sni_hostname"] = url.host  # TLS still checks the certificate of the name
        request = self.client.build_request("GET", target, headers=headers, extensions=extensions)
        r = self.client.send(request, stream=True)
        try:
            body = bytearray()
            for part in r.iter_bytes():
                body += part
                if len(body) > self.max_bytes:
                    raise httpx.DecodingError(f"reply larger than {self.max_bytes} bytes", request=request)
                if time.monotonic() - t0 > self.deadline_s:
                    raise httpx.ReadTimeout(f"reply not complete within {self.deadline_s:g} s", request=request)
        finally:
            r.close()
        # a plain response carrying the body, its request under the URL as named (not the address)
        # (the body is decoded already: the encoding and length headers no longer describe it)
        kept = [(k, v) for k, v in r.headers.multi_items() if k.lower() not in ("content-encoding", "content-length")]
        return httpx.Response(r.status_code, headers=kept, content=bytes(body), request=httpx.Request("GET", url))
