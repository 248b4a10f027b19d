"""The transaction scope in-process: signals, the journal and recovery, nested workspaces."""

from __future__ import annotations

import json
import os
import signal

import pytest
from conftest import git

from crmkit.store import journal, signals, transaction
from crmkit.store.journal import JOURNAL
from crmkit.store.signals import Interrupted
from crmkit.store.workspace import Workspace


def _files(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.yaml")
            if ".crmkit" not in p.parts and ".git" not in p.parts}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_inside_the_scope_rolls_back_and_the_handlers_are_restored(make_ws, sig) -> None:
    root = make_ws({"contacts/a.yaml": "name: A\n"})
    before = _files(root)
    handlers = {s: signal.getsignal(s) for s in signals.CAUGHT}
    ws = Workspace(root)
    with pytest.raises(Interrupted) as info:
        with ws.transaction("add", "crmkit test") as tx:
            tx.create("contact", {"name": "B"}, "b")
            tx.update("contact", "a", lambda doc: doc.__setitem__("email", "a@example.com"))
            os.kill(os.getpid(), sig)
    assert info.value.exit_code == 128 + sig
    assert _files(root) == before
    assert not (root / JOURNAL).exists()
    assert {s: signal.getsignal(s) for s in signals.CAUGHT} == handlers
    assert git(root, "status", "--porcelain") == ""


def test_a_signal_while_head_moves_waits_until_the_commit_is_whole(make_ws, monkeypatch) -> None:
    from crmkit.store import gitio

    root = make_ws({"contacts/a.yaml": "name: A\n"})
    real = gitio.move_head

    def move_then_signal(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)   # arrives inside the critical section
        real(*args, **kwargs)

    monkeypatch.setattr(gitio, "move_head", move_then_signal)
    ws = Workspace(root)
    with pytest.raises(Interrupted):
        with ws.transaction("add", "crmkit test") as tx:
            tx.create("contact", {"name": "B"}, "b")
    assert (root / "contacts/b.yaml").exists()
    assert "contacts/b.yaml" in git(root, "show", "--name-only", "HEAD")
    assert git(root, "status", "--porcelain") == ""


def _journal_of_a_killed_command(root, state: str) -> None:
    """What a command killed after writing b.yaml leaves: the file and its journal."""
    (root / "contacts/b.yaml").write_text("name: B\n")
    (root / "contacts/.b.yaml.x1y2.tmp").write_text("name: B")
    head = git(root, "rev-parse", "HEAD").strip()
    (root / ".crmkit/tx").mkdir(parents=True)
    lines = [{"id": "t1", "command": "crmkit contact add B", "git": True, "head": head},
             {"path": "contacts/b.yaml", "existed": False, "backup": None, "sha1": None}]
    if state == "written":
        lines.append({"state": "written", "message": "crmkit: add contact/b\n\nCrmkit-Command: crmkit contact add B\n"})
    (root / JOURNAL).write_text("".join(json.dumps(x) + "\n" for x in lines) + '{"path": "contacts/c.y')


def test_the_next_command_undoes_a_transaction_killed_while_writing(make_ws, run) -> None:
    root = make_ws({"contacts/a.yaml": "name: A\n"})
    _journal_of_a_killed_command(root, "writing")
    r = run(["contact", "list"], root)
    assert r.exit_code == 0
    assert "recovered: undone the interrupted `crmkit contact add B`" in r.stderr
    assert "b" not in r.stdout.split()
    assert not (root / "contacts/b.yaml").exists() and not (root / "contacts/.b.yaml.x1y2.tmp").exists()
    assert not (root / JOURNAL).exists() and git(root, "status", "--porcelain") == ""


def test_the_next_command_completes_a_transaction_killed_before_its_commit(make_ws, run) -> None:
    root = make_ws({"contacts/a.yaml": "name: A\n"})
    (root / "staged.txt").write_text("mine\n")
    git(root, "add", "staged.txt")
    _journal_of_a_killed_command(root, "written")
    r = run(["contact", "list"], root)
    assert r.exit_code == 0 and "recovered: completed" in r.stderr
    assert git(root, "log", "-1", "--format=%s").strip() == "crmkit: add contact/b"
    assert git(root, "show", "--name-only", "--format=", "HEAD").split() == ["contacts/b.yaml"]
    assert git(root, "status", "--porcelain") == "A  staged.txt\n"


