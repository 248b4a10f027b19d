"""The .pre-commit-hooks.yaml of this repository, run by the real pre-commit tool on a workspace."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_pre_commit_hook_runs_crmkit_check(make_ws, isolated_env) -> None:
    if shutil.which("pre-commit", path=str(Path(sys.executable).parent)) is None:
        pytest.fail("pre-commit is a test dependency; run `make test`")
    pre_commit = str(Path(sys.executable).parent / "pre-commit")
    ws = make_ws({"companies/nordvik-as.yaml": "name: Nordvik AS\ncountry: NO\n"})
    ok = subprocess.run([pre_commit, "try-repo", str(REPO), "crmkit-check", "--all-files"],
                        cwd=ws, capture_output=True, text=True, timeout=600)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "crmkit check" in ok.stdout and "Passed" in ok.stdout
    (ws / "contacts").mkdir()
    (ws / "contacts/bad.yaml").write_text("name: Bad\ncompany: ghost-co\n")
    subprocess.run(["git", "add", "-A"], cwd=ws, check=True)
    bad = subprocess.run([pre_commit, "try-repo", str(REPO), "crmkit-check", "--all-files"],
                         cwd=ws, capture_output=True, text=True, timeout=600)
    assert bad.returncode == 1
    assert "contacts/bad.yaml:2: missing-ref: company: no company with id 'ghost-co'" in bad.stdout
