"""The .pre-commit-hooks.yaml of this repository, checked and run by the real pre-commit tool."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PRE_COMMIT = str(BIN / "pre-commit")


def pre_commit(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}", **env)
    return subprocess.run([PRE_COMMIT, *args], cwd=cwd, capture_output=True, text=True, timeout=900, env=full_env)


def test_the_manifest_is_valid() -> None:
    r = pre_commit("validate-manifest", str(REPO / ".pre-commit-hooks.yaml"), cwd=REPO)
    assert r.returncode == 0, r.stdout + r.stderr


def test_the_hook_passes_a_clean_workspace_and_stops_a_broken_one(make_ws) -> None:
    ws = make_ws({"companies/nordvik-as.yaml": "name: Nordvik AS\ncountry: NO\n"})
    ok = pre_commit("try-repo", str(REPO), "crmkit-check-system", "--all-files", cwd=ws)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "crmkit check" in ok.stdout and "Passed" in ok.stdout
    (ws / "contacts").mkdir()
    (ws / "contacts/bad.yaml").write_text("name: Bad\ncompany: ghost-co\n")
    subprocess.run(["git", "add", "-A"], cwd=ws, check=True)
    bad = pre_commit("try-repo", str(REPO), "crmkit-check-system", "--all-files", cwd=ws)
    assert bad.returncode == 1
    assert "contacts/bad.yaml:2: missing-ref: company: no company with id 'ghost-co'" in bad.stdout


@pytest.mark.skipif(not os.environ.get("CRMKIT_SLOW_TESTS"), reason="installs crmkit from PyPI (minutes); "
                    "set CRMKIT_SLOW_TESTS=1")
def test_the_python_hook_installs_crmkit_in_its_own_environment(make_ws) -> None:
    ws = make_ws({"companies/nordvik-as.yaml": "name: Nordvik AS\ncountry: NO\n"})
    r = pre_commit("try-repo", str(REPO), "crmkit-check", "--all-files", cwd=ws)
    assert r.returncode == 0 and "Passed" in r.stdout, r.stdout + r.stderr
