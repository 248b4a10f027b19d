"""Merge damage among people and companies: the same one created on two clones.

Exact matches only (the same email address, phone number or company domain once
normalised): `crmkit dedupe` lists the looser, name-based candidates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crmkit.errors import Problem
from crmkit.people.dedupe import default_region, normal_domain, normal_email, normal_phone
from crmkit.store import yamlio

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace


def duplicate_people(ws: Workspace) -> list[Problem]:
    """Exact duplicates, in a shared repository (one with a remote), where they are what
    two clones adding the same person leave; a solo workspace has `crmkit dedupe` for them."""
    from crmkit.store import gitio, gitteam

    if gitio.find_worktree(ws.root) is None or not gitteam.has_remote(ws.root):
        return []
    found: list[Problem] = []
    fields = {"contact": ("email", "phone"), "company": ("domain", "website")}
    for kind, keys in fields.items():
        groups: dict[tuple[str, str], list[Any]] = {}
        for rec in ws.records(kind):
            for key in keys:
                value = rec.get(key)
                if key == "email":
                    norm = normal_email(value)
                elif key == "phone":
                    norm = normal_phone(value, default_region(ws, rec)) if value else None
                else:
                    norm = normal_domain(value)
                if norm:
                    label = "domain" if key == "website" else key
                    groups.setdefault((label, norm), []).append(rec)
        for (label, norm), recs in sorted(groups.items()):
            uniq = {r.id: r for r in recs}
            if len(uniq) < 2:
                continue
            for rec in uniq.values():
                others = ", ".join(r.ref for r in uniq.values() if r is not rec)
                found.append(Problem(ws.rel(rec.path), yamlio.key_lines(rec.path).get(label), "duplicate",
                                     f"{rec.ref} has the same {label} {norm} as {others}: "
                                     f"`crmkit merge` one into the other"))
    return found
