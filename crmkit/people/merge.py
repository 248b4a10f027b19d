"""Merging one record into another: a plan (field by field, every reference to move), then one commit.

The kept record keeps every value it has; it takes the other's value only where it
has none, and lists are joined (without repeats). A contact's second email or phone
is not lost: it joins `emails` / `phones` as `{type: other, value: ...}`. Every
reference to the merged record in any other record (top-level fields such as
`company` and `contacts`, and nested ones such as a lead's `converted.contact`)
moves to the kept one, and so do older tombstones that pointed at it. The merged
record's file stays behind as a tombstone:

    merged_into: anna-berg
    merged_at: 2026-11-23T10:00:00+01:00
    was: Anna B.

so `crmkit show anna-b` says where the record went, links in old commits and
e-mails still resolve, and no new record can take the id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crmkit.errors import UsageError
from crmkit.people.dedupe import normal_email, normal_phone
from crmkit.store.records import KINDS, Record, get_path, parse_ref
from crmkit.store.schema import FIELDS

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace

#: Fields that describe the file itself, not the customer; never copied from the merged record.
_OWN = {"created", "merged_into", "merged_at", "was"}


@dataclass
class RefMove:
    """One reference to move: `record`'s field at `path` (dotted; lists hold ids) from OTHER to KEEP."""

    record: Record
    path: str

    def to_dict(self) -> dict[str, str]:
        return {"record": self.record.ref, "field": self.path}


@dataclass
class MergePlan:
    keep: Record
    other: Record
    changes: dict[str, Any]                           # top-level field -> new value on the kept record
    moves: list[RefMove] = field(default_factory=list)
    tombstones: list[str] = field(default_factory=list)   # ids of older tombstones now pointing at KEEP
    conflicts: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # field -> (KEEP's kept, OTHER's dropped)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kept": self.keep.ref, "merged": self.other.ref, "fields": sorted(self.changes),
            "moved": [m.record.ref for m in self.moves],
            "references": [m.to_dict() for m in self.moves],
            "tombstones": sorted(self.tombstones),
            "conflicts": {k: {"kept": v[0], "dropped": v[1]} for k, v in sorted(self.conflicts.items())},
        }


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def merged_fields(keep: dict[str, Any], other: dict[str, Any], region: str = "SE") -> dict[str, Any]:
    """What changes on the kept record, field by field (pure).

    Keep what KEEP has; take OTHER's value where KEEP has none; join lists;
    merge mappings (such as `address`) the same way, key by key.
    """
    changes: dict[str, Any] = {}
    for key, value in other.items():
        if key in _OWN or _empty(value) or key in ("emails", "phones"):
            continue   # further emails and phones are joined by _keep_second, without repeats
        mine = keep.get(key)
        if _empty(mine):
            changes[key] = value
        elif isinstance(mine, list) and isinstance(value, list):
            joined = list(mine) + [v for v in value if v not in mine]
            if joined != list(mine):
                changes[key] = joined
        elif isinstance(mine, dict) and isinstance(value, dict):
            sub = merged_fields(mine, value, region)
            if sub:
                changes[key] = {**mine, **sub}
    _keep_second(changes, keep, other, "email", "emails", normal_email)
    _keep_second(changes, keep, other, "phone", "phones", lambda v: normal_phone(v, region) or v)
    return changes


def _keep_second(changes: dict[str, Any], keep: dict[str, Any], other: dict[str, Any], one: str, many: str,
                 normal: Any) -> None:
    """OTHER's primary email/phone, and its secondary ones, survive in KEEP's `emails`/`phones`."""
    mine = keep.get(one)
    base = list(keep.get(many) or [])
    have = {normal(mine)} if isinstance(mine, str) else set()
    have |= {normal(e["value"]) for e in base if isinstance(e, dict) and isinstance(e.get("value"), str)}
    candidates: list[dict[str, Any]] = []
    if isinstance(other.get(one), str) and not _empty(mine):
        candidates.append({"type": "other", "value": other[one]})
    candidates += [e for e in other.get(many) or [] if isinstance(e, dict) and isinstance(e.get("value"), str)]
    extra: list[dict[str, Any]] = []
    for entry in candidates:
        key = normal(entry["value"])
        if key not in have:
            have.add(key)
            extra.append(dict(entry))
    if extra:
        changes[many] = base + extra


def _ref_paths(kind: str) -> list[tuple[str, str]]:
    """(dotted path, referenced kind) of every reference field a record of `kind` may hold."""
    out: list[tuple[str, str]] = []
    for name, t in FIELDS[kind].items():
        if isinstance(t, tuple) and t[0] == "ref":
            out.append((name, t[1]))
        elif isinstance(t, tuple) and t[0] == "list" and isinstance(t[1], tuple) and t[1][0] == "ref":
            out.append((name, t[1][1]))
        elif isinstance(t, tuple) and t[0] == "object":
            for sub, st in t[1].items():
                if isinstance(st, tuple) and st[0] == "ref":
                    out.append((f"{name}.{sub}", st[1]))
    return out


