#!/usr/bin/env python3
"""Time whole crmkit commands as subprocesses and print Markdown table rows.

    python bench/run.py --size 10000 -- deal list --json
    python bench/run.py --size 10000 --mode cold,warm --repeat 5 -- check
    python bench/run.py --size 10000 --reset -- route          # a command that writes
    python bench/run.py --raw --label "python -c 'import click'" -- {python} -c "import click"
    python bench/run.py --raw --size 10000 -- {python} bench/roundtrip_baseline.py {ws}

The command after `--` is run as `<venv>/bin/crmkit -w DIR ARGS...`, or as given with
`--raw` (where `{ws}`, `{python}` and `{crmkit}` are replaced). DIR is `--workspace`,
or bench/out/ws-SIZE, generated with bench/generate.py when missing.

Modes: `cold` deletes DIR/.crmkit/cache before every timed run (the operating
system's file cache stays warm: this measures parsing, not the disk); `warm` does
one untimed run first and then times runs that find the parse cache filled;
`once` times runs as they come. Each row gives the median and the minimum of
`--repeat` runs in seconds. `--reset` restores DIR to its first commit with
`git reset --hard` and `git clean -fd` before each run (untimed), for commands that
change records and commit.

The machine header (date, `uname -m`, nproc, CPU model) and the table header are
printed first unless `--no-header`, so teammates can append rows to one table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def venv_bin(name: str) -> Path:
    """The venv's executable: next to this Python, else the repository's .venv."""
    for cand in (Path(sys.executable).parent / name, REPO / ".venv" / "bin" / name):
        if cand.exists():
            return cand
    found = shutil.which(name)
    if not found:
        sys.exit(f"run.py: cannot find {name}")
    return Path(found)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_header() -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (f"Date: {now}; machine: {platform.machine()}, {os.cpu_count()} CPUs (nproc), "
            f"{cpu_model()}; Python {platform.python_version()}")


def table_header() -> str:
    return ("| command | size (deals) | mode | median s | min s | runs |\n"
            "|---|---:|---|---:|---:|---:|")


def ensure_workspace(size: int, explicit: Path | None) -> Path:
    ws = explicit or HERE / "out" / f"ws-{size}"
    if not (ws / "crmkit.yaml").exists():
        print(f"run.py: generating {ws} ({size} deals)", file=sys.stderr)
        subprocess.run([sys.executable, str(HERE / "generate.py"), str(ws), "--deals", str(size), "--force"],
                       check=True)
        time.sleep(2.1)  # files younger than 2 s are never cached (racy mtime); let them age
    return ws


def time_once(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"run.py: {' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr.decode(errors='replace')[-2000:]}")
    return elapsed


def reset(ws: Path) -> None:
    """Back to the generated state: the first commit, without the files commands added."""
    first = subprocess.run(["git", "rev-list", "--max-parents=0", "HEAD"], cwd=ws, check=True,
                           capture_output=True, text=True).stdout.split()[0]
    subprocess.run(["git", "reset", "-q", "--hard", first], cwd=ws, check=True)
    subprocess.run(["git", "clean", "-q", "-fd"], cwd=ws, check=True)


def measure(cmd: list[str], ws: Path | None, mode: str, repeat: int, do_reset: bool,
            env: dict[str, str]) -> list[float]:
    cache = ws / ".crmkit" / "cache" if ws else None
    if mode == "warm":
        if do_reset and ws:
            reset(ws)
        time_once(cmd, env)
    times = []
    for _ in range(repeat):
        if do_reset and ws:
            reset(ws)
        if mode == "cold" and cache is not None:
            shutil.rmtree(cache, ignore_errors=True)
        times.append(time_once(cmd, env))
    return times


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--" not in argv:
        print(__doc__, file=sys.stderr)
        return 2
    split = argv.index("--")
    own, command = argv[:split], argv[split + 1:]
    ap = argparse.ArgumentParser(prog="bench/run.py")
    ap.add_argument("--size", type=int, help="deals in the generated workspace (bench/out/ws-SIZE)")
    ap.add_argument("--workspace", type=Path, help="use this workspace instead of bench/out/ws-SIZE")
    ap.add_argument("--mode", default="cold,warm", help="comma-separated: cold, warm, once (default cold,warm)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--raw", action="store_true", help="run the command as given, not through crmkit")
    ap.add_argument("--reset", action="store_true", help="git reset + clean the workspace before each run")
    ap.add_argument("--label", help="text for the command column")
    ap.add_argument("--crmkit", type=Path, default=None, help="crmkit executable (default: the venv's)")
    ap.add_argument("--no-header", action="store_true")
    ap.add_argument("--now", default="2026-11-22T12:00:00+01:00", help="CRMKIT_NOW for the runs")
    args = ap.parse_args(own)
    if not command:
        ap.error("give the command to time after --")

    ws: Path | None = None
    if args.size is not None or args.workspace is not None:
        ws = ensure_workspace(args.size or 0, args.workspace).resolve()
    crmkit = str(args.crmkit or venv_bin("crmkit"))
    if args.raw:
        subst = {"{ws}": str(ws or ""), "{python}": str(venv_bin("python")), "{crmkit}": crmkit}
        cmd = []
        for part in command:
            for key, value in subst.items():
                part = part.replace(key, value)
            cmd.append(part)
        label = args.label or " ".join(command)
    else:
        cmd = [crmkit] + (["-w", str(ws)] if ws else []) + command
        label = args.label or "crmkit " + " ".join(command)

    env = dict(os.environ, CRMKIT_NOW=args.now, CRMKIT_USER=os.environ.get("CRMKIT_USER", "bench"))
    if ws and args.reset and not (ws / ".git").exists():
        ap.error("--reset needs a git workspace")

    if not args.no_header:
        print(machine_header())
        print()
        print(table_header())
    size = f"{args.size:,}" if args.size else "-"
    for mode in [m.strip() for m in args.mode.split(",") if m.strip()]:
        if mode not in ("cold", "warm", "once"):
            ap.error(f"unknown mode {mode!r}")
        times = measure(cmd, ws, mode, args.repeat, args.reset, env)
        print(f"| `{label}` | {size} | {mode} | {statistics.median(times):.3f} | {min(times):.3f} | {len(times)} |",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
