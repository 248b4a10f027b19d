"""vCard 2.1, 3.0 and 4.0 to and from contact records.

Reading is crmkit's own (crmkit.io.vcard_read: why, in its docstring) and the
mapping to a contact is crmkit.io.vcard_contact; the README's vCard table lists
where each property goes. Export writes vCard 3.0, which every phone and address
book imports; a card written by `to_vcard` parses back to the same contact fields.
"""

from __future__ import annotations

from typing import Any

from crmkit.io import vcard_write
from crmkit.io.countries import country_code
from crmkit.io.vcard_contact import Card, card_to_contact
from crmkit.io.vcard_read import decode_bytes, read_cards

__all__ = ["Card", "country_code", "decode_bytes", "parse", "to_vcard"]


def parse(text: str) -> list[Card]:
    """Every card of a .vcf file; a bad property is reported on its card, the rest of it still read."""
    return [card_to_contact(raw) for raw in read_cards(text)]


#: crmkit's phone types that vCard spells differently: RFC 2426 and RFC 6350 say CELL, and
#: address books (iOS, Android, khard) file an unknown TYPE=MOBILE under "other".
_TEL_TYPES = {"mobile": "CELL", "cellphone": "CELL", "cell": "CELL"}


def tel_type(kind: str) -> str:
    """The vCard TYPE for a phone's `type` (mobile -> CELL; home, work, fax... as they are)."""
    low = kind.strip().lower()
    return _TEL_TYPES.get(low, low.upper())


def to_vcard(contact: dict[str, Any], company_name: str | None = None, uid: str | None = None) -> str:
    """One vCard 3.0 for a contact, with every field crmkit models."""
    import vobject

    card = vobject.vCard()
    name = str(contact.get("name", "")).strip()
    card.add("fn").value = name
    address = contact.get("address") if isinstance(contact.get("address"), dict) else {}
    parts, derived = vcard_write.name_parts(contact)
    n = card.add("n")
    n.value = vobject.vcard.Name(**{k: parts.get(k, "") for k in ("family", "given", "additional", "prefix", "suffix")})
    if derived:   # made up from the name: crmkit reads it back as no stored parts
        n.params[vcard_write.DERIVED_N] = ["TRUE"]
    if uid:
        card.add("uid").value = uid
    if contact.get("email"):
        e = card.add("email")
        e.value = str(contact["email"])
        e.type_param = ["INTERNET", "pref"]
    for extra in contact.get("emails") or []:
        e = card.add("email")
        e.value = str(extra.get("value", ""))
        e.type_param = ["INTERNET", str(extra.get("type", "other")).upper()]
    if contact.get("phone"):
        t = card.add("tel")
        t.value = str(contact["phone"])
        # the primary phone keeps the type it was read with (a mobile stays CELL)
        t.type_param = [tel_type(str(contact.get("phone_type") or "voice")), "pref"]
    for extra in contact.get("phones") or []:
        t = card.add("tel")
        t.value = str(extra.get("value", ""))
        t.type_param = [tel_type(str(extra.get("type", "other")))]
    if company_name or contact.get("department"):
        card.add("org").value = [company_name or "", *([str(contact["department"])] if contact.get("department") else [])]
    if contact.get("title"):
        card.add("title").value = str(contact["title"])
    others = [a for a in contact.get("addresses") or [] if isinstance(a, dict)]
    for number, adr in enumerate(([address] if address else []) + others):
        a = card.add("adr")
        a.value = vobject.vcard.Address(
            box=str(adr.get("pobox", "")), extended=str(adr.get("extended", "")),
            street=str(adr.get("street", "")), city=str(adr.get("city", "")),
            region=str(adr.get("region", "")), code=str(adr.get("zip", "")),
            country=str(adr.get("country", "")),
        )
        types = vcard_write.address_type(adr, primary=bool(address) and number == 0)
        if types:
            a.type_param = types
    if contact.get("notes"):
        card.add("note").value = str(contact["notes"])
    return vcard_write.add_lines(card.serialize(), vcard_write.extra_lines(contact))
