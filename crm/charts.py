"""Charts drawn as SVG on the server: no JavaScript, no CDN, readable without colour.

Each function returns a safe SVG string with a <title> and <desc> (screen readers) and the
data also rendered as a table by the templates.
"""

import math
from collections.abc import Sequence
from html import escape

from django.utils.safestring import SafeString, mark_safe

PALETTE = ["#2f6f4f", "#b5562b", "#3b5b92", "#8a6d1f", "#6b3f7a"]


def _fmt(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value / 1000:.1f}k"
    if value == int(value):
        return f"{int(value)}"
    return f"{value:.2f}"


def _axis(low: float, high: float, *, whole: bool, steps: int = 4) -> list[float]:
    """Tick values from at or below ``low`` to at or above ``high``, on a round step (1, 2, 2.5
    or 5 times a power of ten, never below 1 when the data are whole numbers, such as counts),
    so the axis reads 0, 500, 1k ... rather than 0, 662.00, 1.3k."""
    raw = (high - low) / steps or 1.0
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * (1 - 1e-9))
    if whole:
        step = max(1.0, math.ceil(step))
    first, last = math.floor(low / step + 1e-9), math.ceil(high / step - 1e-9)
    return [k * step for k in range(first, last + 1)]


def _tick(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value / 1000:g}k"
    return f"{round(value, 6):g}"


def line_chart(
    *,
    title: str,
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    width: int = 640,
    height: int = 220,
) -> SafeString:
    """A line chart of one or more series over the same labels (dates, oldest first)."""
    left, right, top, bottom = 48, 12, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for s in series.values() for v in s]
    ticks = _axis(min([0.0, *values]), max([1.0, *values]), whole=all(v == int(v) for v in values))
    low, high = ticks[0], ticks[-1]
    span = high - low or 1.0
    n = max(1, len(labels) - 1)

    def x(i):
        return left + plot_w * i / n

    def y(v):
        return top + plot_h * (1 - (v - low) / span)

    parts = [
        f'<svg class="crm-chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="t-{id(series)}" preserveAspectRatio="xMidYMid meet">',
        f'<title id="t-{id(series)}">{escape(title)}</title>',
    ]
    for v in ticks:
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
            f'stroke="#ddd"/><text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end" '
            f'font-size="11" fill="#444">{_tick(v)}</text>'
        )
    step = max(1, len(labels) // 6)
    for i, label in enumerate(labels):
        if i % step == 0 or i == len(labels) - 1:
            parts.append(
                f'<text x="{x(i):.1f}" y="{height - 8}" text-anchor="middle" font-size="11" '
                f'fill="#444">{escape(label)}</text>'
            )
    for idx, (name, data) in enumerate(series.items()):
        colour = PALETTE[idx % len(PALETTE)]
        dash = "" if idx == 0 else ' stroke-dasharray="6 3"'
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(data))
        if len(data) == 1:
            parts.append(f'<circle cx="{x(0):.1f}" cy="{y(data[0]):.1f}" r="3" fill="{colour}"/>')
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2"{dash} points="{points}">'
            f"<title>{escape(name)}</title></polyline>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every text is escaped above)


def bar_chart(
    *, title: str, items: Sequence[tuple[str, float]], width: int = 640, bar: int = 22
) -> SafeString:
    """Horizontal bars, largest first as given, each labelled with its value."""
    label_w, gap = 180, 6
    height = max(bar, len(items) * (bar + gap))
    top_value = max([1.0, *(v for _, v in items)])
    plot_w = width - label_w - 60
    parts = [
        f'<svg class="crm-chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" preserveAspectRatio="xMinYMin meet">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, value) in enumerate(items):
        yy = i * (bar + gap)
        w = max(1.0, plot_w * value / top_value)
        short = label if len(label) <= 24 else label[:23] + "…"  # fits the 180 units at 12
        parts.append(
            f'<text x="{label_w - 6}" y="{yy + bar * 0.7:.1f}" text-anchor="end" '
            f'font-size="12" fill="#222">{escape(short)}</text>'
            f'<rect x="{label_w}" y="{yy}" width="{w:.1f}" height="{bar}" '
            f'fill="{PALETTE[0]}"/>'
            f'<text x="{label_w + w + 4:.1f}" y="{yy + bar * 0.7:.1f}" font-size="12" '
            f'fill="#222">{_fmt(value)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308
