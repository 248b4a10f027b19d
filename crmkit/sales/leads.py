"""The lead lifecycle: prospect -> qualified -> converted, or disqualified with a reason.

Converting a lead links it to (or creates) a contact, found by email, and a
company, found by the email's domain or by name; it then opens a deal in the
first pipeline stage. The deal's owner is the lead's owner at that moment (after
routing a qualified lead that is the person the rules chose, e.g. the sales
manager), unless another owner is given. Everything is written in one commit and
the lead keeps `converted: {contact, company, deal, at}`.

A JSON form submission (web hook, cron job) becomes a lead with `form_lead`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crmkit.errors import CrmkitError, UsageError
from crmkit.people.dedupe import find_by_email
from crmkit.store.editing import new_record
from crmkit.store.records import Record, fold, new_id

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace

STATUSES = ("prospect", "qualified", "converted", "disqualified")

#: Mail providers whose domain says nothing about the company.
FREE_MAIL = {
    "gmail.com", "googlemail.com", "hotmail.com", "hotmail.se", "outlook.com", "live.com", "live.se",
    "yahoo.com", "yahoo.se", "icloud.com", "me.com", "aol.com", "proton.me", "protonmail.com",
    "gmx.com", "gmx.de", "gmx.net", "web.de", "online.no", "telia.com", "freemail.hu", "citromail.hu",
    "mail.com", "msn.com",
}

#: Form field names people use, mapped to lead fields.
FORM_ALIASES = {
    "company": "company_name", "organisation": "company_name", "organization": "company_name",
    "company-name": "company_name", "full_name": "name", "fullname": "name", "e-mail": "email",
    "mail": "email", "telephone": "phone", "tel": "phone", "seats": "users", "message": "notes",
}


def _lead(ws: Workspace, ref: str) -> Record:
    rec = ws.get(ref, "lead")
    return rec


def qualify(ws: Workspace, ref: str, command: str) -> Record:
    """prospect (or disqualified) -> qualified."""
    rec = _lead(ws, ref)
    status = rec.data.get("status", "prospect")
    if status == "qualified":
        raise CrmkitError(f"{rec.ref} is qualified already")
    if status == "converted":
        raise CrmkitError(f"{rec.ref} is converted already (into {_converted_summary(rec)})")

    def change(doc: Any) -> None:
        doc["status"] = "qualified"
        if "disqualified_reason" in doc:
            del doc["disqualified_reason"]

    with ws.transaction(f"qualify {rec.ref}", command) as tx:
        tx.note(f"status: {status} -> qualified")
        tx.update("lead", rec.id, change)
    return ws.get(rec.ref)


def disqualify(ws: Workspace, ref: str, reason: str, command: str) -> Record:
    """Any open lead -> disqualified, with the reason kept on the lead."""
    if not reason or not reason.strip():
        raise UsageError("a reason is required: --reason \"...\"")
    rec = _lead(ws, ref)
    status = rec.data.get("status", "prospect")
    if status == "converted":
        raise CrmkitError(f"{rec.ref} is converted already (into {_converted_summary(rec)}); it cannot be disqualified")
    if status == "disqualified" and rec.data.get("disqualified_reason") == reason.strip():
        raise CrmkitError(f"{rec.ref} is disqualified already ({reason.strip()})")

    def change(doc: Any) -> None:
        doc["status"] = "disqualified"
        doc["disqualified_reason"] = reason.strip()

    with ws.transaction(f"disqualify {rec.ref}", command) as tx:
        tx.note(f"status: {status} -> disqualified")
        tx.note(f"reason: {reason.strip()}")
        tx.update("lead", rec.id, change)
    return ws.get(rec.ref)


def _converted_summary(rec: Record) -> str:
    conv = rec.data.get("converted") or {}
    return ", ".join(f"{k} {v}" for k, v in conv.items() if k != "at" and v) or "?"


def email_domain(email: Any) -> str | None:
    if not isinstance(email, str) or "@" not in email:
        return None
    domain = email.rsplit("@", 1)[1].strip().lower().rstrip(".")
    return domain or None


def find_company(ws: Workspace, domain: str | None, name: str | None) -> Record | None:
    """A company by the lead's email domain (not free mail), else by name (case and accents ignored)."""
    companies = ws.records("company")
    if domain and domain not in FREE_MAIL:
        for rec in companies:
            d = rec.data.get("domain")
            if isinstance(d, str) and d.strip().lower().removeprefix("www.") == domain.removeprefix("www."):
                return rec
    if name:
        wanted = _norm_company(name)
        for rec in companies:
            n = rec.data.get("name")
            if isinstance(n, str) and _norm_company(n) == wanted:
                return rec
    return None


