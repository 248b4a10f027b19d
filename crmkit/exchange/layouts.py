"""CSV exports of address books and CRMs, recognised by their header rows.

A layout knows what a program's columns mean beyond their titles: name parts to
combine into `name` (kept as `name_parts`), numbered label/value columns
(Google's `E-mail 2 - Type`/`E-mail 2 - Value`) and fixed typed columns
(Outlook's `Business Fax`) into typed lists, address column groups into
addresses with their type, and values to map (Salesforce's `Closed Won` is the
stage `won`). Columns a layout does not model are kept in `extra:` under their
title, so nothing is dropped; the import lists them.

A layout is recognised when every one of its signature columns is in the header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, TypeVar

from crmkit.exchange.titles import key

_V = TypeVar("_V")

_ADR_KEYS = {"street": "street", "street 2": "street2", "street 3": "street3", "city": "city", "state": "region", "region": "region",
             "postal code": "zip", "zip": "zip", "zipcode": "zip", "zip code": "zip", "country": "country",
             "country/region": "country", "po box": "pobox", "extended address": "extended",
             "formatted": "formatted", "type": "type", "neighborhood": "extended"}


@dataclass
class Layout:
    name: str                                   # shown in the dry-run plan
    kinds: tuple[str, ...]
    signature: tuple[str, ...]                  # all of these titles (folded) are in the header
    fields: dict[str, str] = field(default_factory=dict)           # title -> field path
    typed: dict[str, tuple[str, str]] = field(default_factory=dict)  # title -> (list field, type)
    addresses: dict[str, str] = field(default_factory=dict)        # title prefix -> address type
    numbered: bool = False                      # Google's "<Thing> N - Part" columns
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # field -> {folded value: value}
    keeps: str = ""                             # for the README: what it keeps
    adr_keys: dict[str, str] = field(default_factory=dict)   # this program's address column parts

    def matches(self, kind: str, header: list[str]) -> bool:
        titles = {key(h) for h in header}
        return kind in self.kinds and all(key(s) in titles for s in self.signature)

    def apply(self, kind: str, values: dict[str, str], skip: set[str] | frozenset[str] = frozenset(),
              value_map: dict[str, dict[str, str]] | None = None,
              locale: str | None = None) -> tuple[dict[str, Any], dict[str, str]]:
        """The row's data as far as the layout knows it, and the cells left for the title mapping."""
        from crmkit.exchange.columns import convert

        data: dict[str, Any] = {}
        rest: dict[str, str] = {}
        addresses: dict[str, dict[str, str]] = {}
        numbered: dict[tuple[str, str], dict[str, str]] = {}
        extra: dict[str, str] = {}
        for column, text in values.items():
            if column in skip:
                rest[column] = text
                continue
            k = key(column)
            if k in self.fields:
                target = self.fields[k]
                if text and target == "tags":
                    _put(data, "tags", [t.strip().lstrip("*").strip() for t in re.split(r":::|;|,", text)
                                        if t.strip().lstrip("*").strip()])
                elif text and target == "birthday":
                    if _birthday(text) is not None:
                        data["birthday"] = _birthday(text)
                elif text:
                    value = {**self.values.get(target, {}), **(value_map or {}).get(target, {})}.get(key(text), text)
                    _put(data, target, convert(kind, target, value, locale) if not target.startswith("extra.") else value)
            elif k in self.typed:
                many, kind_of = self.typed[k]
                for value in _split_multi(text):
                    data.setdefault(many, []).append({"type": kind_of, "value": value})
            elif (adr := self._address_part(k)) is not None:
                prefix, part = adr
                if text:
                    addresses.setdefault(prefix, {})[part] = text
            elif self.numbered and (m := re.fullmatch(r"(.+?) (\d+) - (.+)", k)):
                numbered.setdefault((m.group(1), m.group(2)), {})[m.group(3)] = text
            elif k in _KNOWN_ELSEWHERE:
                rest[column] = text
            else:
                if text:
                    extra[column] = text
        for (thing, _n), parts in sorted(numbered.items(), key=lambda kv: (kv[0][0], int(kv[0][1]))):
            _numbered(data, thing, parts, extra, kind)
        birth = addresses.pop("birth", None)
        if birth:   # Thunderbird's Birth Year, Birth Month, Birth Day
            text = f"{birth.get('year', '')}-{birth.get('month', '').zfill(2)}-{birth.get('day', '').zfill(2)}"
            data["birthday"] = _birthday(text if birth.get("year") else "--" + text[1:])
        for prefix, parts in addresses.items():
            _add_address(data, self.addresses[prefix], parts)
        if extra:
            data.setdefault("extra", {}).update(extra)
        _promote(data)
        return data, rest

    def handles(self, column: str) -> bool:
        """Whether the layout itself reads this column (else it goes to `extra:`, or `id` to the titles)."""
        k = key(column)
        return (k in self.fields or k in self.typed or self._address_part(k) is not None
                or (self.numbered and re.fullmatch(r"(.+?) (\d+) - (.+)", k) is not None))

    def _address_part(self, k: str) -> tuple[str, str] | None:
        keys = {**_ADR_KEYS, **self.adr_keys}
        for prefix in self.addresses:
            if k.startswith(prefix + " ") and k[len(prefix) + 1:] in keys:
                return prefix, keys[k[len(prefix) + 1:]]
        if k in ("birth year", "birth month", "birth day") and self.adr_keys.get("birth"):
            return "birth", k.split()[1]
        return None


