"""One chat-completion request over HTTP, read against a deadline, and classified: a usable reply,
or a Fault that names its kind.

The reply is read incrementally: `timeout_s` bounds the whole reply, so a body trickled in a byte
at a time fails it (a read timeout alone would not: each byte restarts it). Every text built from
an endpoint's body is scrubbed of secrets before it is kept.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx

from benchmint.secrets import scrub

MAX_REPLY_BYTES = 16 << 20  # a chat reply of max_tokens is a few KB; more is a broken or hostile endpoint

# 5xx, 429 and 408 are the server's own "try again"; an error object in a 200 body with one of these
# codes (some gateways send that) is retried the same way.
RETRY_STATUS = {408, 429}


@dataclass
class Reply:
    """A usable reply: the assistant message's text and the endpoint's token counts."""

    content: str
    prompt_tokens: int = 0
    completion_tokens: int = 0


class Fault(Exception):
    """One unusable reply.

    kind: server_error | rate_limited | timeout | connection | not_json | html | error_object | rejected | auth
    | not_found. retryable: worth another try. retry_after: seconds the endpoint asked to wait (None: not said).
    reached: the endpoint answered at the HTTP level (a refused connection is not reached)."""

    def __init__(self, kind: str, message: str, *, retryable: bool, retry_after: float | None = None,
                 reached: bool = True, status: int | None = None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after
        self.reached = reached
        self.status = status


def retry_after_s(headers: httpx.Headers, now: float | None = None) -> float | None:
    """Seconds to wait from `retry-after-ms`, or `Retry-After` in its seconds or HTTP-date form."""
    ms = headers.get("retry-after-ms")
    if ms:
        with contextlib.suppress(ValueError):
            return max(0.0, float(ms) / 1000)
    value = (headers.get("retry-after") or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _one_line(text: str, secrets: tuple[str, ...], n: int = 240) -> str:
    text = scrub(" ".join(text.split()), extra=secrets)
    return text[:n] + ("..." if len(text) > n else "")


def _error_text(body: bytes, secrets: tuple[str, ...]) -> str:
    """The message of a JSON error body, or the start of any other body; scrubbed, one line."""
    text = body.decode("utf-8", errors="replace")
    with contextlib.suppress(ValueError):
        data = json.loads(text)
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            text = str(data["error"].get("message") or data["error"])
        elif isinstance(data, dict) and data.get("error"):
            text = str(data["error"])
    return _one_line(text, secrets) or "(empty body)"


def _read_body(resp: httpx.Response, deadline: float, secrets: tuple[str, ...]) -> bytes:
    """The whole body, or a Fault at the deadline. A watchdog shuts the socket at the deadline, so a
    read stalled mid-body wakes up then rather than one read timeout later."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise Fault("timeout", "no complete reply before the deadline", retryable=True)
    cut = threading.Event()
    stream = resp.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None

    def stop() -> None:
        cut.set()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(remaining, stop)
    timer.daemon = True
    timer.start()
    body = bytearray()
    try:
        for chunk in resp.iter_bytes():
            body += chunk
            if len(body) > MAX_REPLY_BYTES:
                raise Fault("not_json", f"a reply over {MAX_REPLY_BYTES >> 20} MiB", retryable=False)
            if time.monotonic() > deadline:
                cut.set()
                break
    except httpx.HTTPError as exc:
        if not cut.is_set():
            raise Fault("connection", f"the reply was cut off after {len(body)} bytes: "
                                      f"{_one_line(str(exc), secrets, 120)}", retryable=True) from None
    finally:
        timer.cancel()
    if cut.is_set():
        raise Fault("timeout", f"the reply was still arriving at the deadline ({len(body)} bytes read)", retryable=True)
    return bytes(body)


