"""What a terminal user expects of every command: NO_COLOR and --color/--no-color,
-q/--quiet and -v/--verbose everywhere, progress only on a terminal."""

from __future__ import annotations

import os
import subprocess
import sys

import click
import pytest
from conftest import git


@pytest.fixture
def ws(make_ws):
    return make_ws({"contacts/anna-berg.yaml": "name: Anna Berg\n",
                    "contacts/bo.yaml": "name: Bo\nemail: not-an-address\ncompany: ghost\n"})


def _leaf_commands():
    from crmkit.cli.main import cli

    ctx = click.Context(cli)
    out = []

    def walk(group, path):
        for name in group.list_commands(ctx):
            cmd = group.get_command(ctx, name)
            if isinstance(cmd, click.Group):
                walk(cmd, path + [name])
            else:
                out.append((path + [name], cmd))

    walk(cli, [])
    return out


def test_every_command_takes_quiet_verbose_and_color() -> None:
    leaves = _leaf_commands()
    assert len(leaves) > 30
    for path, cmd in leaves:
        opts = {o for p in cmd.params for o in getattr(p, "opts", []) + getattr(p, "secondary_opts", [])}
        missing = {"-q", "--quiet", "-v", "--verbose", "--color", "--no-color", "--json"} - opts
        assert not missing, f"crmkit {' '.join(path)} lacks {sorted(missing)}"


def _history(ws, *extra: str, env: dict | None = None) -> str:
    """`history` colours its header; run it on a pseudo-terminal so colour is on by default."""
    import pty

    cmd = [sys.executable, "-m", "crmkit", "-w", str(ws), *extra, "history", "anna-berg", "--limit", "1"]
    master, slave = pty.openpty()
    proc = subprocess.Popen(cmd, stdout=slave, stderr=slave, env=dict(os.environ, **(env or {})))
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=30)
    os.close(master)
    return b"".join(chunks).decode("utf-8", "replace")


def test_colour_on_a_terminal_and_no_color_turns_it_off(ws) -> None:
    assert "\x1b[" in _history(ws)
    assert "\x1b[" not in _history(ws, env={"NO_COLOR": "1"})
    assert "\x1b[" not in _history(ws, "--no-color")
    assert "\x1b[" in _history(ws, "--color", env={"NO_COLOR": "1"})


def test_color_forces_colour_into_a_pipe(run, ws) -> None:
    assert "\x1b[" not in run(["history", "anna-berg"], ws).stdout
    assert "\x1b[" in run(["--color", "history", "anna-berg"], ws).stdout
    assert "\x1b[" in run(["history", "anna-berg", "--color"], ws).stdout


def test_quiet_leaves_only_the_error(run, ws) -> None:
    r = run(["check"], ws)
    assert r.exit_code == 1 and "2 problems found" in r.stderr  # the email and the reference
    r = run(["-q", "check"], ws)
    assert r.exit_code == 1 and r.stderr == "" and "missing-ref" in r.stdout   # data still on stdout
    r = run(["show", "nobody", "-q"], ws)
    assert r.exit_code == 1 and r.stderr.strip() == "crmkit: error: no record with id 'nobody'"
    r = run(["-q", "contact", "list", "--where", "exists(email)"], ws)
    assert r.exit_code == 0 and r.stderr == ""


def test_verbose_names_the_commits(run, ws) -> None:
    r = run(["-v", "set", "anna-berg", "title=VD"], ws)
    assert r.exit_code == 0, r.stderr
    sha = git(ws, "rev-parse", "HEAD").strip()
    assert f"crmkit: committed {sha[:10]} crmkit: set contact/anna-berg" in r.stderr
    assert run(["set", "anna-berg", "title=CTO"], ws).stderr == ""


def test_import_progress_only_on_a_terminal(run, make_ws, tmp_path) -> None:
    rows = "".join(f"Person {i},p{i}@example.se\n" for i in range(250))
    (tmp_path / "many.csv").write_text("name,email\n" + rows, encoding="utf-8")
    ws = make_ws()
    r = run(["import", "csv", str(tmp_path / "many.csv"), "--kind", "contact"], ws)
    assert r.exit_code == 0, r.stderr
    assert "importing" not in r.stderr and "\r" not in r.stderr
