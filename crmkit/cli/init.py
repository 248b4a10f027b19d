"""`crmkit init`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from crmkit.cli.common import App, crmkit_command, echo_json, pass_app
from crmkit.store.scaffold import initialise


@crmkit_command(name="init")
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--sample", is_flag=True, help="Start from the sample workspace (a small Nordic consultancy).")
@click.option("--editor-setup/--no-editor-setup", default=True, show_default=True,
              help="Write schemas/ and .vscode/settings.json for completion and validation in editors.")
@pass_app
def init(app: App, directory: Path, sample: bool, editor_setup: bool) -> None:
    """Create a workspace in DIRECTORY (default: here): crmkit.yaml, the record folders,
    a .gitignore for .crmkit/, a git repository if it is not in one already, and
    editor schemas (schemas/*.schema.json, wired up in .vscode/settings.json) for
    records, crmkit.yaml, rules and segments.

    With --sample, the sample's sentiment journeys (who was upset, satisfied, loyal, and
    why) are then logged on its contacts in a second commit, as `crmkit contact sentiment`
    does from cron.

    Inside an existing git repository the workspace is committed there (paths relative to
    its top); a repository mid-merge or with a stale index.lock is refused before anything
    is written."""
    extra: Callable[[Path, dict[str, Any]], list[Path]] | None = None
    if editor_setup:
        from crmkit.exchange.editor_schemas import write_editor_setup as extra
    root, written, sha = initialise(directory, sample=sample, commit=not app.no_commit,
                                    command_line=app.command_line, extra_files=extra)
    logged: list = []
    if sample:
        from crmkit.store.workspace import Workspace
        from crmkit.support.sentiment import log_journeys

        ws = Workspace(root, now=app.now_text, commit=not app.no_commit)
        logged = log_journeys(ws, app.command_line, summary="log the sample's sentiment journeys")
    if app.json:
        echo_json({"workspace": str(root), "files": len(written), "commit": sha,
                   "sentiment_changes": len(logged)})
    else:
        click.echo(f"Initialised a crmkit workspace in {root} ({len(written)} files).")
        if logged:
            click.echo(f"Logged {len(logged)} sentiment change(s) of the sample's contacts in a commit of their "
                       "own (crmkit history grace-mitchell).")
        click.echo(f"Try: cd {directory} && crmkit contact add \"Karin Lind\" email=karin@example.com")
