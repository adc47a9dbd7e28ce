"""The card's Validity section: what the release can state of its own validity, rendered from its manifest.

The figures are the build's (pipeline.validity writes them into the manifest; the contamination verdicts
per stage and the detector's calibration sit in its `contamination` record). A manifest written before
they existed (an old release) renders what it has: the per-round pass rates, and a line saying the rest
was not recorded.
"""

from __future__ import annotations

from typing import Any

_STAGE_NAMES = {"exact": "exact", "ngram": "n-gram", "fuzzy": "fuzzy", "semantic": "semantic", "judge": "judge"}
NOT_RECORDED = "Not recorded in this release's manifest (built before benchmint recorded it)."


def inline(text: Any) -> str:
    """Free text on one line, with no backticks to break out of a code span."""
    return " ".join(str(text).replace("`", "'").split())


def _cell(text: Any) -> str:
    """Free text in a markdown table cell."""
    return inline(text).replace("|", "\\|")


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "-"


def _num(t: dict[str, Any], key: str) -> str:
    v = t.get(key)
    return f"{v:g}" if isinstance(v, (int, float)) else "?"


def _stages(c: dict[str, Any]) -> str:
    """The stages that ran and where they flag, from the thresholds the build used."""
    t = c.get("thresholds") or {}
    if not t:
        return "Stages: exact, n-gram, fuzzy, semantic (thresholds not recorded)."
    n = {k: _num(t, k) for k in ("ngram_n", "ngram_short_n", "ngram_min_span", "fuzzy_threshold",
                                 "fuzzy_review_threshold", "semantic_threshold", "review_threshold")}
    judge = c.get("judge")
    band = (f"decided by the judge `{inline(judge)}`" if judge
            else "held for review, not published (no contamination judge was configured)")
    ratio = t.get("ngram_min_ratio")
    share = f"{ratio:.0%}" if isinstance(ratio, (int, float)) else "?"
    return (f"Stages, cheapest first: exact copies (normalized text, hashed); long n-gram overlap "
            f"({n['ngram_n']}-grams, {n['ngram_short_n']}-grams for short items; {share} of them in one item, or a "
            f"verbatim run of {n['ngram_min_span']} tokens); fuzzy match (rapidfuzz ratio {n['fuzzy_threshold']} "
            f"flags); semantic (`{inline(c.get('embedding_model', 'embedding'))}` cosine "
            f"{n['semantic_threshold']} flags). The middle band (cosine {n['review_threshold']}-"
            f"{n['semantic_threshold']}, fuzzy ratio {n['fuzzy_review_threshold']}-{n['fuzzy_threshold']}) is "
            f"{band}.")


def _verdicts(v: dict[str, Any]) -> str:
    flagged = v.get("flagged") or {}
    total = sum(flagged.values())
    by_stage = ", ".join(f"{_STAGE_NAMES.get(s, inline(s))} {n}" for s, n in flagged.items())
    checked = v.get("checked", 0)
    text = (f"This build checked {checked} candidates: {v.get('clean', 0)} clean, {total} called contaminated "
            f"({by_stage}), {v.get('review', 0)} held for review")
    if v.get("unchecked"):
        text += f", {v['unchecked']} could not be checked"
    return text + ". Neither the contaminated nor the held ones are published."


def _calibration(cal: dict[str, Any] | None) -> list[str]:
    if not cal:
        return ["The detector's precision and recall were not measured for the version that built this release "
                "(no calibration shipped with it)."]
    lines = [f"The detector's precision and recall, measured on {inline(cal.get('date'))} on the development set, "
             f"not on this release: {inline(cal.get('measured_on'))}. Command: `{inline(cal.get('command'))}`.", "",
             "| stage | precision | recall |", "|---|---|---|"]
    lines += [f"| {_cell(s.get('name'))} | {s.get('precision', 0):.4f} | {s.get('recall', 0):.4f} |"
              for s in cal.get("stages") or []]
    sets = cal.get("sets") or []
    if sets:
        lines += ["", "| development set | n | caught (contaminated sets) | not published (distinct sets) |",
                  "|---|---|---|---|"]
        for s in sets:
            caught = f"{s['caught']:.4f}" if s.get("caught") is not None else ""
            negative = f"{s['not_published']:.4f}" if s.get("not_published") is not None else ""
            lines.append(f"| {_cell(s.get('name'))} | {s.get('n', 0)} | {caught} | {negative} |")
        own = [s for s in sets if s.get("command")]
        if own:
            lines += ["", "Measured by another command: " + "; ".join(
                f"{inline(s.get('name'))}: `{inline(s['command'])}`" for s in own) + "."]
    return lines


