"""`crmkit merge-file`: git's merge driver for record files (see crmkit.store.merge_driver)."""

from __future__ import annotations

import sys

import click

from crmkit.cli.common import App, crmkit_command, pass_app


@crmkit_command(name="merge-file")
@click.argument("base", metavar="BASE")
@click.argument("ours", metavar="OURS")
@click.argument("theirs", metavar="THEIRS")
@click.argument("name", metavar="[PATH]", required=False, default="")
@click.option("--marker-size", default="7", metavar="N", help="Length of conflict markers (git's %L).")
@pass_app
def merge_file(app: App, base: str, ours: str, theirs: str, name: str, marker_size: str) -> None:
    """Merge three versions of a record file field by field; git runs it as the `crmkit` driver.

    git runs it for files that .gitattributes marks `merge=crmkit` (`crmkit init` writes
    that, and every crmkit command registers the driver in .git/config, there as the
    quicker-starting `python -m crmkit.store.merge_driver` with the same arguments). The result replaces OURS. Append-only
    histories are joined, fields changed on one side are taken; where both sides changed
    a field differently the file gets ordinary conflict markers around those lines.

    Exit codes: 0 merged cleanly, 1 conflicts left in OURS.
    """
    from crmkit.store.merge_driver import merge_file as run_merge

    size = int(marker_size) if marker_size.isdigit() else 7
    result = run_merge(base, ours, theirs, name, size)
    where = name or ours
    if app.debug:
        for note in result.notes:
            click.echo(f"crmkit merge-file: {where}: {note}", err=True)
    if result.conflicts:
        click.echo(f"crmkit merge-file: {where}: conflict in {', '.join(result.conflicts)} "
                   "(both sides changed it differently)", err=True)
        sys.exit(1)


@crmkit_command(name="merge-branch")
@click.argument("ref", metavar="REF")
@pass_app
def merge_branch(app: App, ref: str) -> None:
    """`git merge REF` with every record file merged in this one process.

    The same merge as git with the `crmkit` driver, without a process per file: for
    large merges (a bulk import or `route` on both sides). A real conflict is left
    marked in its file, the merge in progress, as `git merge` leaves it: resolve,
    `git add`, `git commit`, or `git merge --abort`.

    Exit codes: 0 merged and committed (or nothing to merge), 1 files left unmerged
    or git refused the merge (its last line is printed).
    """
    from crmkit.store.merge_batch import merge_ref

    outcome = merge_ref(app.workspace(), ref)
    if app.debug and outcome.output:
        click.echo(outcome.output, err=True)
    for rel, fields in sorted(outcome.resolution.conflicts.items()):
        click.echo(f"crmkit merge-branch: {rel}: conflict in {', '.join(fields)} (both sides changed it differently)",
                   err=True)
    for rel in outcome.resolution.other:
        click.echo(f"crmkit merge-branch: {rel}: left unmerged by git", err=True)
    if not outcome.ok:
        if not outcome.unmerged:
            last = outcome.output.splitlines()[-1] if outcome.output else "no output"
            click.echo(f"crmkit merge-branch: git merge failed: {last}", err=True)
        sys.exit(1)
    click.echo(f"merged {ref}: {len(outcome.resolution.resolved)} record files merged field by field"
               + (", committed" if outcome.committed else ""), err=True)
