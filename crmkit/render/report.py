"""Report output: one data model, five renderers (table, json, csv, md, html).

A report function (crmkit.reports.*, crmkit.support.sla) returns a :class:`Report`:
a title, a few ``meta`` lines, tables (:class:`Section`) and charts
(:class:`Chart`), plus ``data``: the documented JSON shape. Renderers are pure
functions of the report, so every format shows the same figures.

* ``table`` - for terminals: aligned columns, value bars drawn with unicode blocks.
* ``json``  - ``report.data`` (money as exact decimal strings, e.g. ``"1234.50"``).
* ``csv``   - the first section (the main table), exact values, one header row.
* ``md``    - a heading and a pipe table per section.
* ``html``  - one self-contained page: inline CSS and inline SVG charts, no scripts,
  nothing fetched from the network.

Teammates' reports (``report sla``) use the same model: build a Report, call
:func:`render`::

    from crmkit.render.report import Chart, Column, Report, Section, Series, render

    rep = Report(
        name="sla", title="SLA attainment",
        meta=[("as of", "2026-11-23 10:00 CET")],
        sections=[Section("By priority",
                          [Column("priority"), Column("tickets", "tickets", "int"),
                           Column("met", "met", "pct", bar=True)],
                          rows, total={"priority": "total", "tickets": 12})],
        charts=[Chart("bars", "Breaches by week", ["w45", "w46"],
                      [Series("response", [3, 1]), Series("target", [2, 2], kind="line")])],
        data={...},      # the documented --json shape
        warnings=[...],  # the CLI prints them on stderr
    )
    text = render(rep, "html")

Column kinds: text, int, money (Decimal: ``1,234,568`` in tables, ``1234567.50``
in csv), pct (a Decimal percent), days, num, date. ``bar=True`` draws bars,
``wrap=True`` lets long text wrap in html. Chart kinds live in crmkit.render.charts.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from crmkit.render.charts import Chart, Series, _e, _num, render_chart, svg_bars, svg_funnel  # noqa: F401 - re-exported
from crmkit.render.jsontext import json_default

FORMATS = ("table", "json", "csv", "md", "html")

#: Column kinds decide alignment and how values print.
KINDS = ("text", "int", "money", "pct", "days", "date", "num")

_BLOCKS = " ▏▎▍▌▋▊▉█"


@dataclass
class Column:
    """One column: ``key`` in the row dicts, a header ``label``, a ``kind`` and whether to draw a bar."""

    key: str
    label: str | None = None
    kind: str = "text"
    bar: bool = False
    wrap: bool = False  # long free text (subjects, reasons) may wrap in html

    @property
    def title(self) -> str:
        return self.label if self.label is not None else self.key.replace("_", " ")


@dataclass
class Section:
    """A table: rows are dicts; ``total`` is an optional final row printed apart."""

    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    total: dict[str, Any] | None = None
    note: str | None = None
    empty: str = "nothing to show"


@dataclass
class Report:
    name: str
    title: str
    meta: list[tuple[str, str]] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def merged(self, other: Report) -> Report:
        """This report followed by another on one page (the pipeline page shows the forecast too)."""
        data = dict(self.data)
        data[other.name] = other.data
        return Report(
            self.name,
            self.title,
            self.meta,
            self.sections + other.sections,
            self.charts + other.charts,
            data,
            self.warnings + [w for w in other.warnings if w not in self.warnings],
        )


# --------------------------------------------------------------------------- value formatting


def _q(d: Decimal, places: str) -> Decimal:
    return d.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def money_text(value: Any, *, exact: bool = False) -> str:
    """Money for people (``1,234,568``: whole units) or, ``exact``, for machines (``1234567.50``)."""
    if value is None or value == "":
        return ""
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    if exact:
        return str(_q(d, "0.01"))
    return f"{_q(d, '1'):,}"


def cell_text(value: Any, kind: str, *, exact: bool = False) -> str:
    """One cell as text; ``exact`` for csv/json (no grouping, full cents)."""
    t = type(value)
    if t is str and kind in ("text", "date"):
        return value  # the common case, first: long listings have many thousands of cells
    if isinstance(value, str) and value == "":
        return ""  # not applicable (a total row without this column)
    if value is None:  # applicable but unknown (no deal closed, no value)
        return "" if exact else "-" if kind in ("money", "pct", "days", "num") else ""
    if kind == "money":
        return money_text(value, exact=exact)
    if kind == "pct":
        d = value if isinstance(value, Decimal) else Decimal(str(value))
        if exact:
            return str(_q(d, "0.1"))
        text = str(_q(d, "0.1"))
        return (text[:-2] if text.endswith(".0") else text) + "%"
    if kind in ("days", "num"):
        d = value if isinstance(value, Decimal) else Decimal(str(value))
        return str(_q(d, "0.1"))
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, (dt.datetime,)):
        return value.isoformat() if exact else value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    if isinstance(value, int) and kind == "int" and not exact:
        return f"{value:,}"
    return str(value)


def bar(value: Any, maximum: Any, width: int = 20) -> str:
    """A horizontal bar of unicode blocks, ``width`` cells at ``maximum``, eighths of a cell precision."""
    try:
        v, m = float(value or 0), float(maximum or 0)
    except (TypeError, ValueError):
        return ""
    if m <= 0 or v <= 0:
        return ""
    eighths = round(v / m * width * 8)
    if eighths == 0:
        eighths = 1  # a non-zero value is never invisible
    full, part = divmod(eighths, 8)
    return "█" * full + (_BLOCKS[part] if part else "")


# --------------------------------------------------------------------------- json


def render_json(report: Report) -> str:
    data = dict(report.data)
    data.setdefault("report", report.name)
    if report.warnings:
        data["warnings"] = list(report.warnings)
    return json.dumps(data, default=json_default, ensure_ascii=False, indent=2) + "\n"


# --------------------------------------------------------------------------- csv


def render_csv(report: Report) -> str:
    """The main table (first section) with exact values; json holds everything."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    if not report.sections:
        return ""
    sec = report.sections[0]
    w.writerow([c.key for c in sec.columns])
    rows = list(sec.rows) + ([sec.total] if sec.total else [])
    for r in rows:
        w.writerow([cell_text(r.get(c.key), c.kind, exact=True) for c in sec.columns])
    return out.getvalue()


