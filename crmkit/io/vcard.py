"""vCard 2.1, 3.0 and 4.0 to and from contact records, through vobject.

How a card maps to a contact:

    FN (else N as "given family")   name
    EMAIL (the PREF one, else the first)   email;  the others: emails: [{type, value}]
    TEL   (the PREF one, else the first)   phone;  the others: phones: [{type, value}]
    ORG (first unit)                company (the importer finds or creates the company)
    TITLE                           title
    ADR (the PREF one, else the first)   address: {street, zip, city, region, country};
                                    the country name (Sverige, Norge, Magyarország, Norway...)
                                    becomes its ISO code, also copied to `country`
    NOTE                            notes

`type` is the first TYPE that says where (home, work, cell, fax, ...), lower case;
INTERNET, VOICE and PREF say nothing and are dropped; without one it is `other`.
vCard 2.1's bare parameters (TEL;CELL;PREF), quoted-printable text, 4.0's
`VALUE=uri` numbers (tel:+47-912-34-567) and PREF=1 are understood. Export writes
vCard 3.0, which every phone and address book imports; a card written by
`to_vcard` parses back to the same contact fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from crmkit.errors import CrmkitError

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


def _types(line: Any) -> list[str]:
    """TYPE values of a content line, including vCard 2.1's bare ones (TEL;CELL;PREF)."""
    found: list[str] = []
    for value in line.params.get("TYPE", []):
        found.extend(v.strip().strip('"').upper() for v in value.split(",") if v.strip())
    found.extend(str(v).strip().upper() for v in getattr(line, "singletonparams", []) or [])
    return found


def _kind(line: Any) -> str:
    kinds = [t.lower() for t in _types(line) if t not in _SKIP_TYPES and not t.startswith("X-")]
    return kinds[0] if kinds else "other"


def _preferred(line: Any) -> bool:
    return "PREF" in _types(line) or any(str(p).strip() == "1" for p in line.params.get("PREF", []))


def _text(value: Any) -> str:
    """A property's text with line ends made plain (quoted-printable notes carry CRLF)."""
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def _phone(value: str) -> str:
    """A number as written; 4.0's `tel:` URI form loses its scheme (and any ;ext= stays)."""
    text = value.strip()
    if text.lower().startswith("tel:"):
        text = text[4:]
    return text


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
        name = _text(contents["fn"][0].value)
    if not name and "n" in contents:
        n = contents["n"][0].value
        name = " ".join(p for p in (str(n.given).strip(), str(n.family).strip()) if p)
    if name:
        contact["name"] = name
    for key, many in (("email", "emails"), ("tel", "phones")):
        clean = _phone if key == "tel" else (lambda v: v.strip())
        entries = [(clean(str(e.value)), e) for e in contents.get(key, []) if clean(str(e.value))]
        if not entries:
            continue
        entries.sort(key=lambda e: not _preferred(e[1]))   # the preferred one first, order kept otherwise
        field_name = "email" if key == "email" else "phone"
        contact[field_name] = entries[0][0]
        rest = [{"type": _kind(line), "value": value} for value, line in entries[1:]]
        if rest:
            contact[many] = rest
    if "title" in contents:
        contact["title"] = _text(contents["title"][0].value)
    if "adr" in contents:
        adrs = sorted(contents["adr"], key=lambda a: not _preferred(a))
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
        contact["notes"] = _text(contents["note"][0].value)
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
    hungarian = contact.get("language") == "hu" or "HU" in (contact.get("country"), address.get("country"))
    if hungarian and " " in name:   # Hungarian names are written family name first: Kovács Ádám
        family, given = name.split(" ", 1)
    else:
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
        t.type_param = [tel_type(str(extra.get("type", "other")))]
    if company_name:
        card.add("org").value = [company_name]
    if contact.get("title"):
        card.add("title").value = str(contact["title"])
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
