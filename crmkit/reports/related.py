"""The 360° view: a record and everything related to it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crmkit.sales.facts import stage_of
from crmkit.store.records import Record

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace


def _sort_time(rec: Record) -> str:
    return str(rec.get("at") or rec.get("due") or rec.get("created") or "")


def related(ws: Workspace, rec: Record, recent: int = 10) -> dict[str, list[Record]]:
    """Records linked to `rec`, grouped by what they are to it, newest activities first."""
    out: dict[str, list[Record]] = {}
    rid = rec.id

    def link(kind: str, field: str) -> list[Record]:
        hits = []
        for other in ws.records(kind):
            value = other.data.get(field)
            if value == rid or (isinstance(value, list) and rid in value):
                hits.append(other)
        return hits

    def one(kind: str, target: Any) -> list[Record]:
        if isinstance(target, str):
            hit = ws.index(kind).get(target)
            return [hit] if hit else []
        return []

    activities: list[Record] = []
    if rec.kind == "company":
        out["contacts"] = link("contact", "company")
        out["deals"] = link("deal", "company")
        out["tickets"] = link("ticket", "company")
        out["leads"] = link("lead", "partner")     # a channel partner: the leads handed to it
        people = {c.id for c in out["contacts"]}
        deals = {d.id for d in out["deals"]}
        activities = [a for a in ws.records("activity")
                      if a.get("company") == rid or a.get("contact") in people or a.get("deal") in deals]
    elif rec.kind == "contact":
        out["company"] = one("company", rec.get("company"))
        out["deals"] = link("deal", "contacts")
        out["tickets"] = link("ticket", "contact")
        out["leads"] = [lead for lead in ws.records("lead") if (lead.get("converted") or {}).get("contact") == rid]
        activities = link("activity", "contact")
    elif rec.kind == "deal":
        out["company"] = one("company", rec.get("company"))
        out["contacts"] = [c for cid in rec.get("contacts") or [] for c in one("contact", cid)]
        activities = link("activity", "deal")
    elif rec.kind == "lead":
        converted = rec.get("converted") or {}
        out["contact"] = one("contact", converted.get("contact"))
        out["company"] = one("company", converted.get("company"))
        out["deal"] = one("deal", converted.get("deal"))
        # the deals made from it (`lead:`): a partner's quotes and orders, or a conversion's
        out["deals"] = [d for d in link("deal", "lead") if d.id != converted.get("deal")]
        out["partner"] = one("company", rec.get("partner"))
        activities = link("activity", "lead")
    elif rec.kind == "ticket":
        out["contact"] = one("contact", rec.get("contact"))
        out["company"] = one("company", rec.get("company"))
        activities = link("activity", "ticket")
    elif rec.kind == "activity":
        for kind in ("contact", "company", "deal", "lead", "ticket"):
            out[kind] = one(kind, rec.get(kind))
    activities.sort(key=_sort_time, reverse=True)
    if rec.kind != "activity":
        out["activities"] = activities[:recent]
    return {key: value for key, value in out.items() if value}


def bought(ws: Workspace, rec: Record) -> list[str] | None:
    """Products a customer has bought: those of its won deals (for a contact, its company's).

    A computed field, so segments can say `"ERP" in bought and not ("Support agreement" in bought)`.
    """
    cache: dict[str, list[Any]] | None = ws.readers.get("bought_by_company")
    if cache is None:
        won = {str(s.get("name")) for s in (ws.config.get("pipeline") or {}).get("stages") or []
               if isinstance(s, dict) and s.get("won")} or {"won"}
        cache = {}
        for deal in ws.records("deal"):
            company = deal.get("company")
            if stage_of(deal.data) in won and isinstance(company, str):
                products = cache.setdefault(company, [])
                listed = deal.get("products")
                if isinstance(listed, list):  # `products: 5` in a hand-edited deal: check reports it
                    products.extend(p for p in listed if p not in products)
        ws.readers["bought_by_company"] = cache
    company = rec.id if rec.kind == "company" else rec.get("company")
    return cache.get(company, []) if isinstance(company, str) else None


def summary(rec: Record) -> dict[str, Any]:
    """The few fields that say what a related record is, for the 360° view."""
    out: dict[str, Any] = {"kind": rec.kind, "id": rec.id, "title": rec.title}
    for key in ("stage", "status", "value", "currency", "email", "type", "due", "at", "done", "priority"):
        if key in rec.data:
            out[key] = rec.data[key]
    return out