# --------------------------------------------------------------------------- table


def _is_right(kind: str) -> bool:
    return kind in ("int", "money", "pct", "days", "num")


def render_table(report: Report, *, bar_width: int = 16) -> str:
    lines = [report.title, "=" * len(report.title)]
    for k, v in report.meta:
        lines.append(f"{k}: {v}")
    for sec in report.sections:
        lines.append("")
        lines.append(sec.title)
        lines.append("-" * len(sec.title))
        if not sec.rows and not sec.total:
            lines.append(f"({sec.empty})")
            if sec.note:
                lines.append(sec.note)
            continue
        all_rows = list(sec.rows) + ([sec.total] if sec.total else [])
        maxima = {
            c.key: max((abs(float(r.get(c.key) or 0)) for r in sec.rows), default=0) for c in sec.columns if c.bar
        }
        headers: list[str] = []
        cols: list[list[str]] = []
        rights: list[bool] = []
        for c in sec.columns:
            headers.append(c.title)
            cols.append([cell_text(r.get(c.key, ""), c.kind) for r in all_rows])
            rights.append(_is_right(c.kind))
            if c.bar:
                headers.append("")
                cells = [bar(r.get(c.key), maxima[c.key], bar_width) for r in sec.rows]
                if sec.total:
                    cells.append("")
                cols.append(cells)
                rights.append(False)
        widths = [max([len(h)] + [len(x) for x in col]) for h, col in zip(headers, cols)]

        def fmt_row(cells: Sequence[str]) -> str:
            parts = [
                (cell.rjust(wd) if right else cell.ljust(wd)) for cell, wd, right in zip(cells, widths, rights)
            ]
            return "  ".join(parts).rstrip()

        lines.append(fmt_row(headers))
        lines.append("  ".join("-" * wd for wd in widths).rstrip())
        for i in range(len(sec.rows)):
            lines.append(fmt_row([col[i] for col in cols]))
        if sec.total:
            lines.append("  ".join("-" * wd for wd in widths).rstrip())
            lines.append(fmt_row([col[-1] for col in cols]))
        if sec.note:
            lines.append(sec.note)
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- markdown


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_md(report: Report) -> str:
    lines = [f"# {report.title}", ""]
    for k, v in report.meta:
        lines.append(f"- **{_md_escape(k)}**: {_md_escape(v)}")
    for sec in report.sections:
        lines += ["", f"## {_md_escape(sec.title)}", ""]
        if not sec.rows and not sec.total:
            lines.append(f"_{sec.empty}_")
            continue
        lines.append("| " + " | ".join(_md_escape(c.title) for c in sec.columns) + " |")
        lines.append("|" + "|".join("---:" if _is_right(c.kind) else "---" for c in sec.columns) + "|")
        for r in sec.rows:
            lines.append("| " + " | ".join(_md_escape(cell_text(r.get(c.key, ""), c.kind)) for c in sec.columns) + " |")
        if sec.total:
            lines.append(
                "| "
                + " | ".join(
                    f"**{_md_escape(t)}**" if t else ""
                    for t in (cell_text(sec.total.get(c.key, ""), c.kind) for c in sec.columns)
                )
                + " |"
            )
        if sec.note:
            lines += ["", _md_escape(sec.note)]
    if report.warnings:
        lines += ["", "## Warnings", ""] + [f"- {_md_escape(w)}" for w in report.warnings]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- html

