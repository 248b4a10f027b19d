"""SVG charts for the html reports: a funnel and stacked monthly bars, drawn as inline SVG.

No JavaScript and no external resources: the page must open offline, in a mail
client, and print. Values are scaled to the chart; labels use short numbers
(350k, 1.2M, 2bn) and every bar carries a <title> tooltip with its figure.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass
class Series:
    name: str
    values: list[Decimal | float | int]
    kind: str = "bar"  # bar (stacked) | line
    color: str | None = None


@dataclass
class Chart:
    """A chart for the HTML page: ``funnel`` (labels, one series) or ``bars`` (stacked bars + lines by label)."""

    kind: str
    title: str
    labels: list[str]
    series: list[Series]
    unit: str = ""
    note: str | None = None
    highlight: list[bool] | None = None  # bars drawn in warning colour (e.g. overdue)


PALETTE = ("#2f6fde", "#f0a202", "#2a9d8f", "#9b5de5", "#e76f51", "#6c757d", "#43aa8b", "#b5179e")
WARN = "#d64545"


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _num(v: Any) -> float:
    try:
        return float(v or 0)
    except (TypeError, ValueError):
        return 0.0


def _short(v: float) -> str:
    """Axis and label numbers: 1.2M, 350k, 900."""
    a = abs(v)
    if a >= 1e9:
        return f"{v / 1e9:.1f}bn".replace(".0bn", "bn")
    if a >= 1e6:
        return f"{v / 1e6:.1f}M".replace(".0M", "M")
    if a >= 1e3:
        return f"{v / 1e3:.0f}k"
    return f"{v:.0f}"


def _nice_max(v: float, ticks: int = 4) -> float:
    """The smallest ``ticks`` x step >= v where step is 1, 2, 2.5 or 5 times a power of ten."""
    if v <= 0:
        return float(ticks)
    raw = v / ticks
    exp = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if m * exp >= raw:
            return m * exp * ticks
    return 10 * exp * ticks


def svg_funnel(chart: Chart, width: int = 520) -> str:
    """A funnel: one centred bar per stage, width by value, label and figure on each."""
    values = [_num(v) for v in (chart.series[0].values if chart.series else [])]
    n = len(chart.labels)
    row, gap, top = 34, 6, 6
    height = top + n * (row + gap) + 4
    label_w = 130
    area = width - label_w - 10
    vmax = max(values, default=0) or 1.0
    parts = [
        f'<svg class="chart funnel" role="img" aria-label="{_e(chart.title)}" viewBox="0 0 {width} {height}" '
        f'xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, (label, v) in enumerate(zip(chart.labels, values)):
        y = top + i * (row + gap)
        w = max(area * v / vmax, 2.0 if v > 0 else 0.0)
        x = label_w + (area - w) / 2
        color = PALETTE[0]
        opacity = 1.0 - 0.5 * (i / max(n - 1, 1))
        parts.append(
            f'<text x="{label_w - 8}" y="{y + row / 2 + 4:.1f}" text-anchor="end">{_e(label)}</text>'
        )
        if v > 0:
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row}" rx="3" '
                f'fill="{color}" fill-opacity="{opacity:.2f}"><title>{_e(label)}: {_e(_short(v))} {_e(chart.unit)}</title></rect>'
            )
        else:
            parts.append(
                f'<line x1="{label_w + area / 2:.1f}" x2="{label_w + area / 2:.1f}" y1="{y}" y2="{y + row}" '
                f'stroke="#d9e2ec"/>'
            )
        extra = ""
        if len(chart.series) > 1:
            extra = " · " + " · ".join(f"{_short(_num(s.values[i]))} {s.name}" for s in chart.series[1:])
        inside = w > 150
        tx = label_w + area / 2 if inside else x + w + 6
        anchor = "middle" if inside else "start"
        fill = ' style="fill:#fff;font-weight:600"' if inside else ""
        parts.append(
            f'<text x="{tx:.1f}" y="{y + row / 2 + 4:.1f}" text-anchor="{anchor}"{fill}>'
            f"{_e(_short(v))}{_e(extra)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def svg_bars(chart: Chart, width: int = 520, height: int = 300) -> str:
    """Stacked vertical bars per label (series of kind bar) with line series drawn as markers joined by a line."""
    n = max(len(chart.labels), 1)
    left, right, top, bottom = 56, 10, 12, 46
    pw, ph = width - left - right, height - top - bottom
    bars = [s for s in chart.series if s.kind == "bar"]
    lines = [s for s in chart.series if s.kind == "line"]
    totals = [sum(_num(s.values[i]) for s in bars) for i in range(len(chart.labels))]
    peak = max(totals + [_num(v) for s in lines for v in s.values], default=0)
    vmax = _nice_max(peak)
    slot = pw / n
    bw = min(slot * 0.62, 64)
    parts = [
        f'<svg class="chart bars" role="img" aria-label="{_e(chart.title)}" viewBox="0 0 {width} {height}" '
        f'xmlns="http://www.w3.org/2000/svg">'
    ]
    for t in range(5):
        v = vmax * t / 4
        y = top + ph - ph * t / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d9e2ec"/>')
        parts.append(f'<text class="muted" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_e(_short(v))}</text>')
    for i, label in enumerate(chart.labels):
        cx = left + slot * i + slot / 2
        y = top + ph
        hl = bool(chart.highlight and i < len(chart.highlight) and chart.highlight[i])
        for j, s in enumerate(bars):
            v = _num(s.values[i])
            if v <= 0:
                continue
            h = ph * v / vmax
            y -= h
            color = s.color or PALETTE[j % len(PALETTE)]
            stroke = f' stroke="{WARN}" stroke-width="2"' if hl else ""
            parts.append(
                f'<rect class="bar" x="{cx - bw / 2:.1f}" y="{y:.1f}" width="{bw:.1f}" height="{h:.1f}" '
                f'fill="{color}"{stroke}><title>{_e(label)} {_e(s.name)}: {_e(_short(v))} {_e(chart.unit)}</title></rect>'
            )
        if totals[i] > 0:
            parts.append(
                f'<text x="{cx:.1f}" y="{y - 4:.1f}" text-anchor="middle" class="muted">{_e(_short(totals[i]))}</text>'
            )
        style = f' style="fill:{WARN};font-weight:600"' if hl else ""
        parts.append(f'<text x="{cx:.1f}" y="{top + ph + 16}" text-anchor="middle"{style}>{_e(label)}</text>')
    for j, s in enumerate(lines):
        color = s.color or PALETTE[(len(bars) + j) % len(PALETTE)]
        pts = [
            (left + slot * i + slot / 2, top + ph - ph * _num(v) / vmax) for i, v in enumerate(s.values)
        ]
        if len(pts) > 1:
            parts.append(
                f'<polyline class="line" fill="none" stroke="{color}" stroke-width="2.5" points="'
                + " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
                + '"/>'
            )
        for (px, py), sv in zip(pts, s.values):
            parts.append(
                f'<circle cx="{px:.1f}" cy="{py:.1f}" r="4" fill="{color}"><title>{_e(s.name)}: {_e(_short(_num(sv)))}</title></circle>'
            )
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{top + ph}" y2="{top + ph}" stroke="#616e7c"/>')
    parts.append("</svg>")
    return "".join(parts)


def _legend(chart: Chart) -> str:
    if chart.kind == "funnel" or len(chart.series) < 2:
        return ""
    bars = [s for s in chart.series if s.kind == "bar"]
    items = []
    for j, s in enumerate(chart.series):
        if s.kind == "bar":
            color = s.color or PALETTE[j % len(PALETTE)]
            items.append(f'<span style="--c:{color}">{_e(s.name)}</span>')
        else:
            k = len(bars) + [x for x in chart.series if x.kind == "line"].index(s)
            color = s.color or PALETTE[k % len(PALETTE)]
            items.append(f'<span class="line" style="--c:{color}">{_e(s.name)}</span>')
    return '<div class="legend">' + "".join(items) + "</div>"


def render_chart(chart: Chart) -> str:
    svg = svg_funnel(chart) if chart.kind == "funnel" else svg_bars(chart)
    note = f'<div class="note">{_e(chart.note)}</div>' if chart.note else ""
    return (
        f'<figure class="chart-{_e(chart.kind)}"><figcaption>{_e(chart.title)}</figcaption>'
        f"{svg}{_legend(chart)}{note}</figure>"
    )


