"""`crmkit check` for the SLA: calendars and policies load, and ticket statuses agree with their events."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crmkit.errors import CrmkitError, Problem
from crmkit.support.policies import load_policies
from crmkit.support.sla import _timeline, event_status

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace


def check_config(ws: Workspace) -> list[Problem]:
    """For `crmkit check`: calendars and SLA policies load, and ticket statuses agree with their events."""
    from crmkit.store import yamlio

    if not ws.config.get("sla") and not ws.config.get("calendars"):
        return []
    try:
        load_policies(ws)
    except CrmkitError as exc:
        section = "sla" if exc.message.startswith("sla") else "calendars"
        line = yamlio.key_lines(ws.config_path).get(section)
        return [Problem("crmkit.yaml", line, "sla-config", exc.message)]
    return check_ticket_history(ws)


def check_ticket_history(ws: Workspace) -> list[Problem]:
    """Tickets whose status disagrees with their last status event: edited by hand, so the
    SLA clocks have to guess when the status changed."""
    from crmkit.store import yamlio

    problems = []
    for rec in ws.records("ticket"):
        changes = [e for _, kind, e in _timeline(rec.get("events") or []) if kind == "status" and event_status(e)]
        status = rec.get("status")
        if changes and status is not None and str(status) != event_status(changes[-1]):
            problems.append(Problem(ws.rel(rec.path), yamlio.key_lines(rec.path).get("status"), "ticket-status",
                                    f"status is {status} but the last status event says {event_status(changes[-1])}; "
                                    f"change it with `crmkit ticket status {rec.id} {status}` so the SLA clocks "
                                    "know when"))
    return problems
