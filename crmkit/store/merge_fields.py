"""The field-by-field merge of one record's values (store/merge_driver.py's rules).

`_Merger` merges the three versions of a record, plain values (the fast parser's) or
round-trip documents (ours merged in place, its comments kept), field by field: the
histories joined, plain lists by additions and removals, and the policies for the
fields that follow a merged history. merge_driver.py turns its result into text.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

from crmkit.store import yamlio

#: Lists that are histories: only ever appended to, so both sides' entries are kept.
HISTORY_KEYS = frozenset({"events", "stage_history", "breaches", "sla_breaches", "history", "log"})


#: Timestamps of "the last time something happened": the later one is the truth.
LATER_KEYS = frozenset({"updated_at", "updated", "last_contacted", "last_activity", "modified"})


#: Timestamps of "the first time": the earlier one is the truth.
EARLIER_KEYS = frozenset({"created", "done", "closed", "converted_at", "qualified_at"})


#: Ticket fields set by an event, and the event type that sets them (its `to` is the value).
EVENT_FIELDS = {"status": "status", "owner": "assigned", "priority": "priority"}


#: Who automated writes are made by (support.tick.ACTOR); kept here so the store needs no domain import.
AUTOMATED_BY = "crmkit"


class _Conflict(Exception):
    pass


def _plain(value: Any) -> Any:
    return yamlio.to_plain(value)


def _canon(value: Any) -> str:
    # json writes dicts, lists, strings and numbers of ruamel's subclasses (CommentedMap,
    # ScalarFloat...) as their plain values; only what it cannot write (timestamps) goes
    # through to_plain, which is what made this a fifth of a merge's time when it came first.
    return json.dumps(value, sort_keys=True, default=_text_of, ensure_ascii=False)


def _text_of(value: Any) -> str:
    return str(_plain(value))


_PLAIN = (dict, list, str, int, float, bool, type(None), dt.datetime, dt.date)


def _same(a: Any, b: Any) -> bool:
    # Plain values (the fast parser's) compare as they are; round-trip ones are ordered
    # mappings whose == would weigh key order, so they compare by their canonical text.
    if type(a) in _PLAIN and type(b) in _PLAIN and type(a) is type(b):
        return bool(a == b)
    return bool(_canon(a) == _canon(b))


_MISSING = object()


def _time(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        v: dt.datetime = _plain(value)
        return v if v.tzinfo else v.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    return None


class _Merger:
    def __init__(self, prefer_theirs: bool = False, ours_before: Any = None) -> None:
        #: ours as it was before the merge changed it in place (plain values)
        self.ours_before = ours_before if ours_before is not None else {}
        self.conflicts: list[str] = []
        self.notes: list[str] = []
        #: which side a conflicting field takes: a conflicted merge is made twice, once
        #: each way, and the two texts differ exactly on the lines of the markers.
        self.prefer_theirs = prefer_theirs

    # -- values ---------------------------------------------------------------------

    def value(self, path: list[Any], base: Any, ours: Any, theirs: Any) -> Any:
        """The merged value at `path` (ours when it conflicts; the conflict is noted)."""
        if _same(ours, theirs):
            return ours
        if base is not _MISSING and _same(base, ours):
            return theirs
        if base is not _MISSING and _same(base, theirs):
            return ours
        key = path[-1] if path else None
        if isinstance(ours, dict) and isinstance(theirs, dict):
            if key == "routing" and len(path) == 1:
                return ours  # decided in mapping(), with the record's owner
            return self.mapping(path, base if isinstance(base, dict) else {}, ours, theirs)
        if isinstance(ours, list) and isinstance(theirs, list):
            merged = self.list_(path, base if isinstance(base, list) else [], ours, theirs)
            if merged is not _MISSING:
                return merged
        if isinstance(key, str):
            o, t = _time(ours), _time(theirs)
            if o is not None and t is not None:
                if key in LATER_KEYS:
                    return ours if o >= t else theirs
                if key in EARLIER_KEYS:
                    return ours if o <= t else theirs
        return self.conflict(path, ours, theirs)

    def conflict(self, path: list[Any], ours: Any, theirs: Any) -> Any:
        self.conflicts.append(".".join(str(p) for p in path) or "(the whole file)")
        return theirs if self.prefer_theirs else ours

    def mapping(self, path: list[Any], base: dict[Any, Any], ours: dict[Any, Any], theirs: dict[Any, Any]) -> Any:
        out = ours  # merged in place: ours' comments and order stay
        keys = list(ours) + [k for k in theirs if k not in ours]
        if not path and ours.get("digest") is not None and _same(ours.get("digest"), theirs.get("digest")) \
                and not _same(ours, theirs):
            # A day's reminder digest (support/reminders.py) has one id per owner and day, so
            # two clones that both tick write it with their own counts: one of them, whole,
            # chosen by content so that both merge directions agree.
            if _canon(theirs) > _canon(ours):
                for key in [k for k in ours if k not in theirs]:
                    del out[key]
                for key in theirs:
                    out[key] = theirs[key]
            self.notes.append("digest: one clone's reminder digest of the day")
            return out
        deferred = [k for k in keys if not path and (k in EVENT_FIELDS or k in ("stage", "routing"))]
        for key in keys:
            if key in deferred:
                continue
            self._key(path, out, key, base.get(key, _MISSING), ours.get(key, _MISSING),
                      theirs.get(key, _MISSING), theirs)
        if deferred:
            self._policies(path, out, base, ours, theirs, deferred)
        return out

    def _key(self, path: list[Any], out: Any, key: Any, b: Any, o: Any, t: Any, theirs: dict[Any, Any]) -> None:
        here = path + [key]
        if o is _MISSING and t is _MISSING:
            return
        if o is _MISSING:  # theirs added it, or ours removed it
            if b is _MISSING:
                _insert_like(out, theirs, key, t)
            elif not _same(b, t):  # removed here, changed there
                if self.conflict(here, _MISSING, t) is not _MISSING:
                    _insert_like(out, theirs, key, t)
            return
        if t is _MISSING:
            if b is _MISSING:
                return  # ours added it
            if _same(b, o):
                del out[key]  # theirs removed it, ours left it alone
            elif self.conflict(here, o, _MISSING) is _MISSING:
                del out[key]
            return
        merged = self.value(here, b, o, t)
        if merged is _MISSING:
            del out[key]
        elif merged is not o:
            out[key] = merged

    def _policies(self, path: list[Any], out: Any, base: dict[Any, Any], ours: dict[Any, Any],
                  theirs: dict[Any, Any], keys: list[Any]) -> None:
        """Fields whose value follows from a merged history rather than from either side."""
        events = out.get("events") if isinstance(out.get("events"), list) else []
        history = out.get("stage_history") if isinstance(out.get("stage_history"), list) else []
        if "routing" in keys:
            self._routing(out, base, ours, theirs)
        for key in keys:
            if key == "routing":
                continue
            b, o, t = base.get(key, _MISSING), ours.get(key, _MISSING), theirs.get(key, _MISSING)
            both_changed = (o is not _MISSING and t is not _MISSING and not _same(o, t)
                            and not (b is not _MISSING and (_same(b, o) or _same(b, t))))
            if key in EVENT_FIELDS and _both_added(base, self.ours_before, theirs, EVENT_FIELDS[key]):
                # changed by events on both sides: the newest event says what it is now, even
                # when one side changed it and back (its field then looks unchanged)
                newest = _newest_to(events, EVENT_FIELDS[key])
                if newest is not _MISSING:
                    out[key] = newest
                    continue
            if key == "stage" and history and _joined(base, self.ours_before, theirs, "stage_history"):
                # moves on both sides: the stage is where the merged history ends, even when
                # one side moved away and back (its stage field then looks unchanged)
                last = history[-1]
                if isinstance(last, dict) and last.get("stage") is not None:
                    out[key] = last["stage"]
                    continue
            if both_changed:
                decided = _MISSING
                if key in EVENT_FIELDS:
                    decided = _newest_to(events, EVENT_FIELDS[key])
                elif key == "stage" and history:
                    last = history[-1]
                    decided = last.get("stage", _MISSING) if isinstance(last, dict) else _MISSING
                if key == "owner" and decided is _MISSING:
                    routing = out.get("routing")
                    if isinstance(routing, dict) and (_same(routing.get("owner"), o) or _same(routing.get("owner"), t)):
                        decided = routing.get("owner")
                if decided is not _MISSING and (_same(decided, o) or _same(decided, t)):
                    out[key] = o if _same(decided, o) else t
                    self.notes.append(f"{key}: {_plain(out[key])} (follows the merged history)")
                    continue
            self._key(path, out, key, b, o, t, theirs)

    def _routing(self, out: Any, base: dict[Any, Any], ours: dict[Any, Any], theirs: dict[Any, Any]) -> None:
        b, o, t = base.get("routing", _MISSING), ours.get("routing", _MISSING), theirs.get("routing", _MISSING)
        if not (isinstance(o, dict) and isinstance(t, dict)) or _same(o, t) or \
                (b is not _MISSING and (_same(b, o) or _same(b, t))):
            self._key([], out, "routing", b, o, t, theirs)
            return
        # Both sides routed the record since they parted.
        # The earlier decision; on the same time (routing stamps the record's own time, so two
        # clones agree on it) the smaller block, so that a merge either way round keeps the same.
        first, second = (o, t) if ((_time(o.get("at")) or _far()), _canon(o)) <= (
            (_time(t.get("at")) or _far()), _canon(t)) else (t, o)
        out["routing"] = first
        # The decision is who got it: the rule and the status routed for are circumstances
        # (one clone had seen a reply first); the same owner on both sides is one routing.
        decision = ("owner",)
        if any(not _same(first.get(k), second.get(k)) for k in decision):
            conflicts = out.get("routing_conflicts")
            if not isinstance(conflicts, list):
                out["routing_conflicts"] = conflicts = []
            entry = second  # a node of the other side's document: no copy (copies lose time zones)
            if not any(_same(entry, c) for c in conflicts):
                conflicts.append(entry)
            self.notes.append(f"routing: routed on both sides ({_plain(first.get('owner'))} and "
                              f"{_plain(second.get('owner'))}); kept the earlier, the other under routing_conflicts")
        else:
            self.notes.append("routing: the same decision on both sides; kept the earlier time")

    # -- lists --------------------------------------------------------------------------

    def list_(self, path: list[Any], base: list[Any], ours: list[Any], theirs: list[Any]) -> Any:
        key = path[-1] if path else None
        is_history = key in HISTORY_KEYS or (
            all(isinstance(x, dict) and "at" in x for x in [*ours, *theirs]) and (ours or theirs))
        if is_history and all(isinstance(x, dict) for x in [*ours, *theirs]):
            return _union_history(base, ours, theirs)
        if all(not isinstance(x, (dict, list)) for x in [*base, *ours, *theirs]):
            return _merge_plain_list(base, ours, theirs)
        return _MISSING


def _both_added(base: dict[Any, Any], ours: dict[Any, Any], theirs: dict[Any, Any], kind: str) -> bool:
    """Whether both sides added events of type `kind` since they parted."""
    def of_kind(doc: dict[Any, Any]) -> set[str]:
        events = doc.get("events")
        return {_canon(e) for e in events if isinstance(e, dict) and e.get("type") == kind} \
            if isinstance(events, list) else set()

    had = of_kind(base)
    return bool(of_kind(ours) - had) and bool(of_kind(theirs) - had)


def _joined(base: dict[Any, Any], ours: dict[Any, Any], theirs: dict[Any, Any], key: str) -> bool:
    """Whether both sides changed the list `key` (so the merged one holds entries of both)."""
    b, o, t = base.get(key), ours.get(key), theirs.get(key)
    return not _same(b, o) and not _same(b, t)


def _far() -> dt.datetime:
    return dt.datetime.max.replace(tzinfo=dt.UTC)


def _newest_to(events: list[Any], kind: str) -> Any:
    best: tuple[dt.datetime, int] | None = None
    value: Any = _MISSING
    for i, e in enumerate(events):
        if isinstance(e, dict) and e.get("type") == kind and "to" in e:
            at = _time(e.get("at")) or dt.datetime.min.replace(tzinfo=dt.UTC)
            if best is None or (at, i) >= best:
                best, value = (at, i), e["to"]
    return value


#: What an automated event says about the moment it was written rather than what happened:
#: two clones that fired the same rule on one ticket saw it in different states (one had
#: routed it already), so the `from` and the list of changes differ; it is still one firing.
_CIRCUMSTANCE = frozenset({"at", "from", "changes"})


def _automated_key(item: Any) -> str | None:
    """The identity of an event written by crmkit itself: what happened, not when or from what."""
    if isinstance(item, dict) and item.get("by") == AUTOMATED_BY:
        return _canon({k: v for k, v in item.items() if k not in _CIRCUMSTANCE})
    return None


def _union_history(base: list[Any], ours: list[Any], theirs: list[Any]) -> list[Any]:
    memo: dict[int, str] = {}

    def canon(x: Any) -> str:  # each entry's text once: it is asked for several times
        found = memo.get(id(x))
        if found is None:
            found = memo[id(x)] = _canon(x)
        return found

    base_keys = {canon(x) for x in base}
    ours_keys = {canon(x) for x in ours}
    theirs_keys = {canon(x) for x in theirs}
    # An entry of the ancestor that one side removed stays removed (a person tidied the history).
    out = ours
    keep = [x for x in out if not (canon(x) in base_keys and canon(x) not in theirs_keys)]
    ours_auto: dict[str | None, Any] = {}
    for x in keep:
        if canon(x) not in base_keys:
            auto = _automated_key(x)
            if auto:
                ours_auto[auto] = x
    added = False
    for item in theirs:
        c = canon(item)
        if c in ours_keys or c in base_keys:
            continue
        auto = _automated_key(item)
        twin = ours_auto.get(auto) if auto else None
        if twin is not None:
            # The same automated write on both sides: keep it once, the earlier of the two.
            if (_time(item.get("at")) or _far()) < (_time(twin.get("at")) or _far()):
                keep[next(i for i, x in enumerate(keep) if x is twin)] = item
                ours_auto[auto] = item
                added = True
            continue
        keep.append(item)
        added = True
    if added or len(keep) != len(out):
        try:
            order = sorted(range(len(keep)), key=lambda i: (_time(keep[i].get("at")) or _far(), i))
        except TypeError:
            order = list(range(len(keep)))
        keep = [keep[i] for i in order]
        seen: set[str] = set()
        unique = []
        for item in keep:
            c = canon(item)
            if c not in seen:
                seen.add(c)
                unique.append(item)
        out[:] = unique
    return out


def _merge_plain_list(base: list[Any], ours: list[Any], theirs: list[Any]) -> list[Any]:
    removed = {_canon(x) for x in base if _canon(x) not in {_canon(y) for y in theirs}}
    have = {_canon(x) for x in ours}
    out = ours
    out[:] = [x for x in ours if _canon(x) not in removed]
    for item in theirs:
        c = _canon(item)
        if c not in have and c not in {_canon(x) for x in base}:
            out.append(item)
            have.add(c)
    return out


def _insert_like(out: Any, theirs: dict[Any, Any], key: Any, value: Any) -> None:
    """Add theirs' new key where theirs has it: after the key that precedes it there."""
    keys = list(theirs)
    pos = len(out)
    idx = keys.index(key)
    for prev in reversed(keys[:idx]):
        if prev in out:
            pos = list(out).index(prev) + 1
            break
    else:
        if idx == 0:
            pos = 0
    if hasattr(out, "insert"):
        out.insert(pos, key, value)
    else:
        out[key] = value


_SHARED = frozenset({str, int, float, bool, type(None), dt.datetime, dt.date})


def _copy_plain(value: Any) -> Any:
    """A copy of plain values whose mappings and lists are new; scalars, times among them,
    are immutable and shared (with their zones). copy.deepcopy took an eighth of a merge."""
    kind = type(value)
    if kind is dict:
        return {k: _copy_plain(v) for k, v in value.items()}
    if kind is list:
        return [_copy_plain(v) for v in value]
    return value if kind in _SHARED else copy.deepcopy(value)

