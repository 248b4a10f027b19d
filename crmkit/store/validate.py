"""`crmkit check`: every problem in the workspace at once, as data."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmkit.errors import CrmkitError, Problem
from crmkit.store import yamlio
from crmkit.store.fieldcheck import field_problems, reserved_fields
from crmkit.store.records import FOLDERS, ID_RE, KINDS, REF_FIELDS, Record
from crmkit.store.schema import FIELDS

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace

#: Problem codes that `check` lists without failing: crmkit works on, but something
#: is probably not what was meant (a misspelt key in crmkit.yaml is silently unused).
WARNING_CODES: frozenset[str] = frozenset({"config-key"})


#: Fields judged on every write of a record of the kind, changed by it or not: a deal's
#: company and value feed every pipeline figure, so no command (`deal move`, `set`, an
#: offer, an import) writes on a deal whose company is missing or whose value is no
#: amount; the line says which, and the deal is fixed with `set` or `edit` first.
ALWAYS_JUDGED: dict[str, frozenset[str]] = {"deal": frozenset({"company", "value"})}


def write_problems(ws: Workspace, kind: str, record_id: str, before: dict[str, Any] | None,
                   after: dict[str, Any], size: int, *, reserved_ok: bool = False) -> list[str]:
    """What makes a write unacceptable whichever command does it (the transaction asks).

    Checked on every create and update, cheaply (no other record is read): the size
    the file would have (the limit `show` enforces on read: what crmkit writes, it can
    read), reserved fields, and the fields this write changes: required fields, email
    syntax, references (the target's file exists) and owner. Fields left as they were
    are not judged here: a cron job that routes a lead is not stopped by an old,
    unrelated mistake in it; `check` reports those. The exception is ALWAYS_JUDGED
    (a deal's company and value): judged, type included, on every write.
    """
    from crmkit.store.yamlio import MAX_FILE_BYTES

    out: list[str] = []
    if size > MAX_FILE_BYTES:
        out.append(f"the record would be {size:,} bytes, more than the {MAX_FILE_BYTES:,} a record may be")
    before = before or {}
    changed = {k for k in set(before) | set(after) if before.get(k, _ABSENT) != after.get(k, _ABSENT)}
    if not reserved_ok:
        for name in sorted(changed & reserved_fields(kind)):
            out.append(f"{name} is kept by crmkit and cannot be written")
    if "merged_into" in after and reserved_ok:
        return out  # a tombstone: nothing else to judge
    always = ALWAYS_JUDGED.get(kind, frozenset()) & set(after)
    for name, code, message in field_problems(kind, after):
        # Types are judged by each command (add/set/edit refuse, a web form keeps an odd
        # value with a warning: a lost lead is worse); what no command may write is here.
        if name in always and code == "type":
            out.append(message)
        elif name in changed and code != "type" and (code != "required" or not before or name in before):
            out.append(message)
    for name in sorted(changed | always):
        ref_kind = REF_FIELDS.get(name)
        if ref_kind is None or FIELDS[kind].get(name) is None:
            continue
        new, old = after.get(name), before.get(name)
        targets = new if isinstance(new, list) else [new]
        olds = old if isinstance(old, list) else [old]
        for target in targets:
            if isinstance(target, str) and (name in always or target not in olds):
                ok = bool(ID_RE.match(target)) and (ws.root / FOLDERS[ref_kind] / f"{target}.yaml").is_file()
                if not ok:
                    out.append(f"{name}: no {ref_kind} with id {target!r}")
    if "owner" in changed and isinstance(after.get("owner"), str):
        users = ws.config.get("users")
        if users is not None and not isinstance(users, dict):
            out.append("crmkit.yaml: users is not a mapping of user id to details, so no owner can be checked")
        elif users and after["owner"] not in users:
            out.append(f"owner {after['owner']!r} is not a user in crmkit.yaml")
    return out


_ABSENT = object()


def config_problems(ws: Workspace, key_lines: Callable[[Path], dict[str, int]] = yamlio.key_lines) -> list[Problem]:
    """The parts of crmkit.yaml the foundation relies on: users and pipeline stages."""
    path = "crmkit.yaml"
    problems: list[Problem] = []
    lines = key_lines(ws.config_path)
    users = ws.config.get("users")
    if users is not None and not isinstance(users, dict):
        problems.append(Problem(path, lines.get("users"), "config", "users must be a mapping of user id to details"))
    from crmkit.store.configschema import config_key_problems

    problems.extend(config_key_problems(ws.config, path, lines))
    stages = (ws.config.get("pipeline") or {}).get("stages")
    if stages is not None:
        if not isinstance(stages, list) or not all(isinstance(s, dict) and s.get("name") for s in stages):
            problems.append(Problem(path, lines.get("pipeline.stages"), "config",
                                    "pipeline.stages must be a list of {name, probability, ...}"))
    return problems


def stage_names(ws: Workspace) -> set[str]:
    stages = (ws.config.get("pipeline") or {}).get("stages") or []
    return {str(s.get("name")) for s in stages if isinstance(s, dict)}


def record_problems(ws: Workspace, rec: Record) -> list[tuple[str, str, str]]:
    """Content, references, owners and stages of one record."""
    found = own_problems(ws, rec)
    for field, kind, target in references(rec):
        if target not in ws.index(kind):
            found.append((field, "missing-ref", f"{field}: no {kind} with id {target!r}"))
    return found


def own_problems(ws: Workspace, rec: Record) -> list[tuple[str, str, str]]:
    """What is wrong with one record on its own: content, owner and stage (no other record read)."""
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
    return found


def references(rec: Record) -> list[tuple[str, str, str]]:
    """(field, kind, id) for every reference the record makes, in field order."""
    out: list[tuple[str, str, str]] = []
    for field, kind in REF_FIELDS.items():
        value = rec.data.get(field)
        if value is None or FIELDS[rec.kind].get(field) is None:
            continue
        targets = value if isinstance(value, list) else [value]
        out.extend((field, kind, target) for target in targets if isinstance(target, str))
    return out


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


def check_records(ws: Workspace, progress: Callable[[int], None] | None = None) -> list[Problem]:
    """Everything wrong with crmkit.yaml, ids, records and references, sorted by file and line.

    The domains' own files (rules, segments, templates) are checked by crmkit.check,
    which runs this first.
    """
    key_lines = _KeyLines(ws)
    problems = config_problems(ws, key_lines)
    checked = _checked_from_cache(ws)
    for kind in KINDS:
        folder = ws.root / FOLDERS[kind]
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
        if checked is not None:
            # from the per-file check cache; references against the ids of every kind
            for rid, (own, refs) in checked[kind]:
                found = list(own)
                for field, ref_kind, target in refs:
                    if target not in checked.ids[ref_kind]:
                        found.append((field, "missing-ref", f"{field}: no {ref_kind} with id {target!r}"))
                if found:
                    _report(ws, problems, ws.path_for(kind, rid), found, key_lines)
            if progress:
                progress(len(checked[kind]))
            continue
        recs = ws.records(kind)
        for rec in recs:
            found = record_problems(ws, rec)
            if found:
                _report(ws, problems, rec.path, found, key_lines)
        if progress:
            progress(len(recs))
    key_lines.save()
    # Unreadable files were collected as warnings while reading; in check they are problems.
    # Links are reported once each by the paths check below, not again as unreadable files.
    problems.extend(Problem(w.path, w.line, "yaml", w.message) for w in ws.warnings if w.code != "symlink")
    ws.warnings.clear()
    problems.sort(key=lambda p: (p.path, p.line or 0, p.code))
    return problems


class _KeyLines:
    """`yamlio.key_lines` (a round-trip parse) of the files with problems, kept beside the
    check cache per file while its size and mtime stay: a warm check parses nothing."""

    def __init__(self, ws: Workspace) -> None:
        from crmkit.store import cache

        self.cache = cache
        self.root = ws.root
        self.path = cache.cache_path(ws.root, "check-lines")
        self.header = (cache.CACHE_VERSION,)
        self.stored: dict[str, tuple[int, int, dict[str, int]]] = cache.load(self.path, self.header) or {}
        self.fresh: dict[str, tuple[int, int, dict[str, int]]] = {}
        self.racy_after = cache.racy_after()

    def __call__(self, path: Path) -> dict[str, int]:
        try:
            st = path.stat()
        except OSError:
            return yamlio.key_lines(path)
        name = str(path)
        hit = self.stored.get(name)
        if hit is None or hit[0] != st.st_size or hit[1] != st.st_mtime_ns:
            hit = (st.st_size, st.st_mtime_ns, yamlio.key_lines(path))
        if st.st_mtime_ns < self.racy_after:
            self.fresh[name] = hit
        return hit[2]

    def save(self) -> None:
        if self.fresh != self.stored:
            self.cache.save(self.root, self.path, self.header, self.fresh)


def _report(ws: Workspace, problems: list[Problem], path: Path, found: list[tuple[str, str, str]],
            key_lines: Callable[[Path], dict[str, int]] = yamlio.key_lines) -> None:
    lines = key_lines(path)
    rel = ws.rel(path)
    for field, code, message in found:
        problems.append(Problem(rel, _line(lines, field, message), code, message))


class _Checked(dict[str, list[tuple[str, Any]]]):
    """Per kind, (id, (own problems, references)) for every record, and the ids of each kind."""

    ids: dict[str, set[str]]


def _check_key(ws: Workspace) -> str:
    """What a record's own problems depend on besides its file: the users and stages in
    crmkit.yaml, and the schema, the value parsers and these rules (the code, by its
    files' size and mtime)."""
    import hashlib

    from crmkit import values
    from crmkit.store import schema

    code: list[tuple[int, int] | None] = []
    for module_file in (__file__, schema.__file__, values.__file__):
        try:
            st = os.stat(module_file)
            code.append((st.st_size, st.st_mtime_ns))
        except (OSError, TypeError):
            code.append(None)
    users = ws.users
    parts = (sorted(users) if users else users, repr(ws.config.get("users") is None),
             sorted(stage_names(ws)), code)
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()


def _checked_from_cache(ws: Workspace) -> _Checked | None:
    """Every record's own problems and references, from the per-file check cache (kept like
    the parse cache: while the file's size and mtime stay, and while `_check_key` does).
    A warm check then neither unpickles whole records nor validates them again. None when
    some file cannot be read: the ordinary path reports it."""
    users = ws.config.get("users")
    if users is not None and not isinstance(users, dict):
        return None  # config_problems speaks of it; the ordinary path is exact about owners
    key = _check_key(ws)
    out = _Checked()
    out.ids = {}
    for kind in KINDS:
        def checked(rid: str, data: dict[str, Any], kind: str = kind) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
            rec = Record(kind, rid, data)
            return tuple(own_problems(ws, rec)), tuple(references(rec))

        pairs = ws.derived(kind, "check", checked, key)
        if pairs is None:
            return None
        out[kind] = pairs
        out.ids[kind] = {rid for rid, _ in pairs}
    return out


def validate_data(ws: Workspace, kind: str, record_id: str, data: dict[str, Any], path: Path) -> None:
    """Refuse to write a record that `check` would complain about (add, set, edit),
    or that writes a field only crmkit keeps, or that `show` could not read back."""
    rec = Record(kind, record_id, data, path)
    current = ws.index(kind).get(record_id)
    old = current.data if current is not None else {}
    for name in sorted(reserved_fields(kind)):
        if data.get(name, _ABSENT) != old.get(name, _ABSENT):
            raise CrmkitError(f"{name} is kept by crmkit and cannot be written; nothing was written",
                              path=ws.rel(path))
    size = len(yamlio.dumps(data).encode("utf-8"))
    if size > yamlio.MAX_FILE_BYTES:
        raise CrmkitError(f"the record would be {size:,} bytes, more than the {yamlio.MAX_FILE_BYTES:,} "
                          "a record may be; nothing was written", path=ws.rel(path))
    users = ws.config.get("users")
    if users is not None and not isinstance(users, dict) and data.get("owner") != old.get("owner"):
        raise CrmkitError("crmkit.yaml: users is not a mapping of user id to details, so no owner can be "
                          "set; fix crmkit.yaml first; nothing was written", path=ws.rel(path))
    found = record_problems(ws, rec)
    if found:
        field, _code, message = found[0]
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise CrmkitError(f"{message}{more}; nothing was written", path=ws.rel(path))


def refuse_broken(ws: Workspace, kind: str, record_id: str, data: dict[str, Any], path: Path) -> None:
    """Refuse to write a record whose own fields are wrong (types, required, emails),
    for commands that change a record on the way (`deal move` of a deal with value: abc)."""
    found = field_problems(kind, data)
    if found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise CrmkitError(f"{found[0][2]}{more}; fix it first (crmkit set or edit); nothing was written",
                          path=ws.rel(path))
