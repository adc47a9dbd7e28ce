"""The review page's charts as inline SVG (no script, no network): the rounds of an adaptive build and the
leaderboard. Numbers are written with fixed decimals so the same release gives the same bytes."""

from __future__ import annotations

import math
from html import escape
from typing import Any

BLUE, GREEN, GREY, INK = "#3b6ea8", "#3f8f5a", "#b8c2cc", "#222"


def number(value: Any) -> float | None:
    """A finite float, or None for anything else (a release is input: a field may hold anything)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def interval(value: Any) -> tuple[float, float] | None:
    if isinstance(value, (list, tuple)) and len(value) == 2:
        lo, hi = number(value[0]), number(value[1])
        if lo is not None and hi is not None:
            return lo, hi
    return None


def _f(x: float) -> str:
    return f"{x:.1f}"


def _svg(width: int, height: int, label: str, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" aria-label="{escape(label)}">' + "".join(body) + "</svg>")


def _text(x: float, y: float, s: str, anchor: str = "middle", size: int = 11, fill: str = INK) -> str:
    return (f'<text x="{_f(x)}" y="{_f(y)}" text-anchor="{anchor}" font-size="{size}" '
            f'fill="{fill}">{escape(s)}</text>')


def _line(x1: float, y1: float, x2: float, y2: float, color: str = GREY, width: float = 1) -> str:
    return f'<line x1="{_f(x1)}" y1="{_f(y1)}" x2="{_f(x2)}" y2="{_f(y2)}" stroke="{color}" stroke-width="{width}"/>'


def rounds_chart(rounds: list[dict[str, Any]]) -> str:
    """Per round: the targets' mean pass rate with its 95% interval (top), generated and accepted (bottom)."""
    n = len(rounds)
    left, top, step = 48, 24, 72
    width = max(460, left + step * n + 24)  # room for the titles with one or two rounds
    rate_h, bars_top, bars_h = 130, 200, 110
    height = bars_top + bars_h + 40
    body = [_text(left, 14, "mean target pass rate, 95% interval", "start", 12)]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = top + rate_h * (1 - tick)
        body += [_line(left, y, width - 16, y), _text(left - 6, y + 4, f"{tick:.2f}", "end", 10)]
    points = []
    for i, r in enumerate(rounds):
        x = left + step * (i + 0.5)
        rate = number(r.get("mean_target_pass_rate"))
        if rate is None:
            body.append(_text(x, top + rate_h / 2, "not measured", size=9, fill="#777"))
            continue
        ci = interval(r.get("pass_rate_ci"))
        if ci:
            y_lo, y_hi = top + rate_h * (1 - ci[0]), top + rate_h * (1 - ci[1])
            body += [_line(x, y_lo, x, y_hi, BLUE, 2), _line(x - 6, y_lo, x + 6, y_lo, BLUE, 2),
                     _line(x - 6, y_hi, x + 6, y_hi, BLUE, 2)]
        y = top + rate_h * (1 - min(1.0, max(0.0, rate)))
        points.append(f"{_f(x)},{_f(y)}")
        label = f"{rate:.2f}" + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else "")
        body.append(f'<circle cx="{_f(x)}" cy="{_f(y)}" r="4" fill="{BLUE}"><title>round {i}: '
                    f'{escape(label)}</title></circle>')
        body.append(_text(x + 8, y - 6, f"{rate:.2f}", "start", 10))
    if len(points) > 1:
        body.insert(1, f'<polyline points="{" ".join(points)}" fill="none" stroke="{BLUE}" stroke-opacity="0.5"/>')
    counts = [(number(r.get("generated")) or 0.0, number(r.get("accepted")) or 0.0) for r in rounds]
    peak = max([g for g, _ in counts] + [a for _, a in counts] + [1.0])
    body.append(_text(left, bars_top - 12, "candidates generated (grey) and accepted (green)", "start", 12))
    base = bars_top + bars_h
    body.append(_line(left, base, width - 16, base, INK))
    for i, (gen, acc) in enumerate(counts):
        x = left + step * i + 12
        for dx, value, color in ((0, gen, GREY), (24, acc, GREEN)):
            h = bars_h * value / peak
            body.append(f'<rect x="{_f(x + dx)}" y="{_f(base - h)}" width="22" height="{_f(h)}" fill="{color}">'
                        f"<title>round {i}: {int(value)}</title></rect>")
            body.append(_text(x + dx + 11, base - h - 3, str(int(value)), size=9))
        body.append(_text(x + 23, base + 16, f"round {round_label(rounds[i], i)}", size=10))
    return _svg(width, height, "pass rate and candidates per round", body)


def round_label(r: dict[str, Any], i: int) -> str:
    value = number(r.get("round"))
    return str(int(value)) if value is not None else str(i)


def leaderboard_chart(models: list[dict[str, Any]]) -> str:
    """Accuracy per model with its 95% interval, as horizontal bars on 0..1."""
    label_w, bar_w, row = 220, 360, 26
    height = 30 + row * len(models) + 24
    width = label_w + bar_w + 70
    body = []
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = label_w + bar_w * tick
        body += [_line(x, 16, x, height - 22), _text(x, height - 8, f"{tick:.2f}", size=10)]
    for i, m in enumerate(models):
        acc = m.get("accuracy") if isinstance(m.get("accuracy"), dict) else {}
        mean = number(acc.get("mean"))
        y = 22 + row * i
        name = str(m.get("model", ""))
        body.append(_text(label_w - 8, y + 14, name if len(name) <= 34 else name[:33] + "…", "end"))
        if mean is None:
            continue
        body.append(f'<rect x="{label_w}" y="{_f(y + 3)}" width="{_f(bar_w * min(1.0, max(0.0, mean)))}" '
                    f'height="16" fill="{BLUE}" fill-opacity="0.8"/>')
        lo, hi = number(acc.get("ci_low")), number(acc.get("ci_high"))
        if lo is not None and hi is not None:
            x_lo, x_hi = label_w + bar_w * max(0.0, lo), label_w + bar_w * min(1.0, hi)
            body += [_line(x_lo, y + 11, x_hi, y + 11, INK, 1.5), _line(x_lo, y + 5, x_lo, y + 17, INK, 1.5),
                     _line(x_hi, y + 5, x_hi, y + 17, INK, 1.5)]
        body.append(_text(label_w + bar_w + 8, y + 15, f"{mean:.2f}", "start"))
    return _svg(width, height, "accuracy per model with 95% intervals", body)
