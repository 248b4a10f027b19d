"""Warm reports as a ratio to `report pipeline`, interleaved, for one or more builds.

    python bench/report_ratio.py --rounds 11 --build after=.:/tmp/ws
    python bench/report_ratio.py --rounds 11 --build before=/tmp/base:/tmp/ws-base --build after=.:/tmp/ws

A build is NAME=SOURCE:WORKSPACE: crmkit is run as `python -m crmkit` with SOURCE on
PYTHONPATH (a checkout or a `git archive` of another commit) on its own copy of the
workspace (`cp -a`, so that two builds whose derived caches differ do not rebuild each
other's). Every round runs each build's commands once, in turn, so a busy minute falls
on all of them alike. CPU is user + system time of the child; the ratios divide by the
same build's `report pipeline`. One untimed run per command first fills the caches.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

COMMANDS = ["pipeline", "value", "satisfaction"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", action="append", required=True, metavar="NAME=SOURCE:WORKSPACE")
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--now", default="2026-11-23T10:00:00+01:00", help="CRMKIT_NOW for every run")
    args = ap.parse_args()
    builds: dict[str, tuple[str, str]] = {}
    for spec in args.build:
        name, _, rest = spec.partition("=")
        source, _, workspace = rest.partition(":")
        builds[name] = (os.path.abspath(source), workspace)

    def run(build: str, command: str) -> tuple[float, float]:
        source, workspace = builds[build]
        env = dict(os.environ, CRMKIT_NOW=args.now, PYTHONPATH=source)
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # a user's crmkit runs from .pyc files
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        # cwd=source: `python -m` puts the working folder first on sys.path, before PYTHONPATH
        subprocess.run([sys.executable, "-m", "crmkit", "-w", workspace, "report", command], env=env,
                       cwd=source, stdout=subprocess.DEVNULL, check=True)
        t1 = time.perf_counter()
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        return t1 - t0, r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime

    for b in builds:
        for c in COMMANDS:
            run(b, c)
    wall: dict[tuple[str, str], list[float]] = {}
    cpu: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.rounds):
        for b in builds:
            for c in COMMANDS:
                w, u = run(b, c)
                wall.setdefault((b, c), []).append(w)
                cpu.setdefault((b, c), []).append(u)
    with open("/proc/loadavg") as fh:
        load = " ".join(fh.read().split()[:3])
    print(f"{args.rounds} rounds; load average at the end: {load}")
    print("| build | command | wall median s | wall min s | CPU median s | CPU min s "
          "| ratio: CPU median | CPU min | wall median |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for b in builds:
        base = (statistics.median(cpu[(b, "pipeline")]), min(cpu[(b, "pipeline")]),
                statistics.median(wall[(b, "pipeline")]))
        for c in COMMANDS:
            k = (b, c)
            cm, cn, wm = statistics.median(cpu[k]), min(cpu[k]), statistics.median(wall[k])
            print(f"| {b} | `report {c}` | {wm:.3f} | {min(wall[k]):.3f} | {cm:.3f} | {cn:.3f} "
                  f"| {cm / base[0]:.2f} | {cn / base[1]:.2f} | {wm / base[2]:.2f} |")


if __name__ == "__main__":
    main()
