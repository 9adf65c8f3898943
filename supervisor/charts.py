"""Small charts as inline SVG, drawn on the server: no JavaScript library, no build step, prints fine.

Each function takes plain numbers and returns markup safe to put in a template; every mark carries a
<title>, so hovering shows the exact figure and screen readers get it too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH = 720
HEIGHT = 220
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 44, 12, 12, 34
PALETTE = ("#2f6fde", "#e0792b", "#2e9e6a", "#c9423f", "#8a5cc9", "#b58a12", "#4b9bb3", "#8c8c8c")


def _nice_ceiling(value: float) -> float:
    """A round axis maximum at or above `value` (1, 2, 5 × 10^n)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)


def _axis(maximum: float, unit: str = "") -> list[str]:
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    parts = []
    for i in range(5):
        value = maximum * i / 4
        y = PAD_TOP + plot_h - plot_h * i / 4
        label = f"{value:g}{unit}"
        parts.append(
            f'<line x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{PAD_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{label}</text>'
        )
    return parts


def _x_labels(labels: Sequence[str], step_w: float) -> list[str]:
    every = max(1, math.ceil(len(labels) / 12))  # at most a dozen labels, whatever the period
    return [
        f'<text x="{PAD_LEFT + step_w * (i + 0.5):.1f}" y="{HEIGHT - 12}" text-anchor="middle" class="tick">'
        f"{escape(label)}</text>"
        for i, label in enumerate(labels)
        if i % every == 0
    ]


def _svg(title: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" class="chart">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def bar_chart(
    title: str, points: Sequence[tuple[str, int]], short_labels: Sequence[str] | None = None
) -> Markup:
    """Vertical bars, e.g. tickets received per day."""
    labels = list(short_labels or [label for label, _ in points])
    highest = max((v for _, v in points), default=0)
    # Counts: small maxima get a multiple of four, so the four grid lines fall on whole numbers.
    maximum = _nice_ceiling(highest) if highest > 20 else float(max(4, 4 * math.ceil(highest / 4)))
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    step = plot_w / max(len(points), 1)
    body = _axis(maximum)
    for i, (label, value) in enumerate(points):
        h = plot_h * value / maximum
        body.append(
            f'<rect x="{PAD_LEFT + step * i + step * 0.15:.1f}" y="{PAD_TOP + plot_h - h:.1f}" '
            f'width="{max(step * 0.7, 1):.1f}" height="{h:.1f}" class="bar">'
            f"<title>{escape(label)}: {value}</title></rect>"
        )
    body += _x_labels(labels, step)
    return _svg(title, body)


def line_chart(
    title: str, points: Sequence[tuple[str, float | None]], short_labels: Sequence[str] | None = None
) -> Markup:
    """A 0–100 % line, broken where there is no figure (a day with nothing decided)."""
    labels = list(short_labels or [label for label, _ in points])
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    step = plot_w / max(len(points), 1)
    body = _axis(100, "%")
    segments: list[list[tuple[float, float]]] = [[]]
    dots = []
    for i, (label, value) in enumerate(points):
        if value is None:
            segments.append([])
            continue
        x = PAD_LEFT + step * (i + 0.5)
        y = PAD_TOP + plot_h - plot_h * value / 100
        segments[-1].append((x, y))
        dots.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" class="dot">'
            f"<title>{escape(label)}: {value:g}%</title></circle>"
        )
    for segment in segments:
        if len(segment) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in segment)
            body.append(f'<polyline points="{path}" class="line"/>')
    body += dots + _x_labels(labels, step)
    return _svg(title, body)


def share_chart(title: str, shares: Sequence[tuple[str, int]]) -> Markup:
    """A donut of shares with its legend (label, count, percent), e.g. tickets by support type."""
    total = sum(n for _, n in shares)
    radius = 70
    cx, cy = 110, HEIGHT / 2
    circumference = 2 * math.pi * radius
    body: list[str] = []
    offset = 0.0
    if total == 0:
        body.append(f'<circle cx="{cx}" cy="{cy}" r="{radius}" class="empty-ring"/>')
    for i, (label, count) in enumerate(shares):
        if not count:
            continue
        length = circumference * count / total
        color = PALETTE[i % len(PALETTE)]
        body.append(
            f'<circle cx="{cx}" cy="{cy:.1f}" r="{radius}" fill="none" stroke="{color}" stroke-width="34" '
            f'stroke-dasharray="{length:.2f} {circumference - length:.2f}" '
            f'stroke-dashoffset="{-offset:.2f}" transform="rotate(-90 {cx} {cy:.1f})">'
            f"<title>{escape(label)}: {count} ({100 * count / total:.1f}%)</title></circle>"
        )
        offset += length
    body.append(f'<text x="{cx}" y="{cy + 6:.1f}" text-anchor="middle" class="total">{total}</text>')
    for i, (label, count) in enumerate(shares):
        y = 26 + i * 24
        share = f"{100 * count / total:.1f}%" if total else "–"
        body.append(
            f'<rect x="240" y="{y - 12}" width="14" height="14" fill="{PALETTE[i % len(PALETTE)]}"/>'
            f'<text x="262" y="{y}" class="legend">{escape(label)} · {count} ({share})</text>'
        )
    return _svg(title, body)
