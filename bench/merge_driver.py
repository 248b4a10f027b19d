#!/usr/bin/env python3
"""Merge driver throughput: N ticket files changed on two branches, merged.

    python bench/merge_driver.py --files 1000            # in-process merge of 1,000 files
    python bench/merge_driver.py --files 1000 --git      # also real merges through git, one crmkit process each
    python bench/merge_driver.py --files 1000 --per-file # and plain `git merge`, one driver process per file

Every file is a ticket with a comment and a few events; one branch appends our reply
and raises the priority of every other ticket, the other appends the customer's reply
and a tag. Both changes touch the end of the file, so a line merge would conflict on
every one of them. Prints Markdown rows like bench/run.py.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

BASE = """\
# Customer on the gold agreement.
subject: Invoice export fails {i}
contact: hakon-lie
company: nordvik-as
priority: normal
line: first
status: open
tags:
  - erp
created: 2026-11-20T09:00:00+01:00
events:
  - type: created
    at: 2026-11-20T09:00:00+01:00
    by: hakon-lie
  - type: replied
    at: 2026-11-20T09:40:00+01:00
    by: nora
"""
OURS_EVENT = "  - type: replied\n    at: 2026-11-21T10:00:00+01:00\n    by: nora\n    body: We are on it\n"
THEIRS_EVENT = "  - type: customer_replied\n    at: 2026-11-21T09:30:00+01:00\n    by: hakon-lie\n    body: Any news?\n"


def texts(i: int) -> tuple[str, str, str]:
    base = BASE.format(i=i)
    ours = base + OURS_EVENT
    if i % 2:
        ours = ours.replace("priority: normal", "priority: high")
    theirs = base.replace("  - erp\n", "  - erp\n  - invoicing\n") + THEIRS_EVENT
    return base, ours, theirs


def git(cwd: Path, *args: str) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.com",
               GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.com")
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=env).stdout


def _repo(root: Path, n: int) -> None:
    """A crmkit workspace whose `n` tickets changed on branches `ours` (checked out) and `theirs`."""
    from crmkit.store import gitteam

    subprocess.run([sys.executable, "-m", "crmkit", "init", str(root)], check=True, capture_output=True,
                   env=dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.com",
                            GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.com"))
    git(root, "config", gitteam.MERGE_DRIVER_KEY, gitteam.merge_driver_command())
    (root / "tickets").mkdir(exist_ok=True)
    for i in range(n):
        (root / "tickets" / f"tk-{i:05d}.yaml").write_text(texts(i)[0])
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    for branch, which in (("theirs", 2), ("ours", 1)):
        git(root, "switch", "-q", "-c", branch, "main")
        for i in range(n):
            (root / "tickets" / f"tk-{i:05d}.yaml").write_text(texts(i)[which])
        git(root, "commit", "-qam", branch)


def _timed(argv: list[str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds (user + system of every process started: git and the drivers)."""
    env = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.com",
               GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.com")
    before = os.times()
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, capture_output=True, env=env)
    took = time.perf_counter() - start
    after = os.times()
    return took, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def git_merge(n: int, how: str) -> tuple[float, float, str]:
    """A real merge of `n` files changed on both sides: (wall s, CPU s, merged tree).

    how = "driver": plain `git merge`, git starts the driver once per file;
    how = "batch": `crmkit merge-branch`, git merges with the driver off and one crmkit
    process merges every file from the index stages."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws"
        _repo(root, n)
        if how == "driver":
            took, cpu = _timed(["git", "merge", "-q", "--no-edit", "theirs"], root)
        else:
            took, cpu = _timed([sys.executable, "-m", "crmkit", "merge-branch", "theirs"], root)
        text = (root / "tickets" / "tk-00001.yaml").read_text()
        assert "invoicing" in text and "We are on it" in text and "Any news?" in text
        assert not git(root, "status", "--porcelain")
        return took, cpu, git(root, "rev-parse", "HEAD:tickets").strip()


def in_process(n: int, repeat: int) -> tuple[list[float], list[float]]:
    from crmkit.store.merge_driver import merge_texts

    triples = [texts(i) for i in range(n)]
    merge_texts(*triples[0])  # imports and first-use set-up are not part of the figure
    runs, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        for base, ours, theirs in triples:
            result = merge_texts(base, ours, theirs)
            assert result.clean
        runs.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return runs, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--git", action="store_true", help="also time a real merge through git: crmkit merge-branch")
    ap.add_argument("--per-file", action="store_true",
                    help="and plain `git merge` with the per-file driver (slow: a process per file)")
    args = ap.parse_args()
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "?")
    print(f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; machine: {platform.machine()}, "
          f"{os.cpu_count()} CPUs, {cpu}; Python {platform.python_version()}; "
          f"load average {os.getloadavg()[0]:.1f}\n")
    print("| merge | files | median s | min s | CPU s (min) | runs |\n|---|---:|---:|---:|---:|---:|")
    runs, cpu = in_process(args.files, args.repeat)
    print(f"| merge_texts in one process | {args.files} | {statistics.median(runs):.2f} | {min(runs):.2f} | "
          f"{min(cpu):.2f} | {len(runs)} |")
    if args.git or args.per_file:
        trees = []
        runs = [("batch", "`crmkit merge-branch` (git, then one process for every file)")]
        if args.per_file:
            runs.append(("driver", "`git merge`, one driver process per file"))
        for how, label in runs:
            walls, cpus = [], []
            # the per-file merge takes minutes: once; the one-process merge --repeat times
            for _ in range(1 if how == "driver" else args.repeat):
                took, cpu, tree = git_merge(args.files, how)
                walls.append(took)
                cpus.append(cpu)
                trees.append(tree)
            print(f"| {label} | {args.files} | {statistics.median(walls):.2f} | {min(walls):.2f} | "
                  f"{min(cpus):.2f} | {len(walls)} |")
        assert len(set(trees)) == 1, "the two merges give the same tree"

if __name__ == "__main__":
    main()
