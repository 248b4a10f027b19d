#!/usr/bin/env python3
"""The cost of one feature on a 2,000-row CSV import: two crmkit builds, timed in turns.

    python bench/import_cost.py --rows 2000 --repeat 7 \
        --build before="python /tmp/old/run_crmkit.py" --build after=".venv/bin/crmkit"

Each run imports the same generated CSV of contacts into a fresh `crmkit init` workspace
(a git repository) and commits; only the import is timed. The builds take turns (A B A B
...) so that load from other jobs on the machine falls on both alike; the table gives the
median and minimum wall-clock time per build, the median CPU time (user + system of
crmkit and the git processes it starts: less disturbed by a busy machine than the
wall clock), and each median's ratio to the first build.
"""

from __future__ import annotations

import argparse
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import machine_header  # noqa: E402


def write_csv(path: Path, rows: int) -> None:
    lines = ["name,email,phone,city"]
    lines += [f"Person {i:05d} Testsson,p{i}@ex{i % 50}.se,+4670{i:07d},Malmö" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def one_run(cmd: list[str], csv: Path) -> tuple[float, float]:
    """Wall-clock and CPU seconds (user + system, crmkit and its git processes) of one import."""
    with tempfile.TemporaryDirectory(prefix="crmkit-import-cost-") as tmp:
        ws = Path(tmp) / "ws"
        subprocess.run([*cmd, "init", str(ws)], check=True, capture_output=True)
        cpu = _cpu()
        start = time.perf_counter()
        r = subprocess.run([*cmd, "-w", str(ws), "import", "csv", str(csv), "--kind", "contact"],
                           capture_output=True, text=True)
        took = time.perf_counter() - start
        if r.returncode != 0:
            sys.exit(f"import_cost.py: {' '.join(cmd)} failed: {r.stderr.strip()}")
        return took, _cpu() - cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--build", action="append", required=True, metavar="NAME=COMMAND")
    args = ap.parse_args()
    builds = [(b.split("=", 1)[0], shlex.split(b.split("=", 1)[1])) for b in args.build]
    times: dict[str, list[float]] = {name: [] for name, _ in builds}
    cpus: dict[str, list[float]] = {name: [] for name, _ in builds}
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / f"contacts-{args.rows}.csv"
        write_csv(csv, args.rows)
        for _ in range(args.repeat):
            for name, cmd in builds:
                wall, cpu = one_run(cmd, csv)
                times[name].append(wall)
                cpus[name].append(cpu)
    print(machine_header())
    print()
    print(f"| build | rows | median s | min s | median vs {builds[0][0]} | CPU median s | CPU vs {builds[0][0]} "
          "| runs |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    first = statistics.median(times[builds[0][0]])
    first_cpu = statistics.median(cpus[builds[0][0]])
    for name, _ in builds:
        med, cpu = statistics.median(times[name]), statistics.median(cpus[name])
        print(f"| {name} | {args.rows} | {med:.2f} | {min(times[name]):.2f} | {(med / first - 1) * 100:+.1f} % "
              f"| {cpu:.2f} | {(cpu / first_cpu - 1) * 100:+.1f} % | {len(times[name])} |")


if __name__ == "__main__":
    main()
