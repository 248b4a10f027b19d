"""Real clones of one workspace behind a local bare remote, for the team-use tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

from conftest import invoke


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, check=check, capture_output=True, text=True)


def make_origin(tmp: Path, extra_config: str = "") -> Path:
    """`crmkit init --sample`, pushed to a bare repository that the clones share."""
    seed = tmp / "seed"
    res = invoke(["init", str(seed), "--sample"])
    assert res.exit_code == 0, res.stderr
    if extra_config:
        with open(seed / "crmkit.yaml", "a", encoding="utf-8") as fh:
            fh.write(extra_config)
        git(seed, "commit", "-qam", "team settings")
    origin = tmp / "origin.git"
    git(tmp, "clone", "-q", "--bare", str(seed), str(origin))
    return origin


def clone(origin: Path, dest: Path) -> Path:
    git(origin.parent, "clone", "-q", str(origin), str(dest))
    return dest


def crm(ws: Path, *args: str, now: str | None = None):  # type: ignore[no-untyped-def]
    full = list(args) + (["--now", now] if now else [])
    return invoke(full, ws)


def pull(ws: Path) -> subprocess.CompletedProcess[str]:
    """Plain `git pull`: git itself runs the merge driver."""
    return git(ws, "pull", "-q", "--no-rebase", "--no-edit", check=False)
