"""Likely duplicates, with the reason and a confidence; finding a contact by email.

Reasons, strongest first: the same email address (case ignored, and for Gmail the
dots and +tags it ignores itself), the same company domain, the same phone number
once both are in international form (E.164, through the `phonenumbers` library; a
number written without a country code is read in the record's country, else the
workspace's: `070-123 45 67` in Sweden is `+46701234567`), and very similar names
(diacritics folded, company forms such as AB, AS, Kft. ignored). Merging lives in
crmkit.people.merge.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crmkit.errors import UsageError
from crmkit.store.records import Record, fold

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace

#: Default region for phone numbers written without a country code, by workspace locale.
_REGION_OF_LOCALE = {"sv": "SE", "nb": "NO", "nn": "NO", "no": "NO", "hu": "HU", "da": "DK", "fi": "FI"}


@dataclass
class Duplicate:
    keep: str
    other: str
    reason: str
    confidence: float
    keep_name: str = ""
    other_name: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"a": self.keep, "b": self.other, "reason": self.reason, "confidence": self.confidence,
                "a_name": self.keep_name, "b_name": self.other_name}


def find_by_email(ws: Workspace, email: str) -> Record | None:
    """The contact that already has this address as `email` or in `emails` (case and spaces ignored).

    For `contact add` and the importers, so that a contact is never silently duplicated.
    """
    wanted = email.strip().casefold()
    if not wanted:
        return None
    records = ws.records("contact")
    for rec in records:   # a contact's primary address first, then the others
        value = rec.get("email")
        if isinstance(value, str) and value.strip().casefold() == wanted:
            return rec
    for rec in records:
        addresses = [e.get("value") for e in rec.get("emails") or [] if isinstance(e, dict)]
        if any(isinstance(a, str) and a.strip().casefold() == wanted for a in addresses):
            return rec
    return None


def normal_email(value: Any) -> str | None:
    """An address as a mail server sees it: lowercase; Gmail without dots and +tags."""
    if not isinstance(value, str) or "@" not in value:
        return None
    local, _, domain = value.strip().lower().rpartition("@")
    if domain in ("gmail.com", "googlemail.com"):
        local = local.split("+", 1)[0].replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"


def normal_phone(value: Any, region: str) -> str | None:
    """A phone number in E.164 (+46701234567), or None when it is not one."""
    if not isinstance(value, str) or not re.search(r"\d", value):
        return None
    import phonenumbers

    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normal_name(value: Any) -> str:
    """A name for comparing: diacritics folded, lowercase, company forms and punctuation dropped."""
    text = fold(str(value or ""))
    text = re.sub(r"\b(ab|as|asa|kft|zrt|ltd|inc|gmbh|oy|aps|bt|nyrt)\b", " ", text)
    return " ".join(re.sub(r"[^a-z0-9 ]+", " ", text).split())


def normal_domain(value: Any) -> str | None:
    """'https://www.Nordvik.no/kontakt' -> 'nordvik.no'."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().lower()
    text = re.sub(r"^[a-z]+://", "", text).split("/")[0]
    return text[4:] if text.startswith("www.") else text


def default_region(ws: Workspace, rec: Record) -> str:
    """Where a number without a country code is read: the record's country, else the workspace's.

    The workspace's is `phone_region` in crmkit.yaml if set, else the country of `locale`.
    """
    address = rec.get("address")
    country = rec.get("country") or (address.get("country") if isinstance(address, dict) else None)
    if isinstance(country, str) and len(country.strip()) == 2:
        return country.strip().upper()
    configured = ws.config.get("phone_region")
    if isinstance(configured, str) and len(configured) == 2:
        return configured.upper()
    locale = str(ws.config.get("locale", "sv_SE"))
    return locale.split("_")[-1].upper() if "_" in locale else _REGION_OF_LOCALE.get(locale, "SE")


def find_duplicates(ws: Workspace, kind: str, threshold: float = 0.88) -> list[Duplicate]:
    """Pairs of likely duplicates among contacts or companies, most certain first."""
    if kind not in ("contact", "company"):
        raise UsageError("dedupe works on contacts and companies")
    records = ws.records(kind)
    found: dict[tuple[str, str], Duplicate] = {}

    def add(a: str, b: str, reason: str, confidence: float) -> None:
        key = tuple(sorted((a, b)))
        best = found.get(key)  # type: ignore[arg-type]
        if best is None or confidence > best.confidence:
            found[key] = Duplicate(key[0], key[1], reason, confidence)  # type: ignore[index]

    def group(values: dict[str, list[str]], reason: str, confidence: float) -> None:
        for value, ids in values.items():
            for i, a in enumerate(ids):
                for b in ids[i + 1:]:
                    add(a, b, f"{reason} {value}", confidence)

    emails: dict[str, list[str]] = {}
    phones: dict[str, list[str]] = {}
    domains: dict[str, list[str]] = {}
    for rec in records:
        if kind == "contact":
            addresses = [rec.get("email")] + [e.get("value") for e in rec.get("emails") or [] if isinstance(e, dict)]
            for address in {normal_email(a) for a in addresses} - {None}:
                emails.setdefault(address, []).append(rec.id)  # type: ignore[arg-type]
        numbers = [rec.get("phone")] + [p.get("value") for p in rec.get("phones") or [] if isinstance(p, dict)]
        region = default_region(ws, rec)
        for number in {normal_phone(n, region) for n in numbers} - {None}:
            phones.setdefault(number, []).append(rec.id)  # type: ignore[arg-type]
        if kind == "company":
            domain = normal_domain(rec.get("domain"))
            if domain:
                domains.setdefault(domain, []).append(rec.id)
    group(emails, "same email", 0.99)
    group(phones, "same phone", 0.9)
    group(domains, "same domain", 0.95)
    # Token order ignored: Hungarian "Kovács Ádám" and "Ádám Kovács" are the same person.
    names = [(rec.id, " ".join(sorted(normal_name(rec.get("name")).split()))) for rec in records]
    names = [(rid, n) for rid, n in names if n]
    # Compare names only within the same first letter: quadratic over a letter, not the whole list.
    buckets: dict[str, list[tuple[str, str]]] = {}
    for rid, n in names:
        buckets.setdefault(n[0], []).append((rid, n))
    matcher = difflib.SequenceMatcher(None)
    for bucket in buckets.values():
        for i, (a, na) in enumerate(bucket):
            matcher.set_seq2(na)          # difflib caches what it learns about seq2
            for b, nb in bucket[i + 1:]:
                if na == nb:
                    ratio = 1.0
                else:
                    # Cheap upper bounds first: most pairs are ruled out without the full ratio.
                    if 2 * min(len(na), len(nb)) / (len(na) + len(nb)) < threshold:
                        continue
                    matcher.set_seq1(nb)
                    if matcher.real_quick_ratio() < threshold or matcher.quick_ratio() < threshold:
                        continue
                    ratio = matcher.ratio()
                if ratio >= threshold:
                    add(a, b, "same name" if ratio == 1.0 else f"similar names ({ratio:.0%})",
                        round(0.6 + 0.3 * ratio, 2))
    titles = {rec.id: str(rec.get("name") or "") for rec in records}
    for d in found.values():
        d.keep_name, d.other_name = titles.get(d.keep, ""), titles.get(d.other, "")
    return sorted(found.values(), key=lambda d: (-d.confidence, d.keep, d.other))