def _contamination(m: dict[str, Any]) -> list[str]:
    c = m.get("contamination")
    if c is None:
        return [NOT_RECORDED]
    if c.get("enabled") is False or not c.get("corpora"):
        return ["No contamination check ran for this release (`contamination.enabled: false`, or no corpus to "
                "check against): nothing here says its questions are not copies of a public benchmark."]
    corpora = ", ".join(f"`{inline(x.get('name'))}` ({x.get('size', '?')} items)" for x in c["corpora"])
    n = len(c["corpora"])
    lines = [f"Candidates that passed grounding and quality were checked against {n} reference "
             f"{'corpus' if n == 1 else 'corpora'}: {corpora}.", "",
             _stages(c), ""]
    lines += [_verdicts(c["verdicts"]), ""] if c.get("verdicts") else []
    return lines + _calibration(c.get("calibration"))


def _closed_book(cb: dict[str, Any] | None) -> list[str]:
    if cb is None:
        return ["Not checked: no target model ran, so nothing measured whether a question can be answered "
                "without its passage."]
    if cb.get("mode") == "off":
        return ["Not checked (`difficulty.closed_book: off`): a question may be answerable from memory."]
    checked, answerable = cb.get("checked", 0), cb.get("answerable", 0)
    what = (f"{cb.get('rejected', 0)} rejected for it" if cb.get("mode") == "reject"
            else f"{cb.get('kept', 0)} kept and tagged (`difficulty.closed_book: tag`)")
    return [f"The target models answered {checked} candidates without their passage ({cb.get('measured', 0)} got "
            f"a reply); {answerable} ({_share(answerable, cb.get('measured', 0))} of those measured) were "
            f"answerable closed-book (more than {cb.get('max_pass_rate', 0.5):.0%} of the targets right): {what}. "
            f"Published questions this build found answerable closed-book: {cb.get('published_answerable', 0)}."]


def _spread(name: str, s: dict[str, Any], of: int) -> list[str]:
    n = s.get("measured", 0)
    if not n:
        return [f"- `{name}`: measured on none of the {of} published questions."]
    bins = ", ".join(f"{b['label']}: {b['n']}" for b in s.get("bins") or [])
    return [f"- `{name}`: measured on {n} of the {of} published questions; min {s['min']:.2f}, median "
            f"{s['median']:.2f}, max {s['max']:.2f}; by bin: {bins}."]


def _band(d: dict[str, Any] | None, published: int) -> list[str]:
    if d is None:
        return ["No target model ran: the difficulty band was not applied and `pass_rate` is -1 (difficulty is the "
                "generator's estimate, `estimated_difficulty`)."]
    lo, hi = d["band"]
    mode = "with the passage" if d.get("mode") == "with_document" else "closed-book"
    lines = [f"Difficulty band (`difficulty.band`): a question is kept when the share of the targets that answer "
             f"it right ({mode}) is in [{lo:g}, {hi:g}]. Of {d.get('checked', 0)} candidates the targets answered: "
             f"{d.get('in_band', 0)} in the band, {d.get('too_hard', 0)} too hard, {d.get('too_easy', 0)} too easy, "
             f"{d.get('bad_gold', 0)} rejected because no target was right and the judges found the gold answer "
             f"wrong, {d.get('not_measured', 0)} not measured.", ""]
    lines += _spread("pass_rate", d.get("pass_rate") or {}, published)
    lines += _spread("discrimination", d.get("discrimination") or {}, published)
    lines += ["", "`discrimination`: the pass rate among the stronger half of the targets minus that among the "
              "weaker half (-1 to 1; 0 separates nothing)."]
    return lines


def round_text(r: dict[str, Any]) -> str:
    n = r.get("round", 0)
    if n == 0:
        head = "Round 0 (first pass)"
    else:
        shapes = "; shapes " + ", ".join(f"`{inline(k)}`" for k in r["kinds"]) if r.get("kinds") else ""
        head = f"Round {n} (adaptive, aimed at the targets' failures{shapes})"
    text = f"{head}: {r.get('generated', 0)} candidates written, {r.get('accepted', 0)} accepted"
    if (r.get("passes") or 1) > 1:  # it went over its chunks again to measure enough questions
        again = ", ".join(f"`{inline(k)}`" for k in r.get("again_kinds") or [])
        text += f" in {r['passes']} passes over its chunks" + (f" (again in {again})" if again else "")
    rate = r.get("mean_target_pass_rate")
    if rate is None:
        return text + "; no question was measured by the targets."
    ci = r.get("pass_rate_ci")
    interval = f", 95% interval [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else ""
    return text + f"; mean target pass rate {rate:.2f}{interval}, over {r.get('measured', 0)} measured questions."