def test_undo_restores_an_edited_file_from_its_copy_or_from_git(make_ws, run) -> None:
    root = make_ws({"contacts/a.yaml": "name: A\n", "contacts/c.yaml": "name: C\n"})
    ws = Workspace(root)
    tx = transaction.Transaction(ws, "set", "crmkit set")
    tx.begin()
    tx.update("contact", "a", lambda doc: doc.__setitem__("email", "a@example.com"))
    tx.update("contact", "c", lambda doc: doc.__setitem__("email", "c@example.com"))
    os.close(tx.journal.fd)            # as if killed here: the journal stays, the lock goes
    tx.journal.fd = None
    (root / ".crmkit/tx/orig-2").write_text("torn")   # a copy a machine crash tore: git has it
    assert (root / "contacts/a.yaml").read_text() != "name: A\n"
    r = run(["contact", "list"], root)
    assert "recovered: undone" in r.stderr and "2 files put back" in r.stderr
    assert (root / "contacts/a.yaml").read_text() == "name: A\n"
    assert (root / "contacts/c.yaml").read_text() == "name: C\n"


def test_a_reader_leaves_the_journal_of_a_live_writer_alone(make_ws) -> None:
    root = make_ws({"contacts/a.yaml": "name: A\n"})
    ws = Workspace(root)
    with ws.transaction("add", "crmkit test") as tx:
        tx.create("contact", {"name": "B"}, "b")
        assert (root / JOURNAL).exists()
        Workspace(root)                 # opening meanwhile (the lock is held) must not undo it
        assert (root / "contacts/b.yaml").exists()
    assert "contacts/b.yaml" in git(root, "show", "--name-only", "HEAD")


def test_init_inside_an_existing_repository_commits_there(tmp_path, run) -> None:
    outer = tmp_path / "project"
    outer.mkdir()
    git(outer, "init", "-q", "-b", "main")
    (outer / "README").write_text("the project\n")
    git(outer, "add", "README")
    r = run(["init", str(outer / "crm")])
    assert r.exit_code == 0, r.stderr
    assert not (outer / "crm" / ".git").exists()
    names = git(outer, "show", "--name-only", "--format=", "HEAD").split()
    assert "crm/crmkit.yaml" in names and "README" not in names
    assert git(outer, "status", "--porcelain") == "A  README\n"     # the user's staged work stays staged
    r = run(["contact", "add", "Karin Lind", "email=k@example.se"], outer / "crm")
    assert r.exit_code == 0, r.stderr
    # a new workspace has team.stable_ids: the id ends in four characters from the email
    (name,) = git(outer, "show", "--name-only", "--format=", "HEAD").split()
    assert name.startswith("crm/contacts/karin-lind-") and name.endswith(".yaml")


def test_init_in_a_repository_mid_merge_writes_nothing(tmp_path, run) -> None:
    outer = tmp_path / "project"
    outer.mkdir()
    git(outer, "init", "-q", "-b", "main")
    git(outer, "commit", "-q", "--allow-empty", "-m", "one")
    (outer / ".git" / "MERGE_HEAD").write_text(git(outer, "rev-parse", "HEAD"))
    r = run(["init", str(outer / "crm")])
    assert r.exit_code == 5 and "a merge is in progress" in r.stderr
    assert not (outer / "crm").exists()


def test_the_journal_costs_no_fsync_per_file(make_ws, monkeypatch) -> None:
    """Per file, the journal writes a line; fsyncs are for its start and its end."""
    root = make_ws()
    ws = Workspace(root)
    synced = []
    real = journal.Journal.sync
    monkeypatch.setattr(journal.Journal, "sync", lambda self: (synced.append(1), real(self)))
    with ws.transaction("add", "crmkit test") as tx:
        for n in range(20):
            tx.create("contact", {"name": f"P {n}"}, f"p{n}")
    assert 1 <= len(synced) <= 4
    assert len(git(root, "show", "--name-only", "--format=", "HEAD").split()) == 20
