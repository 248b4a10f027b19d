"""Escalation rules (rules/escalation.yaml), loaded and checked; `crmkit tick` applies them
(crmkit.support.tick).

    - id: breached-to-second-line
      when: sla.state == breached and line == first
      set: {line: second}
      assign: zsofia
      priority: raise              # or low, normal, high, urgent
      notify: ticket-escalated     # an email template to the (new) owner
    - id: customer-waiting
      when: sla.waiting_hours >= 4
      notify: customer-waiting
      repeat: 4h                   # fire again after 4 business hours; without it, once per ticket

Every rule whose condition holds fires (they are not first-match like routing).
A firing is recorded on the ticket as an `escalated` event, which is how a rule
knows it already fired: `crmkit tick` run twice changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crmkit.conditions.language import Condition, parse
from crmkit.errors import CrmkitError, Problem, RuleError
from crmkit.store import yamlio
from crmkit.support.calendar import parse_duration
from crmkit.support.tickets import PRIORITIES

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace

RULE_FILE = "rules/escalation.yaml"
KEYS = {"id", "when", "description", "set", "assign", "priority", "notify", "repeat"}


@dataclass
class Escalation:
    id: str
    when: Condition
    line: int | None
    set: dict[str, Any] = field(default_factory=dict)
    assign: str | None = None
    priority: str | None = None
    notify: str | None = None
    repeat: str | None = None


def _load(ws: Workspace) -> tuple[list[Escalation], list[Problem]]:
    path = ws.root / RULE_FILE
    if not path.is_file():
        return [], []
    try:
        doc = yamlio.load_roundtrip(path)
    except CrmkitError as exc:
        return [], [Problem(RULE_FILE, exc.line, "rule-syntax", exc.message)]
    if isinstance(doc, dict):
        doc = doc.get("rules")
    if doc is None:
        return [], []
    if not isinstance(doc, list):
        return [], [Problem(RULE_FILE, 1, "rule-syntax", "an escalation file is a list of rules")]
    rules, problems, seen = [], [], set()
    users = ws.users
    for i, item in enumerate(doc):
        line = yamlio.item_line(doc, i)
        if not isinstance(item, dict) or not item.get("id"):
            problems.append(Problem(RULE_FILE, line, "rule-syntax", "a rule is a mapping with an id and a when"))
            continue
        rid = str(item["id"])
        lines = {k: yamlio.line_of(item, k) or line for k in item}
        unknown = [k for k in item if k not in KEYS]
        if unknown:
            problems.append(Problem(RULE_FILE, lines[unknown[0]], "rule-field",
                                    f"rule {rid}: unknown key {unknown[0]!r} (keys: {', '.join(sorted(KEYS))})"))
        if rid in seen:
            problems.append(Problem(RULE_FILE, line, "rule-id", f"rule id {rid!r} is used twice"))
        seen.add(rid)
        try:
            cond = parse(str(item.get("when", "")))
        except CrmkitError as exc:
            col = f" (column {exc.column})" if exc.column else ""
            problems.append(Problem(RULE_FILE, lines.get("when", line), "rule-syntax",
                                    f"rule {rid}: when: {exc.message}{col}"))
            continue
        owner = item.get("assign")
        if owner is not None and users and str(owner) not in users:
            problems.append(Problem(RULE_FILE, lines.get("assign"), "rule-owner", f"rule {rid}: unknown user {owner!r}"))
        notify = item.get("notify")
        if notify is not None:
            from crmkit.render.templating import find_template

            try:
                find_template(ws, f"mail/{notify}.md.j2", f"mail/{notify}.txt.j2")
            except CrmkitError:
                problems.append(Problem(RULE_FILE, lines.get("notify"), "rule-template",
                                        f"rule {rid}: no mail template {notify!r} in templates/mail/ or the defaults"))
        prio = item.get("priority")
        if prio is not None and str(prio) not in PRIORITIES + ("raise",):
            problems.append(Problem(RULE_FILE, lines.get("priority"), "rule-field",
                                    f"rule {rid}: priority is raise or one of {', '.join(PRIORITIES)}"))
        repeat = item.get("repeat")
        if repeat is not None:
            try:
                parse_duration(repeat)
            except CrmkitError as exc:
                problems.append(Problem(RULE_FILE, lines.get("repeat"), "rule-field", f"rule {rid}: repeat: {exc.message}"))
        sets = item.get("set") or {}
        if not isinstance(sets, dict):
            problems.append(Problem(RULE_FILE, lines.get("set"), "rule-field", f"rule {rid}: set is a mapping"))
            sets = {}
        rules.append(Escalation(rid, cond, line, dict(yamlio.to_plain(sets)), str(owner) if owner else None,
                                str(prio) if prio else None, str(item["notify"]) if item.get("notify") else None,
                                str(repeat) if repeat is not None else None))
    return rules, problems


def check_rules(ws: Workspace) -> list[Problem]:
    return _load(ws)[1]


def load(ws: Workspace) -> list[Escalation]:
    rules, problems = _load(ws)
    if problems:
        first = problems[0]
        raise RuleError(f"{first.code}: {first.message}", path=first.path, line=first.line)
    return rules
