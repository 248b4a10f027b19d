"""Which existing record an imported row or card is: stable keys only, never a bare name.

A row matches a record by, in order:

| kind    | keys                                                                      |
|---------|---------------------------------------------------------------------------|
| contact | `id`; `uid` (a vCard UID); any email; name and phone together; name and company together, only between records that have no email, phone or UID |
| lead    | `id`; email; name and phone; name and company (records with neither)       |
| company | `id`; domain; name                                                        |
| deal    | `id`; `external_id` (another CRM's id); title and company together        |

A name alone never matches: two cards "Amelie Alpha" with different phones are
two people. Within one file a record is claimed by the first row that finds or
creates it; a later row finding the same record is rejected ("same email as line
4"), on every import of that file, so a rejected row stays rejected and never
updates the record another row made.
"""

from __future__ import annotations

import re
from typing import Any

from crmkit.store.records import fold

STABLE: dict[str, tuple[str, ...]] = {
    "contact": ("uid", "email"),
    "lead": ("email",),
    "company": ("domain", "name"),
    "deal": ("external_id",),
}
#: Composite keys: (name of the key, its fields, only between records lacking every stable key and phone).
COMPOSITE: dict[str, tuple[tuple[str, tuple[str, ...], bool], ...]] = {
    "contact": (("name and phone", ("name", "phone"), False), ("name and company", ("name", "company"), True)),
    "lead": (("name and phone", ("name", "phone"), False), ("name and company", ("name", "company_name"), True)),
    "company": (),
    "deal": (("title and company", ("title", "company"), False),),
}


def norm(key: str, value: Any) -> str:
    """A key as compared: folded text; a domain without scheme, www. or path; a phone's digits."""
    text = str(value).strip()
    if key == "domain":
        from crmkit.people.dedupe import normal_domain

        return normal_domain(text) or ""
    if key == "phone":
        digits = re.sub(r"\D", "", text)
        return digits[-9:] if len(digits) >= 6 else ""   # +46 70 ... and 070 ... are the same number
    return " ".join(fold(text).split())


def _values(kind: str, data: dict[str, Any], key: str) -> list[str]:
    out: list[str] = []
    value = data.get(key)
    if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
        out.append(norm(key, value))
    if key == "email" and kind in ("contact", "lead"):
        for extra in data.get("emails") or []:
            v = extra.get("value") if isinstance(extra, dict) else None
            if isinstance(v, str) and v.strip():
                out.append(norm(key, v))
    return [v for v in out if v]


def keys_of(kind: str, data: dict[str, Any]) -> list[tuple[str, str]]:
    """Every key a record or row has, in matching order: (key name, normalised value)."""
    keys = [(key, v) for key in STABLE[kind] for v in _values(kind, data, key)]
    stable = bool(keys) or bool(_values(kind, data, "phone"))
    for label, fields, keyless_only in COMPOSITE[kind]:
        if keyless_only and stable:
            continue
        parts = [norm(f, data.get(f)) if isinstance(data.get(f), (str, int)) else "" for f in fields]
        # Between keyless records an empty company is a value too: "Amelie Alpha" with no company.
        if parts[0] and (all(parts) or keyless_only):
            keys.append((label, "\0".join(parts)))
    return keys


class Matcher:
    """The workspace's records by key, and the file's rows that claimed them."""

    def __init__(self, kind: str, records: Any) -> None:
        self.kind = kind
        self.index: dict[tuple[str, str], str | None] = {}
        for rec in records:
            self.add(rec.id, rec.data)
        self.claimed: dict[str, tuple[int, str]] = {}      # record id -> (line, key it was found by)

    def add(self, rid: str, data: dict[str, Any]) -> None:
        for key in keys_of(self.kind, data):
            if key in self.index and self.index[key] != rid and key[0] not in STABLE[self.kind]:
                self.index[key] = None       # a composite two records share is no key
            else:
                self.index.setdefault(key, rid)

    def find(self, data: dict[str, Any]) -> tuple[str, str] | None:
        """(record id, the key that found it), or None."""
        for key in keys_of(self.kind, data):
            rid = self.index.get(key)
            if rid:
                return rid, key[0]
        return None

    def claim(self, rid: str, line: int, how: str) -> str | None:
        """Why a row cannot have this record (an earlier row of the file has it), or None."""
        if rid in self.claimed:
            return f"same {how} as line {self.claimed[rid][0]}"
        self.claimed[rid] = (line, how)
        return None
