"""The review page (`benchmint view`): sections, escaping, filter attributes, determinism, where it is written."""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser

import pytest
from typer.testing import CliRunner

from benchmint import catalog
from benchmint.cli import app
from benchmint.release import versions
from benchmint.view import render_release, view_path, write_view
from benchmint.view.passages import find_quote
from tests.fixtures import XSS, review_release

runner = CliRunner()


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    return review_release(tmp_path_factory.mktemp("view") / "out")


@pytest.fixture(scope="module")
def page(release) -> str:
    return render_release(release)


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text inside <script> elements."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


def parse(page: str) -> Tags:
    t = Tags()
    t.feed(page)
    return t


def rows(page: str, kind: str) -> list[dict]:
    return [a for tag, a in parse(page).tags if tag == "article" and a.get("data-row") == kind]


def test_every_section_is_there(page):
    for anchor in ("questions", "rejected", "rounds", "leaderboard", "sources"):
        assert f'<section id="{anchor}">' in page
    assert "<svg" in page and page.count("<svg") == 2  # the rounds chart and the leaderboard chart
    assert "0.81 [0.55, 0.97]" in page and "0.50 [0.10, 0.90]" in page  # rounds with intervals
    assert "big-model" in page and "[0.600, 0.950]" in page  # leaderboard with intervals
    assert "pass rate" in page and "0.75 <meter" in page and "+0.50" in page  # a question's measures


def test_questions_and_rejected_rows_carry_the_filters_attributes(page, release):
    questions = rows(page, "question")
    assert len(questions) == 5
    assert sorted(a["data-kind"] for a in questions) == ["mcq", "numeric", "open", "open", "tf"]
    assert {a["data-docs"] for a in questions} == {"d1", "d2"}  # document ids as tokens, by the manifest's order
    rejected = rows(page, "rejected")
    assert {a["data-validator"] for a in rejected} == {"grounding", "contamination", "dedup"}
    assert all("data-validator" not in a for a in questions)
    tags = parse(page).tags
    kinds = [a["data-value"] for t, a in tags if t == "button" and a.get("data-filter") == "kind"]
    assert kinds == ["", "open", "mcq", "numeric", "tf"]
    validators = [a["data-value"] for t, a in tags if t == "button" and a.get("data-filter") == "validator"]
    assert validators == ["", "grounding", "contamination", "dedup"]  # the chain's order (the manifest's)
    docs = [a["value"] for t, a in tags if t == "option"]
    assert docs == ["", "d1", "d2"]


def test_release_text_is_escaped_and_only_the_page_script_runs(page):
    assert XSS not in page
    assert html.escape(XSS) in page
    tags = parse(page)
    assert [t for t, _ in tags.tags].count("script") == 1  # the page's own, nothing injected
    # the policy allows that one script by its hash and loads nothing
    csp = next(a["content"] for t, a in tags.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # no CDN, font or image from anywhere


def test_citations_are_highlighted_in_the_source_passage(page):
    assert "<mark>Fact 1 is stated here in one sentence.</mark>" in page
    assert f"<mark>{html.escape(XSS)} ends it.</mark>" in page
    # a rejected candidate whose chunk is not in the release: its quote in a window of the same document, said so
    assert "The source passage of this candidate is not in the release" in page
    assert "not found in the text shown" in page  # the quote grounding could not find either


def test_contamination_match_is_shown_beside_the_reference_item(page):
    i = page.index("long n-gram overlap with gsm8k item 17")
    block = page[i:page.index("</article>", i)]
    assert 'class="side"' in block and "Reference: gsm8k item gsm8k-test-17" in block
    assert "A baker makes 24 loaves each morning" in block and "stage ngram, score 0.970" in block
    assert "Kept question" in page  # dedup: the duplicate beside the question it repeats


def test_find_quote_tolerates_case_spacing_and_typography():
    text = "The “K-12” unit   draws 3.2 kilowatts at full load."
    a, b = find_quote('the "K-12" unit draws', text)
    assert text[a:b] == "The “K-12” unit   draws"
    assert find_quote("nothing like this at all", text) is None


def test_same_release_same_bytes(release, page):
    assert render_release(release) == page


def test_written_beside_the_versions_not_in_them(release):
    bench = release.parent
    path = write_view(release)
    assert path == bench / "views" / "v1.html" == view_path(release)
    assert versions(bench) == ["v1"]  # `views` is not taken for a version
    assert catalog.resolve_version(bench, None) == "v1"
    assert not (release / "view.html").exists()


def test_cli_writes_the_page_and_prints_its_path(release, tmp_path):
    out_dir = release.parent.parent
    res = runner.invoke(app, ["view", "orrin", "--output-dir", str(out_dir)])
    assert res.exit_code == 0, res.output
    assert res.stdout.strip() == str(out_dir / "orrin" / "views" / "v1.html")
    res = runner.invoke(app, ["view", "orrin", "v1", "--output-dir", str(out_dir), "--out", str(tmp_path / "r.html")])
    assert res.exit_code == 0 and (tmp_path / "r.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("args, message", [
    (["view", "../orrin"], "benchmark name '../orrin'"),
    (["view", "orrin", "v7"], "has no version 'v7'"),
    (["view", "nope"], "no published version of 'nope'"),
])
def test_cli_refuses_what_is_not_a_release(release, args, message):
    res = runner.invoke(app, [*args, "--output-dir", str(release.parent.parent)])
    assert res.exit_code != 0 and message in res.output and "Traceback" not in res.output


