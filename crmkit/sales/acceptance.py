"""The customer said yes: `crmkit offer accept DEAL`.

The acceptance is kept on the deal (`offer.accepted: {revision, at, by, net, total,
currency}`), and the offer's net total (excluding VAT, like every deal `value`) can
become the deal's `value`: with `--set-value`, or by default when crmkit.yaml says

    offers:
      accepted_sets_value: true

The deal's stage is not moved (that stays `crmkit deal move`, which knows the
pipeline's rules).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crmkit.errors import CrmkitError

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace


@dataclass
class Acceptance:
    deal: str
    revision: int | None
    net: str
    total: str
    currency: str
    value_set: bool
    old_value: Any

    def to_dict(self) -> dict[str, Any]:
        return {"deal": self.deal, "revision": self.revision, "net": self.net, "total": self.total,
                "currency": self.currency, "value_set": self.value_set, "old_value": self.old_value}


def accept(ws: Workspace, ref: str, command: str, *, set_value: bool | None = None) -> Acceptance:
    from crmkit.sales.offers import totals_of
    from crmkit.store.editing import actor

    rec = ws.get(ref, "deal")
    offer = rec.get("offer")
    if not isinstance(offer, dict) or not offer.get("items"):
        raise CrmkitError(f"{rec.ref} has no offer to accept (offer.items)")
    if isinstance(offer.get("accepted"), dict):
        raise CrmkitError(f"{rec.ref}: the offer was accepted already (at {_iso(offer['accepted'].get('at'))})")
    if set_value is None:
        set_value = bool((ws.config.get("offers") or {}).get("accepted_sets_value", False))
    totals = totals_of(ws, rec)
    revision = offer.get("revision") if isinstance(offer.get("revision"), int) else None
    currency = totals.currency
    net, total = str(totals.net), str(totals.total)
    old_value = rec.get("value")
    now = ws.now()

    def change(doc: Any) -> None:
        from ruamel.yaml.comments import CommentedMap

        entry = CommentedMap([("at", now), ("by", actor(ws)), ("net", net), ("total", total), ("currency", currency)])
        if revision is not None:
            entry.insert(0, "revision", revision)
        doc["offer"]["accepted"] = entry
        if set_value:
            whole, _, cents = net.partition(".")
            doc["value"] = int(whole) if cents.strip("0") == "" else _yaml_amount(net)
            doc["currency"] = currency

    with ws.transaction(f"accept the offer on {rec.ref}", command) as tx:
        tx.update("deal", rec.id, change)
        tx.note(f"offer accepted: net {net} {currency}, total {total} {currency}"
                + (f"; value {old_value} -> {net}" if set_value else ""))
    return Acceptance(rec.id, revision, net, total, currency, set_value, old_value)


def _yaml_amount(text: str) -> Any:
    """An amount written as the deal file writes amounts: a plain number, exact."""
    from crmkit.store import yamlio

    return yamlio.loads_roundtrip(f"v: {text}\n", "value")["v"]


def _iso(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
