"""Small charts as inline SVG, drawn on the server: no JavaScript library, no build step, prints fine.

Each function takes plain numbers and returns markup safe to put in a template; every mark carries a
<title>, so hovering shows the exact figure and screen readers get it too.

A drawing scales with its `viewBox`, and its text with it: a chart drawn 720 units wide for a desk shows
its 14-unit labels at 6 px on a phone. So each chart is drawn twice, for a wide and a narrow box, and the
style sheet shows the one that keeps every label at 11 px or more in the box it has (supervisor.css, a
container query: a card's width, not the screen's). A chart
with nothing to show is a sentence saying so, never an empty frame of grid lines.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 44, 12, 12, 34
PALETTE = ("#2f6fde", "#e0792b", "#2e9e6a", "#c9423f", "#8a5cc9", "#b58a12", "#4b9bb3", "#8c8c8c")


@dataclass(frozen=True)
class Layout:
    """One drawing of a chart: its name is the class the style sheet shows or hides by its box's width."""

    name: str
    width: int
    height: int
    most_x_labels: int  # more would run into each other at the layout's label size


WIDE = Layout("wide", 720, 220, 12)
NARROW = Layout("narrow", 400, 240, 5)
LAYOUTS = (WIDE, NARROW)


def _nice_ceiling(value: float) -> float:
    """A round axis maximum at or above `value` (1, 2, 5 × 10^n)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)


def _plot_size(layout: Layout) -> tuple[float, float]:
    return layout.width - PAD_LEFT - PAD_RIGHT, layout.height - PAD_TOP - PAD_BOTTOM


def _axis(layout: Layout, maximum: float, unit: str = "") -> list[str]:
    _, plot_h = _plot_size(layout)
    parts = []
    for i in range(5):
        value = maximum * i / 4
        y = PAD_TOP + plot_h - plot_h * i / 4
        label = f"{value:g}{unit}"
        parts.append(
            f'<line x1="{PAD_LEFT}" x2="{layout.width - PAD_RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{PAD_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{label}</text>'
        )
    return parts


def _x_labels(layout: Layout, labels: Sequence[str], step_w: float) -> list[str]:
    every = max(1, math.ceil(len(labels) / layout.most_x_labels))
    return [
        f'<text x="{PAD_LEFT + step_w * (i + 0.5):.1f}" y="{layout.height - 12}" text-anchor="middle" '
        f'class="tick">{escape(label)}</text>'
        for i, label in enumerate(labels)
        if i % every == 0
    ]


def _svg(layout: Layout, title: str, body: list[str], height: float | None = None) -> str:
    height = layout.height if height is None else height
    return (
        f'<svg viewBox="0 0 {layout.width} {height:g}" role="img" aria-label="{escape(title)}" '
        f'class="chart {layout.name}"><title>{escape(title)}</title>{"".join(body)}</svg>'
    )


def _drawn(draw: Callable[[Layout], str]) -> Markup:
    return Markup(f'<div class="chart-box">{"".join(draw(layout) for layout in LAYOUTS)}</div>')


def _nothing(sentence: str) -> Markup:
    return Markup(f'<p class="chart-empty">{escape(sentence)}</p>')


def bar_chart(
    title: str,
    points: Sequence[tuple[str, int]],
    short_labels: Sequence[str] | None = None,
    *,
    empty: str,
) -> Markup:
    """Vertical bars, e.g. tickets received per day; `empty` is said instead when every bar is zero."""
    if not any(value for _, value in points):
        return _nothing(empty)
    labels = list(short_labels or [label for label, _ in points])
    highest = max(v for _, v in points)
    # Counts: small maxima get a multiple of four, so the four grid lines fall on whole numbers.
    maximum = _nice_ceiling(highest) if highest > 20 else float(max(4, 4 * math.ceil(highest / 4)))

    def draw(layout: Layout) -> str:
        plot_w, plot_h = _plot_size(layout)
        step = plot_w / len(points)
        body = _axis(layout, maximum)
        for i, (label, value) in enumerate(points):
            h = plot_h * value / maximum
            body.append(
                f'<rect x="{PAD_LEFT + step * i + step * 0.15:.1f}" y="{PAD_TOP + plot_h - h:.1f}" '
                f'width="{max(step * 0.7, 1):.1f}" height="{h:.1f}" class="bar">'
                f"<title>{escape(label)}: {value}</title></rect>"
            )
        return _svg(layout, title, body + _x_labels(layout, labels, step))

    return _drawn(draw)


def line_chart(
    title: str,
    points: Sequence[tuple[str, float | None]],
    short_labels: Sequence[str] | None = None,
    *,
    empty: str,
) -> Markup:
    """A 0–100 % line, broken where there is no figure (a day with nothing decided); `empty` is said
    instead when no day has a figure."""
    if all(value is None for _, value in points):
        return _nothing(empty)
    labels = list(short_labels or [label for label, _ in points])

    def draw(layout: Layout) -> str:
        plot_w, plot_h = _plot_size(layout)
        step = plot_w / len(points)
        body = _axis(layout, 100, "%")
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
        return _svg(layout, title, body + dots + _x_labels(layout, labels, step))

    return _drawn(draw)


def share_chart(title: str, shares: Sequence[tuple[str, int]], *, empty: str) -> Markup:
    """A donut of shares with its legend (label, count, percent), e.g. tickets by support type: the legend
    beside the donut on a wide screen, under it on a narrow one. `empty` is said instead when all are 0."""
    total = sum(n for _, n in shares)
    if not total:
        return _nothing(empty)
    radius = 70
    circumference = 2 * math.pi * radius

    def draw(layout: Layout) -> str:
        beside = layout is WIDE
        cx, cy = (110.0, layout.height / 2) if beside else (layout.width / 2, radius + 24.0)
        legend_x, legend_top = (240.0, 26.0) if beside else (PAD_LEFT, 2 * radius + 70.0)
        body: list[str] = []
        offset = 0.0
        for i, (label, count) in enumerate(shares):
            if not count:
                continue
            length = circumference * count / total
            color = PALETTE[i % len(PALETTE)]
            body.append(
                f'<circle cx="{cx:g}" cy="{cy:g}" r="{radius}" fill="none" stroke="{color}" '
                f'stroke-width="34" stroke-dasharray="{length:.2f} {circumference - length:.2f}" '
                f'stroke-dashoffset="{-offset:.2f}" transform="rotate(-90 {cx:g} {cy:g})">'
                f"<title>{escape(label)}: {count} ({100 * count / total:.1f}%)</title></circle>"
            )
            offset += length
        body.append(f'<text x="{cx:g}" y="{cy + 6:g}" text-anchor="middle" class="total">{total}</text>')
        for i, (label, count) in enumerate(shares):
            y = legend_top + i * 24
            body.append(
                f'<rect x="{legend_x:g}" y="{y - 12:g}" width="14" height="14" '
                f'fill="{PALETTE[i % len(PALETTE)]}"/>'
                f'<text x="{legend_x + 22:g}" y="{y:g}" class="legend">{escape(label)} · {count} '
                f"({100 * count / total:.1f}%)</text>"
            )
        height = max(layout.height, legend_top + len(shares) * 24)
        return _svg(layout, title, body, height)

    return _drawn(draw)
