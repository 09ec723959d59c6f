"""Small server-side SVG charts (no JavaScript, no external requests).

Every label goes through markupsafe.escape; the result is Markup for Jinja2.
Colours come from CSS classes (review.css), so no inline styles are needed.
"""

from __future__ import annotations

import datetime as dt

from markupsafe import Markup, escape


def _nice_max(value: int) -> int:
    """An even upper bound for the y axis, so that the half-way label is a whole number."""
    for step in (4, 10, 20, 40, 50, 100, 200, 400, 500, 1000, 2000, 4000, 5000, 10000):
        if value <= step:
            return step
    magnitude = 10 ** (len(str(value)) - 1)
    return ((value // magnitude) + 1) * magnitude * 2


def bar_chart(
    days: list[dt.date], values: list[int], title: str, css: str = "bar", height: int = 180
) -> Markup:
    """Vertical bars per day with a y axis and a few date labels."""
    width = 640
    left, bottom, top = 44, 24, 10
    plot_w, plot_h = width - left - 8, height - bottom - top
    top_value = _nice_max(max(values, default=0))
    n = max(1, len(values))
    slot = plot_w / n
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for frac in (0, 0.5, 1):
        y = top + plot_h * (1 - frac)
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="axis" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{top_value * frac:g}</text>"
        )
    for i, (day, value) in enumerate(zip(days, values, strict=True)):
        h = plot_h * value / top_value if top_value else 0
        x = left + i * slot + slot * 0.15
        parts.append(
            f'<rect class="{escape(css)}" x="{x:.1f}" y="{top + plot_h - h:.1f}" '
            f'width="{slot * 0.7:.1f}" height="{h:.1f}">'
            f"<title>{day.strftime('%d.%m.%Y')}: {value}</title></rect>"
        )
        if i % 7 == 0 and n - 1 - i >= 4 or i == n - 1:
            parts.append(
                f'<text class="axis" x="{x + slot * 0.35:.1f}" y="{height - 6}" '
                f'text-anchor="middle">{day.strftime("%d.%m.")}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def hbar_chart(items: list[tuple[str, int]], title: str) -> Markup:
    """Horizontal bars with a label and a value per row."""
    row_h, label_w, width = 24, 200, 640
    height = max(1, len(items)) * row_h + 8
    top_value = max((v for _, v in items), default=0) or 1
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    if not items:
        parts.append('<text class="axis" x="8" y="20">Keine Daten im Zeitraum</text>')
    for i, (label, value) in enumerate(items):
        y = 4 + i * row_h
        w = (width - label_w - 70) * value / top_value
        parts.append(
            f'<text class="label" x="{label_w - 8}" y="{y + 16}" text-anchor="end">'
            f"{escape(label)}</text>"
            f'<rect class="bar" x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}"/>'
            f'<text class="axis" x="{label_w + w + 6:.1f}" y="{y + 16}">{value}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def share_bar(part: int, whole: int, title: str, unit: str = "Nachrichten") -> Markup:
    """One horizontal 100 % bar with the share of `part` highlighted."""
    width, height = 640, 46
    share = part / whole if whole else 0.0
    w = (width - 16) * share
    return Markup(
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>"
        f'<rect class="track" x="8" y="6" width="{width - 16}" height="20"/>'
        f'<rect class="bar-warn" x="8" y="6" width="{w:.1f}" height="20"/>'
        f'<text class="axis" x="8" y="42">{share * 100:.1f} % ({part} von {whole} {escape(unit)})'
        "</text></svg>"
    )
