"""Channel partners: companies that take leads from us, chosen by routing rules.

A partner is a company with `partner:` settings:

    partner:
      territory: country in [NO]          # a condition on the lead (the condition language)
      specialities: [ERP, BI]             # matched against the lead's `interest` (any, case ignored)
      capacity: 5                         # open leads at most (status prospect or qualified)
      contact: bjorn-odegard              # who gets the leads (a contact with an email) ...
      email: leads@partner.no             # ... or an address
      share: [company_name, country, industry, interest, users, name, email, phone]

A routing rule hands a lead over with `partner: COMPANY` (that partner) or `partner:
auto` (the first partner, by id, whose territory and specialities match and who has
room). The lead gets `partner: COMPANY`; the partner is mailed the lead's details,
once (the Message-ID follows from the lead and the partner), through the outbox and
`crmkit mail send`.

Data sharing: only the fields in `share` (default: company_name, country, industry,
interest, users, source) go into the mail, and the person's own details (name, email,
phone) only when the lead says `consent: {partners: true}`; otherwise the mail says
they were withheld.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from crmkit.errors import CrmkitError, Problem
from crmkit.store.records import Record

if TYPE_CHECKING:
    from crmkit.store.transaction import Transaction
    from crmkit.store.workspace import Workspace

DEFAULT_SHARE = ("company_name", "country", "industry", "interest", "users", "source")
PERSONAL = ("name", "email", "phone")
OPEN = ("prospect", "qualified")


def partners(ws: Workspace) -> dict[str, Record]:
    return {r.id: r for r in ws.records("company") if isinstance(r.get("partner"), dict)}


def _territory(ws: Workspace, rec: Record) -> Any:
    from crmkit.conditions.rulefile import parse_condition

    text = rec.get("partner").get("territory")
    if text is None:
        return None
    cond, problem = parse_condition(text, ws.rel(rec.path), None, f"partner {rec.id} territory")
    if problem is not None:
        raise CrmkitError(problem.message, path=ws.rel(rec.path))
    return cond


def load(ws: Workspace, lead: Mapping[str, Any]) -> dict[str, int]:
    """Open leads per partner now."""
    out: dict[str, int] = {}
    for rec in ws.records("lead"):
        if rec.get("partner") and rec.get("status", "prospect") in OPEN:
            out[str(rec.get("partner"))] = out.get(str(rec.get("partner")), 0) + 1
    return out


def fits(ws: Workspace, partner: Record, lead: Record, planned: int = 0) -> str | None:
    """Why the partner cannot take the lead, or None."""
    from crmkit.conditions.views import view

    settings = partner.get("partner")
    cond = _territory(ws, partner)
    if cond is not None and not cond.evaluate(view(ws, lead), ws.resolve):
        return "outside its territory"
    wanted = [str(s).lower() for s in settings.get("specialities") or []]
    interest = str(lead.get("interest") or "").lower()
    if wanted and not any(s in interest for s in wanted):
        return f"no speciality for {lead.get('interest') or 'an unknown interest'}"
    capacity = settings.get("capacity")
    if isinstance(capacity, int) and not isinstance(capacity, bool):
        if load(ws, lead.data).get(partner.id, 0) + planned >= capacity:
            return f"at capacity ({capacity} open leads)"
    return None


def choose(ws: Workspace, lead: Record, spec: str, planned: Mapping[str, int] | None = None) -> tuple[str | None, str]:
    """The partner for `lead` under a rule's `partner: spec`, and a note saying why."""
    planned = planned or {}
    found = partners(ws)
    if lead.get("partner") and (spec == "auto" or spec == lead.get("partner")) and str(lead.get("partner")) in found:
        return str(lead.get("partner")), f"stays with partner {lead.get('partner')}"
    if spec != "auto":
        if spec not in found:
            return None, f"partner {spec}: not a company with partner: settings; not handed over"
        why = fits(ws, found[spec], lead, planned.get(spec, 0))
        if why:
            return None, f"partner {spec}: {why}; not handed over"
        return spec, f"handed to partner {spec}"
    reasons = []
    for pid in sorted(found):
        why = fits(ws, found[pid], lead, planned.get(pid, 0))
        if why is None:
            return pid, f"handed to partner {pid} (partner: auto)"
        reasons.append(f"{pid} {why}")
    return None, "partner auto: no partner fits (" + ("; ".join(reasons) or "no partners") + "); not handed over"


