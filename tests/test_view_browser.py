"""The review page in a real browser (headless Chromium, tests/browser.py): it loads with no console error
and no blocked load, a kind filter clicked with the mouse hides the other kinds, and it renders to a PNG.

Not in tests/unit: it starts a browser (the model tier by conftest's rule; no model is used). Skipped only
where Chromium is not installed (`apt-get install -y chromium`)."""

from __future__ import annotations

import struct

import pytest

from benchmint.view import write_view
from tests.browser import Browser, chromium_binary, screenshot
from tests.fixtures import review_release

BINARY = chromium_binary()
pytestmark = pytest.mark.skipif(BINARY is None, reason="chromium is not installed (apt-get install -y chromium)")

VISIBLE = ("[...document.querySelectorAll('{sel}')].filter(e => e.offsetParent !== null)"
           ".map(e => e.getAttribute('data-kind'))")


@pytest.fixture(scope="module")
def page_url(tmp_path_factory) -> str:
    release = review_release(tmp_path_factory.mktemp("view-browser") / "out")
    return write_view(release).as_uri()


def test_page_loads_clean_and_the_kind_filter_hides_other_kinds(page_url):
    with Browser(BINARY) as b:
        b.goto(page_url)
        assert b.evaluate("document.querySelectorAll('#questions [data-row]').length") == 5
        before = b.evaluate(VISIBLE.format(sel="#questions [data-row]"))
        assert sorted(before) == ["mcq", "numeric", "open", "open", "tf"]
        assert b.evaluate("document.getElementById('shown').textContent") == (
            "Showing 5 of 5 questions and 3 of 3 rejected candidates")

        b.click('button[data-filter="kind"][data-value="mcq"]')
        assert b.evaluate(VISIBLE.format(sel="#questions [data-row]")) == ["mcq"]
        assert b.evaluate(VISIBLE.format(sel="#rejected [data-row]")) == ["mcq"]  # the dedup candidate
        assert b.evaluate("document.querySelector('button[data-value=\"mcq\"]').getAttribute('aria-pressed')") == "true"
        # the groups left empty are hidden; the text says what is shown
        assert b.evaluate("[...document.querySelectorAll('[data-group]')].filter(g => !g.hidden)"
                          ".map(g => g.getAttribute('data-group'))") == ["dedup"]
        assert b.evaluate("document.getElementById('shown').textContent") == (
            "Showing 1 of 5 questions and 1 of 3 rejected candidates")

        b.click('button[data-filter="kind"][data-value=""]')  # back to all kinds, then one validator
        b.click('button[data-filter="validator"][data-value="contamination"]')
        assert len(b.evaluate(VISIBLE.format(sel="#questions [data-row]"))) == 5  # published questions stay
        assert b.evaluate("[...document.querySelectorAll('#rejected [data-row]')].filter(e => e.offsetParent)"
                          ".map(e => e.getAttribute('data-validator'))") == ["contamination"]

        b.evaluate("document.querySelector('select[data-filter=\"doc\"]').value = 'd2';"
                   "document.querySelector('select[data-filter=\"doc\"]').dispatchEvent(new Event('change'))")
        b.click('button[data-filter="validator"][data-value=""]')
        assert b.evaluate(VISIBLE.format(sel="#questions [data-row]")) == ["open"]  # the one Skarvik question

        assert b.evaluate("document.scripts.length") == 1  # the page's own: the release's <script> is text
        assert b.errors == []


def test_screenshot_is_a_png_of_the_window_size(page_url, tmp_path):
    png = tmp_path / "view.png"
    screenshot(BINARY, page_url, png, 1200, 900)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000  # a rendered page, not a blank one
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
    assert (width, height) == (1200, 900)
