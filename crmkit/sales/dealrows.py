"""What customer value (and sentiment signals) read of each deal and company, as plain rows.

One tuple per deal file, kept by `Workspace.derived` so a warm report unpickles rows
instead of parsing YAML; `crmkit.sales.value` and `crmkit.support.sentiment` read them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from crmkit.sales.pipeline import PipelineConfig
from crmkit.values import to_date

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace


#: What value figures (and sentiment signals) read of one deal, cached per file by
#: Workspace.derived: a plain tuple (company, first contact, stage, value, currency,
#: closed as a date ordinal, created as a POSIX timestamp, history of (timestamp, stage,
#: from) sorted, contacts, title, tags). Tuples of numbers unpickle several times faster
#: than objects and datetimes, and a warm report reads 10,000 of them.
DealRow = tuple[str | None, str | None, str, Any, str | None, int | None, float | None,
                tuple[tuple[float, str, str | None], ...], tuple[str, ...], str, tuple[str, ...]]


def deal_row(deal: Mapping[str, Any], tz: Any) -> DealRow:
    from crmkit.sales.facts import stage_of
    from crmkit.sales.history import history_of
    from crmkit.values import to_datetime

    company = deal.get("company")
    people = deal.get("contacts")
    first = people[0] if isinstance(people, list) and people and isinstance(people[0], str) else None
    currency = deal.get("currency")
    return (company if isinstance(company, str) and company else None, first, stage_of(deal) or "",
            deal.get("value"), str(currency) if currency else None,
            closed.toordinal() if (closed := to_date(deal.get("closed"))) is not None else None,
            created.timestamp() if (created := to_datetime(deal.get("created"), tz)) is not None else None,
            tuple((h.at.timestamp(), h.stage, h.from_stage) for h in history_of(deal, tz)),
            tuple(c for c in people if isinstance(c, str)) if isinstance(people, list) else (),
            str(deal.get("title") or ""),
            tuple(str(t) for t in tags) if isinstance(tags := deal.get("tags"), list) else ())


def company_names(ws: Workspace) -> list[tuple[str, str]]:
    """(id, name) of every company; from the derived cache when it is warm."""
    memo = ws.memo.get("company_names")
    if memo is not None:
        return memo  # type: ignore[no-any-return]
    rows = ws.derived("company", "name", lambda rid, d: str(d.get("name") or rid), key="name-1")
    if rows is None:
        rows = [(c.id, str(c.get("name") or c.id)) for c in ws.records("company")]
    ws.memo["company_names"] = rows
    return rows


def deal_rows(ws: Workspace, cfg: PipelineConfig) -> list[tuple[str, DealRow]]:
    """(id, DealRow) of every deal; from the derived cache when it is warm."""
    memo = ws.memo.get("deal_rows")
    if memo is not None:
        return memo  # type: ignore[no-any-return]
    rows = ws.derived("deal", "value", lambda _rid, d: deal_row(d, cfg.tz), key="value-4|" + str(cfg.tz))
    if rows is None:
        rows = [(d.id, deal_row(d.data, cfg.tz)) for d in ws.records("deal")]
    ws.memo["deal_rows"] = rows
    return rows
