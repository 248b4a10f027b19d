"""tick and route cost linear in the records they touch, proved by counting, not timing.

`yamlio.COUNTS` counts the files read, the documents parsed and the record files a
folder read visits. Over a generated workspace of N and of 2N tickets and leads, a
tick and a route must each stay within N + a constant of every count, and the
doubling must add about N, not N x N. Before writers patched the read model, every
ticket written made the next one re-read the whole folder (592 visits for 40 tickets).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from crmkit.sales import routing
from crmkit.sales.rules import load_checked
from crmkit.store import yamlio
from crmkit.store.records import KINDS
from crmkit.store.workspace import Workspace
from crmkit.support.tick import run_tick

REPO = Path(__file__).resolve().parents[2]
NOW = "2026-11-22T12:00:00+01:00"
#: What does not grow with N: the 30 contacts, 6 companies and 10 deals, rules, config.
CONSTANT = 80


def generated(tmp_path: Path, n: int) -> Path:
    root = tmp_path / f"ws-{n}"
    subprocess.run([sys.executable, str(REPO / "bench" / "generate.py"), str(root), "--deals", "10",
                    "--tickets", str(n), "--leads", str(n), "--contacts", "30", "--companies", "6",
                    "--activities", "0"], check=True, capture_output=True)
    # an hour old: files younger than two seconds are never cached (racy mtime)
    old = time.time() - 3600
    for folder in ("tickets", "leads", "contacts", "companies", "deals"):
        for path in (root / folder).iterdir():
            os.utime(path, (old, old))
    warm = Workspace(root, now=NOW)
    for kind in KINDS:
        warm.records(kind)
    return root


def counted(fn: Any) -> dict[str, int]:
    before = dict(yamlio.COUNTS)
    fn()
    return {k: yamlio.COUNTS[k] - before[k] for k in before}


def same_as_a_fresh_read(ws: Workspace) -> None:
    """What the writers patched in memory is what reading the files again gives."""
    fresh = Workspace(ws.root, now=NOW)
    for kind in KINDS:
        assert [(r.id, repr(r.data)) for r in ws.records(kind)] == \
            [(r.id, repr(r.data)) for r in fresh.records(kind)], kind


def commits(root: Path) -> int:
    out = subprocess.run(["git", "rev-list", "--count", "HEAD"], cwd=root, check=True,
                         capture_output=True, text=True).stdout
    return int(out)


def tick_counts(root: Path) -> tuple[dict[str, int], int]:
    ws = Workspace(root, now=NOW)
    plans: list[Any] = []
    counts = counted(lambda: plans.append(run_tick(ws, "crmkit tick")))
    same_as_a_fresh_read(ws)
    plan = plans[0]
    return counts, len({b.ticket.id for b in plan.breaches} | {f.ticket.id for f in plan.firings})


def route_counts(root: Path) -> tuple[dict[str, int], int]:
    ws = Workspace(root, now=NOW)
    ruleset = load_checked(ws)

    def replan() -> routing.Plan:
        return routing.plan(ws, ruleset, kinds=["lead"], force=True)

    plans: list[routing.Plan] = []
    before = commits(root)

    def run() -> None:
        plan = replan()
        routing.apply(ws, plan, "crmkit route --kind lead --force", replan=replan)
        plans.append(plan)

    counts = counted(run)
    assert commits(root) == before + 1  # notifications and all: one commit
    same_as_a_fresh_read(ws)
    return counts, len(plans[0].assignments)


@pytest.mark.parametrize("work", [tick_counts, route_counts], ids=["tick", "route"])
def test_reads_and_parses_grow_linearly(tmp_path: Path, work: Any) -> None:
    n = 20
    small, touched_small = work(generated(tmp_path, n))
    large, touched_large = work(generated(tmp_path, 2 * n))
    # the work itself grows with N: the counts below are not vacuous
    assert touched_small >= n // 4 and touched_large > touched_small
    # The generated workspace holds N tickets and N leads. tick reads both kinds once (the
    # SLA clocks; the cadences of rules/cadence.yaml over leads) and visits the tickets once
    # more for the sentiment signals (their per-file cache is checked by stat); route reads
    # leads, and tickets for triage. So each file once or twice: 3N + a constant. Re-reading
    # a folder per record written, the fault this guards against, is N x N (592 visits at 40).
    for what in ("read", "parse", "visit"):
        assert small[what] <= 3 * n + CONSTANT, (what, small)
        assert large[what] <= 6 * n + CONSTANT, (what, large)
        # doubling the records adds at most 3 per added ticket-and-lead pair, plus a little noise
        assert large[what] - small[what] <= 3 * n + 10, (what, small, large)
