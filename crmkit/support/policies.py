"""SLA policies: which targets apply to a ticket, read and checked from `sla:` in crmkit.yaml.

The clocks themselves are in crmkit.support.sla.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crmkit.conditions.language import Condition, parse
from crmkit.errors import CrmkitError
from crmkit.support.calendar import calendars, parse_duration
from crmkit.support.tickets import PRIORITIES, STATUSES

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace

#: The clocks a policy may set a target for.
TARGETS = ("first_response", "next_response", "resolution")


@dataclass
class Policy:
    id: str
    when: Condition | None
    calendar: str
    targets: dict[str, dict[str, dt.timedelta]]
    pause_on: tuple[str, ...]


def load_policies(ws: Workspace) -> tuple[list[Policy], float]:
    cached: tuple[list[Policy], float] | None = ws.readers.get("sla_policies")
    if cached is not None:
        return cached
    cfg = ws.config.get("sla") or {}
    if not isinstance(cfg, dict):
        raise CrmkitError("sla: expected a mapping with policies")
    cals = calendars(ws)
    at_risk = _share(cfg.get("at_risk", 0.75))
    if at_risk is None or not 0 < at_risk <= 1:
        raise CrmkitError("sla.at_risk: a share of the target between 0 and 1, such as 0.75")
    policies = []
    for i, item in enumerate(cfg.get("policies") or []):
        where = f"sla.policies[{i + 1}]"
        if not isinstance(item, dict) or "id" not in item:
            raise CrmkitError(f"{where}: a policy needs an id and targets")
        cal_name = str(item.get("calendar", "24/7"))
        if cal_name not in cals:
            raise CrmkitError(f"{where}: unknown calendar {cal_name!r} (calendars: {', '.join(cals)})")
        day = cals[cal_name].day
        targets: dict[str, dict[str, dt.timedelta]] = {}
        for priority, spec in (item.get("targets") or {}).items():
            if str(priority) not in PRIORITIES + ("default",):
                raise CrmkitError(f"{where}.targets: {priority!r} is not a priority ({', '.join(PRIORITIES)} or default)")
            if not isinstance(spec, dict):
                raise CrmkitError(f"{where}.targets.{priority}: expected {{first_response: 4h, resolution: 2d}}")
            unknown = [k for k in spec if k not in TARGETS]
            if unknown:
                raise CrmkitError(f"{where}.targets.{priority}: unknown target {unknown[0]!r} ({', '.join(TARGETS)})")
            targets[str(priority)] = {k: parse_duration(v, day) for k, v in spec.items()}
        when = None
        if item.get("when") not in (None, True, "true"):
            try:
                when = parse(str(item["when"]))
            except CrmkitError as exc:
                raise CrmkitError(f"{where}.when: {exc.message}") from None
        pause = item.get("pause_on", ["pending"]) or []
        if isinstance(pause, str):
            pause = [pause]
        bad = [p for p in pause if str(p) not in STATUSES]
        if bad:
            raise CrmkitError(f"{where}.pause_on: {bad[0]!r} is not a status ({', '.join(STATUSES)})")
        policies.append(Policy(str(item["id"]), when, cal_name, targets, tuple(str(p) for p in pause)))
    ws.readers["sla_policies"] = (policies, at_risk)
    return policies, at_risk


def _share(value: Any) -> float | None:
    """0.8, 80% or "80%" -> 0.8."""
    try:
        text = str(value).strip()
        return float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        return None


def policy_for(ws: Workspace, ticket: Any) -> Policy | None:
    from crmkit.conditions.views import view

    policies, _ = load_policies(ws)
    mapping = view(ws, ticket) if hasattr(ticket, "kind") else ticket
    for policy in policies:
        if policy.when is None or policy.when.evaluate(mapping, ws.resolve):
            return policy
    return None
