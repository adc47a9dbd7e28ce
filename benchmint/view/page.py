"""The review page of a release: one self-contained HTML file (inline CSS, JS and SVG; no network).

Sections: the release's summary, the questions, the rejected candidates grouped by the validator that
failed them, the rounds of an adaptive build, the leaderboard when the release was evaluated, the
sources. Filters (kind, document, validator) are a few lines of inline JS over data attributes. A
Content-Security-Policy allows only this page's own script and style (by hash): even text that escaped
escaping could not run or load anything. The same release gives the same bytes (no clock, sorted JSON).
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter
from importlib.resources import files
from typing import Any

from benchmint.records import KINDS
from benchmint.view.cards import Docs, card
from benchmint.view.charts import interval, leaderboard_chart, number, rounds_chart
from benchmint.view.markup import dicts, e, mapping, table
from benchmint.view.passages import PassageIndex
from benchmint.view.release_data import ReleaseData

NO_FAILURE = "(no failed verdict)"  # a rejected row whose verdicts say nothing failed: shown, not dropped


def render(data: ReleaseData) -> str:
    m = data.manifest
    name, version = str(m.get("name") or data.folder.parent.name), str(m.get("version") or data.folder.name)
    docs = Docs(m, data.questions + data.rejected)
    passages = PassageIndex(data.questions, data.contexts)
    groups = rejected_groups(data.rejected, list(mapping(m.get("validators"))))
    body = [_summary(name, version, m, data),
            *[f'<p class="note warn">{e(n)}</p>' for n in data.notes],
            _nav(data),
            _filters(data, docs, groups),
            _questions(data, docs, passages),
            _rejected(groups, docs, passages),
            _rounds(m.get("rounds")),
            _leaderboard(data.leaderboard),
            _sources(m),
            f'<footer>Made by <code>benchmint view</code> from {e(name)} {e(version)}, content hash '
            f'<code>{e(str(m.get("content_hash", ""))[:16])}</code>. Self-contained: it loads nothing.</footer>']
    css, js = asset("view.css"), asset("view.js")
    csp = (f"default-src 'none'; style-src '{_sha(css)}'; script-src '{_sha(js)}'; img-src 'none'; "
           "base-uri 'none'; form-action 'none'")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
            '<meta name="referrer" content="no-referrer">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{e(name)} {e(version)}: benchmint review</title><style>{css}</style></head>\n<body>\n"
            + "\n".join(body) + f"\n<script>{js}</script>\n</body></html>\n")


def asset(name: str) -> str:
    return files("benchmint.view").joinpath(name).read_text(encoding="utf-8")


def _sha(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()


def failed_validators(q: dict[str, Any]) -> list[dict[str, Any]]:
    return [v for v in dicts(q.get("verdicts")) if not v.get("passed") and v.get("blocking", True)]


def rejected_groups(rejected: list[dict[str, Any]], chain: list[str]) -> dict[str, list[tuple[dict, dict]]]:
    """Validator -> (candidate, its failing verdict), in the chain's order (the manifest's validators), the
    others after; a candidate failed by two validators is in both groups, as the manifest counts it."""
    groups: dict[str, list[tuple[dict, dict]]] = {}
    for q in rejected:
        for v in failed_validators(q) or [{"validator": NO_FAILURE}]:
            groups.setdefault(str(v.get("validator", "")), []).append((q, v))
    order = {name: i for i, name in enumerate(chain)}
    return dict(sorted(groups.items(), key=lambda kv: (kv[0] not in order, order.get(kv[0], 0), kv[0])))


def _summary(name: str, version: str, m: dict[str, Any], data: ReleaseData) -> str:
    counts = mapping(m.get("counts"))
    by_kind = Counter(str(q.get("kind", "")) for q in data.questions)
    rows = [("created", m.get("created_at", "")), ("parent version", m.get("parent_version") or "(none)"),
            ("questions", f"{len(data.questions)} (" + ", ".join(f"{k} {n}" for k, n in sorted(by_kind.items())) + ")"),
            ("rejected candidates", f"{len(data.rejected)}"),
            ("stopped because", m.get("stopped_because", "")),
            ("content hash", m.get("content_hash", "")), ("benchmint", m.get("benchmint_version", ""))]
    rows += [(f"model ({role})", label) for role, label in mapping(m.get("models")).items()]
    if counts.get("accepted") not in (None, len(data.questions)):
        rows.append(("note", f"the manifest counts {counts.get('accepted')} questions"))
    dl = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in rows if v != "")
    return (f'<header class="top"><h1>{e(name)} <span class="ver">{e(version)}</span></h1>'
            f'<p class="sub">benchmint release review</p><dl class="meta">{dl}</dl></header>')


def _nav(data: ReleaseData) -> str:
    links = [("questions", f"Questions ({len(data.questions)})"), ("rejected", f"Rejected ({len(data.rejected)})")]
    if data.manifest.get("rounds"):
        links.append(("rounds", "Rounds"))
    if data.leaderboard:
        links.append(("leaderboard", "Leaderboard"))
    links.append(("sources", "Sources"))
    return "<nav>" + " · ".join(f'<a href="#{a}">{e(t)}</a>' for a, t in links) + "</nav>"


def _buttons(filter_: str, label: str, values: list[tuple[str, str]]) -> str:
    btns = [f'<button type="button" data-filter="{filter_}" data-value="" aria-pressed="true">all</button>']
    btns += [f'<button type="button" data-filter="{filter_}" data-value="{e(v)}" aria-pressed="false">{e(t)}</button>'
             for v, t in values]
    return f'<div class="fgroup" role="group" aria-label="{label}"><span class="fl">{label}</span>{"".join(btns)}</div>'


def _filters(data: ReleaseData, docs: Docs, groups: dict) -> str:
    rows = data.questions + data.rejected
    kinds = Counter(str(q.get("kind", "")) for q in rows)
    ordered = [k for k in KINDS if k in kinds] + sorted(set(kinds) - set(KINDS))
    options = "".join(f'<option value="{docs.token[d]}">{e(docs.title(d))}</option>' for d in docs.used)
    select = (f'<label class="fgroup"><span class="fl">document</span><select data-filter="doc">'
              f'<option value="">all documents</option>{options}</select></label>')
    n_q, n_r = len(data.questions), len(data.rejected)
    return ('<div class="filters" id="filters">'
            + _buttons("kind", "kind", [(k, f"{k} ({kinds[k]})") for k in ordered]) + select
            + _buttons("validator", "rejected by", [(v, f"{v} ({len(g)})") for v, g in groups.items()])
            + f'<p id="shown" aria-live="polite">Showing {n_q} of {n_q} questions and {n_r} of {n_r} rejected '
              "candidates</p></div>")


def _questions(data: ReleaseData, docs: Docs, passages: PassageIndex) -> str:
    cards = "\n".join(card(q, docs, passages, "question") for q in data.questions)
    return f'<section id="questions"><h2>Questions</h2>{cards}</section>'


def _rejected(groups: dict[str, list[tuple[dict, dict]]], docs: Docs, passages: PassageIndex) -> str:
    if not groups:
        return '<section id="rejected"><h2>Rejected candidates</h2><p class="na">None.</p></section>'
    out = ['<section id="rejected"><h2>Rejected candidates, by the validator that failed them</h2>']
    for validator, items in groups.items():
        cards = "\n".join(card(q, docs, passages, "rejected", v) for q, v in items)
        out.append(f'<section class="group" data-group="{e(validator)}"><h3>{e(validator)} '
                   f'<span class="count" data-count>{len(items)}</span></h3>{cards}</section>')
    return "".join(out) + "</section>"


def _rounds(rounds: Any) -> str:
    rs = dicts(rounds)
    if not rs:
        return ""
    rows = []
    for i, r in enumerate(rs):
        rate, ci = number(r.get("mean_target_pass_rate")), interval(r.get("pass_rate_ci"))
        shown = "not measured" if rate is None else f"{rate:.2f}" + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else "")
        detail = "; ".join(map(str, r["patterns"])) if isinstance(r.get("patterns"), list) else ""
        kinds = ", ".join(map(str, r["kinds"])) if isinstance(r.get("kinds"), list) else ""
        rows.append([e(r.get("round", i)), e(r.get("generated", "")), e(r.get("accepted", "")), e(shown),
                     e(r.get("measured", "")), e(kinds), e(detail),
                     e(r.get("error", ""))])
    what = f"an adaptive build of {len(rs)} rounds" if len(rs) > 1 else "one round"
    return (f'<section id="rounds"><h2>Rounds</h2><p>{e(what)}: the targets\' mean pass rate on each round\'s '
            "measured questions, with its 95% interval (clustered by source chunk), and the candidates "
            f"generated and accepted.</p><figure>{rounds_chart(rs)}</figure>"
            + table(["round", "generated", "accepted", "mean pass rate [95% interval]", "measured", "kinds",
                     "failure patterns named", "error"], rows, "rounds") + "</section>")


def _leaderboard(board: dict[str, Any] | None) -> str:
    if not board:
        return ""
    models = dicts(board.get("models"))
    rows = []
    for b in models:
        acc = mapping(b.get("accuracy"))
        mean, lo, hi = number(acc.get("mean")), number(acc.get("ci_low")), number(acc.get("ci_high"))
        kinds = ", ".join(f"{k} {number(v.get('mean')) or 0:.2f}" for k, v in sorted(mapping(b.get("by_kind")).items())
                          if isinstance(v, dict))
        rows.append([e(b.get("rank", "")), e(b.get("model", "")), "" if mean is None else f"{mean:.3f}",
                     "" if lo is None or hi is None else f"[{lo:.3f}, {hi:.3f}]", e(b.get("missing", "")), e(kinds)])
    meta = f"mode {board.get('mode', '?')}, {board.get('n_questions', '?')} questions, {board.get('created_at', '')}"
    return (f'<section id="leaderboard"><h2>Leaderboard</h2><p>{e(meta)}; accuracy with 95% intervals clustered '
            f"by source document (evals/leaderboard.json).</p><figure>{leaderboard_chart(models)}</figure>"
            + table(["rank", "model", "accuracy", "95% interval", "missing", "by kind"], rows, "board")
            + "</section>")


def _sources(m: dict[str, Any]) -> str:
    src = mapping(m.get("sources"))
    rows = [[e(d.get("title", "")), e(d.get("source", "")), e(d.get("format", "")), e(d.get("chars", "")),
             f"<code>{e(str(d.get('id', ''))[:12])}</code>"]
            for d in dicts(src.get("documents"))]
    skipped = "".join(f"<li><code>{e(s.get('source', ''))}</code>: {e(s.get('reason', ''))}</li>"
                      for s in dicts(src.get("skipped")))
    return ('<section id="sources"><h2>Sources</h2>' + table(["title", "source", "format", "characters", "id"], rows)
            + (f"<h3>Skipped</h3><ul>{skipped}</ul>" if skipped else "") + "</section>")