def drop_text(d: dict[str, Any]) -> str:
    """The drop from round 0 to the last measured round, with its paired interval."""
    first, last = d.get("first_round", 0), d.get("last_round")
    return (f"Drop in mean target pass rate from round {first} to round {last} (round {first}'s minus round "
            f"{last}'s; positive: the later questions are harder): {d.get('mean', 0):.2f}, 95% interval "
            f"[{d.get('ci_low', 0):.2f}, {d.get('ci_high', 0):.2f}], over {d.get('n_first')} and {d.get('n_last')} "
            f"measured questions from {d.get('clusters')} source chunks, {d.get('shared_clusters')} of them in both "
            "rounds (the rounds hold different questions: the interval is clustered by chunk and paired by the "
            "chunks they share).")


def rounds(m: dict[str, Any], rows: list[dict[str, Any]]) -> list[str]:
    """Per round: the mean pass rate with its interval, and the drop from round 0."""
    measured = sum(1 for r in rows if isinstance(r.get("pass_rate"), (int, float)) and r["pass_rate"] >= 0)
    rs = m.get("rounds") or []
    if not any(r.get("mean_target_pass_rate") is not None for r in rs):
        return ["No target model measured these questions: `pass_rate` is -1 and difficulty is the generator's "
                "estimate (`estimated_difficulty`)."]
    lines = [f"`pass_rate` is the share of the target models that answered a question right (lower: harder); "
             f"{measured} of the {len(rows)} questions carry one. Per round, the mean pass rate of the questions "
             "the targets answered, with its 95% interval (clustered by source chunk, so questions from one "
             "passage do not count as independent evidence):", ""]
    lines += [f"- {round_text(r)}" for r in rs]
    if drop := m.get("round_drop"):
        lines += ["", drop_text(drop)]
    if m.get("stopped_because"):
        lines += ["", f"Generation stopped: {inline(m['stopped_because'])}."]
    return lines


def validity_section(m: dict[str, Any], rows: list[dict[str, Any]]) -> list[str]:
    """The card's `## Validity` section, as lines."""
    v = m.get("validity")
    if v is None:
        closed, band = [NOT_RECORDED], [NOT_RECORDED]
    else:
        closed, band = _closed_book(v.get("closed_book")), _band(v.get("difficulty"), v.get("published", len(rows)))
    return ["## Validity", "",
            "What this release's own build measured about its questions: whether they are copies of known "
            "benchmarks, whether they can be answered without their passage, how hard they are for the target "
            "models and how well they separate them, and how the adaptive rounds moved the pass rate.", "",
            "### Contamination", "", *_contamination(m), "",
            "### Answerable without the passage (closed-book)", "", *closed, "",
            "### Difficulty band and discrimination", "", *band, "",
            "### Per round", "", *rounds(m, rows)]


def _spread_brief(s: dict[str, Any]) -> str:
    if not s.get("measured"):
        return "not measured"
    return f"median {s['median']:.2f} (min {s['min']:.2f}, max {s['max']:.2f}), {s['measured']} measured"


def validity_rows(m: dict[str, Any]) -> list[tuple[str, str]]:
    """The validity figures as (label, value) rows, for `benchmint show`; none for what was not recorded."""
    rows: list[tuple[str, str]] = []
    c = m.get("contamination") or {}
    if v := c.get("verdicts"):
        flagged = v.get("flagged") or {}
        by_stage = ", ".join(f"{_STAGE_NAMES.get(s, inline(s))} {n}" for s, n in flagged.items() if n)
        rows.append(("contamination", f"{v.get('checked', 0)} checked: {sum(flagged.values())} contaminated"
                                      f"{f' ({by_stage})' if by_stage else ''}, {v.get('review', 0)} held for review"))
    if cal := c.get("calibration"):
        stages = "; ".join(f"{inline(s.get('name'))}: precision {s.get('precision', 0):.3f}, recall "
                           f"{s.get('recall', 0):.3f}" for s in cal.get("stages") or [])
        rows.append((f"detector, dev set {inline(cal.get('date'))}", stages))
    validity = m.get("validity") or {}
    if (cb := validity.get("closed_book")) and cb.get("mode") != "off":
        rows.append(("closed-book", f"{cb.get('answerable', 0)} of {cb.get('measured', 0)} measured candidates "
                                    f"answerable without the passage ({cb.get('mode')})"))
    if d := validity.get("difficulty"):
        lo, hi = d["band"]
        rows.append(("difficulty band", f"[{lo:g}, {hi:g}]: {d.get('in_band', 0)} in, {d.get('too_hard', 0)} too "
                                        f"hard, {d.get('too_easy', 0)} too easy"))
        rows.append(("pass_rate", _spread_brief(d.get("pass_rate") or {})))
        rows.append(("discrimination", _spread_brief(d.get("discrimination") or {})))
    return rows
