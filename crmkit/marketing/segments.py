"""Segments: saved queries (smart lists) in segments/*.yaml.

    # segments/erp-without-support.yaml
    description: Customers who bought ERP but no support agreement
    kind: contact
    where: '"ERP" in bought and not ("Support agreement" in bought)'

`bought` is a computed field: the products of the customer's won deals. `kind`
defaults to contact; `where` (the condition language) may be left out to take every
record of the kind. A segment is used by `crmkit segment show`, by `crmkit mail
render --segment` and checked by `crmkit check` (bad conditions, unknown fields).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crmkit.conditions.language import Condition, parse
from crmkit.errors import CrmkitError, NotFound, Problem
from crmkit.store import yamlio
from crmkit.store.records import KINDS, check_id

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace

KEYS = {"kind", "where", "description"}


@dataclass
class Segment:
    name: str
    kind: str
    where: Condition | None
    description: str
    path: str
    where_line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "where": self.where.text if self.where else None,
                "description": self.description, "path": self.path}


def _load(ws: Workspace, path: Any) -> Segment:
    rel = ws.rel(path)
    data = yamlio.load_fast(path)
    if not isinstance(data, dict):
        raise CrmkitError("a segment is a mapping with kind and where", path=rel, line=1)
    kind = data.get("kind", "contact")
    lines = yamlio.key_lines(path)
    unknown = sorted(str(k) for k in data if k not in KEYS)
    if unknown:
        raise CrmkitError(f"unknown key {unknown[0]!r} (a segment has {', '.join(sorted(KEYS))})",
                          path=rel, line=lines.get(unknown[0]))
    if kind not in KINDS:
        raise CrmkitError(f"unknown kind {kind!r} (kinds: {', '.join(KINDS)})", path=rel, line=lines.get("kind"))
    where = data.get("where")
    cond = None
    if where not in (None, ""):
        try:
            cond = parse(str(where))
        except CrmkitError as exc:
            raise CrmkitError(f"where: {exc.message}", path=rel, line=lines.get("where")) from None
    return Segment(path.stem, kind, cond, str(data.get("description", "")), rel, lines.get("where"))


def segments(ws: Workspace) -> list[Segment]:
    folder = ws.root / "segments"
    if not folder.is_dir():
        return []
    return [_load(ws, p) for p in sorted(folder.glob("*.yaml"))]


def get_segment(ws: Workspace, name: str) -> Segment:
    path = ws.root / "segments" / f"{check_id(name)}.yaml"
    if not path.is_file():
        known = ", ".join(p.stem for p in sorted((ws.root / "segments").glob("*.yaml"))) or "none"
        raise NotFound(f"no segment named {name!r} (segments: {known})")
    return _load(ws, path)


def members(ws: Workspace, segment: Segment) -> list[Any]:
    """The segment's records today (views, so computed fields count too)."""
    from crmkit.conditions.listing import select
    from crmkit.errors import UsageError

    try:
        return select(ws, segment.kind, where=segment.where.text if segment.where else None)
    except UsageError as exc:
        # select speaks of --where; here the condition is in a file
        message = exc.message.replace("--where: ", "where: ", 1)
        raise CrmkitError(message, path=segment.path, line=segment.where_line) from None


def check_segments(ws: Workspace) -> list[Problem]:
    """Every segment file parses, names a kind, and its condition uses fields that exist."""
    problems: list[Problem] = []
    folder = ws.root / "segments"
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        try:
            seg = _load(ws, path)
            if seg.where is not None and ws.records(seg.kind):
                members(ws, seg)
        except CrmkitError as exc:
            problems.append(Problem(exc.path or ws.rel(path), exc.line, "segment", exc.message))
    return problems