def shared_fields(partner: Record, lead: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """What the partner may see of the lead, and whether personal details were withheld."""
    share = partner.get("partner").get("share") or list(DEFAULT_SHARE)
    consent = (lead.get("consent") or {}).get("partners") is True if isinstance(lead.get("consent"), dict) else False
    out: dict[str, Any] = {}
    withheld = False
    for key in share:
        key = str(key)
        if key in PERSONAL and not consent:
            withheld = withheld or lead.get(key) is not None
            continue
        if lead.get(key) not in (None, ""):
            out[key] = lead.get(key)
    return out, withheld


def recipient(ws: Workspace, partner: Record) -> tuple[str, str] | None:
    settings = partner.get("partner")
    if settings.get("contact"):
        person = ws.index("contact").get(str(settings["contact"]))
        if person is not None and person.get("email"):
            return str(person.get("name") or person.id), str(person.get("email"))
    if settings.get("email"):
        return str(partner.get("name") or partner.id), str(settings["email"])
    return None


#: How the Message-ID of a partner's hand-over mail begins (logged on the lead once sent).
HAND_OVER_ID = "crmkit.partner.lead."


def is_hand_over(activity: Any) -> bool:
    """Whether an activity is the logged hand-over mail to the partner: our note to them, not
    anyone's contact with the lead."""
    return str(activity.get("message_id") or "").lstrip("<").startswith(HAND_OVER_ID)


def notify(ws: Workspace, tx: Transaction, lead: Record, partner_id: str) -> str:
    """Write the partner's mail about the lead into the outbox; returns what happened."""
    from crmkit.io import eml
    from crmkit.marketing.mail import OUTBOX, sender

    partner = partners(ws).get(partner_id)
    if partner is None:
        return f"partner {partner_id}: not a partner; not notified"
    to = recipient(ws, partner)
    if to is None:
        return f"partner {partner_id}: no contact with an email (partner.contact or partner.email); not notified"
    fields, withheld = shared_fields(partner, lead.data)
    lines = [f"{ws.config.get('name', 'We')} hands you a lead ({lead.id}):", ""]
    lines += [f"{key}: {value}" for key, value in fields.items()]
    if withheld:
        lines += ["", "The person's contact details are withheld: they have not agreed to be shared with partners."]
    lines += ["", f"Please reply to this message when you have contacted them (lead {lead.id})."]
    digest = hashlib.sha256(f"{lead.id}|{partner_id}".encode()).hexdigest()[:12]
    message_id = f"{HAND_OVER_ID}{lead.id}.{digest}"
    me = sender(ws)
    subject = f"New lead: {fields.get('company_name') or fields.get('interest') or lead.id} [{lead.id}]"
    msg = eml.build(sender=eml.address(me["name"], me["email"] or "crmkit@localhost"),
                    to=eml.address(to[0], to[1]), subject=subject, text="\n".join(lines) + "\n", html=None,
                    when=ws.now(), headers={"X-Crmkit-Record": f"lead/{lead.id}", "X-Crmkit-Kind": "partner"},
                    message_id=message_id)
    rel = f"{OUTBOX}/partner-{lead.id}-{partner_id}-{digest}.eml"
    tx.write_file(rel, msg.as_bytes())
    return f"partner {partner_id} notified: {rel}" + (" (contact details withheld: no consent)" if withheld else "")


def check_partners(ws: Workspace) -> list[Problem]:
    """`crmkit check`: partner settings, and every lead's `partner` names a partner."""
    from crmkit.store import yamlio

    problems: list[Problem] = []
    found = partners(ws)
    for rec in found.values():
        rel = ws.rel(rec.path)
        line = yamlio.key_lines(rec.path).get("partner")
        settings = rec.get("partner")
        try:
            _territory(ws, rec)
        except CrmkitError as exc:
            problems.append(Problem(rel, line, "partner", exc.message))
        capacity = settings.get("capacity")
        if capacity is not None and (isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 0):
            problems.append(Problem(rel, line, "partner", f"partner.capacity is a whole number, not {capacity!r}"))
        contact = settings.get("contact")
        if contact is not None and str(contact) not in ws.index("contact"):
            problems.append(Problem(rel, line, "partner", f"partner.contact: no contact with id {contact!r}"))
        share = settings.get("share")
        if share is not None and not isinstance(share, list):
            problems.append(Problem(rel, line, "partner", "partner.share is a list of lead fields"))
        if recipient(ws, rec) is None:
            problems.append(Problem(rel, line, "partner", "partner: no contact with an email and no email: "
                                                          "leads handed over cannot be mailed"))
    for lead in ws.records("lead"):
        pid = lead.get("partner")
        if pid is not None and str(pid) not in found:
            problems.append(Problem(ws.rel(lead.path), yamlio.key_lines(lead.path).get("partner"), "partner",
                                    f"partner: {pid!r} is not a company with partner: settings"))
    from crmkit.sales.rules import load_rules

    for rule in load_rules(ws).rules:
        spec = getattr(rule, "partner", None)
        if spec and spec != "auto" and spec not in found:
            problems.append(Problem(rule.path, rule.line, "partner",
                                    f"rule {rule.id}: partner: {spec!r} is not a company with partner: settings"))
    return problems
