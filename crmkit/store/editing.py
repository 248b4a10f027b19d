"""Creating and changing records: defaults for new records, KEY=VALUE assignments."""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

from crmkit.errors import CrmkitError, UsageError
from crmkit.store import yamlio
from crmkit.store.fieldcheck import reserved_fields
from crmkit.store.records import TITLE_FIELD
from crmkit.store.schema import coerce

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace

PROTECTED = {"id"}


def actor(ws: Workspace) -> str:
    """Who is acting, for histories and events: $CRMKIT_USER, else the login name."""
    return os.environ.get("CRMKIT_USER") or os.environ.get("USER") or "crmkit"


#: One part of a field name: a letter or _ first, then letters, digits, _ or - (any script).
KEY_PART = re.compile(r"[^\W\d][\w-]*")
OPS = ("=", "+=", "-=")


def check_key(key: str) -> str:
    """A field name (dotted for nested fields) or a UsageError saying why not."""
    if not key or not all(KEY_PART.fullmatch(part) for part in key.split(".")):
        raise UsageError(f"{key!r} is not a field name: letters, digits, _ and - "
                         "(starting with a letter), dotted for nested fields such as address.city")
    return key


def parse_changes(kind: str, pairs: list[str]) -> list[tuple[str, str, Any]]:
    """['users=100', 'tags+=vip', 'tags-=old'] -> (key, op, typed value); op is =, += or -=."""
    out = []
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip()
        op = "="
        if key.endswith(("+", "-")) and sep:
            op, key = key[-1] + "=", key[:-1].rstrip()
        if not sep or not key:
            raise UsageError(f"{pair!r}: expected KEY=VALUE (or KEY+=ITEM / KEY-=ITEM for lists)")
        if any(not part.strip() for part in key.split(".")):
            raise UsageError(f"{pair!r}: a key has no empty parts (a.b, not a..b or .a)")
        check_key(key)
        if key in PROTECTED:
            raise UsageError("the id is the file name; it cannot be set")
        top = key.split(".")[0]
        if top in reserved_fields(kind):
            raise UsageError(f"{top} is kept by crmkit and cannot be set"
                             + (" (crmkit merge writes it)" if top.startswith("merged_") else " (it is computed)"))
        value = coerce(kind, key, text)
        if op != "=" and not isinstance(value, list):
            value = [item.strip() for item in str(text).split(",") if item.strip()]
        out.append((key, op, value))
    return out


def parse_assignments(kind: str, pairs: list[str]) -> list[tuple[str, Any]]:
    """['users=100', 'address.city=Oslo'] -> typed (key, value) pairs (no += or -=)."""
    out = []
    for key, op, value in parse_changes(kind, pairs):
        if op != "=":
            raise UsageError(f"{key}{op}: adding to and removing from lists is for `crmkit set`")
        out.append((key, value))
    return out


def apply_change(doc: Any, key: str, op: str, value: Any) -> list[str]:
    """Apply one change; returns the items of a `-=` that were not in the list."""
    if op == "=":
        set_path(doc, key, value)
        return []
    node = doc
    parts = key.split(".")
    for part in parts[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
    current = node.get(parts[-1]) if isinstance(node, dict) else None
    if current is not None and not isinstance(current, list):
        raise UsageError(f"{key} is {current!r}, not a list: {op} works on lists (use {key}=... to replace it)")
    if op == "+=":
        if current is None:
            set_path(doc, key, list(value))
        else:
            current.extend(v for v in value if v not in current)
        return []
    absent = [v for v in value if current is None or v not in current]
    if current is not None:
        for v in value:
            while v in current:
                current.remove(v)
    return absent


def first_stage(ws: Workspace) -> str:
    stages = (ws.config.get("pipeline") or {}).get("stages") or []
    return str(stages[0]["name"]) if stages else "lead"


def new_record(ws: Workspace, kind: str, title: str | None, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """The data of a new record: its title, the given fields, then defaults that complete it."""
    data: dict[str, Any] = {}
    if title is not None:
        data[TITLE_FIELD[kind]] = title
    for key, value in pairs:
        set_path(data, key, value)
    now = ws.now()
    who = actor(ws)
    if kind == "lead":
        data.setdefault("status", "prospect")
    elif kind == "deal":
        data.setdefault("stage", first_stage(ws))
        if "value" in data:
            data.setdefault("currency", ws.config.get("currency", "SEK"))
        data.setdefault("stage_history", [{"stage": data["stage"], "at": now, "by": who}])
    elif kind == "ticket":
        data.setdefault("status", "new")
        data.setdefault("priority", "normal")
        data.setdefault("line", "first")
        data.setdefault("events", [{"type": "created", "at": now, "by": who}])
    elif kind == "activity":
        if "due" not in data:
            data.setdefault("at", now)
    data.setdefault("created", now)
    return data


def set_path(doc: Any, key: str, value: Any) -> None:
    """Set `a.b.c` in nested mappings, creating the mappings on the way."""
    parts = key.split(".")
    node = doc
    for part in parts[:-1]:
        nxt = node.get(part)
        if nxt is None:
            from ruamel.yaml.comments import CommentedMap

            nxt = CommentedMap() if hasattr(doc, "lc") else {}
            node[part] = nxt
        elif not isinstance(nxt, dict):
            raise UsageError(f"{key}: {part} is not a mapping")
        node = nxt
    node[parts[-1]] = value


def unset_path(doc: Any, key: str) -> bool:
    parts = key.split(".")
    node = doc
    for part in parts[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            return False
    if isinstance(node, dict) and parts[-1] in node:
        del node[parts[-1]]
        return True
    return False


def plain(doc: Any) -> dict[str, Any]:
    value = yamlio.to_plain(doc)
    if not isinstance(value, dict):
        raise CrmkitError("a record must be a YAML mapping")
    return value
