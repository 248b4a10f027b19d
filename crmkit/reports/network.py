"""`crmkit report network COMPANY`: warm paths into an account, from people/network.py."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crmkit.people.network import warm_paths
from crmkit.render.model import Column, Report, Section

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace


def network_report(ws: Workspace, company: str, *, max_steps: int = 3) -> Report:
    """One row per person at the company: the best way in (our user, the links between),
    how many of our users have a way, and the other paths."""
    rec = ws.get(company, "company")
    names = {c.id: str(c.get("name") or c.id) for c in ws.records("contact")}
    targets = warm_paths(ws, rec.id, max_steps=max_steps)
    rows: list[dict[str, Any]] = []
    for t in targets:
        best = t.paths[0] if t.paths else None
        rows.append({"contact": t.contact, "name": t.name, "title": t.title,
                     "best_path": best.text(names) if best else "(no warm path)",
                     "links": len(best.steps) if best else None, "users": len({p.user for p in t.paths})})
    data = {"company": rec.id, "max_steps": max_steps,
            "contacts": [{"contact": t.contact, "name": t.name, "title": t.title,
                          "paths": [{"user": p.user, "strength": p.strength,
                                     "steps": [{"how": how, "contact": who} for how, who in p.steps]}
                                    for p in t.paths]} for t in targets]}
    reached = sum(1 for t in targets if t.paths)
    return Report(
        name="network", title=f"Warm paths into {rec.get('name') or rec.id}",
        meta=[("company", rec.id), ("people there", str(len(targets))), ("reachable", str(reached)),
              ("at most", f"{max_steps} link{'s' if max_steps != 1 else ''}")],
        sections=[Section("People and the best way in", [
            Column("name"), Column("title"), Column("best_path", "best path", wrap=True),
            Column("links", kind="int"), Column("users", "users with a path", kind="int")], rows,
            empty=f"no contacts at {rec.id}")],
        data=data)
