"""Importing records: a plan (row by row: create, update, skip, reject, and why), then one commit.

The plan is a pure function of the rows, the mapping and the workspace, so
`--dry-run` shows exactly what a real run would do, and a second import of the
same file finds every row unchanged.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmkit.errors import CrmkitError, UsageError
from crmkit.exchange.columns import convert
from crmkit.exchange.titles import key as title_key
from crmkit.store.editing import new_record, set_path
from crmkit.store.fieldcheck import field_problems
from crmkit.store.records import TITLE_FIELD, Record, check_id, fold, get_path, new_id, slugify
from crmkit.store.schema import FIELDS

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace

#: The keys whose case and spacing do not count (ASA@x.se is asa@x.se); matching is crmkit.exchange.matching.
MATCH_KEYS: dict[str, tuple[str, ...]] = {
    "contact": ("email", "uid"),
    "company": ("domain", "name"),
    "lead": ("email",),
    "deal": ("external_id",),
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
    layout: str | None = None                  # the known export layout recognised by its header
    columns: dict[str, str] = field(default_factory=dict)      # column title -> field, as resolved
    unknown_columns: list[str] = field(default_factory=list)   # kept as custom fields, titles unknown
    notes: list[tuple[int, str]] = field(default_factory=list)  # (line, problem): a value skipped or not kept
    unkept: dict[str, int] = field(default_factory=dict)       # what was not imported, and how often
    strict_issues: int = 0                     # notes and unkept values that --strict refuses

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)

    @property
    def summary(self) -> dict[str, int]:
        return {a: self.count(a) for a in ("create", "update", "skip", "reject")}


def _company_key(ws: Workspace) -> Callable[[str], str | None]:
    """Find a company id by id, name or domain (folded)."""
    by: dict[str, str] = {}
    for rec in ws.records("company"):
        by[rec.id] = rec.id
        for key in ("name", "domain"):
            value = rec.get(key)
            if isinstance(value, str):
                by[fold(value.strip())] = rec.id

    # A company merged into another is found as the one it lives on as.
    for rid, target in ws.tombstones("company").items():
        by.setdefault(rid, target)

    def find(text: str) -> str | None:
        return by.get(text) or by.get(fold(text.strip())) or by.get(slugify(text))

    return find




ON_MATCH = ("update", "merge", "skip")


def plan_import(ws: Workspace, kind: str, rows: list[Any], columns: dict[str, str], source: str,
                on_match: str = "update", layout: Any = None,
                value_map: dict[str, dict[str, str]] | None = None) -> ImportPlan:
    """Decide, row by row, what importing CSV rows would do; nothing is written.

    Each row's cells become field values (`convert`; with a known `layout`, its
    columns are combined first: name parts, numbered emails and phones), then
    `plan_records` decides. Columns that map to no known field are listed in the
    plan's `unknown_columns`.
    """
    items: list[Item] = []
    locale = str(ws.config.get("locale", "sv_SE"))    # reads a bare "1,234" (1.234 in Sweden, 1234 in the US)
    # Hungarian sheets (Vezetéknév, Keresztnév) write the family name first: Kovács Ádám.
    family_first = any(title_key(c) in _HUNGARIAN_NAME_TITLES for c in columns)
    for row in rows:
        if "\0extra" in row.values:
            items.append(Item(row.line, None, "more cells than the header has columns"))
            continue
        data: dict[str, Any] = {}
        try:
            values = dict(row.values)
            if layout is not None:
                data, values = layout.apply(kind, values, skip=set(columns), value_map=value_map, locale=locale)
            for column, target in columns.items():
                text = values.get(column, "")
                if text == "":
                    continue
                if value_map and target in value_map:
                    text = value_map[target].get(title_key(text), text)
                value = convert(kind, target, text, locale)
                if isinstance(value, list) and isinstance(data.get(target), list):
                    value = data[target] + value        # two columns into one list: both kept
                set_path(data, target, value)
        except CrmkitError as exc:
            items.append(Item(row.line, None, exc.message))
            continue
        compose_name(kind, data, family_first)
        items.append(Item(row.line, data))
    plan = plan_records(ws, kind, items, source, on_match)
    # An unknown column only matters when it holds something (Google writes dozens of empty ones).
    filled = {column for row in rows for column, text in row.values.items() if text.strip()}
    plan.unknown_columns = [c for c in unknown_columns(kind, columns) if c in filled]
    plan.columns = dict(columns)
    if layout is not None:
        plan.layout = layout.name
        header = list(rows[0].values) if rows else []
        for column in header:
            if (column and column in filled and not layout.handles(column) and column not in columns
                    and column != "\0extra"):
                plan.unknown_columns.append(column)
                plan.columns[column] = f"extra.{column}"
    return plan


_HUNGARIAN_NAME_TITLES = {"vezeteknev", "csaladnev", "keresztnev", "utonev"}


def compose_name(kind: str, data: dict[str, Any], family_first: bool = False) -> None:
    """A contact or lead with name parts but no name gets "given additional family" as its name
    ("family given" from a Hungarian sheet); a contact without either is named by its
    nickname, company, email or phone, in that order.

    The parts stay in `name_parts`, so `export vcard` writes N from them.
    """
    parts = data.get("name_parts")
    if kind in ("contact", "lead") and not data.get("name") and isinstance(parts, dict):
        order = (("prefix", "family", "given", "additional", "suffix") if family_first
                 else ("prefix", "given", "additional", "family", "suffix"))
        name = " ".join(str(parts[k]).strip() for k in order if str(parts.get(k) or "").strip())
        if name:
            data["name"] = name
    if kind == "contact" and not data.get("name"):
        # a row of a company's switchboard or a bare address (Google's "Organization Name" only):
        # named as a vCard without FN is, by its nickname, company, email or phone
        for fallback in ("nickname", "company", "email", "phone"):
            if isinstance(data.get(fallback), str) and data[fallback].strip():
                data["name"] = data[fallback].strip()
                break
    if kind == "lead" and isinstance(parts, dict):
        data.pop("name_parts")    # leads keep a name only


def unknown_columns(kind: str, columns: dict[str, str]) -> list[str]:
    """Columns kept as a custom field because no known title or field name matched them.

    A column already spelt as a field name (`customer_no`, as `export csv` writes
    custom fields) is deliberate, not unknown.
    """
    known = set(FIELDS[kind])
    return [column for column, target in columns.items()
            if target.split(".")[0] not in known and column != target]


@dataclass
class Item:
    """One row or card as field values (or why it has none), before matching."""

    line: int
    data: dict[str, Any] | None
    error: str = ""


def plan_records(ws: Workspace, kind: str, items: list[Item], source: str, on_match: str = "update") -> ImportPlan:
    """Decide, item by item, what an import would do; nothing is written.

    An item that matches an existing record (crmkit.exchange.matching: by `id`,
    then stable keys such as email, never a bare name) is never a second record.
    `on_match` says what happens to it: `update` (default) sets the fields the row
    has to its values and keeps the others; `merge` only fills fields the record
    lacks (lists joined), as `contact add --merge` does; `skip` leaves the record
    as it is. A record found or made by an earlier row of the same file rejects
    any later row that finds it too.
    """
    from crmkit.exchange.matching import Matcher

    if on_match not in ON_MATCH:
        raise UsageError(f"on_match must be one of {', '.join(ON_MATCH)}")
    if kind not in MATCH_KEYS:
        raise UsageError(f"import supports contact, company, lead and deal, not {kind}")
    plan = ImportPlan(source, kind)
    matcher = Matcher(kind, ws.records(kind))
    find_company = _company_key(ws)
    taken = ws.taken_ids(kind)
    company_taken = ws.taken_ids("company")
    records = ws.index(kind)
    now = ws.now()
    for item in items:
        if item.data is None:
            plan.rows.append(RowPlan(item.line, "reject", kind, None, item.error))
            continue
        data = item.data
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
        # An `id` column (as `export csv` writes) names the record: it matches first, and a
        # new record takes it when it is free, so export then import gives the same ids.
        wanted_id = data.pop("id", None)
        if wanted_id is not None:
            try:
                wanted_id = check_id(str(wanted_id).strip().lower())
            except CrmkitError as exc:
                plan.rows.append(RowPlan(item.line, "reject", kind, None, f"id: {exc.message}", data))
                continue
        problems = field_problems(kind, data)
        if problems:
            plan.rows.append(RowPlan(item.line, "reject", kind, None, problems[0][2], data))
            continue
        found = (wanted_id, "id") if wanted_id in records else matcher.find(data)
        if found is None:
            if not data.get(TITLE_FIELD[kind]):
                plan.rows.append(RowPlan(item.line, "reject", kind, None, f"no {TITLE_FIELD[kind]}", data))
                continue
            rid = wanted_id if wanted_id and wanted_id not in taken else new_id(kind, data, taken, now)
            # The same defaults as `add`: a lead's status, a deal's first stage and its history, created.
            full = new_record(ws, kind, None, list(data.items()))
            why = _record_problem(ws, kind, rid, full, set(plan.companies))
            if why:
                plan.rows.append(RowPlan(item.line, "reject", kind, None, why, data))
                continue
            taken.add(rid)
            matcher.add(rid, full)
            matcher.claim(rid, item.line, "key")
            plan.rows.append(RowPlan(item.line, "create", kind, rid, "new", full))
            continue
        match, how = found
        clash = matcher.claim(match, item.line, how)
        if clash:
            plan.rows.append(RowPlan(item.line, "reject", kind, match, clash))
            continue
        existing = records.get(match)
        current = existing.data if existing else {}
        if on_match == "skip":
            plan.rows.append(RowPlan(item.line, "skip", kind, match, f"exists (matched by {how}); not changed"))
            continue
        changes = {path: value for path, value in _flatten(data)
                   if get_path(current, path) != value and not _same_key(kind, path, get_path(current, path), value)}
        if on_match == "merge":
            changes = _fill_only(current, changes)
        if changes:
            after = copy.deepcopy(current)
            for path, value in changes.items():
                set_path(after, path, value)
            why = _record_problem(ws, kind, match, after, set(plan.companies))
            if why:
                plan.rows.append(RowPlan(item.line, "reject", kind, match, why, changes))
                continue
        if not changes:
            plan.rows.append(RowPlan(item.line, "skip", kind, match, f"unchanged (matched by {how})"))
        else:
            plan.rows.append(RowPlan(item.line, "update", kind, match,
                                     f"changed: {', '.join(sorted(changes))} (matched by {how})", changes))
    # Only companies that an accepted row refers to are created: a rejected row leaves nothing behind.
    used = {r.data.get("company") for r in plan.rows if r.action in ("create", "update")}
    plan.companies = {cid: data for cid, data in plan.companies.items() if cid in used}
    return plan


def _record_problem(ws: Workspace, kind: str, rid: str, data: dict[str, Any], new_companies: set[str]) -> str | None:
    """Why the record a row would leave behind fails `crmkit check`, or None.

    The same checks as `check` (types, owner, stage, references), so an import never
    commits a record that check then rejects; companies the import creates count as there.
    """
    from crmkit.store.validate import record_problems

    for field_name, code, message in record_problems(ws, Record(kind, rid, data)):
        if code == "missing-ref" and field_name == "company" and data.get("company") in new_companies:
            continue
        return message
    return None


def _fill_only(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """The changes that fill what `current` lacks; lists are joined instead of replaced."""
    out: dict[str, Any] = {}
    for path, value in changes.items():
        old = get_path(current, path)
        if old is None or old == "" or old == []:
            out[path] = value
        elif isinstance(old, list) and isinstance(value, list):
            joined = list(old) + [v for v in value if v not in old]
            if joined != list(old):
                out[path] = joined
    return out


def _same_key(kind: str, path: str, old: Any, new: Any) -> bool:
    from crmkit.exchange.matching import norm

    """A match key that differs only in case or spacing (ASA@x.se vs asa@x.se) is not a change."""
    return (path in MATCH_KEYS[kind] and isinstance(old, str) and isinstance(new, str)
            and norm(path, old) == norm(path, new))


def _flatten(data: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in data.items():
        if isinstance(value, dict):
            out.extend(_flatten(value, f"{prefix}{key}."))
        else:
            out.append((f"{prefix}{key}", value))
    return out


def _shape(plan: ImportPlan) -> list[tuple[Any, ...]]:
    return [(r.line, r.action, None if r.action == "create" else r.id, r.reason) for r in plan.rows]


def apply_import(ws: Workspace, plan: ImportPlan, command: str, progress: Callable[[int], None] | None = None,
                 replan: Callable[[], ImportPlan] | None = None) -> None:
    """Write the plan in one transaction and one commit.

    With `replan`, the plan is made again once the workspace lock is held; if another
    writer changed what it decides in the meantime, nothing is written.
    """
    summary = plan.summary
    message = (f"import {summary['create']} new and {summary['update']} changed {plan.kind} records "
               f"from {Path(plan.source).name}")
    with ws.transaction(message, command) as tx:
        tx.need_space(files=summary["create"] + summary["update"] + len(plan.companies))
        if replan is not None:
            ws.invalidate()
            if _shape(replan()) != _shape(plan):
                raise CrmkitError("the workspace changed while the import was planned; nothing was written; "
                                  "run the import again")
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

                assert row.id is not None  # an update row names the record it changes
                tx.update(plan.kind, row.id, change)
            if progress:
                progress(1)
        rejected = [r for r in plan.rows if r.action == "reject"]
        if rejected:
            tx.note(f"rejected rows: {', '.join(str(r.line) for r in rejected)}")
