"""Three-way merge of one record file, field by field (git's `merge=crmkit` driver).

Git hands the driver three versions of a file that both sides changed: the common
ancestor (O), ours (A, also where the result goes) and theirs (B). A line merge
of YAML conflicts whenever both sides append to the same list (ticket events,
stage history) or touch neighbouring lines; `merge=union` writes invalid YAML.
This merge works on the round-trip documents instead, starting from ours so that
its comments, key order and quoting stay as they were:

* a field changed on one side only takes that side's value;
* a field both sides changed to the same value is that value;
* append-only histories (lists of mappings that carry an `at`: ticket `events`,
  `stage_history`, SLA `breaches`...) are the union of both sides, ordered by
  time and deduplicated by content; an event written by crmkit itself (`by:
  crmkit`, from `tick` or `route`) that both sides wrote and that differs only in
  its time and circumstances (`from`, `changes`) is kept once: the earlier;
* lists of plain values (tags, contacts, products) get both sides' additions and
  removals;
* a few fields follow documented policies (POLICIES below): timestamps of the
  last change take the later value, `created` and `done` the earlier one, a
  ticket's status, owner and priority follow the newest event that set them, a
  deal's stage follows its merged stage history, and a `routing` block written
  by both sides keeps the earlier one (when the other side gave the record to a
  different owner, its block is kept under `routing_conflicts`, which `crmkit
  check` reports);
* anything else both sides changed differently is a real conflict: the file is
  written with ordinary conflict markers around just those lines and the merge
  fails, as git's own merge would.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from crmkit.errors import CrmkitError
from crmkit.store import yamlio

#: The name of the driver in .gitattributes and .git/config.
DRIVER = "crmkit"

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

POLICIES: dict[str, str] = {
    "history lists": "union of both sides, ordered by `at`, duplicates dropped",
    "automated events": "the same event written by crmkit on both sides (same type, rule, target, to) is kept once: the earlier",
    "plain lists": "both sides' additions and removals",
    "updated_at": "the later time",
    "created, done, closed": "the earlier time",
    "ticket status, owner, priority": "the value set by the newest event in the merged history",
    "deal stage": "the stage of the newest entry in the merged stage history",
    "routing": "the earlier of two decisions; the other kept under routing_conflicts (reported by check)",
}


@dataclass
class MergeResult:
    """The merged text, and the fields that conflicted (empty when the merge is clean)."""

    text: str
    conflicts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.conflicts


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


def _markers(ours_text: str, theirs_text: str, labels: tuple[str, str], size: int) -> str:
    """Ordinary conflict markers around the lines where the two resolutions differ."""
    a, b = ours_text.splitlines(keepends=True), theirs_text.splitlines(keepends=True)
    out: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            out.extend(a[i1:i2])
            continue
        out.append("<" * size + f" {labels[0]}\n")
        out.extend(_nl(a[i1:i2]))
        out.append("=" * size + "\n")
        out.extend(_nl(b[j1:j2]))
        out.append(">" * size + f" {labels[1]}\n")
    return "".join(out)


def _nl(lines: list[str]) -> list[str]:
    return [ln if ln.endswith("\n") else ln + "\n" for ln in lines]


def _changes(base: list[str], other: list[str], side: int) -> list[tuple[int, int, int, list[str]]]:
    # The lines both share at the start and at the end are not diffed: a record's change is
    # a few lines (an appended event), and SequenceMatcher over the whole file was a sixth of
    # a merge's time. Any alignment will do: a candidate is kept only if it parses right.
    n = min(len(base), len(other))
    lo = 0
    while lo < n and base[lo] == other[lo]:
        lo += 1
    hi = 0
    while hi < n - lo and base[-1 - hi] == other[-1 - hi]:
        hi += 1
    a, b = base[lo:len(base) - hi], other[lo:len(other) - hi]
    ops = difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes()
    return [(lo + i1, lo + i2, side, b[j1:j2]) for tag, i1, i2, j1, j2 in ops if tag != "equal"]


def _line_candidates(base: str, ours: str, theirs: str) -> list[str]:
    """Texts made of both sides' own changed lines applied to the ancestor, where they do not
    overlap: comments and formatting then stay exactly as each side wrote them. Two
    insertions at one place (both appended events) give two candidates, one per order;
    the caller keeps a candidate only if it parses to the merged record."""
    b = base.splitlines(keepends=True)
    if b and not b[-1].endswith("\n"):
        return []
    hunks = sorted(_changes(b, ours.splitlines(keepends=True), 0) + _changes(b, theirs.splitlines(keepends=True), 1),
                   key=lambda h: (h[0], h[1], h[2]))
    for first, second in zip(hunks, hunks[1:]):
        if first[1] > second[0] or (first[0] < first[1] and first[0] == second[0] and second[0] < second[1]):
            return []  # both sides changed the same lines: a line merge cannot say
    out: list[str] = []
    # Histories are kept in time order: try first the order in which the earlier entries come first.
    first_order = [False, True] if _first_at(hunks, 0) <= _first_at(hunks, 1) else [True, False]
    for theirs_first in first_order:
        order = sorted(hunks, key=lambda h: (h[0], h[1], h[2] if not theirs_first else -h[2]))
        lines: list[str] = []
        at = 0
        for i1, i2, _side, new in order:
            lines.extend(b[at:i1])
            lines.extend(new)
            at = max(at, i2)
        lines.extend(b[at:])
        text = "".join(lines)
        if text not in out:
            out.append(text)
    return out


_AT = re.compile(r"^\s*(?:- )?at: *['\"]?([0-9T:+.\- ]+?)['\"]?\s*$", re.MULTILINE)


def _first_at(hunks: list[tuple[int, int, int, list[str]]], side: int) -> dt.datetime:
    """The earliest `at:` among one side's new lines (a guess at the order; parsing decides)."""
    found = [_time(_iso(m)) for h in hunks if h[2] == side for m in _AT.findall("".join(h[3]))]
    times = [f for f in found if f is not None]
    return min(times) if times else _far()


