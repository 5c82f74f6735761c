"""Charts as inline SVG made on the server: no script, no CDN, prints and screenshots as seen.

Colours come from CSS classes (admin.css), so the charts follow the page's palette.
"""
from __future__ import annotations

from datetime import date
from typing import Sequence

from markupsafe import Markup, escape


def _svg(width: int, height: int, body: list[str], label: str) -> Markup:
    return Markup(f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
                  f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
                  f'<title>{escape(label)}</title>{"".join(body)}</svg>')


def _fmt(n: float) -> str:
    return f"{n:,.0f}" if float(n).is_integer() else f"{n:,.1f}"


def hbars(items: Sequence[tuple[str, float, str]], label: str, *, unit: str = "") -> Markup:
    """Horizontal bars: (label, value, tone class) per row."""
    if not items:
        return Markup('<p class="muted">—</p>')
    row, label_w, width = 30, 170, 640
    bar_w = width - label_w - 90
    top = max(v for _l, v, _t in items) or 1
    total = sum(v for _l, v, _t in items) or 1
    body = []
    for i, (name, value, tone) in enumerate(items):
        y = i * row + 6
        w = max(2.0, bar_w * value / top) if value else 0
        share = f" ({100 * value / total:.0f}%)" if unit == "" else ""
        body.append(f'<text class="chart-label" x="{label_w - 8}" y="{y + 15}" text-anchor="end">{escape(name)}</text>'
                    f'<rect class="bar tone-{escape(tone)}" x="{label_w}" y="{y}" width="{w:.1f}" height="20" rx="3">'
                    f'<title>{escape(name)}: {_fmt(value)}{escape(unit)}</title></rect>'
                    f'<text class="chart-value" x="{label_w + w + 6:.1f}" y="{y + 15}">{_fmt(value)}{escape(unit)}{share}</text>')
    return _svg(width, len(items) * row + 10, body, label)


def stacked_columns(days: Sequence[date], series: Sequence[tuple[str, str, Sequence[float]]],
                    label: str, *, day_label=lambda d: f"{d.month}/{d.day}") -> Markup:
    """Columns per day, stacked: series = (name, tone class, values per day)."""
    if not days:
        return Markup('<p class="muted">—</p>')
    width, height, left, bottom, top_pad = 640, 230, 40, 40, 24
    plot_h = height - bottom - top_pad
    n = len(days)
    slot = (width - left - 10) / n
    col_w = max(4.0, min(36.0, slot * 0.7))
    totals = [sum(s[2][i] for s in series) for i in range(n)]
    peak = max(totals) or 1
    body = [f'<line class="axis" x1="{left}" y1="{height - bottom}" x2="{width - 5}" y2="{height - bottom}"/>']
    for tick in (0.5, 1.0):
        y = height - bottom - plot_h * tick
        body.append(f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{width - 5}" y2="{y:.1f}"/>'
                    f'<text class="chart-axis" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(peak * tick)}</text>')
    every = max(1, round(n / 12))
    for i, d in enumerate(days):
        x = left + i * slot + (slot - col_w) / 2
        y = height - bottom
        for name, tone, values in series:
            v = values[i]
            if not v:
                continue
            h = plot_h * v / peak
            y -= h
            body.append(f'<rect class="bar tone-{escape(tone)}" x="{x:.1f}" y="{y:.1f}" width="{col_w:.1f}" '
                        f'height="{h:.1f}"><title>{escape(day_label(d))} {escape(name)}: {_fmt(v)}</title></rect>')
        if totals[i]:
            body.append(f'<text class="chart-value" x="{x + col_w / 2:.1f}" y="{y - 4:.1f}" '
                        f'text-anchor="middle">{_fmt(totals[i])}</text>')
        if i % every == 0:
            body.append(f'<text class="chart-axis" x="{x + col_w / 2:.1f}" y="{height - bottom + 16}" '
                        f'text-anchor="middle">{escape(day_label(d))}</text>')
    lx = left
    for name, tone, _v in series:
        body.append(f'<rect class="bar tone-{escape(tone)}" x="{lx}" y="4" width="12" height="12" rx="2"/>'
                    f'<text class="chart-label" x="{lx + 16}" y="14">{escape(name)}</text>')
        lx += 24 + 14 * len(name) if any(ord(c) > 0x2e80 for c in name) else 24 + 7 * len(name)
    return _svg(width, height, body, label)


def line(days: Sequence[date], values: Sequence[float], label: str, *, marker: date | None = None,
         marker_label: str = "", day_label=lambda d: f"{d.month}/{d.day}") -> Markup:
    """A line of percentages (0–100) over days, with an optional vertical marker (campaign start)."""
    if not days:
        return Markup('<p class="muted">—</p>')
    width, height, left, bottom, top_pad = 640, 230, 44, 40, 16
    plot_h = height - bottom - top_pad
    plot_w = width - left - 14
    peak = max(10.0, min(100.0, (max(values) // 10 + 1) * 10 if values else 100.0))
    n = len(days)

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return height - bottom - plot_h * v / peak

    body = []
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        ty = y(peak * tick)
        body.append(f'<line class="grid" x1="{left}" y1="{ty:.1f}" x2="{width - 10}" y2="{ty:.1f}"/>'
                    f'<text class="chart-axis" x="{left - 6}" y="{ty + 4:.1f}" text-anchor="end">{peak * tick:.0f}%</text>')
    if marker and days[0] <= marker <= days[-1]:
        mx = x(days.index(marker)) if marker in days else x(0)
        right = mx > width * 0.7   # near the right edge: label on the left of the line
        body.append(f'<line class="marker" x1="{mx:.1f}" y1="{top_pad}" x2="{mx:.1f}" y2="{height - bottom}"/>'
                    f'<text class="chart-axis" x="{mx - 4 if right else mx + 4:.1f}" y="{top_pad + 10}" '
                    f'text-anchor="{"end" if right else "start"}">{escape(marker_label)}</text>')
    points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
    area = f"{x(0):.1f},{y(0):.1f} {points} {x(n - 1):.1f},{y(0):.1f}"
    body.append(f'<polygon class="area" points="{area}"/><polyline class="line" points="{points}"/>')
    every = max(1, round(n / 10))
    for i, d in enumerate(days):
        if i % every == 0 or i == n - 1:
            body.append(f'<text class="chart-axis" x="{x(i):.1f}" y="{height - bottom + 16}" '
                        f'text-anchor="middle">{escape(day_label(d))}</text>')
    body.append(f'<circle class="dot" cx="{x(n - 1):.1f}" cy="{y(values[-1]):.1f}" r="4">'
                f'<title>{escape(day_label(days[-1]))}: {values[-1]:.1f}%</title></circle>'
                f'<text class="chart-value" x="{x(n - 1) - 6:.1f}" y="{y(values[-1]) - 8:.1f}" '
                f'text-anchor="end">{values[-1]:.1f}%</text>')
    return _svg(width, height, body, label)
