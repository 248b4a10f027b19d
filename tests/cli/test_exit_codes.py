"""The README's exit-code table, one test per row, plus the cases a new user hit."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from conftest import git

ROUTING_WITHOUT_FALLBACK = "- id: big\n  when: users > 50\n  assign: karin\n"


@pytest.fixture
def ws(make_ws):
    return make_ws({
        "companies/nordvik-as.yaml": "name: Nordvik AS\ncountry: NO\n",
        "contacts/anna-berg.yaml": "name: Anna Berg\nemail: anna@berg.se\n",
        "contacts/anna-b.yaml": "name: Anna B.\nemail: anna.b@berg.se\n",
        "leads/ld-20261101-aaaaa.yaml": "name: Small\nstatus: prospect\nusers: 3\n",
        "rules/routing.yaml": ROUTING_WITHOUT_FALLBACK,
        "templates/mail/news.md.j2": "---\nsubject: Hej\n---\nHej {{ contact.name }}\n",
    })


def test_0_success(run, ws) -> None:
    assert run(["contact", "list"], ws).exit_code == 0


def test_1_data_error(run, ws) -> None:
    r = run(["show", "no-such-record"], ws)
    assert r.exit_code == 1 and r.stderr.startswith("crmkit: error: ")


@pytest.mark.parametrize("args", [
    ["contact", "list", "--no-such-option"],
    ["contact", "list", "--where", "name => 3"],          # does not parse
    ["contact", "list", "--where", "nmae == x"],          # unknown field
    ["set", "anna-berg", "tags+"],
    ["show", "../etc/passwd"],
])
def test_2_usage_error(run, ws, args) -> None:
    r = run(args, ws)
    assert r.exit_code == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr


def test_where_syntax_and_unknown_field_are_the_same_code(run, ws) -> None:
    syntax = run(["contact", "list", "--where", "name => 3"], ws)
    unknown = run(["contact", "list", "--where", "nmae == x"], ws)
    assert syntax.exit_code == unknown.exit_code == 2
    assert "--where: unknown operator '=>' at column 6" in syntax.stderr


def test_3_workspace_busy(run, ws, monkeypatch) -> None:
    from crmkit.store.workspace import Workspace

    monkeypatch.setenv("CRMKIT_LOCK_TIMEOUT", "0.2")
    with Workspace.find(str(ws)).lock():
        r = run(["set", "anna-berg", "title=VD"], ws)
    assert r.exit_code == 3 and "workspace busy" in r.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_4_smtp_unreachable_means_try_again_later(run, ws) -> None:
    text = (ws / "crmkit.yaml").read_text() + f"smtp: {{host: 127.0.0.1, port: {_free_port()}, security: none}}\n"
    (ws / "crmkit.yaml").write_text(text)
    git(ws, "commit", "-qam", "smtp")
    assert run(["mail", "render", "news", "--to", "anna-berg"], ws).exit_code == 0
    r = run(["mail", "send"], ws)
    assert r.exit_code == 4 and "cannot reach the SMTP server" in r.stderr
    assert len(list((ws / "outbox").glob("*.eml"))) == 1


def test_4_route_leaves_a_record_without_owner(run, ws) -> None:
    r = run(["route"], ws)
    assert r.exit_code == 4 and "left without an owner" in r.stderr


def test_4_a_report_leaves_out_a_deal_without_exchange_rate(run, make_ws) -> None:
    ws = make_ws({"deals/h.yaml": "title: Huf\nstage: lead\nvalue: 1000000\ncurrency: HUF\n",
                  "deals/s.yaml": "title: Sek\nstage: lead\nvalue: 1000\n"})
    r = run(["report", "pipeline", "--json"], ws)
    assert r.exit_code == 4 and json.loads(r.stdout)["totals"]["value"] == "1000.00"
    assert "left out of this report" in r.stderr and "deals/h.yaml" in r.stderr


def test_a_missing_fallback_is_a_warning_in_route_and_in_check(run, ws) -> None:
    (ws / "leads/ld-20261101-aaaaa.yaml").write_text("name: Big\nstatus: prospect\nusers: 300\n")
    git(ws, "commit", "-qam", "big")
    r = run(["route"], ws)
    assert r.exit_code == 0 and "warning" in r.stderr and "rule-fallback" in r.stderr
    r = run(["check"], ws)
    assert r.exit_code == 0 and "warning" in r.stderr and "rule-fallback" in r.stderr
    r = run(["check", "--strict"], ws)
    assert r.exit_code == 1 and "rule-fallback" in r.stdout


def test_show_of_a_merged_record_follows_the_link(run, ws) -> None:
    assert run(["merge", "anna-berg", "anna-b"], ws).exit_code == 0
    r = run(["show", "anna-b"], ws)
    assert r.exit_code == 0, r.stderr
    assert r.stdout.startswith("contact/anna-berg  Anna Berg")
    assert "contact/anna-b was merged into contact/anna-berg; showing contact/anna-berg" in r.stderr
    out = json.loads(run(["show", "anna-b", "--json"], ws).stdout)
    assert out["id"] == "anna-berg" and out["merged_from"] == "anna-b"


def test_70_internal_error(run, ws, monkeypatch) -> None:
    def explode(*a, **k):
        raise RuntimeError("kaboom")

    monkeypatch.setattr("crmkit.cli.records.related", explode)
    r = run(["show", "anna-berg"], ws)
    assert r.exit_code == 70 and "internal error" in r.stderr and "Traceback" not in r.stderr


def test_130_interrupted(ws, tmp_path) -> None:
    """Ctrl-C in a real process (here while the editor is open) ends with 130 and one line."""
    editor = tmp_path / "slow-editor"
    # a shell editor that leaves Ctrl-C to crmkit (a Python one could print its own traceback)
    started = tmp_path / "editor-started"
    editor.write_text(f"#!/bin/sh\ntrap '' INT\ntouch '{started}'\nexec sleep 30\n")
    editor.chmod(0o755)
    env = dict(os.environ, EDITOR=str(editor))
    proc = subprocess.Popen([sys.executable, "-m", "crmkit", "-w", str(ws), "edit", "anna-berg"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 20
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert err.strip() == "crmkit: interrupted"
    assert (ws / "contacts/anna-berg.yaml").read_text() == "name: Anna Berg\nemail: anna@berg.se\n"