def _iso(text: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None


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


def _load_plain(text: str, path: str) -> Any:
    data = yamlio.loads_events(text, path) if text.strip() else None
    return {} if data is None else data


def merge_texts(base: str, ours: str, theirs: str, path: str = "", *,
                labels: tuple[str, str] = ("ours", "theirs"), marker_size: int = 7) -> MergeResult:
    """Merge three versions of one record file; see the module docstring for the rules.

    The merge is decided on the plain values (the fast parser); the text is then, in
    order of preference, one side's text as it is, both sides' changed lines applied to
    the ancestor (checked to parse to the merged record), or ours loaded round trip with
    the merge applied in place and written out."""
    if ours == theirs:
        return MergeResult(ours)
    if base == ours:
        return MergeResult(theirs)
    if base == theirs:
        return MergeResult(ours)
    try:
        b, o, t = _load_plain(base, path), _load_plain(ours, path), _load_plain(theirs, path)
    except CrmkitError as exc:
        # Not a record we can read (conflict markers from an earlier merge, broken YAML):
        # the whole file conflicts, as a line merge would show it.
        return MergeResult(_markers(ours, theirs, labels, marker_size), [f"(the whole file: {exc.message})"])
    if not (isinstance(b, dict) and isinstance(o, dict) and isinstance(t, dict)):
        return MergeResult(_markers(ours, theirs, labels, marker_size), ["(the whole file: not a mapping)"])
    merger = _Merger(ours_before=_copy_plain(o))
    merged = merger.mapping([], b, o, t)
    if not merger.conflicts:
        if merged == merger.ours_before:
            return MergeResult(ours, notes=merger.notes)  # nothing of theirs to add: ours' bytes as they are
        if merged == t:
            return MergeResult(theirs, notes=merger.notes)
        for candidate in _line_candidates(base, ours, theirs):
            try:
                if _load_plain(candidate, path) == merged:
                    return MergeResult(candidate, notes=merger.notes)
            except CrmkitError:
                continue
    return _merge_roundtrip(base, ours, theirs, path, labels, marker_size)


def _merge_roundtrip(base: str, ours: str, theirs: str, path: str, labels: tuple[str, str],
                     marker_size: int) -> MergeResult:
    """The merge on round-trip documents: ours' comments, order and quoting kept."""
    def docs() -> tuple[Any, Any, Any]:
        loaded = [yamlio.loads_roundtrip(x, path) if x.strip() else None for x in (base, ours, theirs)]
        b, o, t = ({} if d is None else d for d in loaded)
        return b, o, t

    before = _load_plain(ours, path)
    merger = _Merger(ours_before=before)
    merged = merger.mapping([], *docs())
    text = yamlio.dumps(merged)
    if merger.conflicts:
        other = _Merger(prefer_theirs=True, ours_before=before)
        theirs_doc = other.mapping([], *docs())
        text = _markers(text, yamlio.dumps(theirs_doc), labels, marker_size)
    return MergeResult(text, merger.conflicts, merger.notes)


# -- outbox messages ------------------------------------------------------------------------


def _header(text: str, name: str) -> str | None:
    head = text.replace("\r\n", "\n").split("\n\n", 1)[0]
    prefix = name.lower() + ":"
    for line in head.split("\n"):
        if line.lower().startswith(prefix):
            return line[len(prefix):].strip()
    return None


def merge_message(base: str, ours: str, theirs: str, *, labels: tuple[str, str] = ("ours", "theirs"),
                  marker_size: int = 7) -> MergeResult:
    """Two versions of one outbox message: the same notification (same Message-ID) written on
    both sides is one message, and the earlier one is kept; anything else conflicts."""
    if ours == theirs or base == theirs:
        return MergeResult(ours)
    if base == ours:
        return MergeResult(theirs)
    mid_o, mid_t = _header(ours, "Message-ID"), _header(theirs, "Message-ID")
    if mid_o and mid_o == mid_t:
        from email.utils import parsedate_to_datetime

        try:
            d_o = parsedate_to_datetime(_header(ours, "Date") or "")
            d_t = parsedate_to_datetime(_header(theirs, "Date") or "")
            keep_theirs = d_t < d_o
        except (TypeError, ValueError):
            keep_theirs = False
        return MergeResult(theirs if keep_theirs else ours, notes=[f"the same message {mid_o} on both sides"])
    return MergeResult(_markers(ours, theirs, labels, marker_size), ["(two different messages)"])


# -- the driver -------------------------------------------------------------------------------


def _read(path: str) -> str:
    with open(path, "rb") as fh:
        data = fh.read()
    # surrogateescape: bytes that are not UTF-8 come out exactly as they went in
    return data.decode("utf-8", errors="surrogateescape")


def merge_file(base_path: str, ours_path: str, theirs_path: str, name: str = "",
               marker_size: int = 7) -> MergeResult:
    """git's driver: merge the three files and leave the result in `ours_path` (written atomically)."""
    from pathlib import Path

    base, ours, theirs = _read(base_path), _read(ours_path), _read(theirs_path)
    labels = ("ours", f"theirs ({name})" if name else "theirs")
    if name.endswith(".eml"):
        result = merge_message(base, ours, theirs, labels=labels, marker_size=marker_size)
    else:
        result = merge_texts(base, ours, theirs, name, labels=labels, marker_size=marker_size)
    if result.text != ours:
        yamlio.atomic_write_bytes(Path(ours_path), result.text.encode("utf-8", errors="surrogateescape"))
    return result


# -- as git runs it --------------------------------------------------------------------------
# `python -m crmkit.store.merge_driver --marker-size %L %O %A %B %P`: the same as
# `crmkit merge-file`, without click and the command registry. git starts one process
# per file both sides changed, so start-up is most of a merge's time (this starts in
# about half the time of `crmkit merge-file`).


def main(argv: list[str] | None = None) -> int:
    """Merge the files git names; exit 0 when clean, 1 when conflicts are left in OURS."""
    import argparse
    import sys

    ap = argparse.ArgumentParser(prog="crmkit merge-file", description="crmkit's merge driver for record files")
    ap.add_argument("--marker-size", default="7")
    ap.add_argument("--debug", action="store_true")
    ap.add_argument("base")
    ap.add_argument("ours")
    ap.add_argument("theirs")
    ap.add_argument("name", nargs="?", default="")
    args = ap.parse_args(argv)
    size = int(args.marker_size) if str(args.marker_size).isdigit() else 7
    where = args.name or args.ours
    try:
        result = merge_file(args.base, args.ours, args.theirs, args.name, size)
    except (CrmkitError, OSError) as exc:
        # git then leaves the file conflicted with its own markers: nothing is lost
        print(f"crmkit merge-file: {where}: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - git shows our stderr; one line, ours left as it was
        if args.debug:
            raise
        print(f"crmkit merge-file: {where}: internal error: {type(exc).__name__}: {exc}; "
              "the file is left as a conflict", file=sys.stderr)
        return 1
    if args.debug:
        for note in result.notes:
            print(f"crmkit merge-file: {where}: {note}", file=sys.stderr)
    if result.conflicts:
        print(f"crmkit merge-file: {where}: conflict in {', '.join(result.conflicts)} "
              "(both sides changed it differently)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