def _norm_company(name: str) -> str:
    words = fold(name).replace(".", " ").replace(",", " ").split()
    suffixes = {"ab", "as", "asa", "kft", "zrt", "nyrt", "bt", "oy", "aps", "a/s", "gmbh", "ltd", "inc", "llc"}
    while len(words) > 1 and words[-1] in suffixes:
        words.pop()
    return " ".join(words)


@dataclass
class Conversion:
    lead: str
    contact: str
    contact_created: bool
    company: str | None
    company_created: bool
    deal: str
    owner: str | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


#: Fields of a lead that its deal takes over on conversion (besides company, contacts,
#: owner, value and `lead`): what the deal is about. Custom fields (none of the lead's
#: schema) go along too; the lead's own bookkeeping (status, routing, score, partner,
#: bounces) stays, and the person's and company's details go to the contact and company.
DEAL_CARRIES = ("source", "users", "interest", "tags")


def _carried(data: Any) -> list[tuple[str, Any]]:
    from crmkit.store.schema import COMMON, FIELDS

    known = set(FIELDS["lead"]) | set(FIELDS["deal"]) | set(COMMON) | {"updated", "updated_at", "events", "score"}
    pairs = [(key, data[key]) for key in DEAL_CARRIES if data.get(key) is not None]
    pairs += [(str(key), value) for key, value in data.items()
              if key not in known and value is not None and not str(key).startswith("_")]
    return pairs


def convert(ws: Workspace, ref: str, command: str, *, owner: str | None = None, title: str | None = None,
            value: Any = None) -> Conversion:
    """Create or link contact and company, open a deal in the first stage, mark the lead converted."""
    rec = _lead(ws, ref)
    data = rec.data
    status = data.get("status", "prospect")
    if status == "converted":
        raise CrmkitError(f"{rec.ref} is converted already (into {_converted_summary(rec)})")
    if status == "disqualified":
        raise CrmkitError(f"{rec.ref} is disqualified ({data.get('disqualified_reason', 'no reason')}); "
                          f"qualify it first: crmkit lead qualify {rec.id}")
    owner = owner or (data.get("owner") if isinstance(data.get("owner"), str) else None)
    if owner and ws.users and owner not in ws.users:
        raise UsageError(f"owner {owner!r} is not a user in crmkit.yaml")
    email = data.get("email") if isinstance(data.get("email"), str) else None
    now = ws.now()
    contact = find_by_email(ws, email) if email else None
    company = find_company(ws, email_domain(email), data.get("company_name"))
    if company is None and contact is not None and isinstance(contact.data.get("company"), str):
        company = ws.index("company").get(contact.data["company"])
    with ws.transaction(f"convert {rec.ref}", command) as tx:
        company_created = False
        if company is None and data.get("company_name"):
            cdata: dict[str, Any] = {"name": str(data["company_name"])}
            domain = email_domain(email)
            if domain and domain not in FREE_MAIL:
                cdata["domain"] = domain
            for key in ("country", "industry"):
                if data.get(key) is not None:
                    cdata[key] = data[key]
            if owner:
                cdata["owner"] = owner
            cdata["created"] = now
            company = tx.create("company", cdata)
            company_created = True
            tx.note(f"company {company.id} created")
        elif company is not None:
            tx.note(f"company {company.id} linked")
        contact_created = False
        if contact is None:
            pdata: dict[str, Any] = {"name": str(data.get("name") or rec.id)}
            for key in ("email", "phone", "title", "country", "language"):
                if data.get(key) is not None:
                    pdata[key] = data[key]
            if company is not None:
                pdata["company"] = company.id
            if owner:
                pdata["owner"] = owner
            pdata["created"] = now
            contact = tx.create("contact", pdata)
            contact_created = True
            tx.note(f"contact {contact.id} created")
        else:
            tx.note(f"contact {contact.id} linked (same email)")
            if company is not None and not contact.data.get("company"):
                cid = company.id
                tx.update("contact", contact.id, lambda doc: doc.__setitem__("company", cid))
        deal_title = title or _deal_title(data, company)
        pairs: list[tuple[str, Any]] = []
        if company is not None:
            pairs.append(("company", company.id))
        pairs.append(("contacts", [contact.id]))
        if owner:
            pairs.append(("owner", owner))
        if value is not None:
            pairs.append(("value", value))
        # A deal carries what it is about (DEAL_CARRIES and custom fields), not the lead's
        # own bookkeeping, which `lead:` leads back to.
        pairs += _carried(data)
        pairs.append(("lead", rec.id))
        ddata = new_record(ws, "deal", deal_title, pairs)
        deal_id = new_id("deal", ddata, ws.taken_ids("deal"), now)
        deal = tx.create("deal", ddata, deal_id)
        tx.note(f"deal {deal.id} opened in stage {ddata['stage']}" + (f" for {owner}" if owner else ""))
        conv = {"contact": contact.id, "company": company.id if company is not None else None,
                "deal": deal.id, "at": now}

        def mark(doc: Any) -> None:
            doc["status"] = "converted"
            from ruamel.yaml.comments import CommentedMap

            block = CommentedMap((k, v) for k, v in conv.items() if v is not None)
            doc["converted"] = block

        tx.update("lead", rec.id, mark)
        tx.message = f"convert {rec.ref} into deal/{deal.id}"
    return Conversion(rec.id, contact.id, contact_created, company.id if company is not None else None,
                      company_created, deal.id, owner)


