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
from typing import Any

from crmkit.errors import CrmkitError, UsageError
from crmkit.exchange.columns import convert
from crmkit.store.editing import new_record, set_path
from crmkit.store.records import TITLE_FIELD, Record, check_id, fold, get_path, new_id, slugify
from crmkit.store.validate import field_problems

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


def _company_key(ws: Any) -> Callable[[str], str | None]:
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


def _norm(key: str, value: str) -> str:
    """A match key as compared: folded text; a domain without scheme, www. or path."""
    if key == "domain":
        from crmkit.people.dedupe import normal_domain

        return normal_domain(value) or ""
    return fold(value.strip())


def _index(ws: Any, kind: str) -> dict[tuple[str, str], str]:
    keys = MATCH_KEYS[kind] + (TITLE_FIELD[kind],)
    index: dict[tuple[str, str], str] = {}
    for rec in ws.records(kind):
        for key in keys:
            value = rec.get(key)
            if isinstance(value, str) and value.strip():
                index[(key, _norm(key, value))] = rec.id
        if kind in ("contact", "lead"):
            # A contact's other addresses find it too: never a second record for the same person.
            for extra in rec.get("emails") or []:
                value = extra.get("value") if isinstance(extra, dict) else None
                if isinstance(value, str) and value.strip():
                    index.setdefault(("email", fold(value.strip())), rec.id)
    return index


ON_MATCH = ("update", "merge", "skip")


def plan_import(ws: Any, kind: str, rows: list[Any], columns: dict[str, str], source: str,
                on_match: str = "update") -> ImportPlan:
    """Decide, row by row, what an import would do; nothing is written.

    A row that matches an existing record (by `id`, then the kind's key: email for
    contacts and leads, domain then name for companies, title for deals; a record
    without a key by its name) is never a second record. `on_match` says what
    happens to it: `update` (default) sets the fields the row has to its values and
    keeps the others; `merge` only fills fields the record lacks (lists joined), as
    `contact add --merge` does; `skip` leaves the record as it is.
    """
    if on_match not in ON_MATCH:
        raise UsageError(f"on_match must be one of {', '.join(ON_MATCH)}")
    if kind not in MATCH_KEYS:
        raise UsageError(f"import supports contact, company, lead and deal, not {kind}")
    plan = ImportPlan(source, kind)
    index = _index(ws, kind)
    find_company = _company_key(ws)
    taken = ws.taken_ids(kind)
    company_taken = ws.taken_ids("company")
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
                set_path(data, target, convert(kind, target, text))
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
        # An `id` column (as `export csv` writes) names the record: it matches first, and a
        # new record takes it when it is free, so export then import gives the same ids.
        wanted_id = data.pop("id", None)
        if wanted_id is not None:
            try:
                wanted_id = check_id(str(wanted_id).strip().lower())
            except CrmkitError as exc:
                plan.rows.append(RowPlan(row.line, "reject", kind, None, f"id: {exc.message}", data))
                continue
        problems = field_problems(kind, data)
        if problems:
            plan.rows.append(RowPlan(row.line, "reject", kind, None, problems[0][2], data))
            continue
        match = wanted_id if wanted_id in records else None
        for key in MATCH_KEYS[kind]:
            value = data.get(key)
            if match is None and isinstance(value, str) and (key, _norm(key, value)) in index:
                match = index[(key, _norm(key, value))]
                break
        # what the messages say it was matched by: the id column wins when it named the record
        how = "id" if match is not None and match == wanted_id else None
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
            rid = wanted_id if wanted_id and wanted_id not in taken else new_id(kind, data, taken, now)
            # The same defaults as `add`: a lead's status, a deal's first stage and its history, created.
            full = new_record(ws, kind, None, list(data.items()))
            why = _record_problem(ws, kind, rid, full, set(plan.companies))
            if why:
                plan.rows.append(RowPlan(row.line, "reject", kind, None, why, data))
                continue
            taken.add(rid)
            created_at[rid] = row.line
            for key in MATCH_KEYS[kind] + (TITLE_FIELD[kind],):
                value = data.get(key)
                if isinstance(value, str) and value.strip():
                    index[(key, _norm(key, value))] = rid
            plan.rows.append(RowPlan(row.line, "create", kind, rid, "new", full))
            continue
        if match in created_at:
            plan.rows.append(RowPlan(row.line, "reject", kind, match,
                                     f"same {how or _matched_by(kind, data, index, match)} as line {created_at[match]}"))
            continue
        existing = records.get(match)
        current = existing.data if existing else {}
        if on_match == "skip":
            plan.rows.append(RowPlan(row.line, "skip", kind, match,
                                     f"exists (matched by {how or _matched_by(kind, data, index, match)}); not changed"))
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
                plan.rows.append(RowPlan(row.line, "reject", kind, match, why, changes))
                continue
        if not changes:
            plan.rows.append(RowPlan(row.line, "skip", kind, match, f"unchanged (matched by {how or _matched_by(kind, data, index, match)})"))
        else:
            plan.rows.append(RowPlan(row.line, "update", kind, match, "changed: " + ", ".join(sorted(changes)), changes))
    # Only companies that an accepted row refers to are created: a rejected row leaves nothing behind.
    used = {r.data.get("company") for r in plan.rows if r.action in ("create", "update")}
    plan.companies = {cid: data for cid, data in plan.companies.items() if cid in used}
    return plan