def references_to(ws: Workspace, target: Record) -> list[RefMove]:
    """Every field in every record that holds `target`'s id, nested ones included."""
    moves: list[RefMove] = []
    for kind in KINDS:
        paths = [p for p, k in _ref_paths(kind) if k == target.kind]
        if not paths:
            continue
        for rec in ws.records(kind):
            if rec.kind == target.kind and rec.id == target.id:
                continue
            for path in paths:
                value = get_path(rec.data, path)
                if value == target.id or (isinstance(value, list) and target.id in value):
                    moves.append(RefMove(rec, path))
    return moves


def default_region(ws: Workspace, rec: Record) -> str:
    from crmkit.people.dedupe import default_region as region

    return region(ws, rec)


def plan_merge(ws: Workspace, keep_ref: str, other_ref: str) -> MergePlan:
    """Decide what merging OTHER into KEEP changes; nothing is written."""
    keep = ws.get(keep_ref)
    other = ws.get(other_ref, keep.kind if "/" not in other_ref else None)
    if keep.kind != other.kind:
        raise UsageError(f"cannot merge a {other.kind} ({other.ref}) into a {keep.kind} ({keep.ref})")
    if keep.id == other.id:
        raise UsageError("a record cannot be merged into itself")
    changes = merged_fields(keep.data, other.data, default_region(ws, keep))
    tombstones = sorted(rid for rid, target in ws.tombstones(keep.kind).items()
                        if target == other.id)
    conflicts = {key: (keep.data[key], value) for key, value in other.data.items()
                 if key not in _OWN and key not in changes and key not in ("email", "phone", "emails", "phones")
                 and not _empty(value) and not _empty(keep.data.get(key)) and keep.data.get(key) != value
                 and not (isinstance(value, (list, dict)) and type(keep.data.get(key)) is type(value))}
    return MergePlan(keep, other, changes, references_to(ws, other), tombstones, conflicts)


def _move(doc: Any, path: str, old: str, new: str) -> None:
    parts = path.split(".")
    node = doc
    for part in parts[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            return
    value = node.get(parts[-1])
    if isinstance(value, list):
        # Edit the list item by item so its comments and style survive.
        for i, v in enumerate(value):
            if v == old:
                value[i] = new
        for i in range(len(value) - 1, 0, -1):
            if value[i] in value[:i]:
                del value[i]
    elif value == old:
        node[parts[-1]] = new


def apply_merge(ws: Workspace, keep_ref: str, other_ref: str, command: str) -> dict[str, Any]:
    """Merge OTHER into KEEP, move every reference, leave a tombstone; one commit. Returns the plan as a dict."""
    with ws.transaction(f"merge {other_ref} into {keep_ref}", command) as tx:
        plan = plan_merge(ws, keep_ref, other_ref)
        keep, other = plan.keep, plan.other
        tx.message = f"merge {other.ref} into {keep.ref}"
        tx.reserved_ok = True  # merge alone writes tombstones (merged_into)

        if plan.changes:
            def update_keep(doc: Any) -> None:
                for key, value in plan.changes.items():
                    doc[key] = value

            tx.update(keep.kind, keep.id, update_keep)
        by_record: dict[str, list[RefMove]] = {}
        for move in plan.moves:
            by_record.setdefault(move.record.ref, []).append(move)
        for moves in by_record.values():
            rec = moves[0].record

            def move_all(doc: Any, moves: list[RefMove] = moves) -> None:
                for m in moves:
                    _move(doc, m.path, other.id, keep.id)

            tx.update(rec.kind, rec.id, move_all)
        for rid in plan.tombstones:
            def repoint(doc: Any) -> None:
                doc["merged_into"] = keep.id

            tx.update(keep.kind, rid, repoint)
        tx.delete(other.kind, other.id)
        tx.create(other.kind, {"merged_into": keep.id, "merged_at": ws.now(), "was": other.title}, other.id)
        tx.note(f"fields taken from {other.ref}: {', '.join(sorted(plan.changes)) or 'none'}")
        if plan.moves:
            tx.note("references moved: " + ", ".join(sorted(by_record)))
        for key, (kept, dropped) in sorted(plan.conflicts.items()):
            tx.note(f"kept {key} {kept!r} of {keep.ref} over {dropped!r} of {other.ref}")
    return plan.to_dict()


def follow_merge(ws: Workspace, ref: str) -> Record | None:
    """The record a merged id lives on as (following chains of merges), or None."""
    kind, rid = parse_ref(ref)
    for k in [kind] if kind else KINDS:
        seen = set()
        target = ws.tombstones(k).get(rid)
        while target and target not in seen:
            seen.add(target)
            rec = ws.index(k).get(target)
            if rec is not None:
                return rec
            target = ws.tombstones(k).get(target)
    return None
