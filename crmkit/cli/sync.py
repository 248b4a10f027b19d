"""`crmkit sync`."""

from __future__ import annotations

import sys

import click

from crmkit.cli.common import App, crmkit_command, echo_json, echo_problems, pass_app


@crmkit_command(name="sync")
@click.option("--remote", metavar="NAME", help="The remote to pull from and push to (default: the branch's upstream).")
@click.option("--no-push", is_flag=True, help="Pull and check only.")
@pass_app
def sync(app: App, remote: str | None, no_push: bool) -> None:
    """Pull (record files merged by crmkit's driver), run `check`, push.

    Refuses, and says why, when the work tree has uncommitted changes or when both
    sides changed the same field differently (the merge is undone; resolve with
    `git pull`). When `check` finds problems after the merge, they are printed and
    nothing is pushed. Exit codes: 0 synced, 1 refused or problems found.
    """
    from crmkit.check import check_workspace
    from crmkit.store.sync import sync as run_sync

    ws = app.workspace()
    result = run_sync(ws, check_workspace, remote=remote, push=not no_push)
    if result.problems:
        echo_problems(app, result.problems)
        click.echo(f"crmkit: pulled, but check found {len(result.problems)} problem"
                   f"{'s' if len(result.problems) != 1 else ''}; fix them, commit, and sync again (nothing pushed)",
                   err=True)
        sys.exit(1)
    if app.json:
        echo_json({"pulled": True, "pushed": result.pushed})
    else:
        click.echo("synced: pulled, checked" + (", pushed" if result.pushed else ""), err=True)