def _record_problem(ws: Any, kind: str, rid: str, data: dict[str, Any], new_companies: set[str]) -> str | None:
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
    """A match key that differs only in case or spacing (ASA@x.se vs asa@x.se) is not a change."""
    return (path in MATCH_KEYS[kind] and isinstance(old, str) and isinstance(new, str)
            and _norm(path, old) == _norm(path, new))


def plan_vcard_import(ws: Any, cards: list[Any], source: str, on_match: str = "update") -> ImportPlan:
    """The plan for importing parsed vCards (crmkit.io.vcard.Card) as contacts.

    Cards go through the same planning as CSV rows (matching by email, companies by
    name, idempotence); the lists of further emails and phones, which no CSV cell
    holds, are then set on the plan directly.
    """
    from crmkit.io.csvfmt import Row

    rows: list[Any] = []
    bad: list[RowPlan] = []
    for card in cards:
        if card.error:
            bad.append(RowPlan(card.line, "reject", "contact", None, card.error))
            continue
        values = {k: v for k, v in card.contact.items() if not isinstance(v, (dict, list))}
        for key, value in (card.contact.get("address") or {}).items():
            values[f"address.{key}"] = value
        if card.company:
            values["company"] = card.company
        rows.append(Row(card.line, values))
    columns = {key: key for row in rows for key in row.values}
    plan = plan_import(ws, "contact", rows, columns, source, on_match)
    by_line = {card.line: card for card in cards}
    existing = ws.index("contact")
    for row in plan.rows:
        card = by_line.get(row.line)
        if card is None or row.action == "reject":
            continue
        for many in ("emails", "phones"):
            if many not in card.contact:
                continue
            current = existing.get(row.id) if row.id else None
            wanted = card.contact[many]
            if row.action != "create" and current is not None and on_match == "merge":
                have = list(current.get(many) or [])
                wanted = have + [e for e in wanted if e not in have]
            if row.action == "create":
                row.data[many] = wanted
            elif on_match == "skip":
                continue
            elif current is None or current.get(many) != wanted:
                row.data[many] = wanted
                if row.action == "skip":
                    row.action, row.reason = "update", f"changed: {many}"
                elif many not in row.reason:
                    row.reason += f", {many}"
    plan.rows.extend(bad)
    plan.rows.sort(key=lambda r: r.line)
    return plan


def _matched_by(kind: str, data: dict[str, Any], index: dict[tuple[str, str], str], rid: str) -> str:
    for key in MATCH_KEYS[kind] + (TITLE_FIELD[kind],):
        value = data.get(key)
        if isinstance(value, str) and index.get((key, _norm(key, value))) == rid:
            return key
    return "id"


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


def apply_import(ws: Any, plan: ImportPlan, command: str, progress: Callable[[int], None] | None = None,
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

                tx.update(plan.kind, row.id, change)
            if progress:
                progress(1)
        rejected = [r for r in plan.rows if r.action == "reject"]
        if rejected:
            tx.note(f"rejected rows: {', '.join(str(r.line) for r in rejected)}")
