"""vCard 3.0 and 4.0 to and from contact records, through vobject.

A contact keeps its preferred address and number in `email` / `phone`; any others
go to `emails` / `phones` as {type, value}, so a phone's card round-trips.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from crmkit.core.errors import CrmkitError

_SKIP_TYPES = {"INTERNET", "PREF", "VOICE", "X400"}


@dataclass
class Card:
    line: int                                   # line of BEGIN:VCARD
    contact: dict[str, Any] = field(default_factory=dict)
    company: str | None = None                  # ORG, resolved to a company by the importer
    error: str | None = None


def split_cards(text: str) -> list[tuple[int, str]]:
    """Each card's text with the line it starts on; text outside cards is ignored."""
    cards: list[tuple[int, str]] = []
    start: int | None = None
    lines: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        upper = line.strip().upper()
        if upper == "BEGIN:VCARD":
            start, lines = number, [line]
        elif start is not None:
            lines.append(line)
            if upper == "END:VCARD":
                cards.append((start, "\r\n".join(lines) + "\r\n"))
                start = None
    if start is not None:
        cards.append((start, "\r\n".join(lines) + "\r\n"))  # unterminated: parsing reports it
    return cards


def _types(params: dict[str, list[str]]) -> list[str]:
    found: list[str] = []
    for value in params.get("TYPE", []):
        found.extend(v.strip().upper() for v in value.split(","))
    return found


def _kind(params: dict[str, list[str]]) -> str:
    kinds = [t.lower() for t in _types(params) if t not in _SKIP_TYPES]
    return kinds[0] if kinds else "other"


def _preferred(params: dict[str, list[str]]) -> bool:
    return "PREF" in _types(params) or "1" in params.get("PREF", [])


@lru_cache(maxsize=1)
def _country_codes() -> dict[str, str]:
    """Country names in English, Swedish, Norwegian and Hungarian -> ISO code."""
    from babel import Locale

    codes: dict[str, str] = {}
    for lang in ("en", "sv", "nb", "hu"):
        for code, name in Locale.parse(lang).territories.items():
            if len(code) == 2 and code.isalpha():
                codes[name.casefold()] = code
    return codes


def country_code(text: str) -> str:
    """'Norway', 'Norge', 'Norvégia' -> 'NO'; an ISO code or an unknown name is kept."""
    stripped = text.strip()
    if len(stripped) == 2 and stripped.isalpha():
        return stripped.upper()
    return _country_codes().get(stripped.casefold(), stripped)


def parse_card(line: int, text: str) -> Card:
    import vobject

    card = Card(line)
    try:
        comp = vobject.readOne(text, ignoreUnreadable=True)
    except Exception as exc:  # noqa: BLE001 - vobject raises many kinds; all mean "bad card"
        card.error = f"unreadable vCard: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        return card
    contents = comp.contents
    contact: dict[str, Any] = {}
    name = ""
    if "fn" in contents:
        name = str(contents["fn"][0].value).strip()
    if not name and "n" in contents:
        n = contents["n"][0].value
        name = " ".join(p for p in (str(n.given).strip(), str(n.family).strip()) if p)
    if name:
        contact["name"] = name
    for key, many in (("email", "emails"), ("tel", "phones")):
        entries = [(str(e.value).strip(), e.params) for e in contents.get(key, []) if str(e.value).strip()]
        if not entries:
            continue
        entries.sort(key=lambda e: not _preferred(e[1]))   # the preferred one first, order kept otherwise
        field_name = "email" if key == "email" else "phone"
        contact[field_name] = entries[0][0]
        rest = [{"type": _kind(params), "value": value} for value, params in entries[1:]]
        if rest:
            contact[many] = rest
    if "title" in contents:
        contact["title"] = str(contents["title"][0].value).strip()
    if "adr" in contents:
        adrs = sorted(contents["adr"], key=lambda a: not _preferred(a.params))
        a = adrs[0].value
        address = {
            "street": " ".join(str(s) for s in a.street) if isinstance(a.street, list) else str(a.street),
            "zip": str(a.code), "city": str(a.city), "region": str(a.region),
            "country": country_code(str(a.country)) if str(a.country) else "",
        }
        address = {k: v.strip() for k, v in address.items() if v and v.strip()}
        if address:
            contact["address"] = address
            if "country" in address:
                contact["country"] = address["country"]
    if "note" in contents:
        contact["notes"] = str(contents["note"][0].value).strip()
    if "org" in contents:
        org = contents["org"][0].value
        org_name = org[0] if isinstance(org, list) and org else str(org)
        card.company = str(org_name).strip() or None
    if not contact.get("name"):
        card.error = "the card has no name (FN or N)"
    card.contact = contact
    return card


def parse(text: str) -> list[Card]:
    """Every card of a .vcf file; a bad card is returned with its error, the rest still parse."""
    if "BEGIN:VCARD" not in text.upper():
        raise CrmkitError("no vCard found (no BEGIN:VCARD line)")
    return [parse_card(line, chunk) for line, chunk in split_cards(text)]


def to_vcard(contact: dict[str, Any], company_name: str | None = None, uid: str | None = None) -> str:
    """One vCard 3.0 for a contact, with every field crmkit models."""
    import vobject

    card = vobject.vCard()
    name = str(contact.get("name", "")).strip()
    card.add("fn").value = name
    parts = name.rsplit(" ", 1)
    given, family = (parts[0], parts[1]) if len(parts) == 2 else (name, "")
    card.add("n").value = vobject.vcard.Name(family=family, given=given)
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
        t.type_param = ["VOICE", "pref"]
    for extra in contact.get("phones") or []:
        t = card.add("tel")
        t.value = str(extra.get("value", ""))
        t.type_param = [str(extra.get("type", "other")).upper()]
    if company_name:
        card.add("org").value = [company_name]
    if contact.get("title"):
        card.add("title").value = str(contact["title"])
    address = contact.get("address") or {}
    if address:
        a = card.add("adr")
        a.value = vobject.vcard.Address(
            street=str(address.get("street", "")), city=str(address.get("city", "")),
            region=str(address.get("region", "")), code=str(address.get("zip", "")),
            country=str(address.get("country", "")),
        )
        a.type_param = ["WORK", "pref"]
    if contact.get("notes"):
        card.add("note").value = str(contact["notes"])
    return card.serialize()
