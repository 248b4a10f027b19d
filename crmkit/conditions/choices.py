"""Computed fields whose values are a closed set: a customer's `tier`, a contact's `sentiment`.

`tier == platnum` is a valid condition that matches nothing, so a typo would empty a
listing, a segment or a rule without a word. Conditions that compare such a field with a
value outside its set are refused instead (`--where`: a usage error; `crmkit check`: a
problem with file and line). The sets belong to the domains that compute the fields, so
this layer names them, as COMPUTED does, and resolves them on first use.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from crmkit.conditions.language import Condition
from crmkit.conditions.syntax import BoolOp, Compare, ListLit, Literal, Not, Path
from crmkit.conditions.views import COMPUTED
from crmkit.targets import resolve

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace

#: field -> "module:function(ws) -> the allowed values, or None when they cannot be known now"
CHOICES: dict[str, str] = {
    "tier": "crmkit.sales.tiers:tier_choices",
    "sentiment": "crmkit.support.sentiment:sentiment_choices",
}

_loaded: dict[str, Callable[[Any], list[str] | None]] = {}


def _choices(ws: Workspace, field: str) -> list[str] | None:
    fn = _loaded.get(field)
    if fn is None:
        fn = _loaded[field] = resolve(CHOICES[field])
    return fn(ws)


def _field_of(path: str, kind: str | None) -> str | None:
    """The closed-set field a path compares, if any: `tier` of a company or contact, or
    `company.tier`, `contact.sentiment` through a reference. With no kind, any path ending
    in such a field (a rule file whose records are not one kind)."""
    parts = path.split(".")
    field = parts[-1]
    if field not in CHOICES:
        return None
    owner = parts[-2] if len(parts) > 1 else kind
    if owner is None:
        return field
    return field if field in COMPUTED.get(owner, {}) else None


def closest(word: str, choices: Iterable[str]) -> str | None:
    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return found[0] if found else None


def unknown_values(ws: Workspace, cond: Condition, kind: str | None = None,
                   stored: Iterable[str] = ()) -> list[str]:
    """One message per value outside its field's set (`unknown tier 'platnum' (did you mean
    'platinum'?)`). `stored`: fields the records keep themselves (a custom `tier:` wins over
    the computed one, so anything goes)."""
    kept = set(stored)
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, BoolOp):
            for item in node.items:
                walk(item)
        elif isinstance(node, Not):
            walk(node.inner)
        elif isinstance(node, Compare) and isinstance(node.left, Path) and node.op in ("==", "!=", "in", "not in"):
            if node.left.name in kept:
                return
            field = _field_of(node.left.name, kind)
            if field is None:
                return
            if isinstance(node.right, Literal):
                values = [node.right.value]
            elif isinstance(node.right, ListLit):
                values = [i.value for i in node.right.items if isinstance(i, Literal)]
            else:
                return
            names = _choices(ws, field)
            if names is None:
                return
            for v in values:
                if v is None or str(v) in names:
                    continue
                hint = closest(str(v), names)
                found.append(f"unknown {field} {str(v)!r}" + (f" (did you mean {hint!r}?)" if hint else
                                                               f"; {field} is one of {', '.join(names)}"))

    walk(cond.tree)
    return found
