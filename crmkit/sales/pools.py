"""Pools of people that records are handed out to, configured in crmkit.yaml::

    pools:
      sales:
        strategy: round_robin        # or least_loaded
        members:
          - daniel
          - {user: sofia, weight: 2}             # gets two turns in three
          - {user: erik, capacity: 25}           # never more than 25 open records
          - {user: lars, away: true}             # skipped while away
        fallback: daniel             # when nobody is available (reported)

Assignment is deterministic and needs no counter file that two branches would
both change: round robin takes its turn from the number of records already
routed through the pool (`routing.pool` on each record), going round the members
available at that moment (not away, below capacity); least loaded counts the
open records each member owns (divided by its weight). A member is also away when `users.<id>.away` is
true in crmkit.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crmkit.errors import Problem
from crmkit.sales.facts import stage_of
from crmkit.store import yamlio
from crmkit.store.records import Record

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace

STRATEGIES = ("round_robin", "least_loaded")
POOL_KEYS = ("strategy", "members", "fallback", "description")
MEMBER_KEYS = ("user", "weight", "capacity", "away")

#: Statuses after which a record no longer counts as open work.
CLOSED_STATUS: dict[str, set[str]] = {
    "lead": {"converted", "disqualified"},
    "ticket": {"solved", "closed"},
}


@dataclass
class Member:
    user: str
    weight: int = 1
    capacity: int | None = None
    away: bool = False


@dataclass
class Pool:
    name: str
    strategy: str = "round_robin"
    members: list[Member] = field(default_factory=list)
    fallback: str | None = None

    def sequence(self) -> list[str]:
        """One round of turns, weights respected and interleaved (smooth weighted round robin)."""
        total = sum(m.weight for m in self.members)
        current = {i: 0 for i in range(len(self.members))}
        out: list[str] = []
        for _ in range(total):
            for i, m in enumerate(self.members):
                current[i] += m.weight
            best = max(current, key=lambda i: (current[i], -i))
            current[best] -= total
            out.append(self.members[best].user)
        return out


def pool_config(ws: Workspace) -> dict[str, Any]:
    pools = ws.config.get("pools") or {}
    return pools if isinstance(pools, dict) else {}


def _member(item: Any) -> Member | None:
    if isinstance(item, str):
        return Member(item)
    if isinstance(item, dict) and isinstance(item.get("user"), str):
        weight = item.get("weight", 1)
        capacity = item.get("capacity")
        return Member(
            item["user"],
            weight if isinstance(weight, int) and not isinstance(weight, bool) and weight > 0 else 1,
            capacity if isinstance(capacity, int) and not isinstance(capacity, bool) and capacity >= 0 else None,
            item.get("away") is True,
        )
    return None


def _members(raw: Any) -> list[Member]:
    if isinstance(raw, dict):  # {sofia: {weight: 2}, erik: null}
        raw = [{"user": k, **(v if isinstance(v, dict) else {})} for k, v in raw.items()]
    if not isinstance(raw, list):
        return []
    return [m for m in (_member(i) for i in raw) if m is not None]


def load_pools(ws: Workspace) -> dict[str, Pool]:
    out: dict[str, Pool] = {}
    for name, raw in pool_config(ws).items():
        if not isinstance(raw, dict):
            continue
        strategy = raw.get("strategy", "round_robin")
        fallback = raw.get("fallback")
        out[str(name)] = Pool(str(name), strategy if strategy in STRATEGIES else "round_robin",
                              _members(raw.get("members")), fallback if isinstance(fallback, str) else None)
    return out


def is_open(ws: Workspace, rec: Record) -> bool:
    """Whether a record is still work for its owner (counts towards load and capacity)."""
    if rec.kind == "deal":
        closed = {str(s.get("name")) for s in (ws.config.get("pipeline") or {}).get("stages") or []
                  if isinstance(s, dict) and (s.get("category") == "closed" or s.get("won") or s.get("lost"))}
        return stage_of(rec.data) not in closed
    if rec.kind == "activity":
        return not rec.data.get("done")
    return rec.data.get("status") not in CLOSED_STATUS.get(rec.kind, set())


class PoolState:
    """What pools need to know about the records of one kind, updated as a plan assigns."""

    def __init__(self, ws: Workspace, kind: str, records: list[Record]) -> None:
        self.ws = ws
        self.kind = kind
        self.pools = load_pools(ws)
        self.routed: dict[str, int] = {}
        self.load: dict[str, int] = {}
        #: the round-robin turn (1-based) the last choose() gave out, written as routing.turn
        #: so that `check` sees a turn two clones both handed out; None for least loaded.
        self.last_turn: int | None = None
        for rec in records:
            routing = rec.data.get("routing")
            if isinstance(routing, dict) and isinstance(routing.get("pool"), str):
                self.routed[routing["pool"]] = self.routed.get(routing["pool"], 0) + 1
            owner = rec.data.get("owner")
            if isinstance(owner, str) and is_open(ws, rec):
                self.load[owner] = self.load.get(owner, 0) + 1

    def _away(self, m: Member) -> bool:
        user = self.ws.users.get(m.user)
        return m.away or (isinstance(user, dict) and user.get("away") is True)

    def _unavailable(self, m: Member) -> str | None:
        if self._away(m):
            return f"{m.user} away"
        if m.capacity is not None and self.load.get(m.user, 0) >= m.capacity:
            return f"{m.user} at capacity ({self.load.get(m.user, 0)} open of {m.capacity})"
        return None

    def choose(self, name: str) -> tuple[str | None, list[str]]:
        """The member who gets the next record, and notes saying why."""
        pool = self.pools.get(name)
        if pool is None:
            return None, [f"pool {name}: no such pool in crmkit.yaml"]
        skipped: list[str] = []
        chosen: str | None = None
        how = ""
        self.last_turn = None
        if pool.strategy == "least_loaded":
            best: tuple[Any, ...] | None = None
            for i, m in enumerate(pool.members):
                why = self._unavailable(m)
                if why:
                    skipped.append(why)
                    continue
                key = (self.load.get(m.user, 0) / m.weight, i)
                if best is None or key < best:
                    best, chosen = key, m.user
            if chosen is not None:
                how = f"least loaded, {self.load.get(chosen, 0)} open"
        else:
            # The turn goes round the members available now, so nobody gets two turns in a
            # row because a colleague is away; the turn itself comes from the records.
            available = []
            for m in pool.members:
                why = self._unavailable(m)
                if why:
                    skipped.append(why)
                else:
                    available.append(m)
            if available:
                seq = Pool(name, members=available).sequence()
                turn = self.routed.get(name, 0)
                chosen = seq[turn % len(seq)]
                how = f"round robin, turn {turn + 1}"
                self.last_turn = turn + 1
        notes: list[str] = []
        if chosen is None:
            reason = "; ".join(skipped) if skipped else "no members"
            if pool.fallback:
                chosen = pool.fallback
                notes.append(f"pool {name}: nobody available ({reason}); fell back to {chosen}")
            else:
                notes.append(f"pool {name}: nobody available ({reason}) and no fallback; left unassigned")
                return None, notes
        else:
            notes.append(f"pool {name} ({how}): {chosen}" + (f"; skipped {', '.join(skipped)}" if skipped else ""))
        self.routed[name] = self.routed.get(name, 0) + 1
        return chosen, notes

    def moved(self, rec: Record, old_owner: Any, new_owner: str | None) -> None:
        """Keep loads right while a plan reassigns records."""
        if not is_open(self.ws, rec) or old_owner == new_owner:
            return
        if isinstance(old_owner, str) and self.load.get(old_owner):
            self.load[old_owner] -= 1
        if new_owner:
            self.load[new_owner] = self.load.get(new_owner, 0) + 1


def check_pools(ws: Workspace) -> list[Problem]:
    """The `pools:` section of crmkit.yaml: strategies, members, weights, fallbacks."""
    raw = ws.config.get("pools")
    if raw is None:
        return []
    path = "crmkit.yaml"
    lines = yamlio.key_lines(ws.config_path)
    users = ws.users
    found: list[Problem] = []

    def add(key: str, message: str) -> None:
        found.append(Problem(path, lines.get(key) or lines.get("pools"), "pool-config", message))

    if not isinstance(raw, dict):
        add("pools", "pools must be a mapping of pool name to {strategy, members, fallback}")
        return found
    for name, pool in raw.items():
        key = f"pools.{name}"
        if not isinstance(pool, dict):
            add(key, f"pool {name}: expected a mapping with strategy, members and fallback")
            continue
        for k in pool:
            if k not in POOL_KEYS:
                add(f"{key}.{k}", f"pool {name}: unknown field {k!r} (a pool has {', '.join(POOL_KEYS)})")
        strategy = pool.get("strategy", "round_robin")
        if strategy not in STRATEGIES:
            add(f"{key}.strategy", f"pool {name}: unknown strategy {strategy!r} (one of {', '.join(STRATEGIES)})")
        members = pool.get("members")
        if isinstance(members, dict):
            members = [{"user": k, **(v if isinstance(v, dict) else {})} for k, v in members.items()]
        if not isinstance(members, list) or not members:
            add(f"{key}.members", f"pool {name}: needs a list of members")
            members = []
        for i, item in enumerate(members):
            mkey = f"{key}.members.{i}"
            if isinstance(item, str):
                item = {"user": item}
            if not isinstance(item, dict) or not isinstance(item.get("user"), str):
                add(mkey, f"pool {name}: member {i + 1}: expected a user id or {{user, weight, capacity, away}}")
                continue
            user = item["user"]
            if users and user not in users:
                add(mkey, f"pool {name}: member {user!r} is not a user in crmkit.yaml")
            for k in item:
                if k not in MEMBER_KEYS:
                    add(f"{mkey}.{k}", f"pool {name}: member {user}: unknown field {k!r} "
                                       f"(a member has {', '.join(MEMBER_KEYS)})")
            w = item.get("weight", 1)
            if not isinstance(w, int) or isinstance(w, bool) or w < 1:
                add(f"{mkey}.weight", f"pool {name}: member {user}: weight must be a whole number of 1 or more")
            c = item.get("capacity")
            if c is not None and (not isinstance(c, int) or isinstance(c, bool) or c < 0):
                add(f"{mkey}.capacity", f"pool {name}: member {user}: capacity must be a whole number of 0 or more")
            a = item.get("away", False)
            if not isinstance(a, bool):
                add(f"{mkey}.away", f"pool {name}: member {user}: away must be true or false")
        fb = pool.get("fallback")
        if fb is not None and (not isinstance(fb, str) or (users and fb not in users)):
            add(f"{key}.fallback", f"pool {name}: fallback {fb!r} is not a user in crmkit.yaml")
    return found
