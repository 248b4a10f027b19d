"""Planning a vCard import: cards as contacts, with every skipped property reported.

Cards go through the same planning as CSV rows (crmkit.exchange.importer.plan_records:
matching by stable keys, companies by name, idempotence). What a card held that no
field keeps is in the plan: a property that could not be read, as a note with its
line; binary data and file bookkeeping, counted by property name.
"""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any

from crmkit.exchange.importer import ImportPlan, Item, plan_records
from crmkit.io.vcard_contact import UNKEPT

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace

#: Not imported, and not contact data either: counted, but `--strict` does not refuse them.
BOOKKEEPING = UNKEPT - {"PHOTO", "LOGO", "SOUND", "KEY"}


def plan_cards(ws: Workspace, cards: list[Any], source: str, on_match: str = "update") -> ImportPlan:
    items: list[Item] = []
    notes: list[tuple[int, str]] = []
    for card in cards:
        if card.error:
            items.append(Item(card.line, None, card.error))
            continue
        data = copy.deepcopy(card.contact)
        refused = _social(data)
        if card.company:
            data["company"] = card.company
        if card.record_id:
            data["id"] = card.record_id
        items.append(Item(card.line, data))
        notes += [(card.line, why) for why in refused]
    plan = plan_records(ws, "contact", items, source, on_match)
    plan.notes += notes
    plan.strict_issues += len(notes)
    for card in cards:
        for line, prop, message in card.problems:
            plan.notes.append((line, f"{prop}: {message}"))
            plan.strict_issues += 1
        for _line, prop in card.unkept:
            plan.unkept[prop] = plan.unkept.get(prop, 0) + 1
            if prop not in BOOKKEEPING:
                plan.strict_issues += 1
    plan.notes.sort()
    return plan


#: Links that run something when clicked: never stored, whatever field they would land in.
_ACTIVE_LINK = re.compile(r"\s*(javascript|vbscript|data|file):", re.I)


def _social(data: dict[str, Any]) -> list[str]:
    """Profiles normalised (people/social.py). An active link (`javascript:`) or a handle a
    known network would not allow is not imported, each with the reason; a profile on a
    network crmkit does not know is kept as the card had it (`check` warns about it)."""
    from crmkit.errors import CrmkitError
    from crmkit.people.social import known_network, normalise

    kept, refused = [], []
    for item in data.get("social") or []:
        network, value = str(item.get("type") or ""), str(item.get("value") or "")
        if _ACTIVE_LINK.match(value):
            refused.append(f"social profile {value!r} not imported: links that run code are refused")
            continue
        try:
            kept.append(normalise(network, value))
        except CrmkitError as exc:
            # the card's own label for a network crmkit does not know (Apple's custom IM
            # labels): kept as the card had it, `check` warns; anything else is refused
            if known_network(network):
                refused.append(f"social profile {value!r} not imported: {exc.message}")
            else:
                kept.append({"type": network or "other", "value": value})
    if kept:
        data["social"] = kept
    else:
        data.pop("social", None)
    return refused
