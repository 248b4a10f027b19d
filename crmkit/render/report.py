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
import io
import json

from crmkit.render.charts import Chart, Series, render_chart, svg_bars, svg_funnel  # noqa: F401 - re-exported
from crmkit.render.jsontext import json_default
from crmkit.render.model import (  # noqa: F401 - the model is imported from here by the reports
    KINDS,
    Column,
    Report,
    Section,
    bar,
    cell_text,
    money_text,
    rows_total,
)

FORMATS = ("table", "json", "csv", "md", "html")


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


def render(report: Report, fmt: str = "table", locale: str | None = None) -> str:
    """Render a report in one of :data:`FORMATS`; ``locale`` (the workspace's) decides how
    table, md and html write numbers (crmkit.render.numbers); json and csv stay plain."""
    from crmkit.render.numbers import number_locale

    with number_locale(locale if fmt in ("table", "md", "html") else None):
        return _render(report, fmt)


def _render(report: Report, fmt: str) -> str:
    if fmt == "table":
        from crmkit.render.table import render_table

        return render_table(report)
    if fmt == "json":
        return render_json(report)
    if fmt == "csv":
        return render_csv(report)
    if fmt == "md":
        from crmkit.render.table import render_md

        return render_md(report)
    if fmt == "html":
        from crmkit.render.html import render_html

        return render_html(report)
    raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