#: Titles a layout leaves to the ordinary title table (crmkit.exchange.titles).
_KNOWN_ELSEWHERE = {"id"}


def _put(data: dict[str, Any], path: str, value: Any) -> None:
    from crmkit.store.editing import set_path

    if path in ("tags",) and isinstance(value, list):
        data.setdefault("tags", [])
        data["tags"] += [v for v in value if v not in data["tags"]]
        return
    set_path(data, path, value)


def _birthday(text: str) -> Any:
    """A birthday as address books write it: ISO, 2/29/1968 (Outlook, month first), --05-17; 0/0/00 is none."""
    import datetime as dt

    from crmkit.io.vcard_contact import parse_date

    t = text.strip()
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{2,4})", t)
    if m:
        month, day, year = (int(g) for g in m.groups())
        if not month or not day:
            return None            # Outlook's 0/0/00: no birthday
        try:
            return dt.date(year if year > 99 else 1900 + year, month, day)
        except ValueError:
            return t
    return parse_date(t)


def _split_multi(text: str) -> list[str]:
    """Google writes several values in one cell as `a ::: b`."""
    return [t.strip() for t in text.split(":::") if t.strip()]


def _type(text: str) -> str:
    t = text.strip().lstrip("*").strip().lower()
    if "fax" in t.split() or "pager" in t.split():
        return "fax" if "fax" in t.split() else "pager"   # Google's "Work Fax" is a fax, as a vCard's
    return {"mobile": "cell", "": "other"}.get(t, t)


