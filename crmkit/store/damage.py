"""Merge damage that no single file shows: what two clones did twice, found by `check`.

Each clone's own writes are consistent; a merge of two can still leave a record
routed on both sides, a pool turn handed out twice, a deal whose stage disagrees
with its merged history, or one email logged (or waiting) twice. The merge driver
keeps such files readable and these checks name every record that needs a person.
(Repeated SLA events are checked in crmkit.support.damage, duplicate people in
crmkit.people.damage.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crmkit.errors import Problem
from crmkit.store import yamlio
from crmkit.store.records import Record

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace


def _line(rec: Record, key: str) -> int | None:
    return yamlio.key_lines(rec.path).get(key)


def routed_twice(ws: Workspace) -> list[Problem]:
    """Records the merge driver found routed on both sides (`routing_conflicts`)."""
    found: list[Problem] = []
    for kind in ("lead", "ticket", "deal", "contact", "company", "activity"):
        for rec in ws.records(kind):
            others = rec.get("routing_conflicts")
            if not others:
                continue
            routing = rec.get("routing") if isinstance(rec.get("routing"), dict) else {}
            also = ", ".join(f"{o.get('owner')} (rule {o.get('rule')})" for o in others if isinstance(o, dict))
            found.append(Problem(ws.rel(rec.path), _line(rec, "routing_conflicts"), "routed-twice",
                                 f"{rec.ref} was routed on two clones: kept {routing.get('owner')} "
                                 f"(rule {routing.get('rule')}), also {also}; settle the owner and "
                                 "delete routing_conflicts"))
    return found


def turns_taken_twice(ws: Workspace) -> list[Problem]:
    """Round-robin turns (`routing.turn` of one pool) given to more than one record."""
    found: list[Problem] = []
    for kind in ("lead", "ticket", "deal"):
        by_turn: dict[tuple[str, int], list[Record]] = {}
        for rec in ws.records(kind):
            routing = rec.get("routing")
            if isinstance(routing, dict) and isinstance(routing.get("pool"), str) \
                    and isinstance(routing.get("turn"), int) and not isinstance(routing.get("turn"), bool):
                by_turn.setdefault((routing["pool"], routing["turn"]), []).append(rec)
        for (pool, turn), recs in sorted(by_turn.items()):
            if len(recs) < 2:
                continue
            for rec in recs:
                others = ", ".join(r.ref for r in recs if r is not rec)
                found.append(Problem(ws.rel(rec.path), _line(rec, "routing.turn"), "turn-twice",
                                     f"pool {pool} turn {turn} was taken twice (also by {others}): "
                                     "two clones routed in parallel; check the owners are fair"))
    return found


def stage_against_history(ws: Workspace) -> list[Problem]:
    """A deal whose `stage` is not the stage of the last entry of its stage history."""
    found: list[Problem] = []
    for rec in ws.records("deal"):
        history = rec.get("stage_history")
        stage = rec.get("stage")
        if not isinstance(history, list) or not history or not isinstance(stage, str):
            continue
        last = history[-1]  # the driver keeps a merged history in time order
        target = last.get("stage") if isinstance(last, dict) else None
        if target is not None and target != stage:
            found.append(Problem(ws.rel(rec.path), _line(rec, "stage"), "stage-history",
                                 f"{rec.ref}: stage is {stage} but its newest stage_history entry says {target}"))
    return found


def duplicate_message_ids(ws: Workspace) -> list[Problem]:
    """One Message-ID logged on two email activities, or waiting twice in the outbox."""
    found: list[Problem] = []
    seen: dict[str, str] = {}
    for rec in ws.records("activity"):
        mid = rec.get("message_id")
        if not isinstance(mid, str) or not mid:
            continue
        rel = ws.rel(rec.path)
        if mid in seen:
            found.append(Problem(rel, _line(rec, "message_id"), "message-twice",
                                 f"{rec.ref}: message {mid} is logged twice (also {seen[mid]}): sent twice?"))
        else:
            seen[mid] = rel
    outbox = ws.root / "outbox"
    if outbox.is_dir():
        from email import policy
        from email.parser import BytesHeaderParser

        waiting: dict[str, str] = {}
        for path in sorted(outbox.glob("*.eml")):
            try:
                with open(path, "rb") as fh:
                    mid = str(BytesHeaderParser(policy=policy.default).parse(fh)["Message-ID"] or "")
            except Exception:  # noqa: BLE001 - an unreadable message is mail's check to report
                continue
            if not mid:
                continue
            rel = ws.rel(path)
            if mid in waiting:
                found.append(Problem(rel, None, "message-twice",
                                     f"message {mid} is in the outbox twice (also {waiting[mid]})"))
            elif mid in seen:
                found.append(Problem(rel, None, "message-twice",
                                     f"message {mid} was sent already ({seen[mid]}) and waits again"))
            waiting.setdefault(mid, rel)
    return found


def check_damage(ws: Workspace) -> list[Problem]:
    """`check`: merge damage across records, and whether this clone merges with the driver."""
    from crmkit.store.team import wiring_problems

    return [*routed_twice(ws), *turns_taken_twice(ws), *stage_against_history(ws),
            *duplicate_message_ids(ws), *wiring_problems(ws)]
