"""The html report page: one self-contained page from the template templates/report/page.html.j2.

The page has inline CSS (templates/report/page.css) and inline SVG charts, no
scripts, nothing fetched from the network. What each cell shows (its text, its
class, the length of its bar) is decided here, in Python; the template only lays
it out. Every value is escaped on output except the charts, which
crmkit.render.charts builds as escaped SVG.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from crmkit.render.charts import _num, render_chart
from crmkit.render.model import Report, Section, cell_text, is_right
from crmkit.resources import default_templates_dir

PAGE = "report/page.html.j2"


@dataclass(frozen=True)
class Cell:
    text: str
    cls: str = ""
    bar: float | None = None  # the width of a value bar in percent; None: a text cell
    barcell: bool = False


def _escape(value: Any) -> Any:
    # Jinja2's own autoescape writes ' as &#39;; html.escape as &#x27;. The page keeps the
    # bytes it always had, and everything is still escaped unless it is SafeHtml.
    return value if isinstance(value, SafeHtml) else html.escape(str(value), quote=True)


class SafeHtml(str):
    """Markup crmkit made itself (the SVG charts): written into the page as it is."""


def _rows(sec: Section) -> tuple[list[Cell], list[tuple[bool, list[Cell]]]]:
    maxima = {c.key: max((abs(_num(r.get(c.key))) for r in sec.rows), default=0) for c in sec.columns if c.bar}
    head: list[Cell] = []
    for c in sec.columns:
        head.append(Cell(c.title, "r" if is_right(c.kind) else ""))
        if c.bar:
            head.append(Cell("", barcell=True))

    def row(r: dict[str, Any], total: bool) -> list[Cell]:
        cells = []
        for c in sec.columns:
            cls = "r" if is_right(c.kind) else "wrap" if c.wrap else ""
            cells.append(Cell(cell_text(r.get(c.key, ""), c.kind), cls))
            if c.bar:
                if total or not maxima[c.key]:
                    cells.append(Cell("", barcell=True))
                else:
                    cells.append(Cell("", barcell=True, bar=100 * abs(_num(r.get(c.key))) / maxima[c.key]))
        return cells

    body = [(False, row(r, False)) for r in sec.rows]
    if sec.total:
        body.append((True, row(sec.total, True)))
    return head, body


def render_html(report: Report, *, generator: str = "crmkit") -> str:
    """One self-contained page: no scripts, no external stylesheets, fonts or images."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(default_templates_dir())),
        autoescape=False,  # _escape escapes every value instead (see there)
        finalize=_escape,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    sections = []
    for sec in report.sections:
        head, body = _rows(sec) if sec.rows or sec.total else ([], [])
        sections.append({"section": sec, "head": head, "body": body})
    return env.get_template(PAGE).render(
        report=report,
        charts=SafeHtml("".join(render_chart(c) for c in report.charts)),
        sections=sections,
        generator=generator,
        css=SafeHtml((default_templates_dir() / "report" / "page.css").read_text(encoding="utf-8")),
    )
