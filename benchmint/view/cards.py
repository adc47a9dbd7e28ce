"""One question on the review page: its text, answer, measures, source passage with the citations
highlighted, verdicts; for a rejected candidate, the failing verdict's reason and evidence first."""

from __future__ import annotations

from typing import Any

from benchmint.records import LETTERS
from benchmint.view.charts import number
from benchmint.view.markup import dicts, e, json_block, mapping, marked, rate, signed, table
from benchmint.view.passages import PassageIndex


class Docs:
    """Document ids as short tokens for the filters' data attributes (an id is input: it may hold
    anything), and their titles."""

    def __init__(self, manifest: dict[str, Any], rows: list[dict[str, Any]]):
        docs = dicts(mapping(manifest.get("sources")).get("documents"))
        self.titles = {str(d.get("id")): str(d.get("title") or d.get("id")) for d in docs}
        ordered = list(self.titles)
        seen = {d for r in rows for d in ids(r.get("document_ids"))}
        ordered += sorted(seen - set(ordered))
        self.token = {d: f"d{i}" for i, d in enumerate(ordered, 1)}
        self.used = [d for d in ordered if d in seen]

    def title(self, doc: str) -> str:
        return self.titles.get(doc) or f"document {doc[:12]}"

    def tokens(self, row: dict[str, Any]) -> str:
        return " ".join(self.token[d] for d in ids(row.get("document_ids")))