def _numbered(data: dict[str, Any], thing: str, parts: dict[str, str], extra: dict[str, str], kind: str) -> None:
    kind_of = _type(parts.get("type", "") or parts.get("label", ""))
    if thing in ("e-mail", "email"):
        for v in _split_multi(parts.get("value", "")):
            data.setdefault("emails", []).append({"type": kind_of, "value": v})
    elif thing == "phone":
        for v in _split_multi(parts.get("value", "")):
            data.setdefault("phones", []).append({"type": kind_of, "value": v})
    elif thing == "website":
        for v in _split_multi(parts.get("value", "")):
            data.setdefault("websites", []).append({"type": kind_of, "value": v})
    elif thing == "relation":
        for v in _split_multi(parts.get("value", "")):
            data.setdefault("related", []).append({"type": kind_of, "value": v})
    elif thing == "event":
        from crmkit.io.vcard_contact import parse_date

        for v in _split_multi(parts.get("value", "")):
            data.setdefault("dates", []).append({"type": kind_of, "value": parse_date(v)})
    elif thing == "im":
        service = parts.get("service", "").strip().lower() or kind_of
        for v in _split_multi(parts.get("value", "")):
            data.setdefault("social", []).append({"type": service, "value": v})
    elif thing == "address":
        mapped = {_ADR_KEYS[p]: v for p, v in parts.items() if p in _ADR_KEYS and v}
        mapped.pop("type", None)
        _add_address(data, kind_of, mapped)
    elif thing == "organization":
        if parts.get("name") and "company" not in data:
            data["company"] = parts["name"]
        if parts.get("title") and "title" not in data:
            data["title"] = parts["title"]
        if parts.get("department") and "department" not in data:
            data["department"] = parts["department"]
        for p, v in parts.items():
            if p not in ("name", "title", "department") and v:
                extra[f"Organization - {p}"] = v
    else:
        for p, v in parts.items():
            if v:
                extra[f"{thing} - {p}"] = v


def _add_address(data: dict[str, Any], kind_of: str, parts: dict[str, str]) -> None:
    from crmkit.io.countries import country_code

    parts = dict(parts)
    formatted = parts.pop("formatted", "")
    street = "\n".join(parts.pop(k) for k in ("street", "street2", "street3") if parts.get(k))
    if street:
        parts["street"] = street
    if not parts and formatted:
        parts["street"] = formatted         # only the formatted text: keep it whole
    if not parts:
        return
    if parts.get("country"):
        parts["country"] = country_code(parts["country"])
    address = ({"type": kind_of} if kind_of and kind_of != "other" else {}) | parts
    data.setdefault("addresses", []).append(address)


def _promote(data: dict[str, Any]) -> None:
    """The first email, phone (not a fax) and address become the primary ones, as a vCard import makes them."""
    for one, many in (("email", "emails"), ("phone", "phones"), ("address", "addresses")):
        items = data.get(many) or []
        if one in data or not items:
            continue
        candidates = [i for i, e in enumerate(items) if e.get("type") not in ("fax", "pager", "work fax", "home fax")]
        best = candidates[0] if candidates else 0
        first = items.pop(best)
        data[one] = first["value"] if many != "addresses" else first
        if many != "addresses" and first.get("type") not in (None, "", "other"):
            data[f"{one}_type"] = first["type"]
        if not items:
            data.pop(many)
    if isinstance(data.get("address"), dict) and data["address"].get("country") and "country" not in data:
        data["country"] = data["address"]["country"]


_NAME = {"first name": "name_parts.given", "middle name": "name_parts.additional",
         "last name": "name_parts.family", "title": "name_parts.prefix", "suffix": "name_parts.suffix"}


def _k(d: dict[str, _V]) -> dict[str, _V]:
    return {key(t): v for t, v in d.items()}


