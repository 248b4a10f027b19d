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

from crmkit.render import numbers


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
    """Axis and label numbers: 1.2M, 350k, 900 (in the rendering's locale: crmkit.render.numbers)."""
    return numbers.short(v)


#: The width of one character of chart text (12px system-ui, in viewBox units), rounded up so
#: that an estimate never falls short of what a browser draws: labels are laid out by it.
CHAR_W = 7.2


def _text_w(text: str) -> float:
    return len(text) * CHAR_W


def _fit(text: str, room: float) -> str:
    """``text`` cut with an ellipsis to fit ``room`` (the full text stays in a <title>)."""
    if _text_w(text) <= room:
        return text
    n = max(int(room // CHAR_W) - 1, 1)
    return text[:n].rstrip() + "…"


def _wrap(text: str, room: float, max_lines: int = 3) -> list[str]:
    """Words of ``text`` in lines that fit ``room``; a word too long for a line is cut."""
    lines: list[str] = []
    for word in text.split():
        if lines and _text_w(lines[-1] + " " + word) <= room:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > max_lines:
        lines = lines[: max_lines - 1] + [" ".join(lines[max_lines - 1:])]
    return [_fit(line, room) for line in lines] or [""]


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
    """A funnel: one centred bar per stage, width by value, label and figure on each.

    The stage labels get the room the longest one needs (up to 200 units; longer ones are
    cut, the full name in a tooltip), and a figure that does not fit in its bar goes to
    its right: the drawing grows to the right for it rather than cut it off.
    """
    values = [_num(v) for v in (chart.series[0].values if chart.series else [])]
    n = len(chart.labels)
    row, gap, top = 34, 6, 6
    height = top + n * (row + gap) + 4
    label_w = int(min(max((_text_w(str(x)) for x in chart.labels), default=0) + 14, 200))
    label_w = max(label_w, 60)
    area = width - label_w - 10
    vmax = max(values, default=0) or 1.0
    right = float(width)
    parts = []
    for i, (label, v) in enumerate(zip(chart.labels, values)):
        y = top + i * (row + gap)
        w = max(area * v / vmax, 2.0 if v > 0 else 0.0)
        x = label_w + (area - w) / 2
        color = PALETTE[0]
        opacity = 1.0 - 0.5 * (i / max(n - 1, 1))
        shown = _fit(str(label), label_w - 12)
        tip = f"<title>{_e(label)}</title>" if shown != str(label) else ""
        parts.append(
            f'<text x="{label_w - 8}" y="{y + row / 2 + 4:.1f}" text-anchor="end">{tip}{_e(shown)}</text>'
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
        figure = _short(v) + extra
        inside = w >= _text_w(figure) + 16
        tx = x + w / 2 if inside else x + w + 6
        if not inside:
            right = max(right, tx + _text_w(figure) + 4)
        anchor = "middle" if inside else "start"
        fill = ' style="fill:#fff;font-weight:600"' if inside else ""
        parts.append(
            f'<text x="{tx:.1f}" y="{y + row / 2 + 4:.1f}" text-anchor="{anchor}"{fill}>'
            f"{_e(figure)}</text>"
        )
    head = (
        f'<svg class="chart funnel" role="img" aria-label="{_e(chart.title)}" viewBox="0 0 {math.ceil(right)} {height}" '
        f'xmlns="http://www.w3.org/2000/svg">'
    )
    return head + "".join(parts) + "</svg>"


def svg_bars(chart: Chart, width: int = 520, height: int = 300) -> str:
    """Stacked vertical bars per label (series of kind bar) with line series drawn as markers joined by a line."""
    n = max(len(chart.labels), 1)
    left, right, top, bottom = 56, 10, 12, 46
    # every slot is at least as wide as the longest word of its label (up to 110 units):
    # many long labels make the drawing wider (it is scaled to the page) rather than cut words
    word = max((_text_w(w) for x in chart.labels for w in str(x).split()), default=0)
    width = max(width, math.ceil(left + right + n * (min(word, 110) + 8)))
    pw, ph = width - left - right, height - top - bottom
    # x labels in lines that fit their slot (a label wider than its slot overlapped its
    # neighbours); the drawing grows downwards by the extra lines
    label_lines = [_wrap(str(x), pw / n - 4) for x in chart.labels]
    extra_lines = max((len(ls) for ls in label_lines), default=1) - 1
    height += 14 * extra_lines
    bars = [s for s in chart.series if s.kind == "bar"]
    lines = [s for s in chart.series if s.kind == "line"]
    totals = [sum(_num(s.values[i]) for s in bars) for i in range(len(chart.labels))]
    peak = max(totals + [_num(v) for s in lines for v in s.values], default=0)
    vmax = _nice_max(peak)
    slot = pw / n
    # a figure above each bar, when every one fits its slot (else the tooltips carry them)
    show_totals = all(_text_w(_short(t)) <= slot - 2 for t in totals if t > 0)
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
        if totals[i] > 0 and show_totals:
            parts.append(
                f'<text x="{cx:.1f}" y="{y - 4:.1f}" text-anchor="middle" class="muted">{_e(_short(totals[i]))}</text>'
            )
        style = f' style="fill:{WARN};font-weight:600"' if hl else ""
        ll = label_lines[i]
        tip = f"<title>{_e(label)}</title>" if " ".join(ll) != str(label) else ""
        body = _e(ll[0]) if len(ll) == 1 else "".join(
            f'<tspan x="{cx:.1f}" dy="{0 if k == 0 else 14}">{_e(line)}</tspan>' for k, line in enumerate(ll))
        parts.append(f'<text x="{cx:.1f}" y="{top + ph + 16}" text-anchor="middle"{style}>{tip}{body}</text>')
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


