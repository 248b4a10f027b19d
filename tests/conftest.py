"""Shared fixtures: an isolated HOME and git identity, real git workspaces, a CLI runner."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_workspace"

MINIMAL_CONFIG = """\
name: Test AB
timezone: Europe/Stockholm
locale: sv_SE
currency: SEK
users:
  daniel: {name: Daniel Berg, email: daniel@example.se}
  karin: {name: Karin Lind, email: karin@example.se}
  alan: {name: Alan Smith, email: alan@example.se}
pipeline:
  stages:
    - {name: lead, probability: 10, category: pipeline}
    - {name: qualified, probability: 25, category: pipeline}
    - {name: proposal, probability: 50, category: best_case}
    - {name: negotiation, probability: 75, category: commit}
    - {name: won, probability: 100, category: closed, won: true}
    - {name: lost, probability: 0, category: closed, lost: true}
  rates: {EUR: 11.50, NOK: 1.02}
"""


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test sees the developer's HOME, git config or crmkit environment."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    for var in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{var}_NAME", "Test User")
        monkeypatch.setenv(f"GIT_{var}_EMAIL", "test@example.com")
    (home / ".gitconfig").write_text("[init]\n\tdefaultBranch = main\n[user]\n\tname = Test User\n\temail = test@example.com\n")
    for key in list(os.environ):
        if key.startswith("CRMKIT_") or key in ("EDITOR", "VISUAL"):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("CRMKIT_USER", "tester")
    monkeypatch.setenv("CRMKIT_LOCK_TIMEOUT", "1")
    return home


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def _commit_all(root: Path) -> None:
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial", "--allow-empty")


@pytest.fixture
def make_ws(tmp_path: Path) -> Callable[..., Path]:
    """Build a workspace from {relative path: text}; a git repository with one commit unless git=False."""
    counter = {"n": 0}

    def build(files: dict[str, str] | None = None, *, git: bool = True) -> Path:
        counter["n"] += 1
        root = tmp_path / f"ws{counter['n']}"
        root.mkdir()
        files = dict(files or {})
        files.setdefault("crmkit.yaml", MINIMAL_CONFIG)
        files.setdefault(".gitignore", ".crmkit/\n")
        for rel, text in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        if git:
            _commit_all(root)
        return root

    return build


@pytest.fixture
def sample_ws(tmp_path: Path) -> Path:
    """A git copy of the sample workspace."""
    root = tmp_path / "sample"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns(".crmkit", "__pycache__"))
    _commit_all(root)
    return root


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str


def invoke(args: list[str], ws: Path | None = None, input: str | None = None) -> Result:
    """Run crmkit in-process through the real entry point (error boundary included)."""
    from click.testing import CliRunner

    from crmkit.cli.main import main

    runner = CliRunner()
    full = (["-w", str(ws)] if ws is not None else []) + list(args)
    holder: dict[str, int] = {}

    def entry() -> None:
        holder["code"] = main(full)

    import click

    @click.command(context_settings={"ignore_unknown_options": True})
    def shim() -> None:
        entry()

    res = runner.invoke(shim, [], input=input, catch_exceptions=False)
    return Result(holder.get("code", res.exit_code), res.stdout, res.stderr)


@pytest.fixture
def run() -> Callable[..., Result]:
    return invoke


class SmtpRecorder:
    """What a real local SMTP server (aiosmtpd) received, each message parsed."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        import email
        from email import policy

        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"


@pytest.fixture
def local_smtp():
    """A real SMTP server on a free localhost port: yields (its recorder, the port)."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = SmtpRecorder()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()