_CSS = """
:root { --ink:#1f2933; --muted:#616e7c; --line:#d9e2ec; --bg:#ffffff; --band:#f5f7fa; --accent:#2f6fde; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: var(--ink); background: var(--bg); margin: 0; }
main { max-width: 1100px; margin: 0 auto; padding: 28px 32px 48px; }
h1 { font-size: 26px; margin: 0 0 6px; }
h2 { font-size: 18px; margin: 34px 0 10px; border-bottom: 2px solid var(--line); padding-bottom: 4px; }
.meta { color: var(--muted); margin: 0 0 8px; padding: 0; list-style: none; display: flex; flex-wrap: wrap; gap: 4px 22px; }
.meta b { color: var(--ink); font-weight: 600; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 20px; margin-top: 18px;
          align-items: start; }
figure { margin: 0; padding: 14px 16px 10px; border: 1px solid var(--line); border-radius: 8px; background: var(--bg); }
figcaption { font-weight: 600; margin-bottom: 8px; }
figure .note { color: var(--muted); font-size: 13px; margin-top: 6px; }
svg { width: 100%; max-width: 640px; height: auto; display: block; }
.tablewrap { overflow-x: auto; }
svg text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; fill: var(--ink); }
svg .muted { fill: var(--muted); }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: 13px; color: var(--muted); margin-top: 6px; }
.legend span::before { content: ""; display: inline-block; width: 11px; height: 11px; margin-right: 5px;
                       vertical-align: -1px; border-radius: 2px; background: var(--c); }
.legend span.line::before { height: 3px; vertical-align: 3px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top;
         white-space: nowrap; }
td.wrap { white-space: normal; min-width: 14em; }
th { font-size: 13px; color: var(--muted); font-weight: 600; background: var(--band); }
td.r, th.r { text-align: right; white-space: nowrap; }
tr.total td { font-weight: 700; border-top: 2px solid var(--ink); }
td .bar { display: inline-block; height: 9px; background: var(--accent); border-radius: 2px; vertical-align: 0; }
td.barcell { width: 22%; }
.empty, .note { color: var(--muted); }
.warnings { background: #fff8e1; border: 1px solid #f0d48a; border-radius: 6px; padding: 8px 14px; }
footer { color: var(--muted); font-size: 12px; margin-top: 40px; }
@media print { main { padding: 0; } figure { break-inside: avoid; } }
"""

