"""A read vCard (crmkit.io.vcard_read) as a contact record, with nothing dropped silently.

Every property lands in a field, in `extra:` under its own name, or in the card's
`unkept` list (binary data and file bookkeeping: PHOTO, LOGO, SOUND, KEY, VERSION,
PRODID, REV), which the import reports with a count. A property that cannot be
read is in `problems` with its line; the rest of the card is still imported.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

from crmkit.io.countries import country_code
from crmkit.io.vcard_read import Prop, RawCard
from crmkit.render.jsontext import revive

#: Properties that are not contact data: reported as not imported, with a count.
UNKEPT = {"PHOTO", "LOGO", "SOUND", "KEY", "VERSION", "PRODID", "REV", "PROFILE", "NAME", "SOURCE",
          "MAILER", "CLIENTPIDMAP", "X-ABSHOWAS"}
#: TYPE values that say nothing about where.
_SKIP_TYPES = {"INTERNET", "PREF", "VOICE", "X400", "MSG", "TEXT", "OTHER"}
_PHONE_KINDS = ("fax", "pager", "cell", "main", "work", "home", "car", "video", "bbs", "modem", "isdn")
_SOCIAL = {"X-AIM": "aim", "X-JABBER": "jabber", "X-SKYPE": "skype", "X-SKYPE-USERNAME": "skype",
           "X-MSN": "msn", "X-ICQ": "icq", "X-YAHOO": "yahoo", "X-GTALK": "gtalk",
           "X-GOOGLE-TALK": "gtalk", "X-TWITTER": "twitter", "X-QQ": "qq", "X-GADUGADU": "gadugadu"}
_RELATED = {"X-ABRELATEDNAMES": "", "RELATED": "", "X-SPOUSE": "spouse", "X-MS-SPOUSE": "spouse",
            "X-ASSISTANT": "assistant", "X-MS-ASSISTANT": "assistant", "X-MANAGER": "manager",
            "X-MS-MANAGER": "manager", "X-EVOLUTION-SPOUSE": "spouse", "X-EVOLUTION-MANAGER": "manager",
            "X-EVOLUTION-ASSISTANT": "assistant", "X-KADDRESSBOOK-X-SPOUSENAME": "spouse"}
_DATES = {"ANNIVERSARY": "anniversary", "X-ANNIVERSARY": "anniversary", "X-MS-ANNIVERSARY": "anniversary",
          "X-EVOLUTION-ANNIVERSARY": "anniversary", "X-ABDATE": ""}
#: Properties whose Apple X-ABLabel is their type.
_LABELLED = {"EMAIL", "TEL", "ADR", "URL", "IMPP", "X-SOCIALPROFILE", *_SOCIAL, *_RELATED, *_DATES}
_NAME_PARTS = ("family", "given", "additional", "prefix", "suffix")
_ADR_PARTS = ("pobox", "extended", "street", "city", "region", "zip", "country")
#: crmkit's own fields carried in X-CRMKIT-<FIELD> properties (JSON values).
CRMKIT_PREFIX = "X-CRMKIT-"


@dataclass
class Card:
    line: int                                   # line of BEGIN:VCARD
    contact: dict[str, Any] = field(default_factory=dict)
    company: str | None = None                  # ORG, resolved to a company by the importer
    error: str | None = None                    # the card cannot be a contact at all
    problems: list[tuple[int, str, str]] = field(default_factory=list)   # (line, property, message)
    unkept: list[tuple[int, str]] = field(default_factory=list)          # (line, property) not imported
    record_id: str | None = None                # from crmkit's own UID:crmkit:contact/<id>


def _label(prop: Prop, labels: dict[str, str]) -> str | None:
    """Apple's X-ABLabel of the property's group: `_$!<HomePage>!$_` -> 'homepage', 'Stuga' kept."""
    if not prop.group or prop.group not in labels:
        return None
    text = labels[prop.group]
    m = re.fullmatch(r"_\$!<(.*)>!\$_", text)
    return (m.group(1) if m else text).strip().lower()


def _kind(prop: Prop, labels: dict[str, str], order: tuple[str, ...] = ()) -> str:
    label = _label(prop, labels)
    if label:
        return label
    types = [t.lower() for t in prop.types if t not in _SKIP_TYPES and not t.startswith("X-")]
    types = ["cell" if t in ("mobile", "iphone") else t for t in types]
    for wanted in order:
        if wanted in types:
            return wanted
    return types[0] if types else "other"


def _email(value: str) -> tuple[str, str]:
    """An EMAIL value and the display name some exporters put around it: '"Omega" <omega@example.com>'."""
    text = value.strip()
    m = re.fullmatch(r'(?s)(.*?)\s*<\s*([^<>\s]+@[^<>\s]+)\s*>', text)
    if m:
        return m.group(2), m.group(1).strip().strip('"').strip()
    if text.lower().startswith("mailto:"):
        return text[7:].strip(), ""
    return text, ""


def _phone(value: str) -> str:
    text = value.strip()
    return text[4:] if text.lower().startswith("tel:") else text


def parse_date(text: str, prop: Prop | None = None) -> Any:
    """BDAY as vCards write it: 1980-04-12, 19800412, 1980-04-12T00:00:00Z -> a date; --0412 -> '--04-12'."""
    t = text.strip()
    if prop is not None and prop.params.get("X-APPLE-OMIT-YEAR"):
        m = re.match(r"^\d{4}-?(\d{2})-?(\d{2})", t)
        if m:
            return f"--{m.group(1)}-{m.group(2)}"
    m = re.match(r"^(\d{4})-?(\d{2})-?(\d{2})(?:T[\d:]*Z?)?$", t)
    if m:
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return t
    m = re.match(r"^--(\d{2})-?(\d{2})$", t)
    if m:
        return f"--{m.group(1)}-{m.group(2)}"
    return t


def _address(prop: Prop, labels: dict[str, str], country_hint: str | None = None) -> dict[str, str]:
    parts = prop.parts + [""] * 7
    address = {key: parts[i].replace("\r\n", "\n").strip() for i, key in enumerate(_ADR_PARTS)}
    if not address["country"] and country_hint and any(address.values()):
        address["country"] = country_hint.upper()
    if len(prop.parts) > 7:   # a value with more parts than ADR has: keep them, never cut
        address["street"] = "; ".join(p for p in [address["street"], *prop.parts[7:]] if p.strip())
    if address["country"]:
        address["country"] = country_code(address["country"])
    out = {k: v for k, v in address.items() if v}
    # DOM, INTL, POSTAL and PARCEL say how mail is delivered, not where: the address is still work or home.
    kind = _kind(Prop(prop.name, "", prop.line, prop.group,
                      {"TYPE": [t for t in prop.types if t not in ("DOM", "INTL", "POSTAL", "PARCEL")]}),
                 labels, ("work", "home"))
    if out and kind != "other":
        out = {"type": kind, **out}
    return out





def _json_value(text: str) -> Any:
    """An X-CRMKIT-* value: JSON as `export vcard` writes it; text that is not JSON stays text."""
    try:
        return revive(json.loads(text))
    except ValueError:
        return text


def card_to_contact(raw: RawCard) -> Card:
    """The contact a card describes; see the module docstring for where each property goes."""
    card = Card(raw.line, problems=list(raw.problems))
    if not raw.ended:
        card.problems.append((raw.line, "END", "the card has no END:VCARD; read up to the next card"))
    props = raw.props
    labels = {p.group: p.text for p in props if p.name == "X-ABLABEL" and p.group}
    # Apple's X-ABADR is the country code of its group's address ("se"); a longer value
    # (some exports put the formatted address there) is data of its own and goes to extra.
    adr_countries = {p.group: p.text.strip() for p in props
                     if p.name == "X-ABADR" and re.fullmatch(r"[A-Za-z]{2}", p.text.strip())
                     and any(q.name == "ADR" and q.group == p.group for q in props)}
    c: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    emails: list[tuple[bool, str, str]] = []
    phones: list[tuple[bool, bool, str, str]] = []
    addresses: list[tuple[bool, dict[str, str]]] = []

    def add_list(key: str, item: dict[str, Any]) -> None:
        c.setdefault(key, []).append(item)

    def add_extra(key: str, value: str) -> None:
        """One value kept under `extra`, a list once the property repeats."""
        if key in extra:
            extra[key] = (extra[key] if isinstance(extra[key], list) else [extra[key]]) + [value]
        else:
            extra[key] = value

    shown_names: list[str] = []     # display names around email addresses ('"Omega" <omega@...>')

    for p in props:
        name = p.name
        try:
            if name in ("BEGIN", "END") or (name == "X-ABADR" and p.group in adr_countries):
                continue   # Apple's address country code (used above)
            if name == "X-ABLABEL":
                # the label of a property that takes a type (used above); any other is data of its own
                if p.text.strip() and not (p.group and any(q.group == p.group and q.name in _LABELLED for q in props)):
                    add_extra(name, p.text)
                continue
            if name in _LABELLED and name not in ("EMAIL", "TEL", "ADR") and not p.text.strip():
                continue   # an empty URL or IM handle (IMPP;X-SERVICE-TYPE=Skype:) holds nothing
            if p.binary or name in UNKEPT:
                card.unkept.append((p.line, name))
            elif name == "FN":
                c.setdefault("name", p.text.replace("\r\n", "\n").strip())
            elif name == "N" and ("name_parts" in c or len(p.parts) > 5):
                # a second N (an ALTID alternative) or parts past the five N has: kept, never cut
                add_extra("N", p.text if "name_parts" in c else ";".join(p.parts[5:]))
                if "name_parts" not in c:
                    c["name_parts"] = {k: v.strip() for k, v in zip(_NAME_PARTS, p.parts) if v.strip()}
            elif name == "N":
                parts = {k: v.strip() for k, v in zip(_NAME_PARTS, p.parts) if v.strip()}
                if parts and not p.params.get("X-CRMKIT-DERIVED"):   # crmkit's own export made it up
                    c["name_parts"] = parts
            elif name == "NICKNAME":
                c["nickname"] = p.text.strip() if "nickname" not in c else c["nickname"] + ", " + p.text.strip()
            elif name == "EMAIL":
                mailbox, shown = _email(p.text)
                if mailbox:
                    emails.append((p.preferred, _kind(p, labels, ("work", "home")), mailbox))
                if shown:
                    shown_names.append(shown)
            elif name == "TEL":
                number = _phone(p.text)
                if number:
                    kind = _kind(p, labels, _PHONE_KINDS)
                    phones.append((kind in ("fax", "pager"), p.preferred, kind, number))
            elif name == "ORG" and "company" not in c and card.company is None:
                org = [x.strip() for x in p.parts]
                card.company = org[0] or None
                units = [x for x in org[1:] if x]
                if units:
                    c["department"] = " / ".join(units)
            elif name == "TITLE" and "title" not in c:
                c["title"] = p.text.strip()
            elif name == "ROLE" and "role" not in c:
                c["role"] = p.text.strip()
            elif name == "ADR":
                address = _address(p, labels, adr_countries.get(p.group or ""))
                if address:
                    addresses.append((p.preferred, address))
            elif name == "NOTE":
                text = p.text.replace("\r\n", "\n").replace("\r", "\n").strip()
                if text:
                    c["notes"] = text if "notes" not in c else c["notes"] + "\n\n" + text
            elif name == "BDAY" and "birthday" not in c:
                c["birthday"] = parse_date(p.text, p)
            elif name in _DATES:
                add_list("dates", {"type": _label(p, labels) or _DATES[name] or _kind(p, labels),
                                   "value": parse_date(p.text, p)})
            elif name == "URL":
                add_list("websites", {"type": _kind(p, labels, ("work", "home")), "value": p.text.strip()})
            elif name == "IMPP":
                service = (p.params.get("X-SERVICE-TYPE") or [""])[0].lower()
                value = p.text.strip()
                if not service and ":" in value:
                    service = value.split(":", 1)[0].lower()
                add_list("social", {"type": service or "other", "value": value})
            elif name == "X-SOCIALPROFILE":
                add_list("social", {"type": _kind(p, labels), "value": p.text.strip()})
            elif name in _SOCIAL:
                add_list("social", {"type": _SOCIAL[name], "value": p.text.strip()})
            elif name in _RELATED:
                add_list("related", {"type": _label(p, labels) or _RELATED[name] or _kind(p, labels),
                                     "value": p.text.strip()})
            elif name == "CATEGORIES":
                tags = c.setdefault("tags", [])
                tags.extend(t for t in p.items if t not in tags)
            elif name == "UID":
                uid = p.text.strip()
                if uid.startswith("crmkit:contact/"):
                    card.record_id = uid.split("/", 1)[1]
                elif uid:
                    c["uid"] = uid
            elif name == "X-ANDROID-CUSTOM" and p.parts[0] == "vnd.android.cursor.item/nickname" and len(p.parts) > 1:
                # Android's own nickname row: the mime type, then the nickname and its type fields.
                nick = p.parts[1].strip()
                c["nickname"] = nick if "nickname" not in c else c["nickname"] + ", " + nick
                more = [x for x in p.parts[2:] if x.strip()]
                if more:
                    add_extra(name, ";".join(more))
            elif name == "LANG" and "language" not in c:
                c["language"] = p.text.strip()
            elif name.startswith(CRMKIT_PREFIX):
                key = name[len(CRMKIT_PREFIX):].lower().replace("-", "_")
                c[key] = _json_value(p.text)
            else:
                add_extra(name, p.text.replace("\r\n", "\n").replace("\r", "\n"))
        except Exception as exc:  # noqa: BLE001 - one bad property never costs the card
            card.problems.append((p.line, name, f"cannot read ({type(exc).__name__}); skipped"))
    if emails:
        emails.sort(key=lambda e: not e[0])   # the preferred one first, order kept otherwise (a stable sort)
        c["email"] = emails[0][2]
        if emails[0][1] != "other":
            c["email_type"] = emails[0][1]
        rest = [{"type": kind, "value": value} for _, kind, value in emails[1:]]
        if rest:
            c["emails"] = rest
    if phones:
        # The preferred number is the phone, never a fax or pager while there is another; order kept.
        best = min(range(len(phones)), key=lambda i: (phones[i][0], not phones[i][1], i))
        phones.insert(0, phones.pop(best))
        c["phone"] = phones[0][3]
        if phones[0][2] != "other":
            c["phone_type"] = phones[0][2]   # cell, work, ...: what a phone shows beside the number
        rest = [{"type": kind, "value": value} for _, _, kind, value in phones[1:]]
        if rest:
            c["phones"] = rest
    if addresses:
        addresses.sort(key=lambda a: not a[0])
        c["address"] = addresses[0][1]
        if addresses[0][1].get("country") and "country" not in c:
            c["country"] = addresses[0][1]["country"]
        if len(addresses) > 1:
            c["addresses"] = [a for _, a in addresses[1:]]
    if not c.get("name"):
        parts = c.get("name_parts") or {}
        name = " ".join(parts[k] for k in ("prefix", "given", "additional", "family", "suffix") if k in parts)
        social = [s["value"] for s in c.get("social", []) if s.get("value")]
        name = (name or c.get("nickname") or card.company or c.get("email") or c.get("phone")
                or (social[0] if social else ""))
        if name:
            c["name"] = name
        else:
            card.error = "the card has no name (FN, N, NICKNAME, ORG, EMAIL, TEL or IMPP)"
    for shown in shown_names:    # kept unless it is the card's own name
        if shown not in (c.get("name"), c.get("nickname")):
            add_extra("X-EMAIL-NAME", shown)
    if extra:
        c["extra"] = extra
    card.contact = {"name": c.pop("name"), **c} if "name" in c else c
    return card