def ids(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def card(q: dict[str, Any], docs: Docs, passages: PassageIndex, row: str, failed: dict[str, Any] | None = None) -> str:
    """An <article>: `row` is "question" or "rejected" (the filters count each); `failed` is the rejected
    candidate's failing verdict its group is about."""
    kind = str(q.get("kind", ""))
    attrs = f'data-row="{row}" data-qid="{e(q.get("id", ""))}" data-kind="{e(kind)}" data-docs="{docs.tokens(q)}"'
    if failed is not None:
        attrs += f' data-validator="{e(failed.get("validator", ""))}"'
    parts = [f'<article class="q {row}" {attrs}>', _head(q, kind, docs)]
    if failed is not None:
        parts.append(_failure(q, failed))
    parts += [f'<p class="text">{e(q.get("question", ""))}</p>', _answer(q, kind), _source(q, docs, passages),
              _verdicts(q.get("verdicts"))]
    parts.append("</article>")
    return "".join(parts)


def _head(q: dict[str, Any], kind: str, docs: Docs) -> str:
    bits = [f'<span class="kind k-{e(kind)}">{e(kind)}</span>', f'<code>{e(q.get("id", ""))}</code>']
    for key, label in (("round", "round"), ("hops", "hops"), ("estimated_difficulty", "difficulty (generator)")):
        if number(q.get(key)) is not None:
            bits.append(f'<span>{label} {e(int(number(q.get(key)) or 0))}</span>')
    for key, label in (("tactic", "tactic"), ("introduced_in", "since"), ("prompt_id", "prompt")):
        if q.get(key):
            bits.append(f"<span>{label} {e(q[key])}</span>")
    titles = ", ".join(e(docs.title(d)) for d in ids(q.get("document_ids")))
    measures = (f'<dl class="measures"><dt>pass rate</dt><dd>{rate(q.get("pass_rate"))}</dd>'
                f'<dt>discrimination</dt><dd>{signed(q.get("discrimination"))}</dd></dl>')
    return f'<header class="qh">{" ".join(bits)}<span class="docs">{titles}</span>{measures}</header>'


def _answer(q: dict[str, Any], kind: str) -> str:
    out = []
    choices = ids(q.get("choices"))
    gold = number(q.get("gold_index"))
    if choices:
        items = "".join(f'<li{" class=gold" if gold == i else ""}>{e(c)}'
                        f'{" <span class=tick>gold</span>" if gold == i else ""}</li>' for i, c in enumerate(choices))
        out.append(f'<ol class="choices" type="A">{items}</ol>')
    answer = e(q.get("answer", ""))
    if choices and gold is not None and 0 <= gold < min(len(choices), len(LETTERS)):
        answer = f"{LETTERS[int(gold)]}: {answer}"
    if kind == "numeric":
        if q.get("unit"):
            answer += f" {e(q['unit'])}"
        if number(q.get("tolerance")):
            answer += f" (± {e(q['tolerance'])})"
    out.append(f'<p class="answer"><b>Answer</b> {answer}</p>')
    for key, label in (("rationale", "True statement"), ("derivation", "Derivation")):
        if q.get(key):
            out.append(f'<p class="extra"><b>{label}</b> {e(q[key])}</p>')
    return "".join(out)


def _source(q: dict[str, Any], docs: Docs, passages: PassageIndex) -> str:
    p = passages.passage(q)
    out = ['<div class="source"><h4>Source passage</h4>']
    if p.note:
        out.append(f'<p class="note">{e(p.note)}</p>')
    for ex in p.excerpts:
        out.append(f'<blockquote class="src">{"… " if ex.cut_before else ""}{marked(ex.text, ex.spans)}'
                   f'{" …" if ex.cut_after else ""}</blockquote>')
    cites = []
    raw = q.get("citations") if isinstance(q.get("citations"), list) else []
    for c, found in zip([mapping(c) for c in raw], p.found):
        where = [f"chunk {e(str(c.get('chunk_id', ''))[:12])}"]
        if c.get("document_id"):
            where.append(e(docs.title(str(c["document_id"]))))
        if number(c.get("start")) is not None and number(c.get("end")) is not None:
            where.append(f"document characters {e(c['start'])}–{e(c['end'])}")
        miss = "" if found else ' <span class="miss">not found in the text shown</span>'
        cites.append(f'<li><q>{e(c.get("quote", ""))}</q> <span class="where">{", ".join(where)}</span>{miss}</li>')
    out.append(f'<ol class="cites">{"".join(cites)}</ol></div>')
    return "".join(out)


def _verdicts(verdicts: Any) -> str:
    vs = dicts(verdicts)
    if not vs:
        return ""
    failed = sum(not v.get("passed") for v in vs)
    rows = [[e(v.get("validator", "")), "passed" if v.get("passed") else '<b class="fail">failed</b>',
             "" if number(v.get("score")) is None else f"{number(v.get('score')):.3f}",
             "" if v.get("blocking", True) else "no", e(v.get("reason", ""))] for v in vs]
    summary = f"Verdicts: {len(vs) - failed} passed, {failed} failed"
    return (f"<details class=verdicts><summary>{summary}</summary>"
            f"{table(['validator', 'result', 'score', 'blocking', 'reason'], rows)}</details>")


def _failure(q: dict[str, Any], v: dict[str, Any]) -> str:
    """The failing verdict: its reason, its evidence laid out for the validator, then all of it as JSON."""
    ev = mapping(v.get("evidence"))
    out = [f'<p class="reason"><b>{e(v.get("validator", ""))}</b>: {e(v.get("reason", "") or "(no reason given)")}</p>']
    if ev.get("reference_text") or ev.get("matched_text"):  # contamination: the match beside the reference
        mine = ev.get("matched_text") or q.get("question", "")
        ref = f"{ev.get('corpus', '')} item {ev.get('item_id', ev.get('item', ''))}"
        score = number(ev.get("score"))
        out.append(_side(f"This candidate ({ev.get('view') or 'question'})", str(mine), f"Reference: {ref}",
                         str(ev.get("reference_text", "")),
                         f"stage {ev.get('stage', '?')}" + (f", score {score:.3f}" if score is not None else "")))
    elif ev.get("duplicate_text"):  # dedup: the published question it repeats
        out.append(_side("This candidate", str(q.get("question", "")),
                         f"Kept question {ev.get('duplicate_of', '')}", str(ev["duplicate_text"]),
                         f"cosine {number(ev.get('cosine')) or 0:.3f}"))
    elif isinstance(ev.get("citations"), list):  # grounding: how well each quote matched its chunk
        rows = [[f"<q>{e(c.get('quote', ''))}</q>", e(c.get("ratio", "")), "yes" if c.get("found") else "no",
                 e(c.get("reason", ""))] for c in dicts(ev["citations"])]
        out.append(table(["quote", "match ratio", "found", "why not"], rows, "grounding"))
    if ev:
        out.append(json_block(ev))
    return f'<div class="failure">{"".join(out)}</div>'


def _side(left_title: str, left: str, right_title: str, right: str, caption: str) -> str:
    return (f'<div class="side"><div><h4>{e(left_title)}</h4><pre class="t">{e(left)}</pre></div>'
            f'<div><h4>{e(right_title)}</h4><pre class="t">{e(right)}</pre></div></div>'
            f'<p class="caption">{e(caption)}</p>')