def _html_table(sec: Section) -> str:
    if not sec.rows and not sec.total:
        return f'<p class="empty">{_e(sec.empty)}</p>'
    maxima = {c.key: max((abs(_num(r.get(c.key))) for r in sec.rows), default=0) for c in sec.columns if c.bar}
    head = []
    for c in sec.columns:
        head.append(f'<th class="{"r" if _is_right(c.kind) else ""}">{_e(c.title)}</th>')
        if c.bar:
            head.append("<th></th>")
    out = ["<table><thead><tr>", "".join(head), "</tr></thead><tbody>"]

    def row_html(r: dict[str, Any], total: bool) -> str:
        cells = []
        for c in sec.columns:
            cls = "r" if _is_right(c.kind) else "wrap" if c.wrap else ""
            cells.append(f'<td class="{cls}">{_e(cell_text(r.get(c.key, ""), c.kind))}</td>')
            if c.bar:
                if total or not maxima[c.key]:
                    cells.append('<td class="barcell"></td>')
                else:
                    pct = 100 * abs(_num(r.get(c.key))) / maxima[c.key]
                    cells.append(f'<td class="barcell"><span class="bar" style="width:{pct:.1f}%"></span></td>')
        return f'<tr class="{"total" if total else ""}">' + "".join(cells) + "</tr>"

    for r in sec.rows:
        out.append(row_html(r, False))
    if sec.total:
        out.append(row_html(sec.total, True))
    out.append("</tbody></table>")
    if sec.note:
        out.append(f'<p class="note">{_e(sec.note)}</p>')
    return "".join(out)


def render_html(report: Report, *, generator: str = "crmkit") -> str:
    """One self-contained page: no scripts, no external stylesheets, fonts or images."""
    meta = "".join(f"<li>{_e(k)}: <b>{_e(v)}</b></li>" for k, v in report.meta)
    charts = "".join(render_chart(c) for c in report.charts)
    body = [
        f"<h1>{_e(report.title)}</h1>",
        f'<ul class="meta">{meta}</ul>' if meta else "",
        f'<section class="charts">{charts}</section>' if charts else "",
    ]
    if report.warnings:
        body.append(
            '<div class="warnings"><b>Warnings</b><ul>'
            + "".join(f"<li>{_e(w)}</li>" for w in report.warnings)
            + "</ul></div>"
        )
    for sec in report.sections:
        body.append(f'<h2>{_e(sec.title)}</h2><div class="tablewrap">{_html_table(sec)}</div>')
    body.append(f"<footer>Generated by {_e(generator)}.</footer>")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(report.title)}</title><style>{_CSS}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )


def render(report: Report, fmt: str = "table") -> str:
    """Render a report in one of :data:`FORMATS`."""
    if fmt == "table":
        return render_table(report)
    if fmt == "json":
        return render_json(report)
    if fmt == "csv":
        return render_csv(report)
    if fmt == "md":
        return render_md(report)
    if fmt == "html":
        return render_html(report)
    raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")


def rows_total(rows: Iterable[dict[str, Any]], keys: Iterable[str], label_key: str, label: str = "total") -> dict[str, Any]:
    """A total row summing ``keys`` over ``rows``."""
    rows = list(rows)
    tot: dict[str, Any] = {label_key: label}
    for k in keys:
        vals = [r.get(k) for r in rows if r.get(k) is not None]
        tot[k] = sum(vals, Decimal(0) if any(isinstance(v, Decimal) for v in vals) else 0)
    return tot
