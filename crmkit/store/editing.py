"""Creating and changing records: defaults for new records, KEY=VALUE assignments."""

from __future__ import annotations

import os
from typing import Any

from crmkit.errors import CrmkitError, UsageError
from crmkit.store import yamlio
from crmkit.store.records import TITLE_FIELD
from crmkit.store.schema import coerce

PROTECTED = {"id"}


def actor(ws: Any) -> str:
    """Who is acting, for histories and events: $CRMKIT_USER, else the login name."""
    return os.environ.get("CRMKIT_USER") or os.environ.get("USER") or "crmkit"


def parse_assignments(kind: str, pairs: list[str]) -> list[tuple[str, Any]]:
    """['users=100', 'address.city=Oslo'] -> typed (key, value) pairs."""
    out = []
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"{pair!r}: expected KEY=VALUE")
        if key in PROTECTED:
            raise UsageError("the id is the file name; it cannot be set")
        out.append((key, coerce(kind, key, text)))
    return out


def first_stage(ws: Any) -> str:
    stages = (ws.config.get("pipeline") or {}).get("stages") or []
    return str(stages[0]["name"]) if stages else "lead"


def new_record(ws: Any, kind: str, title: str | None, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
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
