"""The git adapter commits exactly the paths it is given, whatever state they are in."""

from __future__ import annotations

from conftest import git

from crmkit.store import gitio


def test_commit_paths_handles_new_changed_deleted_and_never_existing_files(make_ws) -> None:
    ws = make_ws({"contacts/a.yaml": "name: A\n", "contacts/b.yaml": "name: B\n"})
    (ws / "contacts/a.yaml").write_text("name: A2\n")
    (ws / "contacts/b.yaml").unlink()
    (ws / "contacts/c.yaml").write_text("name: C\n")
    (ws / "mine.txt").write_text("the user's own work\n")
    git(ws, "add", "mine.txt")
    sha = gitio.commit_paths(ws, [ws / "contacts/a.yaml", ws / "contacts/b.yaml", ws / "contacts/c.yaml",
                                  ws / "outbox/gone.eml"], "crmkit: test\n")
    assert sha
    assert sorted(git(ws, "show", "--name-status", "--format=", "HEAD").splitlines()) == [
        "A\tcontacts/c.yaml", "D\tcontacts/b.yaml", "M\tcontacts/a.yaml"]
    assert git(ws, "diff", "--cached", "--name-only").split() == ["mine.txt"]
    assert gitio.commit_paths(ws, [ws / "contacts/a.yaml"], "crmkit: nothing\n") is None
