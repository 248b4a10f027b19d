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

Scenarios (issue 14) time a command and its floor in the same minutes, and print the
ratio, the target and the peak memory (maximum resident set of the crmkit process):

    python bench/run.py --size 1000 --scenario all
    python bench/run.py --size 10000 --scenario tick,route --repeat 1

`tick` (over the generated tickets) against a cold `ticket list --json`; `route` (`route
--kind lead --force`, every lead notified) against a cold `lead list --json`; `check`
warm against a warm `report pipeline`, and cold; `cold-read` (a cold `report pipeline`)
against bench/c_safe_baseline.py, one process parsing every deal with ruamel's C parser
and safe constructor; `help` against `python -c 'import click'`.
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


#: Peak resident memory (MB) of the last command timed (its own process, not its workers).
LAST_PEAK_MB = 0.0


def time_once(cmd: list[str], env: dict[str, str], ok: tuple[int, ...] = (0,)) -> float:
    global LAST_PEAK_MB
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    LAST_PEAK_MB = usage.ru_maxrss / 1024  # KiB on Linux
    if proc.returncode not in ok:
        sys.exit(f"run.py: {' '.join(cmd)} exited {proc.returncode}:\n{err.decode(errors='replace')[-2000:]}")
    return elapsed


def reset(ws: Path) -> None:
    """Back to the generated state: the first commit, without the files commands added."""
    first = subprocess.run(["git", "rev-list", "--max-parents=0", "HEAD"], cwd=ws, check=True,
                           capture_output=True, text=True).stdout.split()[0]
    subprocess.run(["git", "reset", "-q", "--hard", first], cwd=ws, check=True)
    subprocess.run(["git", "clean", "-q", "-fd"], cwd=ws, check=True)
    # the files put back are new to the file system: let them age past the racy window, as
    # files a cron job finds are (younger ones are neither cached nor edited on their text)
    time.sleep(2.1)


def measure(cmd: list[str], ws: Path | None, mode: str, repeat: int, do_reset: bool,
            env: dict[str, str], ok: tuple[int, ...] = (0,)) -> list[float]:
    cache = ws / ".crmkit" / "cache" if ws else None
    if mode == "warm":
        if do_reset and ws:
            reset(ws)
        time_once(cmd, env, ok)
    times = []
    for _ in range(repeat):
        if do_reset and ws:
            reset(ws)
        if mode == "cold" and cache is not None:
            shutil.rmtree(cache, ignore_errors=True)
        times.append(time_once(cmd, env, ok))
    return times


#: name -> [(label, argv, mode, reset, floor label, floor argv, floor mode, target ratio)];
#: argv as after `--` (`{python}`/`{ws}`/`{crmkit}` replaced; a crmkit command otherwise).
SCENARIOS: dict[str, list[tuple[str, list[str], str, bool, str, list[str], str, float]]] = {
    "tick": [("crmkit tick", ["tick"], "once", True,
              "ticket list --json (cold)", ["ticket", "list", "--json"], "cold", 3.0)],
    "route": [("crmkit route --kind lead --force", ["route", "--kind", "lead", "--force"], "once", True,
               "lead list --json (cold)", ["lead", "list", "--json"], "cold", 4.0)],
    "check": [("crmkit check (warm)", ["check"], "warm", False,
               "report pipeline (warm)", ["report", "pipeline"], "warm", 2.5),
              ("crmkit check (cold)", ["check"], "cold", False,
               "report pipeline (cold)", ["report", "pipeline"], "cold", 0.0)],
    "cold-read": [("crmkit report pipeline (cold)", ["report", "pipeline"], "cold", False,
                   "c_safe_baseline.py (C parser + safe constructor, one process)",
                   ["{python}", str(HERE / "c_safe_baseline.py"), "{ws}"], "once", 0.5)],
    "help": [("crmkit --help", ["{crmkit}", "--help"], "once", False,
              "python -c 'import click'", ["{python}", "-c", "import click"], "once", 1.2)],
}


def run_scenarios(names: list[str], ws: Path, size: int, repeat: int, env: dict[str, str]) -> None:
    """Each scenario's command and its floor, one after the other, as one table."""
    crmkit = str(venv_bin("crmkit"))
    subst = {"{ws}": str(ws), "{python}": str(venv_bin("python")), "{crmkit}": crmkit}

    def argv(parts: list[str]) -> list[str]:
        if parts and parts[0].startswith("{"):
            out = []
            for part in parts:
                for key, value in subst.items():
                    part = part.replace(key, value)
                out.append(part)
            return out
        return [crmkit, "-w", str(ws), *parts]

    print("| scenario | size (deals) | median s | min s | peak MB | floor | floor median s | ratio (median) "
          "| target | runs |")
    print("|---|---:|---:|---:|---:|---|---:|---:|---|---:|")
    for name in names:
        for label, cmd, mode, do_reset, floor_label, floor, floor_mode, target in SCENARIOS[name]:
            # exit 1 from check (problems found) or route (some left unassigned) is a result, not a failure
            times = measure(argv(cmd), ws, mode, repeat, do_reset, env, ok=(0, 1))
            peak = LAST_PEAK_MB
            floor_times = measure(argv(floor), ws, floor_mode, repeat, False, env)
            ratio = statistics.median(times) / statistics.median(floor_times)
            verdict = "-" if not target else (f"<= {target:g}x: met" if ratio <= target
                                              else f"<= {target:g}x: missed by {ratio / target:.1f}x")
            print(f"| `{label}` | {size:,} | {statistics.median(times):.3f} | {min(times):.3f} | {peak:.0f} "
                  f"| {floor_label} | {statistics.median(floor_times):.3f} | {ratio:.2f}x | {verdict} "
                  f"| {len(times)} |", flush=True)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--" not in argv and not any(a.startswith("--scenario") for a in argv):
        print(__doc__, file=sys.stderr)
        return 2
    if "--" not in argv:
        argv.append("--")  # --scenario: no command of its own
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
    ap.add_argument("--scenario", help=f"comma-separated: {', '.join(SCENARIOS)}, or all (no command)")
    args = ap.parse_args(own)
    if args.scenario:
        names = list(SCENARIOS) if args.scenario == "all" else [n.strip() for n in args.scenario.split(",")]
        unknown = [n for n in names if n not in SCENARIOS]
        if unknown:
            ap.error(f"unknown scenario {unknown[0]!r}")
        ws_dir = ensure_workspace(args.size or 1000, args.workspace).resolve()
        env = dict(os.environ, CRMKIT_NOW=args.now, CRMKIT_USER=os.environ.get("CRMKIT_USER", "bench"))
        if not args.no_header:
            print(machine_header())
            print()
        run_scenarios(names, ws_dir, args.size or 1000, args.repeat, env)
        return 0
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
