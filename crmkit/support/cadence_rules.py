"""Cadence rules (rules/cadence.yaml): read with line numbers, checked for `crmkit check`.

    - id: gold-check-in
      kind: company                # contact, company, lead or deal (default: contact)
      when: tier == gold           # which records the cadence is for (absent: all of the kind)
      every: 90d                   # again and again: 90 business days after the last touch
      type: call                   # the follow-up's activity type (default: task)
      subject: "Quarterly check-in: how is it going?"
    - id: qualified-follow-up
      kind: lead
      when: status == qualified
      steps: [2d, 5d, 10d]         # three follow-ups, 2, 5 and 10 business days apart
      stop_on: [reply, stage]      # a reply, or the status/stage changing, ends the series

The file may also be a mapping, `digest: false` (no daily reminder digest; it is on
whenever this file exists) and `cadences:` with the list.

Intervals are whole business days of the owner's calendar (README: Cadences); the
planning is crmkit.support.cadence, `crmkit tick` applies it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crmkit.conditions.language import Condition
from crmkit.conditions.rulefile import column_of, parse_condition
from crmkit.errors import CrmkitError, Problem, RuleError
from crmkit.store import yamlio

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace

RULE_FILE = "rules/cadence.yaml"
KEYS = ("id", "kind", "when", "every", "steps", "stop_on", "type", "subject", "owner", "calendar", "description")
CADENCE_KINDS = ("contact", "company", "lead", "deal")
STOPS = ("reply", "stage")
TYPES = ("call", "meeting", "email", "note", "task")
#: `2d`, `2 days`, `2 business days`, or a bare number of business days
_INTERVAL = re.compile(r"^\s*(\d+)\s*(d|bd|days?|business\s+days?)?\s*$", re.IGNORECASE)
#: A cadence longer than this is almost certainly a typo (9000d), and would search a calendar for decades.
MAX_DAYS = 3 * 260


@dataclass
class Cadence:
    id: str
    kind: str
    when: Condition | None
    line: int | None
    intervals: list[int]          # business days; one for `every`, one per step for `steps`
    repeat: bool                  # `every`: the last interval again and again
    stop_on: list[str] = field(default_factory=list)
    type: str = "task"
    subject: str | None = None
    owner: str | None = None
    calendar: str | None = None

    def interval(self, step: int) -> int | None:
        """Business days before follow-up number `step` (1-based); None when the series is over."""
        if self.repeat:
            return self.intervals[0]
        return self.intervals[step - 1] if step <= len(self.intervals) else None


def parse_interval(value: Any) -> int:
    """Business days from `2d`, `2 days`, `2 business days` or 2; CrmkitError for anything else."""
    if isinstance(value, bool):
        raise CrmkitError(f"{value!r} is not a number of business days (write 5d)")
    if isinstance(value, int):
        days = value
    else:
        m = _INTERVAL.match(str(value))
        if not m:
            raise CrmkitError(f"{str(value)!r} is not an interval in business days (write 5d)")
        days = int(m.group(1))
    if days < 1 or days > MAX_DAYS:
        raise CrmkitError(f"{value!r}: an interval is 1 to {MAX_DAYS} business days")
    return days


def _load(ws: Workspace) -> tuple[list[Cadence], list[Problem]]:
    cached = ws.readers.get("cadences")
    path = ws.root / RULE_FILE
    try:
        st = path.stat()
        stamp: Any = (st.st_size, st.st_mtime_ns)
    except OSError:
        stamp = None
    if cached is not None and cached[0] == stamp:
        return cached[1]
    result = _read(ws, path) if stamp is not None else ([], [])
    ws.readers["cadences"] = (stamp, result)
    return result


def _read(ws: Workspace, path: Any) -> tuple[list[Cadence], list[Problem]]:
    try:
        doc = yamlio.load_roundtrip(path)
    except CrmkitError as exc:
        return [], [Problem(RULE_FILE, exc.line, "rule-syntax", exc.message)]
    if isinstance(doc, dict):
        for key in doc:
            if key not in ("cadences", "digest"):
                return [], [Problem(RULE_FILE, yamlio.line_of(doc, key), "rule-field",
                                    f"unknown top-level key {key!r} (a list of cadences, or `digest:` and `cadences:`)")]
        if not isinstance(doc.get("digest", True), bool):
            return [], [Problem(RULE_FILE, yamlio.line_of(doc, "digest"), "rule-field", "digest is true or false")]
        doc = doc.get("cadences")
    if doc is None:
        return [], []
    if not isinstance(doc, list):
        return [], [Problem(RULE_FILE, 1, "rule-syntax", "a cadence file is a list of cadences")]
    out: list[Cadence] = []
    problems: list[Problem] = []
    seen: dict[str, int | None] = {}
    for i, item in enumerate(doc):
        line = yamlio.item_line(doc, i)
        cadence, found = _read_one(ws, item, line, i)
        problems.extend(found)
        if cadence is None:
            continue
        if cadence.id in seen:
            problems.append(Problem(RULE_FILE, line, "rule-id",
                                    f"cadence id {cadence.id!r} is used twice (also at line {seen[cadence.id]})"))
            continue
        seen[cadence.id] = line
        out.append(cadence)
    return out, problems


def _read_one(ws: Workspace, item: Any, line: int | None, index: int) -> tuple[Cadence | None, list[Problem]]:
    if not isinstance(item, dict) or not item.get("id"):
        return None, [Problem(RULE_FILE, line, "rule-syntax", f"cadence {index + 1}: a mapping with an id")]
    cid = str(item["id"])
    what = f"cadence {cid}"
    problems: list[Problem] = []

    def at(key: str) -> int | None:
        return yamlio.line_of(item, key) or line

    def bad(key: str, message: str, code: str = "rule-field") -> None:
        problems.append(Problem(RULE_FILE, at(key), code, f"{what}: {message}"))

    for key in item:
        if key not in KEYS:
            bad(str(key), f"unknown key {key!r} (keys: {', '.join(KEYS)})")
    kind = str(item.get("kind", "contact"))
    if kind not in CADENCE_KINDS:
        bad("kind", f"kind is one of {', '.join(CADENCE_KINDS)}, not {kind!r}")
        kind = "contact"
    when, p = parse_condition(item.get("when"), RULE_FILE, at("when"), what)
    if p is not None:
        problems.append(p)
    intervals: list[int] = []
    has_every, has_steps = item.get("every") is not None, item.get("steps") is not None
    if has_every == has_steps:
        bad("every" if has_every else "id", "give either `every: 90d` or `steps: [2d, 5d, 10d]`", "cadence-interval")
    elif has_every:
        try:
            intervals = [parse_interval(item["every"])]
        except CrmkitError as exc:
            bad("every", f"every: {exc.message}", "cadence-interval")
    else:
        steps = item["steps"]
        if not isinstance(steps, list) or not steps:
            bad("steps", "steps is a list of intervals like [2d, 5d, 10d]", "cadence-interval")
        else:
            for n, step in enumerate(steps):
                try:
                    intervals.append(parse_interval(step))
                except CrmkitError as exc:
                    problems.append(Problem(RULE_FILE, yamlio.item_line(steps, n) or at("steps"), "cadence-interval",
                                            f"{what}: steps[{n + 1}]: {exc.message}"))
    stops = item.get("stop_on") or []
    if isinstance(stops, str):
        stops = [stops]
    if not isinstance(stops, list) or any(str(s) not in STOPS for s in stops):
        bad("stop_on", f"stop_on is a list of {', '.join(STOPS)}")
        stops = []
    atype = str(item.get("type", "task"))
    if atype not in TYPES:
        bad("type", f"type is one of {', '.join(TYPES)}, not {atype!r}")
    owner = item.get("owner")
    if owner is not None and ws.users and str(owner) not in ws.users:
        bad("owner", f"owner {owner!r} is not a user in crmkit.yaml", "rule-owner")
    calendar = item.get("calendar")
    if calendar is not None and str(calendar) not in _calendar_names(ws):
        bad("calendar", f"no calendar {calendar!r} in crmkit.yaml (or 24/7)")
    if problems and any(q.code in ("cadence-interval", "rule-syntax") for q in problems):
        # a cadence whose interval or condition is broken never runs: it would follow up the wrong records
        return Cadence(cid, kind, when, line, [], False), problems
    subject = item.get("subject")
    return Cadence(cid, kind, when, line, intervals, has_every, [str(s) for s in stops], atype,
                   str(subject) if subject is not None else None, str(owner) if owner else None,
                   str(calendar) if calendar else None), problems


def _calendar_names(ws: Workspace) -> set[str]:
    return {"24/7"} | {str(k) for k in (ws.config.get("calendars") or {})}


def check_cadences(ws: Workspace) -> list[Problem]:
    """`crmkit check`: everything wrong with rules/cadence.yaml, and users' unknown calendars."""
    problems = list(_load(ws)[1])
    names = _calendar_names(ws)
    for uid, user in (ws.users or {}).items():
        cal = user.get("calendar") if isinstance(user, dict) else None
        if cal is not None and str(cal) not in names:
            problems.append(Problem("crmkit.yaml", None, "config-calendar",
                                    f"users.{uid}.calendar: no calendar {cal!r} in calendars"))
    return problems


def digest_enabled(ws: Workspace) -> bool:
    """The daily reminder digest comes with the cadence file; `digest: false` in it turns it off."""
    path = ws.root / RULE_FILE
    if not path.is_file():
        return False
    try:
        doc = yamlio.load_roundtrip(path)
    except CrmkitError:
        return False
    return not (isinstance(doc, dict) and doc.get("digest") is False)


def read_cadences(ws: Workspace) -> list[Cadence]:
    """The cadences as far as they can be read, never raising: for views such as `show`."""
    return _load(ws)[0]


def load_cadences(ws: Workspace) -> list[Cadence]:
    """The cadences for a run; a broken file stops the command before anything is written."""
    cadences, _ = _load(ws)
    problems = check_cadences(ws)
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more; run `crmkit check`)" if len(problems) > 1 else ""
        raise RuleError(f"{first.message}{more}; nothing was changed", path=first.path, line=first.line,
                        column=column_of(first))
    return cadences
