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


def test_hook_manifest_covers_every_commit() -> None:
    """Distinct ids and names; no file filter that deletions or templates could slip past."""
    from crmkit.store import yamlio

    hooks = yamlio.load_fast(REPO / ".pre-commit-hooks.yaml")
    ids = [h["id"] for h in hooks]
    assert len(set(ids)) == len(ids) == 2 and len({h["name"] for h in hooks}) == 2
    for hook in hooks:
        assert hook["entry"] == "crmkit check --staged"
        assert hook["always_run"] is True and hook["pass_filenames"] is False
        assert "files" not in hook and "types" not in hook


def _pre_commit_ws(make_ws, monkeypatch, files: dict[str, str]) -> tuple[Path, Path]:
    pre_commit = Path(sys.executable).parent / "pre-commit"
    if not pre_commit.exists():
        pytest.fail("pre-commit is a test dependency; run `make test`")
    rev = snapshot_repo(CACHE / "repo")
    monkeypatch.setenv("PRE_COMMIT_HOME", str(CACHE / "store"))
    monkeypatch.setenv("PIP_CACHE_DIR", PIP_CACHE)
    config = f"repos:\n  - repo: {CACHE / 'repo'}\n    rev: {rev}\n    hooks:\n      - id: crmkit-check\n"
    return pre_commit, make_ws({**files, ".pre-commit-config.yaml": config})


def _pre_commit(pre_commit: Path, ws: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(pre_commit), "run", "crmkit-check", *args],
                          cwd=ws, capture_output=True, text=True, timeout=900)


def test_pre_commit_hook_runs_crmkit_check(make_ws, isolated_env, monkeypatch) -> None:
    pre_commit, ws = _pre_commit_ws(make_ws, monkeypatch, {
        "companies/nordvik-as.yaml": "name: Nordvik AS\ncountry: NO\n",
    })
    ok = _pre_commit(pre_commit, ws, "--all-files")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "crmkit check" in ok.stdout and "Passed" in ok.stdout

    # A broken record fails the hook with the file and line, as a commit would.
    (ws / "contacts").mkdir()
    (ws / "contacts/bad.yaml").write_text("name: Bad\ncompany: ghost-co\n", encoding="utf-8")
    subprocess.run(["git", "add", "-A"], cwd=ws, check=True)
    bad = _pre_commit(pre_commit, ws)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "Failed" in bad.stdout
    assert "contacts/bad.yaml:2: missing-ref: company: no company with id 'ghost-co'" in bad.stdout

    # Any commit runs it (there is no file filter to skip it), and only the staged files count.
    subprocess.run(["git", "rm", "-q", "--cached", "contacts/bad.yaml"], cwd=ws, check=True)
    (ws / "NOTES.txt").write_text("hello\n", encoding="utf-8")
    subprocess.run(["git", "add", "NOTES.txt"], cwd=ws, check=True)
    notes = _pre_commit(pre_commit, ws, "--files", "NOTES.txt")
    assert notes.returncode == 0 and "Passed" in notes.stdout, notes.stdout + notes.stderr

    # A broken template is a file crmkit reads too.
    (ws / "contacts/bad.yaml").unlink()
    (ws / "templates").mkdir()
    (ws / "templates/offer.md.j2").write_text("{% if deal %}\nno end\n", encoding="utf-8")
    subprocess.run(["git", "add", "-A"], cwd=ws, check=True)
    tpl = _pre_commit(pre_commit, ws)
    assert tpl.returncode == 1 and "templates/offer.md.j2:" in tpl.stdout, tpl.stdout + tpl.stderr


def test_a_commit_deleting_a_referenced_record_is_stopped(make_ws, isolated_env, monkeypatch) -> None:
    """The case pre-commit's file list misses: `git rm` of a company, then a real `git commit`."""
    pre_commit, ws = _pre_commit_ws(make_ws, monkeypatch, {
        "companies/nordvik-as.yaml": "name: Nordvik AS\ncountry: NO\n",
        "contacts/ingrid-solberg.yaml": "name: Ingrid Solberg\ncompany: nordvik-as\n",
    })
    subprocess.run([str(pre_commit), "install"], cwd=ws, check=True, capture_output=True)
    env = dict(os.environ, **_FIXED)
    head = _git(ws, "rev-parse", "HEAD").strip()
    subprocess.run(["git", "rm", "-q", "companies/nordvik-as.yaml"], cwd=ws, check=True)
    commit = subprocess.run(["git", "-c", "commit.gpgsign=false", "commit", "-m", "drop Nordvik"],
                            cwd=ws, capture_output=True, text=True, timeout=900, env=env)
    assert commit.returncode != 0, commit.stdout + commit.stderr
    out = commit.stdout + commit.stderr
    assert "contacts/ingrid-solberg.yaml:2: missing-ref: company: no company with id 'nordvik-as'" in out
    assert _git(ws, "rev-parse", "HEAD").strip() == head          # nothing landed
    # removing the contact's reference in the same commit lets it through
    (ws / "contacts/ingrid-solberg.yaml").write_text("name: Ingrid Solberg\n", encoding="utf-8")
    subprocess.run(["git", "add", "contacts/ingrid-solberg.yaml"], cwd=ws, check=True)
    commit = subprocess.run(["git", "-c", "commit.gpgsign=false", "commit", "-m", "drop Nordvik"],
                            cwd=ws, capture_output=True, text=True, timeout=900, env=env)
    assert commit.returncode == 0, commit.stdout + commit.stderr
