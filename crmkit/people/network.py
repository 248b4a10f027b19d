"""People in networks: memberships of organisations and relationships between people.

One shape, on the contact:

    memberships:                       # organisations besides the employer (`company`)
      - {organisation: bni-stockholm-city, role: member, since: 2025-03-01}
      - {organisation: rotary-sodermalm, role: board member}
    relationships:
      - {type: knows, contact: ulf-sodergran}
      - {type: introduced_by, contact: anna-akerberg}
      - {type: reports_to, contact: maria-lindgren}
      - {type: knows, user: daniel}    # someone in our team knows this person

An organisation is a company record (a BNI chapter, a Rotary club, a board: say
`type: network` on it); a relationship names exactly one other contact or one user
of crmkit.yaml. `crmkit check` verifies every name resolves (`network` problems).

`warm_paths` answers "who in our team can get us an introduction at this company":
for each person there, the shortest ways in, from relationships, from the email,
calls and meetings our users logged with them, and from organisations they share
with someone our team knows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crmkit.errors import Problem

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace

RELATIONSHIPS = ("knows", "introduced_by", "reports_to")
#: Activities that are an interaction with a person (a note about them is not).
INTERACTIONS = ("call", "meeting", "email")


def check_network(ws: Workspace) -> list[Problem]:
    """Every membership names a company, every relationship one contact or one user."""
    from crmkit.store import yamlio

    companies, contacts, users = ws.index("company"), ws.index("contact"), ws.users
    problems: list[Problem] = []
    for rec in ws.records("contact"):
        lines: dict[str, int] | None = None

        def add(key: str, message: str, rec: Any = rec) -> None:
            nonlocal lines
            if lines is None:
                lines = yamlio.key_lines(rec.path)
            problems.append(Problem(ws.rel(rec.path), lines.get(key), "network", message))

        for n, m in enumerate(_items(rec, "memberships"), start=1):
            org = m.get("organisation")
            if not org:
                add("memberships", f"memberships item {n}: no organisation")
            elif str(org) not in companies:
                add("memberships", f"memberships item {n}: no company with id {org!r}")
        for n, r in enumerate(_items(rec, "relationships"), start=1):
            kind = r.get("type")
            if kind not in RELATIONSHIPS:
                add("relationships", f"relationships item {n}: type is one of {', '.join(RELATIONSHIPS)}, not {kind!r}")
            other, user = r.get("contact"), r.get("user")
            if bool(other) == bool(user):
                add("relationships", f"relationships item {n}: names one contact or one user")
            elif other and str(other) not in contacts:
                add("relationships", f"relationships item {n}: no contact with id {other!r}")
            elif other and str(other) == rec.id:
                add("relationships", f"relationships item {n}: a contact's relationship to itself")
            elif user and str(user) not in users:
                add("relationships", f"relationships item {n}: {user!r} is not a user in crmkit.yaml")
    return problems


def _items(rec: Any, key: str) -> list[dict[str, Any]]:
    value = rec.get(key)
    return [i for i in value if isinstance(i, dict)] if isinstance(value, list) else []


@dataclass
class Path:
    """One way in: our user, the people in between, and what links each step."""

    user: str
    steps: list[tuple[str, str]]      # (how, contact id): "knows" / "3 interactions" / "both in X"
    strength: int

    def text(self, names: dict[str, str]) -> str:
        out = self.user
        for how, who in self.steps:
            out += f" -[{how}]-> {names.get(who, who)}"
        return out


@dataclass
class Target:
    contact: str
    name: str
    title: str
    paths: list[Path] = field(default_factory=list)


def _links(ws: Workspace) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    """user -> {contact: how} (our team's direct ties) and contact -> {contact: how} (ties between people)."""
    direct: dict[str, dict[str, str]] = defaultdict(dict)
    between: dict[str, dict[str, str]] = defaultdict(dict)
    contacts = ws.index("contact")
    for rec in contacts.values():
        for r in _items(rec, "relationships"):
            kind = str(r.get("type") or "knows").replace("_", " ")
            if r.get("user"):
                direct[str(r["user"])][rec.id] = kind
            elif r.get("contact") and str(r["contact"]) in contacts and str(r["contact"]) != rec.id:
                other = str(r["contact"])
                between[rec.id].setdefault(other, kind)
                between[other].setdefault(rec.id, {"introduced by": "introduced", "reports to": "manages"}.get(kind, kind))
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for act in ws.records("activity"):
        if act.get("type") in INTERACTIONS and act.get("owner") and act.get("contact"):
            counts[(str(act["owner"]), str(act["contact"]))] += 1
    for (user, contact), n in counts.items():
        if contact in contacts:
            direct[user].setdefault(contact, f"{n} interaction{'s' if n != 1 else ''}")
    members: dict[str, list[str]] = defaultdict(list)
    for rec in contacts.values():
        for m in _items(rec, "memberships"):
            if m.get("organisation"):
                members[str(m["organisation"])].append(rec.id)
    companies = ws.index("company")
    for org, people in members.items():
        label = f"both in {companies[org].get('name') if org in companies else org}"
        for a in people:
            for b in people:
                if a != b:
                    between[a].setdefault(b, label)
    return direct, between


def warm_paths(ws: Workspace, company: str, *, max_steps: int = 3) -> list[Target]:
    """For each contact at `company`: every user's shortest path to them (up to `max_steps`
    links), strongest first. Breadth-first from each user over the links above."""
    direct, between = _links(ws)
    targets = {r.id: r for r in ws.records("contact") if r.get("company") == company}
    out: dict[str, Target] = {cid: Target(cid, str(r.get("name") or cid), str(r.get("title") or ""))
                              for cid, r in sorted(targets.items())}
    for user in sorted(ws.users):
        seen: dict[str, list[tuple[str, str]]] = {c: [(how, c)] for c, how in direct.get(user, {}).items()}
        frontier = list(seen)
        for _ in range(max_steps - 1):
            nxt = []
            for c in frontier:
                for other, how in sorted(between.get(c, {}).items()):
                    if other not in seen:
                        seen[other] = [*seen[c], (how, other)]
                        nxt.append(other)
            frontier = nxt
        for cid, steps in seen.items():
            if cid in out:
                strength = 10 * (max_steps + 1 - len(steps)) + (3 if "interaction" in steps[0][0] else 0)
                out[cid].paths.append(Path(user, steps, strength))
    for t in out.values():
        t.paths.sort(key=lambda p: (-p.strength, p.user))
    return sorted(out.values(), key=lambda t: (not t.paths, -(t.paths[0].strength if t.paths else 0), t.name))
