"""The build summary as markdown (the run's artifact in the Prefect UI)."""

from __future__ import annotations

from benchmint.cost import role_money, total_text
from benchmint.names import escape_undecodable
from pipeline.records import BuildSummary, drop_text, rate_text


def summary_markdown(s: BuildSummary, headline: str) -> str:
    """Counts, rejections per validator, the rounds' pass rates, what went missing, skipped sources
    and token usage (and money) per role; undecodable file-name bytes escaped (the API takes UTF-8 only)."""
    lines = [f"# benchmint build: {s.name}", "", f"**{headline}**", ""]
    if s.view:
        lines += [f"Review page: `{s.view}` (open it in a browser; `benchmint view {s.name} {s.version or ''}` "
                  "writes it again)", ""]
    lines += ["| accepted | rejected | generated | chunks used |", "|---|---|---|---|",
              f"| {s.accepted} | {s.rejected} | {s.generated} | {s.chunks_used} / {s.chunks} |", ""]
    if s.rejections_by_validator:
        lines += ["| validator | rejected |", "|---|---|"]
        lines += [f"| {k} | {n} |" for k, n in sorted(s.rejections_by_validator.items())]
        lines.append("")
    if any(r.get("mean_target_pass_rate") is not None for r in s.rounds):
        lines += ["| round | generated | accepted | mean target pass rate [95% interval], measured |",
                  "|---|---|---|---|"]
        lines += [f"| {r['round']} | {r['generated']} | {r['accepted']} | {rate_text(r)} |" for r in s.rounds]
        lines.append("")
    if s.round_drop is not None:
        d = s.round_drop
        lines += [f"Drop in mean target pass rate from round {d.first_round} to round {d.last_round} [95% interval, "
                  f"paired by the chunks both rounds drew on]: {drop_text(d.model_dump())}.", ""]
    if s.missing.get("target_replies") or s.missing.get("judge_votes"):
        lines += [f"Missing: {s.missing['target_replies']} target replies, {s.missing['judge_votes']} judge votes.", ""]
    if s.skipped:
        lines += ["Skipped sources:", ""] + [f"- `{x['source']}`: {x['reason']}" for x in s.skipped] + [""]
    for role, u in s.token_usage.items():
        lines.append(f"- {role}: {u['calls']} calls, {u['cache_hits']} cached, "
                     f"{u['prompt_tokens']} prompt + {u['completion_tokens']} completion tokens"
                     f"{role_money(u, s.cost)}")
    if s.token_usage and total_text(s.cost):
        lines.append(f"- cost: {total_text(s.cost)}")
    return escape_undecodable("\n".join(lines))
