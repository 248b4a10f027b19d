"""One record's own fields: which only crmkit writes (reserved and computed), and what the
rest may hold (required fields, types, email addresses). Reads no other record.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crmkit.store.schema import FIELDS, REQUIRED, type_problem

if TYPE_CHECKING:
    pass


#: Fields crmkit keeps itself; no command line, form, import or edit may write them.
#: `merged_into`/`merged_at` make a tombstone (only `merge` writes one: a record set
#: merged_into by hand would vanish from every listing). The computed fields are
#: derived on read (conditions/views.py COMPUTED; a test keeps the two alike).
RESERVED: frozenset[str] = frozenset({"merged_into", "merged_at"})
#: A customer's value figures (crmkit.sales.value), computed for companies and contacts.
VALUE_FIELDS = frozenset({"lifetime_value", "won_deals", "first_purchase", "last_purchase", "open_pipeline",
                           "average_deal", "recency_days", "recency", "frequency", "monetary", "rfm",
                           "rfm_score", "tier"})
COMPUTED_FIELDS: dict[str, frozenset[str]] = {
    "lead": frozenset({"score", "band"}),
    "ticket": frozenset({"sla", "rating"}),
    "company": frozenset({"bought"}) | VALUE_FIELDS,
    "contact": frozenset({"bought", "sentiment"}) | VALUE_FIELDS,
}


#: Fields holding one email address; `emails` holds a list of {type, value}.
EMAIL_FIELDS = ("email",)
MAX_EMAIL = 254


def reserved_fields(kind: str) -> frozenset[str]:
    """The fields of `kind` that only crmkit writes."""
    return RESERVED | COMPUTED_FIELDS.get(kind, frozenset()) | {"id"}


def email_problem(value: Any) -> str | None:
    """Why `value` is not one plain email address, or None.

    The rule (documented in the README): what `email.utils.parseaddr` reads back as
    exactly the same address, one `@` with text on both sides, a dot-free-edged domain,
    at most 254 characters, and none of CR, LF, whitespace, `,` `;` `<` `>` `"` `(` `)`
    `[` `]` `\\`: those would add recipients or headers when the address is mailed.
    """
    if not isinstance(value, str):
        return None  # the type check speaks of it
    from email.utils import parseaddr

    bad = sorted({c for c in value if c in ',;<>"()[]\\' or c.isspace() or ord(c) < 32})
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        return f"{value!r} is not a plain email address (it holds {shown})"
    local, at, domain = value.rpartition("@")
    if (not at or not local or not domain or "@" in local or len(value) > MAX_EMAIL
            or domain.startswith(".") or domain.endswith(".") or ".." in domain
            or parseaddr(value) != ("", value)):
        return f"{value!r} is not a plain email address (name@example.com)"
    return None


def field_problems(kind: str, data: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(field, code, message) for a record's own content: required fields, types, emails."""
    found: list[tuple[str, str, str]] = []
    for name in REQUIRED[kind]:
        if data.get(name) in (None, ""):
            found.append((name, "required", f"{kind} needs a {name}"))
    fields = FIELDS[kind]
    for name, value in data.items():
        t = fields.get(name)
        if t is None:
            continue  # custom fields are allowed and kept
        why = type_problem(value, t)
        if why:
            found.append((name, "type", f"{name}: {why}"))
        elif name in EMAIL_FIELDS:
            why = email_problem(value)
            if why:
                found.append((name, "email", f"{name}: {why}"))
        elif name == "emails" and isinstance(value, list):
            for i, item in enumerate(value):
                why = email_problem(item.get("value")) if isinstance(item, dict) else None
                if why:
                    found.append((name, "email", f"{name}: item {i + 1}: {why}"))
                    break
    return found
