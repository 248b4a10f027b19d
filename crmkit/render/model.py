"""The report data model every renderer reads, and how its values print.

A :class:`Report` is a title, a few ``meta`` lines, tables (:class:`Section`) of
:class:`Column` kinds, charts, the documented JSON ``data`` and warnings. The
renderers (crmkit.render.report.render: table, json, csv, md, html) are pure
functions of it, so every format shows the same figures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from crmkit.render import numbers
from crmkit.render.charts import Chart

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
    #: Something could not be reported (a deal without an exchange rate): the warnings say
    #: what, and the command exits 4 after printing the rest.
    partial: bool = False

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
            self.partial or other.partial,
        )


# --------------------------------------------------------------------------- value formatting


def _q(d: Decimal, places: str) -> Decimal:
    return d.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def money_text(value: Any, *, exact: bool = False, locale: str | None = None) -> str:
    """Money for people (``1,234,568``: whole units, grouped as the rendering's locale does, or as
    ``locale`` does) or, ``exact``, for machines (``1234567.50``)."""
    if value is None or value == "":
        return ""
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    if exact:
        return str(_q(d, "0.01"))
    return numbers.whole(_q(d, "1"), locale)


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
        return numbers.percent(d)
    if kind in ("days", "num"):
        d = value if isinstance(value, Decimal) else Decimal(str(value))
        return str(_q(d, "0.1")) if exact else numbers.decimal(_q(d, "0.1"))
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, (dt.datetime,)):
        return value.isoformat() if exact else value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    if isinstance(value, int) and kind == "int" and not exact:
        return numbers.whole(value)
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


def is_right(kind: str) -> bool:
    """Numbers align right in every format."""
    return kind in ("int", "money", "pct", "days", "num")


def rows_total(rows: Iterable[dict[str, Any]], keys: Iterable[str], label_key: str, label: str = "total") -> dict[str, Any]:
    """A total row summing ``keys`` over ``rows``."""
    rows = list(rows)
    tot: dict[str, Any] = {label_key: label}
    for k in keys:
        vals: list[Any] = [r.get(k) for r in rows if r.get(k) is not None]
        tot[k] = sum(vals, Decimal(0) if any(isinstance(v, Decimal) for v in vals) else 0)
    return tot
