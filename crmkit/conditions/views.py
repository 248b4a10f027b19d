"""Records as conditions, listings and reports see them: stored fields plus computed ones.

Computed fields (a lead's `score`, a ticket's `sla`) are derived on read and never
stored, so they do not churn diffs. Each capability contributes its own here, by
name: this layer sits below the domains that compute the fields, so it resolves
them on first use (crmkit.targets, loudly).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from crmkit.store.fieldcheck import VALUE_FIELDS
from crmkit.store.records import Record
from crmkit.store.workspace import Workspace
from crmkit.targets import resolve

#: kind -> field -> "module:function(ws, record) -> value"
COMPUTED: dict[str, dict[str, str]] = {
    "lead": {"score": "crmkit.sales.scoring:score_value", "band": "crmkit.sales.scoring:band_value"},
    "company": {"bought": "crmkit.reports.related:bought"},
    "contact": {"bought": "crmkit.reports.related:bought",
                "sentiment": "crmkit.support.sentiment:sentiment_value"},
    "ticket": {"sla": "crmkit.support.sla:sla_summary", "rating": "crmkit.support.satisfaction:rating_value"},
}

# Customer value (crmkit.sales.value): the same fields for companies and contacts.
for _kind in ("company", "contact"):
    COMPUTED[_kind].update({name: f"crmkit.sales.value:{name}" for name in sorted(VALUE_FIELDS)})

_loaded: dict[str, Callable[[Any, Record], Any]] = {}


def _function(target: str) -> Callable[[Any, Record], Any]:
    # Resolved on first use (the domains that compute these fields import this layer);
    # a target that does not resolve is a bug and raises, it never hides the field.
    fn = _loaded.get(target)
    if fn is None:
        fn = _loaded[target] = resolve(target)
    return fn


def computed_fields(kind: str) -> list[str]:
    return list(COMPUTED.get(kind, {}))


class RecordView(Mapping[str, Any]):
    """A read-only mapping of a record's fields, computing derived fields on first use."""

    __slots__ = ("ws", "record", "_computed")

    def __init__(self, ws: Workspace, record: Record) -> None:
        self.ws = ws
        self.record = record
        self._computed: dict[str, Any] | None = None

    def __getitem__(self, key: str) -> Any:
        if key == "id":
            return self.record.id
        if key in self.record.data:
            return self.record.data[key]
        target = COMPUTED.get(self.record.kind, {}).get(key)
        if target is not None:
            if self._computed is None:
                self._computed = {}
            if key not in self._computed:
                self._computed[key] = _function(target)(self.ws, self.record)
            value = self._computed[key]
            if value is not None:
                return value
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        yield "id"
        yield from self.record.data

    def __len__(self) -> int:
        return len(self.record.data) + 1


def view(ws: Workspace, record: Record) -> RecordView:
    return RecordView(ws, record)


def _reference_view(ws: Workspace, record: Record) -> Mapping[str, Any]:
    """What a dotted path sees through a reference (`company.tier`): the stored fields, plus the
    computed ones when the kind has any."""
    return RecordView(ws, record) if record.kind in COMPUTED else record.data


# The workspace follows references for conditions; this lets it hand out views without the
# store importing the condition layer.
Workspace.reference_view = staticmethod(_reference_view)
