"""A headless Chromium driven over the DevTools protocol with the `websockets` the venv already has (no
Playwright, no browser download): the tests' one way to load a page, read its console and click in it.

Chromium is Debian's package (`apt-get install -y chromium`); `CHROMIUM` names another binary."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

ERROR_LOGS = ("error",)


def chromium_binary() -> str | None:
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def base_args(binary: str, profile: str) -> list[str]:
    # --no-sandbox: CI runs as root in a container, where Chromium's sandbox cannot start
    return [binary, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--no-default-browser-check",
            "--disable-extensions", "--disable-background-networking", f"--user-data-dir={profile}"]


def screenshot(binary: str, url: str, path: Path, width: int, height: int) -> None:
    """Chromium's own --screenshot of `url` at width x height."""
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        subprocess.run([*base_args(binary, profile), f"--window-size={width},{height}", "--hide-scrollbars",
                        f"--screenshot={path}", url], check=True, timeout=120, capture_output=True)


class Browser:
    """One headless Chromium with one page; `with Browser(binary) as b: b.goto(url); b.evaluate(js)`.

    Console messages, uncaught exceptions and browser log entries (a Content-Security-Policy violation, a
    failed load) are collected in `errors` as they arrive."""

    def __init__(self, binary: str, width: int = 1200, height: int = 900):
        self.binary, self.width, self.height = binary, width, height
        self.errors: list[str] = []
        self._id = 0

    def __enter__(self) -> Browser:
        self._profile = tempfile.TemporaryDirectory(prefix="chromium-")
        self._proc = subprocess.Popen([*base_args(self.binary, self._profile.name), "--remote-debugging-port=0",
                                       "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port = self._port()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            target = next(t for t in json.load(r) if t.get("type") == "page")
        self._ws = connect(target["webSocketDebuggerUrl"], max_size=None, open_timeout=10)
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=self.width, height=self.height, deviceScaleFactor=1,
                  mobile=False)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._ws.close()
        finally:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._profile.cleanup()

    def _port(self) -> int:
        """The port Chromium chose (--remote-debugging-port=0 writes it to the profile's DevToolsActivePort)."""
        marker = Path(self._profile.name) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"chromium exited with status {self._proc.returncode}")
            if marker.is_file() and marker.read_text().strip():
                return int(marker.read_text().split()[0])
            time.sleep(0.1)
        raise TimeoutError("chromium did not open its DevTools port in 30 s")

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command; the events that arrive before its answer are recorded (see `_event`)."""
        self._id += 1
        self._ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            msg = json.loads(self._ws.recv(timeout=30))
            if msg.get("id") == self._id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self._event(msg)

    def wait_for(self, event: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            msg = json.loads(self._ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            self._event(msg)
            if msg.get("method") == event:
                return msg.get("params", {})

    def _event(self, msg: dict[str, Any]) -> None:
        method, p = msg.get("method"), msg.get("params", {})
        if method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert", "warning"):
            self.errors.append(f"console.{p['type']}: " + " ".join(str(a.get("value", a.get("description")))
                                                                 for a in p.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            self.errors.append(f"exception: {p.get('exceptionDetails', {}).get('text')} "
                               f"{p.get('exceptionDetails', {}).get('exception', {}).get('description', '')}")
        elif method == "Log.entryAdded" and p.get("entry", {}).get("level") in ERROR_LOGS:
            self.errors.append(f"log ({p['entry'].get('source')}): {p['entry'].get('text')}")

    def goto(self, url: str) -> None:
        self.call("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")
        self.evaluate("1")  # events sent during the load are read before the caller looks at `errors`

    def evaluate(self, expression: str) -> Any:
        res = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in res:
            raise RuntimeError(f"{expression!r} raised: {res['exceptionDetails']}")
        return res["result"].get("value")

    def click(self, selector: str) -> None:
        """A real mouse click at the middle of the element `selector` names (scrolled into view first)."""
        box = self.evaluate(f"(() => {{ const el = document.querySelector({json.dumps(selector)}); "
                            "el.scrollIntoView({block: 'center'}); const r = el.getBoundingClientRect(); "
                            "return [r.x + r.width / 2, r.y + r.height / 2]; })()")
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)


def check_review_page(binary: str, release: Path, sections: tuple[str, ...]) -> None:
    """The page a build wrote for `release` (outputs/NAME/views/vN.html) loads with no console error, links
    every one of `sections` from its nav, shows each with content, and holds one card per published question."""
    page = release.parent / "views" / f"{release.name}.html"
    assert page.is_file(), f"the build wrote no review page at {page}"
    questions = sum(1 for line in (release / "questions.jsonl").read_text(encoding="utf-8").splitlines() if line)
    with Browser(binary) as b:
        b.goto(page.as_uri())
        linked = b.evaluate("[...document.querySelectorAll('nav a')].map(a => a.getAttribute('href').slice(1))")
        assert set(sections) <= set(linked), f"nav links {linked}, expected {sections}"
        for section in linked:
            height = b.evaluate(f"document.getElementById('{section}').getBoundingClientRect().height")
            assert height > 20, f"section #{section} is empty ({height}px)"
        assert b.evaluate("document.querySelectorAll('#questions [data-row]').length") == questions
        assert b.errors == []
