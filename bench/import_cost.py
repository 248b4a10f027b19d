#!/usr/bin/env python3
"""The cost of one feature on a 2,000-row CSV import: two crmkit builds, timed in turns.

    python bench/import_cost.py --rows 2000 --repeat 7 \
        --build before="python /tmp/old/run_crmkit.py" --build after=".venv/bin/crmkit"

Each run imports the same generated CSV of contacts into a fresh `crmkit init` workspace
(a git repository) and commits; only the import is timed. The builds take turns (A B A B
...) so that load from other jobs on the machine falls on both alike; the table gives the
median and minimum per build and the median's ratio to the first build.
"""

from __future__ import annotations

import argparse
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


def one_run(cmd: list[str], csv: Path) -> float:
    with tempfile.TemporaryDirectory(prefix="crmkit-import-cost-") as tmp:
        ws = Path(tmp) / "ws"
        subprocess.run([*cmd, "init", str(ws)], check=True, capture_output=True)
        start = time.perf_counter()
        r = subprocess.run([*cmd, "-w", str(ws), "import", "csv", str(csv), "--kind", "contact"],
                           capture_output=True, text=True)
        took = time.perf_counter() - start
        if r.returncode != 0:
            sys.exit(f"import_cost.py: {' '.join(cmd)} failed: {r.stderr.strip()}")
        return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--build", action="append", required=True, metavar="NAME=COMMAND")
    args = ap.parse_args()
    builds = [(b.split("=", 1)[0], shlex.split(b.split("=", 1)[1])) for b in args.build]
    times: dict[str, list[float]] = {name: [] for name, _ in builds}
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / f"contacts-{args.rows}.csv"
        write_csv(csv, args.rows)
        for _ in range(args.repeat):
            for name, cmd in builds:
                times[name].append(one_run(cmd, csv))
    print(machine_header())
    print()
    print(f"| build | rows | median s | min s | runs | median vs {builds[0][0]} |")
    print("|---|---:|---:|---:|---:|---:|")
    first = statistics.median(times[builds[0][0]])
    for name, _ in builds:
        med = statistics.median(times[name])
        print(f"| {name} | {args.rows} | {med:.2f} | {min(times[name]):.2f} | {len(times[name])} | "
              f"{(med / first - 1) * 100:+.1f} % |")


if __name__ == "__main__":
    main()