def _status_fault(status: int, body: bytes, headers: httpx.Headers, secrets: tuple[str, ...]) -> Fault:
    text = _error_text(body, secrets)
    wait = retry_after_s(headers)
    if status == 429:
        return Fault("rate_limited", f"429: {text}", retryable=True, retry_after=wait, status=status)
    if status == 408:
        return Fault("timeout", f"408: {text}", retryable=True, retry_after=wait, status=status)
    if status >= 500:
        return Fault("server_error", f"{status}: {text}", retryable=True, retry_after=wait, status=status)
    if status in (401, 403):
        return Fault("auth", f"{status}: {text}", retryable=False, status=status)
    if status == 404:
        return Fault("not_found", f"404: {text}", retryable=False, status=status)
    return Fault("rejected", f"{status}: {text}", retryable=False, status=status)


def _reply(resp: httpx.Response, body: bytes, secrets: tuple[str, ...]) -> Reply:
    """A 2xx body as a Reply, or the Fault that says why it is not one."""
    ctype = resp.headers.get("content-type", "").lower()
    start = body.lstrip()[:64].lower()
    if "html" in ctype or start.startswith((b"<!doctype", b"<html", b"<head", b"<body")):
        page = _one_line(body.decode("utf-8", "replace"), secrets, 120)
        raise Fault("html", f"an HTML page instead of JSON: {page}", retryable=True)
    try:
        data: Any = json.loads(body)
    except ValueError as exc:
        tail = _one_line(body[-40:].decode("utf-8", "replace"), secrets, 60)
        raise Fault("not_json", f"a body that is not JSON ({exc}; {len(body)} bytes, ending {tail!r})",
                    retryable=True) from None
    if not isinstance(data, dict):
        raise Fault("not_json", f"a JSON {type(data).__name__} instead of a completion object", retryable=True)
    choices = data.get("choices")
    if data.get("error") and not choices:
        err = data["error"]
        code = err.get("code") if isinstance(err, dict) else None
        code = code if isinstance(code, int) else (int(code) if isinstance(code, str) and code.isdigit() else None)
        retry = code is not None and (code >= 500 or code in RETRY_STATUS)
        raise Fault("error_object", f"an error object{f' ({code})' if code else ''}: {_error_text(body, secrets)}",
                    retryable=retry, retry_after=retry_after_s(resp.headers))
    msg = choices[0].get("message") if isinstance(choices, list) and choices and isinstance(choices[0], dict) else None
    content = msg.get("content") if isinstance(msg, dict) else None
    if not isinstance(content, str):
        raise Fault("error_object", f"a completion with no message content: {_error_text(body, secrets)}",
                    retryable=True)
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    return Reply(content, _int(usage.get("prompt_tokens")), _int(usage.get("completion_tokens")))


def _int(v: Any) -> int:
    return v if isinstance(v, int) and v >= 0 else 0


def post_chat(http: httpx.Client, url: httpx.URL, payload: dict[str, Any], deadline: float,
              secrets: tuple[str, ...]) -> Reply:
    """POST one chat completion and read it whole before `deadline` (time.monotonic()); a Reply, or a Fault."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise Fault("timeout", "no time left for another try", retryable=False)
    try:
        with http.stream("POST", url, json=payload, timeout=httpx.Timeout(remaining)) as resp:
            body = _read_body(resp, deadline, secrets)
            if not 200 <= resp.status_code < 300:
                raise _status_fault(resp.status_code, body, resp.headers, secrets)
            return _reply(resp, body, secrets)
    except httpx.ConnectError as exc:
        raise Fault("connection", f"cannot connect: {_one_line(str(exc), secrets, 120)}", retryable=True,
                    reached=False) from None
    except httpx.ConnectTimeout:
        raise Fault("timeout", "no connection before the deadline", retryable=True, reached=False) from None
    except httpx.TimeoutException:
        raise Fault("timeout", "no reply before the deadline", retryable=True) from None
    except httpx.HTTPError as exc:  # the connection dropped before the headers came
        raise Fault("connection", f"the connection dropped: {_one_line(str(exc), secrets, 120)}",
                    retryable=True) from None
