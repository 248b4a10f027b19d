"""`crmkit init`."""

from __future__ import annotations

from pathlib import Path

import click

from crmkit.cli.common import App, crmkit_command, echo_json, pass_app
from crmkit.store import gitio
from crmkit.store.scaffold import create_workspace


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
    records, crmkit.yaml, rules and segments."""
    written = create_workspace(directory, sample=sample)
    root = directory.resolve()
    if editor_setup:
        from crmkit.exchange.editor_schemas import write_editor_setup
        from crmkit.store import yamlio

        config = yamlio.load_fast(root / "crmkit.yaml") or {}
        written += [p for p in write_editor_setup(root, config if isinstance(config, dict) else {})
                    if p not in written]
    sha = None
    if not app.no_commit:
        sha = gitio.commit_paths(
            root, written,
            gitio.commit_message("init workspace" + (" from the sample" if sample else ""), [], app.command_line),
        )
    if app.json:
        echo_json({"workspace": str(root), "files": len(written), "commit": sha})
    else:
        click.echo(f"Initialised a crmkit workspace in {root} ({len(written)} files).")
        click.echo(f"Try: cd {directory} && crmkit contact add \"Karin Lind\" email=karin@example.com")
