"""The top-level keys of crmkit.yaml, with what each is for.

One list for `crmkit check` (which warns about any other key: usually a typo such
as `curency:`) and for the editor schema of crmkit.yaml. A new setting is added here.
"""

from __future__ import annotations

CONFIG_KEYS: dict[str, str] = {
    "name": "The workspace's (your company's) name, used in emails and offers.",
    "timezone": "Default time zone, such as Europe/Stockholm.",
    "locale": "Default locale for money and dates, such as sv_SE.",
    "currency": "Default currency (ISO 4217), such as SEK.",
    "phone_region": "Country (two letters) for phone numbers written without a country code.",
    "users": "People who own records: id -> {name, email, team, role}.",
    "teams": "Teams: name -> [user ids].",
    "pools": "Routing pools: name -> {strategy, members, fallback, ...}.",
    "pipeline": "Pipeline stages with probabilities, and currency rates.",
    "offers": "Offer defaults: vat, rounding, validity_days.",
    "smtp": "The SMTP server: host, port, security, user, password_env, cafile, timeout.",
    "mail": "Email: from, unsubscribe (one text or per language), unsubscribe_url.",
    "calendars": "Business calendars: name -> {timezone, hours, holidays, exceptions, day}.",
    "sla": "SLA policies: at_risk and policies [{id, when, calendar, pause_on, targets}].",
    "tickets": "Ticket settings: reply_to_closed (follow_up or reopen).",
    "team": "Team use over git: router_branch (where route, tick and mail send may run), stable_ids.",
    "inbox": "Email that arrives: maildir, support, sales, max_attachment_mb, create_contacts, imap.",
    "git": "The identity crmkit commits as where git has none: {name, email}.",
}
