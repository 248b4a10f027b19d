"""Filtering, sorting and projecting records for `list` and exports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from crmkit.conditions.views import RecordView, computed_fields, view
from crmkit.errors import UsageError
from crmkit.store.records import Record, get_path
from crmkit.store.schema import FIELDS
from crmkit.values import parse_decimal

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace

DEFAULT_COLUMNS: dict[str, list[str]] = {
    "contact": ["id", "name", "email", "company", "owner"],
    "company": ["id", "name", "country", "industry", "owner"],
    "lead": ["id", "name", "status", "source", "owner"],
    "deal": ["id", "title", "company", "stage", "value", "currency", "owner", "expected_close"],
    "ticket": ["id", "subject", "status", "priority", "line", "owner"],
    "activity": ["id", "type", "subject", "due", "done", "owner"],
    "campaign": ["id", "name", "status", "start", "end", "segment", "owner"],
    "event": ["id", "name", "date", "location", "owner"],
}


def known_fields(ws: Workspace, kind: str, records: Iterable[Record]) -> set[str]:
    """Schema fields, computed fields and every custom field present in the records."""
    known = {"id", *FIELDS[kind], *computed_fields(kind)}
    for rec in records:
        known.update(rec.data)
    return known


def compile_where(ws: Workspace, kind: str, where: str | None, records: list[Record]) -> Any:
    """Parse --where and refuse fields no record of this kind has (a typo would match nothing)."""
    if not where:
        return None
    from crmkit.conditions.language import parse
    from crmkit.errors import ConditionError

    try:
        cond = parse(where)
    except ConditionError as exc:
        # a --where that does not parse is a wrong command line, like an unknown field: exit 2
        raise UsageError(f"--where: {exc.message}") from None
    known = known_fields(ws, kind, records)
    for path in sorted(cond.paths()):
        head = path.split(".")[0]
        if head not in known:
            raise UsageError(
                f"--where: unknown field {head!r} for {kind} records "
                f"(known: {', '.join(sorted(known))})"
            )
    from crmkit.conditions.choices import CHOICES, unknown_values

    # a record's own `tier:` field wins over the computed one: then any value may be meant
    stored = {p for p in cond.paths() if p in CHOICES and any(p in r.data for r in records)}
    wrong = unknown_values(ws, cond, kind, stored=stored)
    if wrong:
        # `tier == platnum` parses and would match nothing, silently
        raise UsageError(f"--where: {wrong[0]}")
    return cond


def _sort_key(value: Any) -> tuple[int, Any]:
    """Order mixed values: missing last, numbers numerically, dates as dates, text folded."""
    if value is None:
        return (3, "")
    if isinstance(value, bool):
        return (0, Decimal(int(value)))
    if isinstance(value, (int, float, Decimal)):
        return (0, Decimal(str(value)))
    if isinstance(value, dt.datetime):
        return (1, value.isoformat())
    if isinstance(value, dt.date):
        return (1, value.isoformat())
    if isinstance(value, str):
        number = parse_decimal(value)
        return (0, number) if number is not None else (2, value.casefold())
    return (2, str(value))


def select(
    ws: Workspace,
    kind: str,
    *,
    where: str | None = None,
    sort: str | None = None,
    limit: int | None = None,
) -> list[RecordView]:
    """The records of a kind matching `where`, sorted by `sort` ("-value,title"), at most `limit`."""
    records = ws.records(kind)
    cond = compile_where(ws, kind, where, records)
    views = [view(ws, r) for r in records]
    if cond is not None:
        views = [v for v in views if cond.evaluate(v, ws.resolve)]
    if sort:
        for key in reversed([k.strip() for k in sort.split(",") if k.strip()]):
            reverse = key.startswith("-")
            name = key.lstrip("-+")
            present = [v for v in views if get_path(v, name) is not None]
            missing = [v for v in views if get_path(v, name) is None]
            present.sort(key=lambda v: _sort_key(get_path(v, name)), reverse=reverse)
            views = present + missing  # missing values last either way
    if limit is not None:
        views = views[: max(limit, 0)]
    return views


def project(v: RecordView, columns: list[str] | None) -> dict[str, Any]:
    """A row for output: the chosen columns, or id plus every stored field."""
    if columns:
        return {c: get_path(v, c) for c in columns}
    row: dict[str, Any] = {"id": v.record.id}
    row.update(v.record.data)
    return row