def _deal_title(data: dict[str, Any], company: Record | None) -> str:
    who = company.data.get("name") if company is not None else (data.get("company_name") or data.get("name"))
    what = data.get("interest")
    return f"{who}: {what}" if what else f"{who}: new business"


# -- form submissions ---------------------------------------------------------------------


def form_data(text: str) -> dict[str, Any]:
    """A JSON form submission as lead fields; refused with a clear message when unusable."""
    from crmkit.store.fieldcheck import reserved_fields

    if not text.strip():
        raise CrmkitError("no JSON form on stdin; nothing was written")
    try:
        raw = json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except RecursionError:  # [[[[... 100,000 deep: hostile input, not our bug
        raise CrmkitError("the form is nested too deeply to be a form; nothing was written") from None
    except json.JSONDecodeError as exc:
        raise CrmkitError(f"the form is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}; "
                          "nothing was written") from None
    if not isinstance(raw, dict):
        raise CrmkitError("the form must be a JSON object of field: value; nothing was written")
    data: dict[str, Any] = {}
    for key, value in raw.items():
        if value is None or value == "":
            continue
        name = form_key(key)
        if not name or "/" in name or name in ("id", "routing", "converted") or name in reserved_fields("lead"):
            raise CrmkitError(f"the form field {key!r} cannot be set; nothing was written")
        data[name] = _form_value(name, value)
    if "name" not in data and ("first_name" in data or "last_name" in data):
        data["name"] = " ".join(str(data.pop(k)) for k in ("first_name", "last_name") if k in data)
    missing = [k for k in ("name", "email") if not isinstance(data.get(k), str) or not data[k].strip()]
    if missing:
        raise CrmkitError(f"the form lacks {' and '.join(missing)} (a lead needs a name and an email); "
                          "nothing was written")
    if "@" not in data["email"]:
        raise CrmkitError(f"the form's email {data['email']!r} is not an email address; nothing was written")
    return data


def _no_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not a number JSON allows", name, 0)


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise json.JSONDecodeError(f"{text} is too large a number", text, 0)
    return value


def form_key(key: Any) -> str:
    """A form's field name as a lead field: "Company Name" -> company_name, "E-mail" -> email.

    Field names become lowercase words joined by `_`, so the condition language can
    name them (`company_size > 50`); known aliases map to the lead's own fields.
    """
    import re

    text = str(key).strip()
    norm = re.sub(r"[\s-]+", "_", text.lower())
    if text.lower() in FORM_ALIASES:
        return FORM_ALIASES[text.lower()]
    return FORM_ALIASES.get(norm, norm)


def _form_value(name: str, value: Any) -> Any:
    """Forms send everything as text: numbers become numbers only where the field counts.

    Text that is no number ("many" users) is kept as it came, so no lead is lost;
    rules comparing it as a number do not match, and `crmkit check` reports it.
    """
    from crmkit.store.schema import FIELDS

    t = FIELDS["lead"].get(name, "any")
    if isinstance(value, str):
        value = value.strip()
        if t in ("int", "number") and value.lstrip("-").isdigit():
            return int(value)
        if isinstance(t, tuple) and t[0] == "list":  # "erp, vip" from a text box
            return [v.strip() for v in value.split(",") if v.strip()]
        return value
    if isinstance(value, float) and value.is_integer() and t in ("int", "number"):
        return int(value)
    if isinstance(value, list) and t != "any" and isinstance(t, tuple) and t[0] == "list":
        return [str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v for v in value]
    return value
