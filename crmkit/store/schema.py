"""What each kind of record may hold: one table, used by `check`, `add`, `set` and `schema`.

Custom fields are always allowed; only the fields named here are checked.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from crmkit.values import parse_decimal

# A type is a string ("text", "int", "number", "amount", "bool", "date", "timestamp",
# "when", "user", "any") or a tuple: ("enum", values), ("ref", kind), ("list", type),
# ("object", {field: type}).
Type = Any

ADDRESS: Type = ("object", {"street": "text", "zip": "text", "city": "text", "region": "text", "country": "text"})
#: An address that bounced (crmkit inbox fetch): mail to it is skipped while it is the address.
BOUNCED: Type = ("object", {"address": "text", "at": "when", "status": "text", "reason": "text"})
COMMON: dict[str, Type] = {
    "owner": "user",
    "tags": ("list", "text"),
    "created": "when",
    "notes": "text",
    "merged_into": "text",
    "extra": ("object", {}),    # imported values no field models, under their column or property name
}

FIELDS: dict[str, dict[str, Type]] = {
    "contact": {
        "name": "text", "email": "text", "phone": "text", "company": ("ref", "company"),
        "title": "text", "country": "text", "address": ADDRESS,
        "language": "text", "consent": ("object", {"marketing": "bool", "survey": "bool", "date": "when"}),
        "opted_out": "bool",
        # the sentiment journey (crmkit.support.sentiment), append-only like a ticket's events
        "events": ("list", ("object", {"type": "text", "at": "when", "by": "text"})),
        "emails": ("list", ("object", {"type": "text", "value": "text"})),
        "phones": ("list", ("object", {"type": "text", "value": "text"})),
        # What address books hold besides (crmkit.io.vcard_contact; README "Importing from a phone").
        "name_parts": ("object", {"family": "text", "given": "text", "additional": "text",
                                  "prefix": "text", "suffix": "text"}),
        "nickname": "text", "department": "text", "role": "text", "uid": "text",
        "email_type": "text", "phone_type": "text",   # the primary email's and phone's type
        "birthday": "any",          # a date, or "--04-12" when the year is not known
        "addresses": ("list", ADDRESS),
        "dates": ("list", ("object", {"type": "text", "value": "any"})),
        "websites": ("list", ("object", {"type": "text", "value": "text"})),
        "social": ("list", ("object", {"type": "text", "value": "text"})),
        "related": ("list", ("object", {"type": "text", "value": "text"})),
        "bounced": BOUNCED,
        # people in networks (crmkit.people.network): organisations besides the employer, and people
        "memberships": ("list", ("object", {"organisation": ("ref", "company"), "role": "text", "since": "when"})),
        "relationships": ("list", ("object", {"type": ("enum", ["knows", "introduced_by", "reports_to"]),
                                              "contact": ("ref", "contact"), "user": "user"})),
    },
    "company": {
        "name": "text", "domain": "text", "industry": "text", "country": "text",
        "employees": "int", "revenue": "amount", "address": ADDRESS, "phone": "text",
        "agreement": "text", "customer": "bool", "vat_no": "text",
        "partner": ("object", {"territory": "text", "specialities": ("list", "text"), "capacity": "int",
                               "contact": ("ref", "contact"), "email": "text", "share": ("list", "text")}),
    },
    "lead": {
        "name": "text", "email": "text", "company_name": "text", "phone": "text",
        "status": ("enum", ["prospect", "qualified", "converted", "disqualified"]),
        "source": "text", "users": "int", "country": "text", "industry": "text",
        "interest": "text", "disqualified_reason": "text",
        "converted": ("object", {"contact": ("ref", "contact"), "company": ("ref", "company"),
                                 "deal": ("ref", "deal"), "at": "when"}),
        "routing": ("object", {"rule": "text", "at": "when", "status": "text"}),
        "bounced": BOUNCED,
        "partner": "text",          # the partner company it was handed to (crmkit.sales.partners)
    },
    "deal": {
        "title": "text", "company": ("ref", "company"), "contacts": ("list", ("ref", "contact")),
        "stage": "text", "value": "amount", "currency": "text", "probability": "number",
        "expected_close": "date", "closed": "date", "lost_reason": "text", "source": "text",
        "users": "int", "interest": "text",     # from its lead (crmkit.sales.leads.DEAL_CARRIES)
        "products": ("list", "text"),
        "stage_history": ("list", ("object", {"stage": "text", "at": "when", "by": "text"})),
        "offer": ("object", {}),
        "lead": ("ref", "lead"),
    },
    "ticket": {
        "subject": "text", "contact": ("ref", "contact"), "company": ("ref", "company"),
        "channel": ("enum", ["email", "phone", "web", "chat"]),
        "priority": ("enum", ["low", "normal", "high", "urgent"]),
        "line": ("enum", ["first", "second"]),
        "status": ("enum", ["new", "open", "pending", "solved", "closed"]),
        "events": ("list", ("object", {"type": "text", "at": "when", "by": "text"})),
        "follow_up_of": ("ref", "ticket"),
    },
    "activity": {
        "type": ("enum", ["call", "meeting", "email", "note", "task"]),
        "subject": "text", "at": "when", "due": "when", "done": "when",
        "contact": ("ref", "contact"), "company": ("ref", "company"), "deal": ("ref", "deal"),
        "lead": ("ref", "lead"), "ticket": ("ref", "ticket"), "body": "text",
        "direction": ("enum", ["in", "out"]),
        "message_id": "text",
        "attachments": ("list", ("object", {"name": "text", "path": "text", "type": "text", "size": "int"})),
        # made by `crmkit tick` (crmkit.support.cadence, .reminders)
        "cadence": ("object", {"rule": "text", "step": "int", "of": "int", "stage": "text"}), "digest": "date",
        "campaign": ("ref", "campaign"), "variant": "text",   # mail of a campaign (crmkit.marketing.campaigns)
        "repeat": "text", "repeat_of": "text",                # a series (crmkit.support.recurring)
    },
    # crmkit.marketing.campaigns; README "Campaigns"
    "campaign": {
        "name": "text", "goal": "text", "channel": "text", "segment": "text", "template": "text",
        "variants": ("list", ("object", {"id": "text", "template": "text", "share": "number"})),
        "holdout": "number", "start": "date", "end": "date", "budget": "amount", "currency": "text",
        "status": ("enum", ["planned", "running", "finished"]), "attribution_days": "int", "learned": "text",
    },
    # crmkit.marketing.events; README "Events"
    "event": {
        "name": "text", "type": "text", "date": "date", "end": "date", "location": "text", "segment": "text",
        "campaign": ("ref", "campaign"), "budget": "amount", "learned": "text",
        "registrations": ("list", ("object", {"contact": ("ref", "contact"), "lead": ("ref", "lead"),
                                              "name": "text", "email": "text", "company_name": "text",
                                              "registered": "when", "attended": "when"})),
    },
}
for _fields in FIELDS.values():
    for _name, _type in COMMON.items():
        _fields.setdefault(_name, _type)

REQUIRED: dict[str, list[str]] = {
    "contact": ["name"], "company": ["name"], "lead": ["name"],
    "deal": ["title"], "ticket": ["subject"], "activity": ["type"], "campaign": ["name"],
    "event": ["name", "date"],
}

# The text forms `check` accepts, shared with the JSON Schemas (`json_type`) so an editor
# and `check` say the same of every value. A YAML reader hands a JSON Schema validator an
# unquoted date or timestamp as its text (yaml-language-server, check-jsonschema), so the
# schema sees quoted and unquoted alike, and `check` accepts both.
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
#: ISO 8601 / RFC 3339 as YAML writes timestamps: T, t or spaces between date and time,
#: one-digit month, day and hour allowed, seconds optional, and a zone required
TIMESTAMP_PATTERN = (r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[Tt]|[ \t]+)([0-9]{1,2}):([0-9]{2})"
                     r"(?::([0-9]{2})(?:[.,]([0-9]+))?)?[ \t]*(Z|z|[+-][0-9]{1,2}(?::?[0-9]{2})?)$")
#: an amount as text: digits, spaces as thousands separators, a decimal point or comma
AMOUNT_PATTERN = r"^[+-]?[0-9][0-9 \u00a0]*([.,][0-9]+)?$"
_DATE_RE = re.compile(DATE_PATTERN)
_TIMESTAMP_RE = re.compile(TIMESTAMP_PATTERN)
_AMOUNT_RE = re.compile(AMOUNT_PATTERN)
_NAIVE_RE = re.compile(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?$")


def _date_text(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return bool(_DATE_RE.fullmatch(text))


def _timestamp_text(text: str) -> bool:
    """Whether text is a timestamp with a zone that exists (no month 13, no 25 o'clock)."""
    m = _TIMESTAMP_RE.fullmatch(text)
    if not m:
        return False
    year, month, day, hour, minute, second, _fraction, zone = m.groups()
    try:
        dt.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
    except ValueError:
        return False
    if zone in ("Z", "z"):
        return True
    digits = zone[1:].replace(":", "")
    return int(digits[:-2] if len(digits) > 2 else digits) < 24 and (len(digits) <= 2 or int(digits[-2:]) < 60)


def describe(t: Type) -> str:
    """A short human name of a type, for messages and --help."""
    if isinstance(t, tuple):
        if t[0] == "enum":
            return "one of " + ", ".join(t[1])
        if t[0] == "ref":
            return f"{t[1]} id"
        if t[0] == "list":
            return f"list of {describe(t[1])}"
        return "mapping"
    names = {"when": "date or timestamp", "user": "user id", "amount": "amount"}
    return names.get(t, str(t))


def type_problem(value: Any, t: Type) -> str | None:
    """Why `value` does not fit type `t`, or None. Never raises."""
    if value is None:
        return None
    if isinstance(t, tuple):
        tag = t[0]
        if tag == "enum":
            return None if value in t[1] else f"{value!r} is not {describe(t)}"
        if tag == "ref":
            return None if isinstance(value, str) else f"expected a {t[1]} id, found {type(value).__name__}"
        if tag == "list":
            if not isinstance(value, list):
                return f"expected a list, found {type(value).__name__}"
            for i, item in enumerate(value):
                why = type_problem(item, t[1])
                if why:
                    return f"item {i + 1}: {why}"
            return None
        if tag == "object":
            if not isinstance(value, dict):
                return f"expected a mapping, found {type(value).__name__}"
            for key, sub in t[1].items():
                why = type_problem(value.get(key), sub)
                if why:
                    return f"{key}: {why}"
            return None
    if t in ("text", "user"):
        if isinstance(value, str):
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return f"expected text, found the number {value}; quote it to keep its exact text"
        return f"expected text, found {type(value).__name__}"
    if t == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else f"expected a whole number, found {value!r}"
    if t == "number":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return None if ok else f"expected a number, found {value!r}"
    if t == "amount":
        if isinstance(value, bool):
            return f"expected an amount, found {value!r}"
        if isinstance(value, float) and not math.isfinite(value):
            return f"expected an amount, found {value!r}"
        if isinstance(value, (int, float)):
            return None
        if not _AMOUNT_RE.fullmatch(str(value)):
            return f"expected an amount, found {value!r}"
        return None if parse_decimal(value) is not None else f"expected an amount, found {value!r}"
    if t == "bool":
        return None if isinstance(value, bool) else f"expected true or false, found {value!r}"
    if t == "date":
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return None
        if isinstance(value, str) and _date_text(value):
            return None
        return f"expected a date (YYYY-MM-DD), found {value!r}"
    if t in ("timestamp", "when"):
        if isinstance(value, dt.datetime):
            if value.tzinfo is None:
                return "timestamp without a time zone; add +01:00 or Z"
            return None
        if isinstance(value, dt.date) and t == "when":
            return None
        if isinstance(value, str) and (_timestamp_text(value) or (t == "when" and _date_text(value))):
            return None     # the same text quoted: what an editor's schema sees either way
        if isinstance(value, str) and _NAIVE_RE.fullmatch(value):
            return "timestamp without a time zone; add +01:00 or Z"
        return f"expected a {describe(t)}, found {value!r}"
    return None


def json_type(t: Type) -> dict[str, Any]:
    """The draft-07 JSON Schema of one field type."""
    if isinstance(t, tuple):
        tag = t[0]
        if tag == "enum":
            return {"type": "string", "enum": list(t[1])}
        if tag == "ref":
            return {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$", "description": f"id of a {t[1]}"}
        if tag == "list":
            return {"type": "array", "items": json_type(t[1])}
        return {
            "type": "object",
            "properties": {k: json_type(v) for k, v in t[1].items()},
            "additionalProperties": True,
        }
    # A YAML reader that makes Date objects of unquoted dates (js-yaml, so ajv's YAML
    # mode) hands the validator an object without properties: accepted as well, so no
    # editor rejects what `check` accepts.
    parsed = {"type": "object", "maxProperties": 0, "description": "a date a YAML reader has already parsed"}
    date = {"type": "string", "pattern": DATE_PATTERN}
    stamp = {"type": "string", "pattern": TIMESTAMP_PATTERN}
    schemas: dict[str, dict[str, Any]] = {
        "text": {"type": "string"},
        "user": {"type": "string", "description": "a user id from crmkit.yaml"},
        "int": {"type": "integer"},
        "number": {"type": "number"},
        "amount": {"type": ["number", "string"], "pattern": AMOUNT_PATTERN},
        "bool": {"type": "boolean"},
        "date": {"anyOf": [date, parsed], "description": "a date, YYYY-MM-DD"},
        "timestamp": {"anyOf": [stamp, parsed], "description": "a timestamp with a zone, 2026-11-23T09:30:00+01:00"},
        "when": {"anyOf": [date, stamp, parsed], "description": "a date or a timestamp with a zone"},
    }
    return schemas.get(t, {})


def json_schema(kind: str) -> dict[str, Any]:
    """The draft-07 JSON Schema of a kind, for editors (`crmkit schema --out DIR`)."""
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": f"https://crmkit.dev/schema/{kind}.json",
        "title": f"crmkit {kind}",
        "type": "object",
        "required": REQUIRED[kind],
        "properties": {name: json_type(t) for name, t in FIELDS[kind].items()},
        "additionalProperties": True,
    }


def coerce(kind: str, field: str, text: str) -> Any:
    """Turn `key=value` text from the command line into the field's type.

    Text fields stay text (a phone number is never an int); numbers, booleans and
    lists are parsed for the fields that hold them; unknown fields keep text.
    """
    from crmkit.errors import UsageError

    t = FIELDS.get(kind, {}).get(field.split(".")[0], "text")
    if "." in field:
        top = FIELDS.get(kind, {}).get(field.split(".")[0])
        if isinstance(top, tuple) and top[0] == "object":
            t = top[1].get(field.split(".", 1)[1], "text")
        else:
            t = "text"
    if isinstance(t, tuple) and t[0] == "list":
        return [item.strip() for item in text.split(",") if item.strip()]
    try:
        if t == "int":
            return int(text)
        if t == "number":
            return int(text) if re.fullmatch(r"-?\d+", text) else float(text)
        if t == "bool":
            low = text.lower()
            if low in ("true", "yes", "1"):
                return True
            if low in ("false", "no", "0"):
                return False
            raise ValueError(text)
        if t == "date":
            return dt.date.fromisoformat(text)
        if t in ("when", "timestamp"):
            return dt.date.fromisoformat(text) if _DATE_RE.fullmatch(text) else dt.datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{field}={text!r}: expected {describe(t)}") from None
    return text
