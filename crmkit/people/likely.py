"""Before a new contact is written: is it probably someone we already have?

`contact add "Bjørn Ødegård"` used to create `bjorn-odegard-2` without a word. A new
contact with the same name (diacritics and case folded), the same email address or
the same phone number (compared in E.164) as an existing one is refused with a
message naming it; `--force` adds it anyway, `--merge` fills the existing one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crmkit.store.records import Record

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace


def likely_duplicate(ws: Workspace, data: dict[str, Any]) -> tuple[Record, str] | None:
    """The first existing contact that looks like `data`, and why (same name/email/phone)."""
    from crmkit.people.dedupe import default_region, normal_email, normal_name, normal_phone

    name = normal_name(data.get("name")) if data.get("name") else ""
    email = normal_email(data.get("email"))
    probe = Record("contact", "", data, ws.root)
    phone = normal_phone(data.get("phone"), default_region(ws, probe)) if data.get("phone") else None
    for rec in ws.records("contact"):
        if email and normal_email(rec.get("email")) == email:
            return rec, f"the same email {data.get('email')}"
        if name and normal_name(rec.get("name")) == name:
            return rec, f"the same name {rec.get('name')}"
        if phone and rec.get("phone") and normal_phone(rec.get("phone"), default_region(ws, rec)) == phone:
            return rec, f"the same phone {rec.get('phone')}"
    return None