def test_a_damaged_part_is_a_note_not_a_crash(tmp_path):
    folder = review_release(tmp_path / "out", "dmg")
    board = folder / "evals" / "leaderboard.json"
    board.write_text("{not json", encoding="utf-8")
    page = render_release(folder)
    assert "evals/leaderboard.json cannot be read" in page and '<section id="leaderboard">' not in page
    assert len(rows(page, "question")) == 5
    json.loads((folder / "manifest.json").read_text())  # the release itself untouched


def test_a_build_writes_the_page_and_its_summary_links_it(tmp_path, caplog):
    from pipeline.build import review_page
    from pipeline.records import BuildSummary
    from pipeline.report import summary_markdown

    folder = review_release(tmp_path / "out", "linked")
    page = review_page(folder)
    assert page == str(view_path(folder)) and view_path(folder).is_file()
    md = summary_markdown(BuildSummary(name="linked", version="v1", view=page), f"published {folder}")
    assert f"Review page: `{page}` (open it in a browser; `benchmint view linked v1` writes it again)" in md
    assert "view" not in BuildSummary(name="x").as_dict()  # nothing published, no page

    (folder.parent / "views").rename(folder.parent / "elsewhere")
    (folder.parent / "views").symlink_to(folder.parent / "elsewhere")
    assert review_page(folder) is None  # a warning, never a failed build: the release is published already
    assert "run `benchmint view linked v1`" in caplog.text


def test_fields_of_any_shape_still_give_a_page(tmp_path):
    """A release is input: a hand-edited or older one may hold anything where a list or a number belongs."""
    from benchmint.view.page import render
    from benchmint.view.release_data import ReleaseData

    weird_q = {"id": 5, "kind": None, "question": {"a": 1}, "answer": ["x"], "choices": "abc", "gold_index": "z",
               "citations": [3, {"quote": None, "start": "a"}], "chunk_ids": "c", "document_ids": [None],
               "verdicts": "no", "pass_rate": "high", "discrimination": float("nan"), "round": True}
    weird_r = [{"id": "r", "verdicts": [{"validator": None, "passed": False,
                                         "evidence": {"citations": [1, {"quote": 2}], "reference_text": 5}}, "x"]},
               {"verdicts": None}]
    manifest = {"name": 3, "sources": {"documents": 5, "skipped": "x"}, "models": [], "counts": 4, "validators": ["a"],
                "rounds": [{"round": "x", "kinds": 3, "patterns": "p", "pass_rate_ci": "no", "generated": -1}, 7]}
    board = {"models": [1, {"accuracy": "x", "by_kind": {"a": 1}}]}
    page = render(ReleaseData(folder=tmp_path / "b" / "v1", manifest=manifest, questions=[weird_q], rejected=weird_r,
                              contexts={"5": "text"}, leaderboard=board))
    assert len(rows(page, "question")) == 1 and len(rows(page, "rejected")) == 2


def test_an_evaluation_refreshes_a_page_that_exists_and_writes_none_elsewhere(tmp_path):
    from benchmint.view import refresh_view

    folder = review_release(tmp_path / "out", "evald")
    assert refresh_view(folder) is None and not view_path(folder).exists()  # a release with no page gets none
    write_view(folder)
    view_path(folder).write_text("stale", encoding="utf-8")
    assert refresh_view(folder) == view_path(folder)
    assert '<section id="leaderboard">' in view_path(folder).read_text(encoding="utf-8")
