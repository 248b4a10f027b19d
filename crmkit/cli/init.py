"""`crmkit init`."""

from __future__ import annotations

from pathlib import Path

import click

from crmkit.cli.common import App, crmkit_command, echo_json, pass_app
from crmkit.store.scaffold import initialise


@crmkit_command(name="init")
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--sample", is_flag=True, help="Start from the sample workspace (a small Nordic consultancy).")
@pass_app
def init(app: App, directory: Path, sample: bool) -> None:
    """Create a workspace in DIRECTORY (default: here): crmkit.yaml, the record folders,
    a .gitignore for .crmkit/, and a git repository if it is not in one already.

    Inside an existing git repository the workspace is committed there (paths relative to
    its top); a repository mid-merge or with a stale index.lock is refused before anything
    is written."""
    root, written, sha = initialise(directory, sample=sample, commit=not app.no_commit, command_line=app.command_line)
    if app.json:
        echo_json({"workspace": str(root), "files": len(written), "commit": sha})
    else:
        click.echo(f"Initialised a crmkit workspace in {root} ({len(written)} files).")
        click.echo(f"Try: cd {directory} && crmkit contact add \"Karin Lind\" email=karin@example.com")
