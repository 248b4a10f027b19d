"""A seeded working day of ordinary crmkit commands on one clone (for the team-use tests)."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from team_helpers import crm

from crmkit.store import yamlio

OPEN_STAGES = ["lead", "qualified", "proposal", "negotiation"]
TITLES = ["VD", "CFO", "IT-chef", "Inköpare", "Ekonomichef"]


def _ids(ws: Path, folder: str) -> list[str]:
    return sorted(p.stem for p in (ws / folder).glob("*.yaml"))


def _open(ws: Path, folder: str, field: str, closed: set[str]) -> list[str]:
    out = []
    for rid in _ids(ws, folder):
        data = yamlio.load_fast(ws / folder / f"{rid}.yaml") or {}
        if data.get(field) not in closed and not data.get("merged_into"):
            out.append(rid)
    return out


def commands(ws: Path, rng: random.Random, who: str, n: int = 64) -> list[list[str]]:
    """The day's command lines, chosen from the clone's records as they are in the morning.

    Every clone adds the same new person (Anna Berg) once; a different Erik Lund on
    each; route and tick run through the day as a cron job would."""
    tickets = _open(ws, "tickets", "status", {"solved", "closed"})
    deals = _open(ws, "deals", "stage", {"won", "lost"})
    contacts = _ids(ws, "contacts")
    # People edit the accounts they own: clone a works for sofia and lars, clone b for the
    # others (two people setting one field of one contact differently is a real conflict,
    # tested on its own in test_team_git.py).
    mine = [c for c in contacts
            if ((yamlio.load_fast(ws / "contacts" / f"{c}.yaml") or {}).get("owner") in ("sofia", "lars")) == (who == "a")]
    followups = [a for a in _ids(ws, "activities")
                 if not (yamlio.load_fast(ws / "activities" / f"{a}.yaml") or {}).get("done")]
    day: list[list[str]] = []
    while len(day) < n - 2:
        kind = rng.choices(
            ["route", "tick", "reply", "customer", "activity", "move", "lead", "ticket", "done", "title", "status"],
            [6, 6, 12, 6, 14, 10, 5, 4, 3, 3, 3])[0]
        if kind == "route":
            day.append(["route"])
        elif kind == "tick":
            day.append(["tick"])
        elif kind == "reply":
            day.append(["ticket", "reply", rng.choice(tickets), "-m", f"{who}: looking into it ({rng.randrange(999)})"])
        elif kind == "customer":
            day.append(["ticket", "reply", rng.choice(tickets), "--customer", "-m", f"any news? {rng.randrange(999)}"])
        elif kind == "activity":
            deal = rng.choice(deals)
            day.append(["activity", "add", f"Call about {deal} ({who} {rng.randrange(999)})",
                        f"type={rng.choice(['call', 'meeting', 'note', 'email'])}", f"deal={deal}"])
        elif kind == "move":
            day.append(["deal", "move", rng.choice(deals), rng.choice(OPEN_STAGES)])
        elif kind == "lead":
            first = rng.choice(["Eva", "Nils", "Ida", "Olle", "Maja", "Leo"])
            last = rng.choice(["Holm", "Sund", "Vik", "Dahl", "Berg"])
            tag = rng.randrange(10_000)
            day.append(["lead", "add", f"{first} {last}", f"email={first.lower()}.{tag}@example.com",
                        f"users={rng.choice([5, 20, 80, 200])}", "source=web_form"])
        elif kind == "ticket":
            day.append(["ticket", "add", f"Question from {who} {rng.randrange(999)}",
                        f"contact={rng.choice(contacts)}", f"priority={rng.choice(['low', 'normal', 'high'])}"])
        elif kind == "done" and followups:
            day.append(["activity", "done", rng.choice(followups)])
        elif kind == "title":
            day.append(["set", rng.choice(mine), f"title={rng.choice(TITLES)}"])
        elif kind == "status":
            day.append(["ticket", "status", rng.choice(tickets), rng.choice(["open", "pending"])])
    for cron in (["route"], ["tick"]):  # the cron job runs at least once in every clone's day
        if cron not in day:
            day.insert(rng.randrange(len(day)), cron)
    day.insert(rng.randrange(len(day)), ["contact", "add", "Anna Berg", "email=anna.berg@nordvik.no",
                                         "company=nordvik-as"])
    email = "erik.lund@vastkust.se" if who == "a" else "erik.lund@lindholmen.se"
    day.insert(rng.randrange(len(day)), ["contact", "add", "Erik Lund", f"email={email}"])
    return day


def run_day(ws: Path, day: list[list[str]], start: dt.datetime, rng: random.Random) -> list[tuple[list[str], int, str]]:
    """Run the day in-process, the clock moving on a few minutes per command."""
    now = start
    failures = []
    for cmd in day:
        now += dt.timedelta(minutes=rng.randrange(2, 9))
        res = crm(ws, *cmd, now=now.isoformat(timespec="minutes"))
        # 4: route left something unassigned; 1 with a reason a person would accept
        # (moving a deal to the stage it is in, a follow-up done already) is part of a day.
        if res.exit_code not in (0, 4, 1) or "internal error" in res.stderr:
            failures.append((cmd, res.exit_code, res.stderr))
    return failures
