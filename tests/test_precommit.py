"""The .pre-commit-hooks.yaml of this repository, run by the real pre-commit tool on a workspace.

pre-commit installs crmkit from the repository into an environment of its own
(`pip install .`, with the dependencies from PyPI), so the first run takes a few
minutes. To keep that short the test builds a snapshot of this working tree as a
git repository with a deterministic commit at a fixed place, keeps pre-commit's
store under `.pytest_cache/pre-commit/` (git-ignored, safe to delete), so the
environment is rebuilt only when the code changed, and lets pip use its usual
cache, where installing crmkit has already put the compiled wheels.
(`pre-commit try-repo` would be the one-liner, but it uses a fresh store on every
call and so reinstalls every time.)

Set CRMKIT_SKIP_PRECOMMIT_TEST=1 to skip it on a machine without network; `make
test` and CI run it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("CRMKIT_PRECOMMIT_CACHE") or REPO / ".pytest_cache" / "pre-commit")
# pip's own cache, read now (at collection, before the fixtures isolate HOME): `make test`
# has just built the same wheels there (ruamel.yaml's C extension takes a minute or two to
# compile), so pre-commit's install reuses them instead of compiling again.
_USER_PIP_CACHE = os.environ.get("PIP_CACHE_DIR") or str(Path.home() / ".cache" / "pip")
PIP_CACHE = _USER_PIP_CACHE if Path(_USER_PIP_CACHE).is_dir() else str(CACHE / "pip")

pytestmark = pytest.mark.skipif(os.environ.get("CRMKIT_SKIP_PRECOMMIT_TEST", "") not in ("", "0"),
                                reason="CRMKIT_SKIP_PRECOMMIT_TEST is set")

_FIXED = {
    "GIT_AUTHOR_NAME": "crmkit tests", "GIT_AUTHOR_EMAIL": "tests@crmkit.invalid",
    "GIT_COMMITTER_NAME": "crmkit tests", "GIT_COMMITTER_EMAIL": "tests@crmkit.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00+00:00", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00+00:00",
}


def _git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env=env).stdout


def snapshot_repo(dest: Path) -> str:
    """This working tree (tracked and new files, not ignored ones) as a one-commit repo; its rev.

    The commit has fixed author, committer and dates, so the same files give the same
    rev and pre-commit reuses the environment it installed for them last time.
    """
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    if (REPO / ".git").exists():
        names = _git(REPO, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
        files = sorted({n for n in names if n and (REPO / n).is_file()})
    else:  # an unpacked source archive
        skip = {".git", ".venv", "build", "dist", ".pytest_cache", ".hypothesis"}
        files = sorted(str(p.relative_to(REPO)) for p in REPO.rglob("*")
                       if p.is_file() and not skip & set(p.relative_to(REPO).parts) and "__pycache__" not in p.parts)
    for name in files:
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target)
    env = dict(os.environ, **_FIXED)
    _git(dest, "init", "-q", "-b", "main", env=env)
    _git(dest, "add", "-A", env=env)
    _git(dest, "-c", "commit.gpgsign=false", "commit", "-q", "-m", "snapshot", env=env)
    return _git(dest, "rev-parse", "HEAD").strip()


def test_pre_commit_hook_runs_crmkit_check(make_ws, isolated_env, monkeypatch) -> None:
    pre_commit = Path(sys.executable).parent / "pre-commit"
    if not pre_commit.exists():
        pytest.fail("pre-commit is a test dependency; run `make test`")
    manifest = (REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    assert "id: crmkit-check" in manifest and "entry: crmkit check" in manifest

    rev = snapshot_repo(CACHE / "repo")
    monkeypatch.setenv("PRE_COMMIT_HOME", str(CACHE / "store"))
    monkeypatch.setenv("PIP_CACHE_DIR", PIP_CACHE)
    config = f"repos:\n  - repo: {CACHE / 'repo'}\n    rev: {rev}\n    hooks:\n      - id: crmkit-check\n"
    ws = make_ws({
        "companies/nordvik-as.yaml": "name: Nordvik AS\ncountry: NO\n",
        ".pre-commit-config.yaml": config,
    })

    ok = subprocess.run([str(pre_commit), "run", "crmkit-check", "--all-files"],
                        cwd=ws, capture_output=True, text=True, timeout=900)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "crmkit check" in ok.stdout and "Passed" in ok.stdout

    # A broken record fails the hook with the file and line, as a commit would.
    (ws / "contacts").mkdir()
    (ws / "contacts/bad.yaml").write_text("name: Bad\ncompany: ghost-co\n", encoding="utf-8")
    subprocess.run(["git", "add", "-A"], cwd=ws, check=True)
    bad = subprocess.run([str(pre_commit), "run", "crmkit-check"],
                         cwd=ws, capture_output=True, text=True, timeout=900)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "Failed" in bad.stdout
    assert "contacts/bad.yaml:2: missing-ref: company: no company with id 'ghost-co'" in bad.stdout

    # A commit that touches no record does not run it (files: matches records only).
    (ws / "contacts/bad.yaml").unlink()
    (ws / "NOTES.txt").write_text("hello\n", encoding="utf-8")
    subprocess.run(["git", "add", "-A"], cwd=ws, check=True)
    skipped = subprocess.run([str(pre_commit), "run", "crmkit-check", "--files", "NOTES.txt"],
                             cwd=ws, capture_output=True, text=True, timeout=900)
    assert skipped.returncode == 0 and "no files to check" in skipped.stdout.lower(), skipped.stdout
