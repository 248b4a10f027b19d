"""Importing records: a plan (row by row: create, update, skip, reject, and why), then one commit.

The plan is a pure function of the rows, the mapping and the workspace, so
`--dry-run` shows exactly what a real run would do, and a second import of the
same file finds every row unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from crmkit.core import yamlio
from crmkit.core.check import field_problems
from crmkit.core.editing import set_path
from crmkit.core.errors import CrmkitError, UsageError
from crmkit.core.records import TITLE_FIELD, fold, new_id, slugify
from crmkit.core.schema import FIELDS, coerce

#: Column titles people use, folded (lowercase, no diacritics), mapped to fields.
ALIASES: dict[str, str] = {
    # English
    "name": "name", "full name": "name", "e-mail": "email", "email address": "email", "mail": "email",
    "telephone": "phone", "phone number": "phone", "mobile": "phone", "organisation": "company",
    "organization": "company", "job title": "title", "street": "address.street", "address": "address.street",
    "zip": "address.zip", "postal code": "address.zip", "postcode": "address.zip", "city": "address.city",
    "website": "domain", "web": "domain",
    # Swedish
    "namn": "name", "e-post": "email", "epost": "email", "telefon": "phone", "mobil": "phone",
    "foretag": "company", "titel": "title", "befattning": "title", "gatuadress": "address.street",
    "adress": "address.street", "postnummer": "address.zip", "postnr": "address.zip", "ort": "address.city",
    "postort": "address.city", "land": "country", "anteckningar": "notes", "bransch": "industry",
    "anstallda": "employees", "webbplats": "domain", "doman": "domain",
    # Norwegian
    "navn": "name", "firma": "company", "stilling": "title", "poststed": "address.city",
    "ansatte": "employees",
    # Hungarian
    "nev": "name", "telefonszam": "phone", "ceg": "company", "beosztas": "title", "iranyitoszam": "address.zip",
    "varos": "address.city", "cim": "address.street", "orszag": "country", "megjegyzes": "notes",
}

#: How existing records are matched, per kind.
MATCH_KEYS: dict[str, tuple[str, ...]] = {
    "contact": ("email",),
    "company": ("domain", "name"),
    "lead": ("email",),
    "deal": ("title",),
}


@dataclass
class RowPlan:
    line: int
    action: str            # create, update, skip, reject
    kind: str
    id: str | None
    reason: str = ""
    data: dict[str, Any] = field(default_factory=dict)     # full record for create, changes for update

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "action": self.action, "kind": self.kind, "id": self.id,
                "reason": self.reason, "fields": self.data}


@dataclass
class ImportPlan:
    source: str
    kind: str
    rows: list[RowPlan] = field(default_factory=list)
    companies: dict[str, dict[str, Any]] = field(default_factory=dict)   # new companies to create, by id

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)

    @property
    def summary(self) -> dict[str, int]:
        return {a: self.count(a) for a in ("create", "update", "skip", "reject")}


def load_mapping(pairs: list[str], mapping_file: Path | None) -> dict[str, str]:
    """--map "E-post=email" pairs and/or a YAML mapping file {column: field}."""
    mapping: dict[str, str] = {}
    if mapping_file is not None:
        data = yamlio.load_fast(mapping_file)
        if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
            raise CrmkitError("a mapping file is a YAML mapping of column title to field", path=str(mapping_file))
        mapping.update(data)
    for pair in pairs:
        column, sep, target = pair.partition("=")
        if not sep or not column.strip() or not target.strip():
            raise UsageError(f"--map {pair!r}: expected COLUMN=FIELD")
        mapping[column.strip()] = target.strip()
    return mapping


def resolve_columns(kind: str, header: list[str], mapping: dict[str, str]) -> dict[str, str]:
    """Column title -> field path; `-` or empty in the mapping ignores a column."""
    fields = FIELDS[kind]
    out: dict[str, str] = {}
    for column in header:
        if not column:
            continue
        if column in mapping:
            target = mapping[column]
        else:
            key = fold(column).strip()
            target = key if key in fields else ALIASES.get(key, re.sub(r"[^a-z0-9_.]+", "_", key).strip("_"))
            if kind == "deal" and target == "name":
                target = "title"
            if kind == "ticket" and target == "name":
                target = "subject"
        if target in ("", "-"):
            continue
        out[column] = target
    return out


def _company_key(ws: Any) -> Callable[[str], str | None]:
    """Find a company id by id, name or domain (folded)."""
    by: dict[str, str] = {}
    for rec in ws.records("company"):
        by[rec.id] = rec.id
        for key in ("name", "domain"):
            value = rec.get(key)
            if isinstance(value, str):
                by[fold(value.strip())] = rec.id

    def find(text: str) -> str | None:
        return by.get(text) or by.get(fold(text.strip()))

    return find


def _index(ws: Any, kind: str) -> dict[tuple[str, str], str]:
    keys = MATCH_KEYS[kind] + (TITLE_FIELD[kind],)
    index: dict[tuple[str, str], str] = {}
    for rec in ws.records(kind):
        for key in keys:
            value = rec.get(key)
            if isinstance(value, str) and value.strip():
                index[(key, fold(value.strip()))] = rec.id
    return index


def _get(data: dict[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def plan_import(ws: Any, kind: str, rows: list[Any], columns: dict[str, str], source: str) -> ImportPlan:
    """Decide, row by row, what an import would do; nothing is written."""
    if kind not in MATCH_KEYS:
        raise UsageError(f"import supports contact, company, lead and deal, not {kind}")
    plan = ImportPlan(source, kind)
    index = _index(ws, kind)
    find_company = _company_key(ws)
    taken = set(ws.index(kind))
    company_taken = set(ws.index("company"))
    records = ws.index(kind)
    now = ws.now()
    created_at: dict[str, int] = {}
    for row in rows:
        if "\0extra" in row.values:
            plan.rows.append(RowPlan(row.line, "reject", kind, None, "more cells than the header has columns"))
            continue
        data: dict[str, Any] = {}
        try:
            for column, target in columns.items():
                text = row.values.get(column, "")
                if text == "":
                    continue
                set_path(data, target, coerce(kind, target, text))
        except CrmkitError as exc:
            plan.rows.append(RowPlan(row.line, "reject", kind, None, exc.message))
            continue
        if kind in ("contact", "deal", "lead") and isinstance(data.get("company"), str):
            if kind == "lead":
                data["company_name"] = data.pop("company")
            else:
                name = data["company"]
                cid = find_company(name)
                if cid is None:
                    cid = slugify(name)
                    if cid not in plan.companies:
                        if cid in company_taken:
                            cid = new_id("company", {"name": name}, company_taken | set(plan.companies), now)
                        plan.companies[cid] = {"name": name, "created": now}
                data["company"] = cid
        if isinstance(data.get("email"), str):
            data["email"] = data["email"].strip()
        problems = field_problems(kind, data)
        if problems:
            plan.rows.append(RowPlan(row.line, "reject", kind, None, problems[0][2], data))
            continue
        match = None
        for key in MATCH_KEYS[kind]:
            value = data.get(key)
            if isinstance(value, str) and (key, fold(value.strip())) in index:
                match = index[(key, fold(value.strip()))]
                break
        if match is None and not any(data.get(k) for k in MATCH_KEYS[kind]):
            # No key in the row (a contact without email): fall back on the name, so a
            # second import of the same file still finds the record it made the first time.
            title = TITLE_FIELD[kind]
            value = data.get(title)
            if isinstance(value, str):
                match = index.get((title, fold(value.strip())))
        if match is None:
            if not data.get(TITLE_FIELD[kind]):
                plan.rows.append(RowPlan(row.line, "reject", kind, None, f"no {TITLE_FIELD[kind]}", data))
                continue
            rid = new_id(kind, data, taken, now)
            taken.add(rid)
            created_at[rid] = row.line
            for key in MATCH_KEYS[kind] + (TITLE_FIELD[kind],):
                value = data.get(key)
                if isinstance(value, str) and value.strip():
                    index[(key, fold(value.strip()))] = rid
            data.setdefault("created", now)
            plan.rows.append(RowPlan(row.line, "create", kind, rid, "new", data))
            continue
        if match in created_at:
            plan.rows.append(RowPlan(row.line, "reject", kind, match,
                                     f"same {_matched_by(kind, data, index, match)} as line {created_at[match]}"))
            continue
        existing = records.get(match)
        current = existing.data if existing else {}
        changes = {path: value for path, value in _flatten(data) if _get(current, path) != value}
        if not changes:
            plan.rows.append(RowPlan(row.line, "skip", kind, match, f"unchanged (matched by {_matched_by(kind, data, index, match)})"))
        else:
            plan.rows.append(RowPlan(row.line, "update", kind, match, "changed: " + ", ".join(sorted(changes)), changes))
    return plan


def _matched_by(kind: str, data: dict[str, Any], index: dict[tuple[str, str], str], rid: str) -> str:
    for key in MATCH_KEYS[kind] + (TITLE_FIELD[kind],):
        value = data.get(key)
        if isinstance(value, str) and index.get((key, fold(value.strip()))) == rid:
            return key
    return "key"


def _flatten(data: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in data.items():
        if isinstance(value, dict):
            out.extend(_flatten(value, f"{prefix}{key}."))
        else:
            out.append((f"{prefix}{key}", value))
    return out


def apply_import(ws: Any, plan: ImportPlan, command: str, progress: Callable[[int], None] | None = None) -> None:
    """Write the plan in one transaction and one commit."""
    summary = plan.summary
    message = (f"import {summary['create']} new and {summary['update']} changed {plan.kind} records "
               f"from {Path(plan.source).name}")
    with ws.transaction(message, command) as tx:
        for cid, data in plan.companies.items():
            tx.create("company", data, cid)
        for row in plan.rows:
            if row.action == "create":
                tx.create(plan.kind, row.data, row.id)
            elif row.action == "update":
                changes = row.data

                def change(doc: Any, changes: dict[str, Any] = changes) -> None:
                    for path, value in changes.items():
                        set_path(doc, path, value)

                tx.update(plan.kind, row.id, change)
            if progress:
                progress(1)
        rejected = [r for r in plan.rows if r.action == "reject"]
        if rejected:
            tx.note(f"rejected rows: {', '.join(str(r.line) for r in rejected)}")
