"""`crmkit check`: every problem in the workspace at once, as data."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from crmkit.errors import CrmkitError, Problem
from crmkit.store import yamlio
from crmkit.store.records import FOLDERS, ID_RE, KINDS, REF_FIELDS, Record
from crmkit.store.schema import FIELDS, REQUIRED, type_problem


def field_problems(kind: str, data: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(field, code, message) for a record's own content: required fields and types."""
    found: list[tuple[str, str, str]] = []
    for name in REQUIRED[kind]:
        if data.get(name) in (None, ""):
            found.append((name, "required", f"{kind} needs a {name}"))
    fields = FIELDS[kind]
    for name, value in data.items():
        t = fields.get(name)
        if t is None:
            continue  # custom fields are allowed and kept
        why = type_problem(value, t)
        if why:
            found.append((name, "type", f"{name}: {why}"))
    return found


def config_problems(ws: Any) -> list[Problem]:
    """The parts of crmkit.yaml the foundation relies on: users and pipeline stages."""
    path = "crmkit.yaml"
    problems: list[Problem] = []
    lines = yamlio.key_lines(ws.config_path)
    users = ws.config.get("users")
    if users is not None and not isinstance(users, dict):
        problems.append(Problem(path, lines.get("users"), "config", "users must be a mapping of user id to details"))
    from crmkit.store.config_keys import CONFIG_KEYS

    for key in ws.config:
        if key not in CONFIG_KEYS:
            import difflib

            close = difflib.get_close_matches(str(key), list(CONFIG_KEYS), n=1)
            problems.append(Problem(path, lines.get(str(key)), "config-key",
                                    f"unknown key {key!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
                                    + f"; crmkit.yaml has {', '.join(CONFIG_KEYS)}"))
    stages = (ws.config.get("pipeline") or {}).get("stages")
    if stages is not None:
        if not isinstance(stages, list) or not all(isinstance(s, dict) and s.get("name") for s in stages):
            problems.append(Problem(path, lines.get("pipeline.stages"), "config",
                                    "pipeline.stages must be a list of {name, probability, ...}"))
    return problems


def stage_names(ws: Any) -> set[str]:
    stages = (ws.config.get("pipeline") or {}).get("stages") or []
    return {str(s.get("name")) for s in stages if isinstance(s, dict)}


def record_problems(ws: Any, rec: Record) -> list[tuple[str, str, str]]:
    """Content, references, owners and stages of one record."""
    found = field_problems(rec.kind, rec.data)
    users = ws.users
    owner = rec.data.get("owner")
    if users and isinstance(owner, str) and owner not in users:
        found.append(("owner", "unknown-user", f"owner {owner!r} is not a user in crmkit.yaml"))
    if rec.kind == "deal":
        stages = stage_names(ws)
        stage = rec.data.get("stage")
        if stages and isinstance(stage, str) and stage not in stages:  # other types: field_problems
            found.append(("stage", "unknown-stage", f"stage {stage!r} is not a pipeline stage in crmkit.yaml"))
    for field, kind in REF_FIELDS.items():
        value = rec.data.get(field)
        if value is None or FIELDS[rec.kind].get(field) is None:
            continue
        targets = value if isinstance(value, list) else [value]
        for target in targets:
            if isinstance(target, str) and target not in ws.index(kind):
                found.append((field, "missing-ref", f"{field}: no {kind} with id {target!r}"))
    return found


def _line(lines: dict[str, int], field: str, message: str) -> int | None:
    """The most precise line for a problem: `address.zip` rather than `address` when the message says so."""
    path, rest = field, message[len(field) + 2:] if message.startswith(field + ": ") else ""
    while True:
        head, sep, tail = rest.partition(": ")
        candidate = f"{path}.{head}"
        if not sep or candidate not in lines:
            break
        path, rest = candidate, tail
    return lines.get(path)


def check_records(ws: Any, progress: Callable[[int], None] | None = None) -> list[Problem]:
    """Everything wrong with crmkit.yaml, ids, records and references, sorted by file and line.

    The domains' own files (rules, segments, templates) are checked by crmkit.check,
    which runs this first.
    """
    problems = config_problems(ws)
    for kind in KINDS:
        folder = ws.root / FOLDERS[kind]
        recs = ws.records(kind)
        seen_folded: dict[str, str] = {}
        if folder.is_dir():
            for name in sorted(os.listdir(folder)):
                if name.startswith(".") or not name.endswith(".yaml"):
                    continue
                rid = name[:-5]
                rel = f"{FOLDERS[kind]}/{name}"
                if not ID_RE.match(rid):
                    problems.append(Problem(rel, None, "bad-id",
                                            f"{rid!r} is not a valid id (lowercase letters, digits, '-')"))
                other = seen_folded.get(rid.lower())
                if other:
                    problems.append(Problem(rel, None, "duplicate-id", f"same id as {other} (ids are case-insensitive)"))
                seen_folded[rid.lower()] = rel
        for rec in recs:
            found = record_problems(ws, rec)
            if found:
                lines = yamlio.key_lines(rec.path)
                rel = ws.rel(rec.path)
                for field, code, message in found:
                    problems.append(Problem(rel, _line(lines, field, message), code, message))
        if progress:
            progress(len(recs))
    # Unreadable files were collected as warnings while reading; in check they are problems.
    problems.extend(Problem(w.path, w.line, "yaml", w.message) for w in ws.warnings)
    ws.warnings.clear()
    problems.sort(key=lambda p: (p.path, p.line or 0, p.code))
    return problems


def validate_data(ws: Any, kind: str, record_id: str, data: dict[str, Any], path: Path) -> None:
    """Refuse to write a record that `check` would complain about (add, set, edit)."""
    rec = Record(kind, record_id, data, path)
    found = record_problems(ws, rec)
    if found:
        field, _code, message = found[0]
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise CrmkitError(f"{message}{more}; nothing was written", path=ws.rel(path))
