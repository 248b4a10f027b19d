"""The parts of a written vCard that vobject's card object does not model well.

`to_vcard` (crmkit.io.vcard) builds the card with vobject; this module gives it
the N parts as stored (never rebuilt by splitting the name at a space, unless the
contact has no parts), each address with its own type, and the lines for every
other field: BDAY, NICKNAME, URL, IMPP-style profiles, related names,
CATEGORIES (tags), `extra:` properties as they were read, and crmkit's own fields
(opted_out, consent, owner, created, custom fields) as
`X-CRMKIT-<FIELD>:<JSON>`, which crmkit reads back and other programs ignore.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from collections.abc import Iterator
from typing import Any

from crmkit.render.jsontext import jsonable

#: Fields that `to_vcard` writes as standard properties (the rest go into X-CRMKIT-*).
NATIVE = {"name", "name_parts", "email", "emails", "phone", "phones", "company", "department", "title",
          "role", "address", "addresses", "notes", "nickname", "birthday", "dates", "websites", "social",
          "related", "tags", "extra", "language"}
_FIELD = re.compile(r"^[a-z][a-z0-9_]*$")
_PROP = re.compile(r"^[A-Z0-9-]+$")
#: A param telling crmkit's reader that N was made from the name, not stored parts.
DERIVED_N = "X-CRMKIT-DERIVED"


def name_parts(contact: dict[str, Any]) -> tuple[dict[str, str], bool]:
    """N's parts (family, given, additional, prefix, suffix) and whether they were made up from `name`."""
    stored = contact.get("name_parts")
    if isinstance(stored, dict) and stored:
        return {k: str(v) for k, v in stored.items()}, False
    name = str(contact.get("name", "")).strip()
    address = found if isinstance(found := contact.get("address"), dict) else {}
    hungarian = contact.get("language") == "hu" or "HU" in (contact.get("country"), address.get("country"))
    if hungarian and " " in name:   # Hungarian names are written family name first: Kovács Ádám
        family, given = name.split(" ", 1)
    else:
        parts = name.rsplit(" ", 1)
        given, family = (parts[0], parts[1]) if len(parts) == 2 else (name, "")
    return {"family": family, "given": given}, True


def address_type(address: dict[str, Any], primary: bool) -> list[str]:
    kind = str(address.get("type") or "")
    types = [kind.upper()] if kind and kind != "other" else []
    return types + (["pref"] if primary else [])


def escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace("\r\n", "\n").replace("\n", "\\n")
            .replace(",", "\\,").replace(";", "\\;"))



def fold(line: str) -> str:
    """A content line folded at 75 octets (RFC 6350 §3.2), never inside a UTF-8 character."""
    cur: list[str]
    out, cur, size = [], [], 0
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > 75:
            out.append("".join(cur))
            cur, size = [" "], 1
        cur.append(ch)
        size += n
    out.append("".join(cur))
    return "\r\n".join(out) + "\r\n"


def _typed(name: str, items: Any, groups: Iterator[int]) -> list[str]:
    """One line per {type, value}; a type that is no plain word (`Mike's custom IM:`) is
    written as Apple does, an X-ABLabel in the property's own group, so it comes back whole."""
    lines = []
    for item in items or []:
        if not isinstance(item, dict) or not item.get("value"):
            continue
        kind = str(item.get("type") or "")
        value = item["value"]
        text = escape(value.isoformat() if isinstance(value, dt.date) else str(value))
        if not kind or kind == "other":
            lines.append(f"{name}:{text}")
        elif re.fullmatch(r"[\w-]+", kind) and not kind.lower().startswith("x-"):   # readers skip X- types
            lines.append(f"{name};TYPE={kind.upper()}:{text}")
        else:
            group = f"item{next(groups)}"
            lines += [f"{group}.{name}:{text}", f"{group}.X-ABLabel:{escape(kind)}"]
    return lines


def extra_lines(contact: dict[str, Any]) -> list[str]:
    """Content lines (unfolded) for the fields vobject's card was not given."""
    lines: list[str] = []
    if contact.get("nickname"):
        lines.append(f"NICKNAME:{escape(str(contact['nickname']))}")
    if contact.get("role"):
        lines.append(f"ROLE:{escape(str(contact['role']))}")
    if contact.get("language"):    # before any LANG kept in extra: the first LANG is the language
        lines.append(f"LANG:{escape(str(contact['language']))}")
    birthday = contact.get("birthday")
    if birthday:
        lines.append(f"BDAY:{birthday.isoformat() if isinstance(birthday, dt.date) else birthday}")
    groups = itertools.count(1)
    lines += _typed("X-ABDATE", contact.get("dates"), groups)
    lines += _typed("URL", contact.get("websites"), groups)
    lines += _typed("X-SOCIALPROFILE", contact.get("social"), groups)
    lines += _typed("X-ABRELATEDNAMES", contact.get("related"), groups)
    tags = [str(t) for t in contact.get("tags") or [] if str(t).strip()]
    if tags:
        lines.append("CATEGORIES:" + ",".join(escape(t) for t in tags))
    extra = contact.get("extra")
    if isinstance(extra, dict):
        for key, value in extra.items():
            if not _PROP.match(str(key)):
                continue
            for v in value if isinstance(value, list) else [value]:
                lines.append(f"{key}:{escape(str(v))}")
    for key, value in contact.items():
        if key in NATIVE or not _FIELD.match(key) or value is None:
            continue
        if key == "country" and isinstance(contact.get("address"), dict) and contact["address"].get("country") == value:
            continue   # the address carries it
        text = json.dumps(jsonable(value), ensure_ascii=False)
        lines.append(f"X-CRMKIT-{key.upper().replace('_', '-')}:{text}")
    return lines


def uncarried(contact: dict[str, Any]) -> list[str]:
    """Fields a vCard cannot carry (names no X- property can spell, extra keys that are not property names)."""
    lost = [k for k in contact if k not in NATIVE and not _FIELD.match(k)]
    extra = contact.get("extra")
    if isinstance(extra, dict):
        lost += [f"extra.{k}" for k in extra if not _PROP.match(str(k))]
    return lost


def add_lines(serialized: str, lines: list[str]) -> str:
    """The serialized card with `lines` folded in before END:VCARD."""
    if not lines:
        return serialized
    head, sep, tail = serialized.rpartition("END:VCARD")
    return head + "".join(fold(line) for line in lines) + sep + tail
