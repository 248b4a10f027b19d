"""Likely duplicates, with the reason and a confidence, and merging one record into another."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from crmkit.core.errors import UsageError
from crmkit.core.records import Record, fold

#: Default region for phone numbers written without a country code, by workspace locale.
_REGION_OF_LOCALE = {"sv": "SE", "nb": "NO", "nn": "NO", "no": "NO", "hu": "HU", "da": "DK", "fi": "FI"}


@dataclass
class Duplicate:
    keep: str
    other: str
    reason: str
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return {"a": self.keep, "b": self.other, "reason": self.reason, "confidence": self.confidence}


def normal_email(value: Any) -> str | None:
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
    text = fold(str(value or ""))
    text = re.sub(r"\b(ab|as|asa|kft|zrt|ltd|inc|gmbh|oy|aps|bt|nyrt)\b", " ", text)
    return " ".join(re.sub(r"[^a-z0-9 ]+", " ", text).split())


def normal_domain(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().lower()
    text = re.sub(r"^[a-z]+://", "", text).split("/")[0]
    return text[4:] if text.startswith("www.") else text


def default_region(ws: Any, rec: Record) -> str:
    country = rec.get("country") or (rec.get("address") or {}).get("country")
    if isinstance(country, str) and len(country) == 2:
        return country.upper()
    locale = str(ws.config.get("locale", "sv_SE"))
    return locale.split("_")[-1] if "_" in locale else _REGION_OF_LOCALE.get(locale, "SE")


def find_duplicates(ws: Any, kind: str, threshold: float = 0.88) -> list[Duplicate]:
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
    names = [(rec.id, normal_name(rec.get("name"))) for rec in records]
    names = [(rid, n) for rid, n in names if n]
    # Compare names only within the same first letter: quadratic over a letter, not the whole list.
    buckets: dict[str, list[tuple[str, str]]] = {}
    for rid, n in names:
        buckets.setdefault(n[0], []).append((rid, n))
    for bucket in buckets.values():
        for i, (a, na) in enumerate(bucket):
            for b, nb in bucket[i + 1:]:
                ratio = 1.0 if na == nb else difflib.SequenceMatcher(None, na, nb).ratio()
                if ratio >= threshold:
                    add(a, b, "same name" if ratio == 1.0 else f"similar names ({ratio:.0%})",
                        round(0.6 + 0.3 * ratio, 2))
    return sorted(found.values(), key=lambda d: (-d.confidence, d.keep, d.other))


# -- merge ----------------------------------------------------------------------------


def merged_fields(keep: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """What changes on the kept record: the other's value where the kept one has none; lists joined."""
    changes: dict[str, Any] = {}
    for key, value in other.items():
        if key in ("created", "merged_into"):
            continue
        mine = keep.get(key)
        if mine in (None, "", [], {}):
            changes[key] = value
        elif isinstance(mine, list) and isinstance(value, list):
            joined = list(mine) + [v for v in value if v not in mine]
            if joined != mine:
                changes[key] = joined
        elif isinstance(mine, dict) and isinstance(value, dict):
            sub = merged_fields(mine, value)
            if sub:
                changes[key] = {**mine, **sub}
    if keep.get("email") and other.get("email") and normal_email(keep["email"]) != normal_email(other["email"]):
        extra = list(changes.get("emails", keep.get("emails") or []))
        if not any(isinstance(e, dict) and e.get("value") == other["email"] for e in extra):
            changes["emails"] = extra + [{"type": "other", "value": other["email"]}]
    if keep.get("phone") and other.get("phone") and keep["phone"] != other["phone"]:
        extra = list(changes.get("phones", keep.get("phones") or []))
        if not any(isinstance(p, dict) and p.get("value") == other["phone"] for p in extra):
            changes["phones"] = extra + [{"type": "other", "value": other["phone"]}]
    return changes


def plan_merge(ws: Any, keep_ref: str, other_ref: str) -> tuple[Record, Record, dict[str, Any], list[tuple[Record, str]]]:
    """The kept and merged records, the kept record's changes and every reference to move."""
    keep = ws.get(keep_ref)
    other = ws.get(other_ref, keep.kind)
    if keep.kind != other.kind:
        raise UsageError(f"cannot merge a {other.kind} into a {keep.kind}")
    if keep.id == other.id:
        raise UsageError("a record cannot be merged into itself")
    return keep, other, merged_fields(keep.data, other.data), ws.referrers(other)


def apply_merge(ws: Any, keep_ref: str, other_ref: str, command: str) -> dict[str, Any]:
    """Merge OTHER into KEEP, move references, leave a tombstone; one commit."""
    with ws.transaction(f"merge {other_ref} into {keep_ref}", command) as tx:
        keep, other, changes, refs = plan_merge(ws, keep_ref, other_ref)
        tx.message = f"merge {other.ref} into {keep.ref}"

        def update_keep(doc: Any) -> None:
            for key, value in changes.items():
                doc[key] = value

        tx.update(keep.kind, keep.id, update_keep)
        moved = []
        for rec, field in refs:
            def move(doc: Any, field: str = field) -> None:
                value = doc.get(field)
                if isinstance(value, list):
                    new = [keep.id if v == other.id else v for v in value]
                    doc[field] = list(dict.fromkeys(new))
                elif value == other.id:
                    doc[field] = keep.id

            tx.update(rec.kind, rec.id, move)
            moved.append(rec.ref)
        title = other.title
        tx.delete(other.kind, other.id)
        tx.create(other.kind, {"merged_into": keep.id, "merged_at": ws.now(), "was": title}, other.id)
        tx.note(f"fields taken from {other.ref}: {', '.join(sorted(changes)) or 'none'}")
        if moved:
            tx.note("references moved: " + ", ".join(moved))
    return {"kept": keep.ref, "merged": other.ref, "fields": sorted(changes), "moved": moved}

