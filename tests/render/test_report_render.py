"""Report rendering: bars, exact csv/json, markdown, a self-contained html page."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from crmkit.render.report import (
    Chart,
    Column,
    Report,
    Section,
    Series,
    bar,
    cell_text,
    money_text,
    render,
    svg_bars,
    svg_funnel,
)


def sample() -> Report:
    cols = [Column("stage"), Column("count", "deals", "int"), Column("value", "value", "money", bar=True),
            Column("rate", "rate", "pct")]
    rows = [
        {"stage": "lead", "count": 3, "value": Decimal("1200000.50"), "rate": Decimal("12.5")},
        {"stage": "won | signed", "count": 1, "value": Decimal("300000"), "rate": None},
        {"stage": "empty", "count": 0, "value": Decimal(0), "rate": Decimal(0)},
    ]
    total = {"stage": "total", "count": 4, "value": Decimal("1500000.50")}
    chart = Chart("funnel", "Funnel <by> stage", [r["stage"] for r in rows], [Series("value", [r["value"] for r in rows])])
    bars = Chart("bars", "By month", ["Nov", "Dec"], [Series("a", [1, 2]), Series("b", [3, 0]), Series("w", [2, 1], "line")],
                 highlight=[True, False])
    return Report("test", "Test report", [("as of", "2026-11-23")],
                  [Section("Main", cols, rows, total, note="a note"), Section("Empty", cols, [], empty="nothing")],
                  [chart, bars], {"report": "test", "total": Decimal("1500000.50")}, ["one warning"])


def test_bar_eighths() -> None:
    assert bar(10, 10, 4) == "████"
    assert bar(5, 10, 4) == "██"
    assert bar(1, 80, 10) == "▏"  # 1/80 of 10 cells is one eighth of a cell
    assert bar(Decimal("0.0001"), 10, 10) == "▏"  # never invisible
    assert bar(0, 10) == "" and bar(5, 0) == ""
    assert bar(3, 8, 1) == "▍"


def test_cells() -> None:
    assert money_text(Decimal("1234567.5")) == "1,234,568"
    assert money_text(Decimal("1234567.5"), exact=True) == "1234567.50"
    assert cell_text(Decimal("12.0"), "pct") == "12%" and cell_text(Decimal("66.67"), "pct") == "66.7%"
    assert cell_text(None, "money") == "-" and cell_text(None, "money", exact=True) == ""


def test_table() -> None:
    out = render(sample(), "table")
    lines = out.splitlines()
    assert lines[0] == "Test report" and lines[1] == "==========="
    row = [ln for ln in lines if ln.startswith("lead")][0]
    assert "1,200,001" in row and "█" * 16 in row
    assert "(nothing)" in out and "a note" in out


def test_csv_is_exact_main_table() -> None:
    out = render(sample(), "csv")
    assert out.splitlines() == [
        "stage,count,value,rate",
        "lead,3,1200000.50,12.5",
        '"won | signed",1,300000.00,' if False else "won | signed,1,300000.00,",
        "empty,0,0.00,0.0",
        "total,4,1500000.50,",
    ]


def test_json_uses_data() -> None:
    data = json.loads(render(sample(), "json"))
    assert data == {"report": "test", "total": "1500000.50", "warnings": ["one warning"]}


def test_md_escapes_pipes() -> None:
    out = render(sample(), "md")
    assert "| won \\| signed | 1 | 300,000 | - |" in out
    assert "| **total** | **4** | **1,500,001** |  |" in out
    assert "## Warnings" in out


def test_html_is_self_contained_and_escaped() -> None:
    page = render(sample(), "html")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "<link" not in page and "url(" not in page
    assert re.findall(r"https?://[^\"' ]+", page) == ["http://www.w3.org/2000/svg"] * page.count("<svg")
    assert "Funnel &lt;by&gt; stage" in page and "<by>" not in page
    assert page.count("<svg") == 2 and 'class="bar"' in page and "<polyline" in page
    assert "one warning" in page


def test_svg_shapes() -> None:
    f = svg_funnel(Chart("funnel", "F", ["a", "b"], [Series("v", [10, 5])]))
    assert f.count('class="bar"') == 2
    widths = [float(w) for w in re.findall(r'class="bar" x="[\d.]+" y="\d+" width="([\d.]+)"', f)]
    assert widths[0] == pytest.approx(2 * widths[1])
    b = svg_bars(Chart("bars", "B", ["x", "y", "z"], [Series("s", [0, 0, 0])]))
    assert "<svg" in b  # all zero: axes only, no division by zero


def test_unknown_format() -> None:
    with pytest.raises(ValueError):
        render(sample(), "pdf")
