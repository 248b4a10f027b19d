"""Pools: round robin (weighted), least loaded, away members, capacity, fallback; all from the records."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from crmkit.sales import routing
from crmkit.sales.pools import Member, Pool, check_pools
from crmkit.sales.rules import load_checked
from crmkit.store.workspace import Workspace

USERS = """\
name: Test AB
timezone: Europe/Stockholm
users:
  daniel: {name: Daniel}
  sofia: {name: Sofia}
  erik: {name: Erik}
  lars: {name: Lars}
"""
RULES = "- id: to-pool\n  pool: sellers\n"


def build(make_ws, pool: str, leads: dict[str, str], users: str = USERS) -> Path:  # type: ignore[no-untyped-def]
    files = {"crmkit.yaml": users + "pools:\n  sellers:\n" + pool, "rules/routing.yaml": RULES}
    files.update({f"leads/{k}.yaml": v for k, v in leads.items()})
    return make_ws(files)


def new_leads(n: int) -> dict[str, str]:
    return {f"ld-{i:03d}": f"name: Lead {i}\nstatus: prospect\n" for i in range(n)}


def run_plan(root: Path, apply: bool = False) -> routing.Plan:
    ws = Workspace(root, now="2026-11-22T09:30:00+01:00")
    p = routing.plan(ws, load_checked(ws))
    if apply:
        routing.apply(ws, p, "crmkit route")
    return p


def owners(p: routing.Plan) -> list[str | None]:
    return [a.owner for a in p.assignments]


def test_round_robin_takes_turns_in_member_order(make_ws) -> None:  # type: ignore[no-untyped-def]
    root = build(make_ws, "    members: [sofia, erik, lars]\n", new_leads(7))
    assert owners(run_plan(root)) == ["sofia", "erik", "lars", "sofia", "erik", "lars", "sofia"]


def test_round_robin_continues_from_the_records_already_routed(make_ws) -> None:  # type: ignore[no-untyped-def]
    root = build(make_ws, "    members: [sofia, erik, lars]\n", new_leads(2))
    assert owners(run_plan(root, apply=True)) == ["sofia", "erik"]
    (root / "leads/ld-900.yaml").write_text("name: Later\nstatus: prospect\n")
    (root / "leads/ld-901.yaml").write_text("name: Later 2\nstatus: prospect\n")
    assert owners(run_plan(root)) == ["lars", "sofia"]  # no counter file: the turn comes from routing.pool


def test_weights_are_respected_and_interleaved(make_ws) -> None:  # type: ignore[no-untyped-def]
    root = build(make_ws, "    members: [sofia, {user: erik, weight: 2}]\n", new_leads(6))
    got = owners(run_plan(root))
    assert Counter(got) == {"erik": 4, "sofia": 2}
    assert got[:3] in (["erik", "sofia", "erik"], ["sofia", "erik", "erik"])
    seq = Pool("p", members=[Member("a", 3), Member("b", 1), Member("c", 1)]).sequence()
    assert Counter(seq) == {"a": 3, "b": 1, "c": 1} and seq[0] == "a" and seq[1] != "a"


def test_away_members_are_skipped(make_ws) -> None:  # type: ignore[no-untyped-def]
    root = build(make_ws, "    members: [sofia, {user: erik, away: true}, lars]\n", new_leads(4))
    p = run_plan(root)
    assert owners(p) == ["sofia", "lars", "sofia", "lars"]
    assert "skipped erik away" in p.assignments[1].notes[0]
    # away in the user's own entry counts too
    users = USERS.replace("lars: {name: Lars}", "lars: {name: Lars, away: true}")
    root2 = build(make_ws, "    members: [sofia, lars]\n", new_leads(2), users)
    assert owners(run_plan(root2)) == ["sofia", "sofia"]


def test_capacity_counts_open_records_owned(make_ws) -> None:  # type: ignore[no-untyped-def]
    leads = new_leads(3)
    leads["ld-old1"] = "name: Old\nstatus: qualified\nowner: sofia\n"
    leads["ld-old2"] = "name: Old 2\nstatus: converted\nowner: erik\n"  # closed: does not count
    root = build(make_ws, "    members: [{user: sofia, capacity: 1}, {user: erik, capacity: 2}]\n"
                          "    fallback: daniel\n", leads)
    p = run_plan(root)
    assert owners(p) == ["erik", "erik", "daniel"]
    assert "fell back to daniel" in p.assignments[2].notes[0]
    assert "sofia at capacity (1 open of 1)" in p.assignments[2].notes[0]
    assert "erik at capacity (2 open of 2)" in p.assignments[2].notes[0]


def test_nobody_available_without_fallback_leaves_unassigned(make_ws) -> None:  # type: ignore[no-untyped-def]
    root = build(make_ws, "    members: [{user: sofia, away: true}]\n", new_leads(1))
    p = run_plan(root)
    assert p.assignments == [] and len(p.unassigned) == 1
    assert "nobody available (sofia away) and no fallback" in p.unassigned[0].notes[0]


def test_least_loaded_picks_fewest_open_records(make_ws) -> None:  # type: ignore[no-untyped-def]
    leads = new_leads(4)
    leads["ld-s1"] = "name: S1\nstatus: qualified\nowner: sofia\n"
    leads["ld-s2"] = "name: S2\nstatus: qualified\nowner: sofia\n"
    leads["ld-e1"] = "name: E1\nstatus: qualified\nowner: erik\n"
    leads["ld-l1"] = "name: L1\nstatus: disqualified\nowner: lars\n"
    root = build(make_ws, "    strategy: least_loaded\n    members: [sofia, erik, lars]\n", leads)
    # loads: sofia 2, erik 1, lars 0 -> lars, then lars/erik tie (1) -> erik (member order), ...
    assert owners(run_plan(root)) == ["lars", "erik", "lars", "sofia"]


def test_least_loaded_with_weights_and_capacity(make_ws) -> None:  # type: ignore[no-untyped-def]
    root = build(make_ws, "    strategy: least_loaded\n"
                          "    members: [{user: sofia, weight: 2}, {user: erik, capacity: 1}]\n", new_leads(5))
    assert Counter(owners(run_plan(root))) == {"sofia": 4, "erik": 1}


def test_check_pools_reports_bad_configuration(make_ws) -> None:  # type: ignore[no-untyped-def]
    pool = ("    strategy: fastest\n    members: [sofia, nobody, {user: erik, weight: 0, speed: 3}]\n"
            "    fallback: ghost\n")
    root = build(make_ws, pool, {})
    problems = check_pools(Workspace(root))
    text = "\n".join(str(p) for p in problems)
    assert "unknown strategy 'fastest'" in text
    assert "member 'nobody' is not a user" in text
    assert "weight must be a whole number of 1 or more" in text
    assert "unknown field 'speed'" in text
    assert "fallback 'ghost' is not a user" in text
    assert all(p.path == "crmkit.yaml" and p.line for p in problems)


# -- properties ------------------------------------------------------------------------

from types import SimpleNamespace  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from crmkit.sales.pools import PoolState  # noqa: E402


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=5), st.integers(0, 60), st.integers(0, 30))
def test_weighted_round_robin_is_fair_and_deterministic(weights: list[int], n: int, already: int) -> None:
    members = [{"user": f"u{i}", "weight": w} for i, w in enumerate(weights)]
    ws = SimpleNamespace(config={"pools": {"p": {"members": members}}}, users={})
    from crmkit.store.records import Record

    routed = [Record("lead", f"x{i}", {"routing": {"pool": "p"}, "status": "converted"}) for i in range(already)]

    def picks() -> list[str]:
        state = PoolState(ws, "lead", routed)
        return [state.choose("p")[0] for _ in range(n)]  # type: ignore[misc]

    first = picks()
    assert first == picks()  # the same records give the same turns
    total = sum(weights)
    counts = Counter(first)
    for i, w in enumerate(weights):
        # over any stretch of n turns a member gets its share, give or take one round
        assert abs(counts.get(f"u{i}", 0) - n * w / total) <= w + 1