LAYOUTS: list[Layout] = [
    Layout("Google Contacts", ("contact",), ("Given Name", "Family Name", "Group Membership"),
           fields=_k({"Name": "name", "Given Name": "name_parts.given", "Additional Name": "name_parts.additional",
                      "Family Name": "name_parts.family", "Name Prefix": "name_parts.prefix",
                      "Name Suffix": "name_parts.suffix", "Nickname": "nickname", "Birthday": "birthday",
                      "Notes": "notes", "Group Membership": "tags"}),
           numbered=True, keeps="name and its parts, nickname, birthday, notes, every numbered email, phone, "
                                "address, website, relation, event and IM with its type, organization name, "
                                "title and department"),
    Layout("Google Contacts", ("contact",), ("First Name", "Last Name", "E-mail 1 - Value"),
           fields=_k({**_NAME, "Title": "name_parts.prefix", "Name Prefix": "name_parts.prefix",
                      "Name Suffix": "name_parts.suffix", "Nickname": "nickname", "Birthday": "birthday",
                      "Notes": "notes", "Labels": "tags", "File As": "extra.File As",
                      "Organization Name": "company", "Organization Title": "title",
                      "Organization Department": "department"}),
           numbered=True, keeps="the same, in Google's 2024 header (First Name, E-mail 1 - Value, Labels)"),
    Layout("Outlook", ("contact",), ("First Name", "Last Name", "E-mail Address", "Business Phone"),
           fields=_k({**_NAME, "Company": "company", "Department": "department", "Job Title": "title",
                      "Birthday": "birthday", "Notes": "notes", "Categories": "tags", "Nickname": "nickname",
                      }),
           typed=_k({"E-mail Address": ("emails", "other"), "E-mail 2 Address": ("emails", "other"),
                     "E-mail 3 Address": ("emails", "other"), "Business Phone": ("phones", "work"),
                     "Business Phone 2": ("phones", "work"), "Mobile Phone": ("phones", "cell"),
                     "Home Phone": ("phones", "home"), "Home Phone 2": ("phones", "home"),
                     "Business Fax": ("phones", "fax"), "Home Fax": ("phones", "fax"),
                     "Other Fax": ("phones", "fax"), "Pager": ("phones", "pager"),
                     "Other Phone": ("phones", "other"), "Primary Phone": ("phones", "main"),
                     "Company Main Phone": ("phones", "main"), "Car Phone": ("phones", "car"),
                     "Assistant's Phone": ("phones", "assistant"), "Web Page": ("websites", "work")}),
           addresses={"business": "work", "home": "home", "other": "other"},
           adr_keys={"address": "formatted", "address po box": "pobox"},
           keeps="name parts, company, department, job title, every e-mail, phone and fax with its type, "
                 "business/home/other addresses, birthday, categories as tags, notes"),
    Layout("Thunderbird", ("contact",), ("First Name", "Last Name", "Display Name", "Primary Email"),
           fields=_k({"First Name": "name_parts.given", "Last Name": "name_parts.family", "Display Name": "name",
                      "Nickname": "nickname", "Job Title": "title", "Department": "department",
                      "Organization": "company", "Notes": "notes"}),
           typed=_k({"Primary Email": ("emails", "other"), "Secondary Email": ("emails", "other"),
                     "Work Phone": ("phones", "work"), "Home Phone": ("phones", "home"),
                     "Fax Number": ("phones", "fax"), "Pager Number": ("phones", "pager"),
                     "Mobile Number": ("phones", "cell"), "Web Page 1": ("websites", "work"),
                     "Web Page 2": ("websites", "home"), "Screen Name": ("social", "chat")}),
           addresses={"home": "home", "work": "work"},
           adr_keys={"address": "street", "address 2": "street2", "zipcode": "zip", "birth": "yes"},
           keeps="display name and name parts, nickname, both emails, every phone and fax with its type, "
                 "home and work addresses, job title, department, organization, web pages, screen name, notes"),
    Layout("Apple/iCloud", ("contact",), ("First name", "Last name", "Work email", "Mobile phone"),
           fields=_k({"First name": "name_parts.given", "Last name": "name_parts.family",
                      "Middle name": "name_parts.additional", "Company": "company", "Job title": "title",
                      "Department": "department", "Birthday": "birthday", "Note": "notes",
                      "Nickname": "nickname"}),
           typed=_k({"Work email": ("emails", "work"), "Home email": ("emails", "home"),
                     "Other email": ("emails", "other"), "Mobile phone": ("phones", "cell"),
                     "Work phone": ("phones", "work"), "Home phone": ("phones", "home"),
                     "Work fax": ("phones", "fax"), "Home page": ("websites", "homepage")}),
           addresses={"work": "work", "home": "home"},
           keeps="name parts, company, job title, department, typed emails and phones, work/home addresses, "
                 "birthday, home page, note"),
    Layout("LinkedIn", ("contact",), ("First Name", "Last Name", "URL", "Connected On"),
           fields=_k({"First Name": "name_parts.given", "Last Name": "name_parts.family", "Email Address": "email",
                      "Company": "company", "Position": "title", "Connected On": "extra.Connected On"}),
           typed=_k({"URL": ("social", "linkedin")}),
           keeps="name parts, email, company, position as title, the profile URL in social, the date connected"),
    Layout("HubSpot", ("contact",), ("Record ID", "First Name", "Last Name", "Lifecycle Stage"),
           fields=_k({"First Name": "name_parts.given", "Last Name": "name_parts.family", "Email": "email",
                      "Phone Number": "phone", "Mobile Phone Number": "extra.Mobile Phone Number",
                      "Company Name": "company", "Job Title": "title", "Record ID": "uid",
                      "City": "address.city", "Country/Region": "country", "Street Address": "address.street",
                      "Postal Code": "address.zip", "Create Date": "extra.Create Date"}),
           keeps="name parts, email, phone, company, job title, address, the record id as uid"),
    Layout("Salesforce opportunities", ("deal",), ("STAGENAME", "AMOUNT", "CLOSEDATE"),
           fields=_k({"ID": "external_id", "NAME": "title", "STAGENAME": "stage", "AMOUNT": "value",
                      "CLOSEDATE": "expected_close", "PROBABILITY": "probability", "LEADSOURCE": "source",
                      "ACCOUNT.NAME": "company", "ACCOUNTNAME": "company", "ACCOUNT NAME": "company",
                      "CURRENCYISOCODE": "currency", "DESCRIPTION": "notes"}),
           values={"stage": {key(k): v for k, v in {
               "Prospecting": "lead", "Qualification": "qualified", "Needs Analysis": "qualified",
               "Value Proposition": "qualified", "Id. Decision Makers": "qualified",
               "Perception Analysis": "qualified", "Proposal/Price Quote": "proposal",
               "Negotiation/Review": "negotiation", "Closed Won": "won", "Closed Lost": "lost"}.items()}},
           keeps="the opportunity ID as external_id (the match key), name, stage (Closed Won → won, "
                 "Closed Lost → lost, the others to the nearest stage), amount, close date, probability, "
                 "lead source, account name as company"),
    Layout("Pipedrive", ("deal",), ("Deal - Title", "Deal - Value", "Deal - Stage"),
           fields=_k({"Deal - ID": "external_id", "Deal - Title": "title", "Deal - Value": "value",
                      "Deal - Currency": "currency", "Deal - Stage": "stage",
                      "Deal - Expected close date": "expected_close", "Deal - Organization": "company",
                      "Deal - Probability": "probability", "Deal - Lost reason": "lost_reason"}),
           keeps="the deal ID as external_id, title, value, currency, stage, expected close date, organization"),
    Layout("Pipedrive", ("contact",), ("Person - Name", "Person - Organization"),
           fields=_k({"Person - ID": "uid", "Person - Name": "name", "Person - First name": "name_parts.given",
                      "Person - Last name": "name_parts.family", "Person - Organization": "company",
                      "Person - Job title": "title", "Person - Labels": "tags"}),
           typed=_k({"Person - Email - Work": ("emails", "work"), "Person - Email - Home": ("emails", "home"),
                     "Person - Email - Other": ("emails", "other"), "Person - Phone - Work": ("phones", "work"),
                     "Person - Phone - Mobile": ("phones", "cell"), "Person - Phone - Home": ("phones", "home"),
                     "Person - Phone - Other": ("phones", "other")}),
           keeps="the person ID as uid, name and parts, organization, job title, labels as tags, typed emails "
                 "and phones"),
]


def detect(kind: str, header: list[str]) -> Layout | None:
    """The known layout this header is, or None (then the titles table maps the columns)."""
    for layout in LAYOUTS:
        if layout.matches(kind, header):
            return layout
    return None
