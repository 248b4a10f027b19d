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
