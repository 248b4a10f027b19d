"""`crmkit check` and `crmkit schema`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from crmkit.cli.common import App, crmkit_command, echo_json, echo_problems, pass_app
from crmkit.store import yamlio
from crmkit.store.validate import WARNING_CODES, check_workspace
from crmkit.errors import CrmkitError
from crmkit.store.records import KINDS
from crmkit.store.schema import json_schema


@crmkit_command(name="check")
@pass_app
def check(app: App) -> None:
    """Validate every record (fields and types), every reference, ids and every rule file.

    Prints all problems at once as `path:line: code: message` (a JSON list with
    --json) and exits 1 if there are any, 0 if the workspace is clean. Made for CI
    jobs and pre-commit hooks.
    """
    ws = app.workspace()
    problems = check_workspace(ws)
    echo_problems(app, problems)
    # Warnings (an unknown key in crmkit.yaml) are listed but do not fail the check.
    failing = [p for p in problems if p.code not in WARNING_CODES]
    if failing:
        click.echo(f"crmkit: {len(failing)} problem{'s' if len(failing) != 1 else ''} found", err=True)
        sys.exit(1)
    if not app.json:
        total = sum(len(ws.records(k)) for k in KINDS)
        warned = len(problems)
        extra = f" ({warned} warning{'s' if warned != 1 else ''})" if warned else ""
        click.echo(f"ok: {total} records checked{extra}", err=True)


@crmkit_command(name="schema")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path),
              help="Write <kind>.schema.json files into this folder.")
@click.option("--kind", type=click.Choice(KINDS), help="Only this kind (printed to stdout without --out).")
@pass_app
def schema(app: App, out: Path | None, kind: str | None) -> None:
    """Write a draft-07 JSON Schema per record kind, for editor completion and validation."""
    kinds = [kind] if kind else list(KINDS)
    if out is None:
        if len(kinds) != 1:
            echo_json({k: json_schema(k) for k in kinds})
        else:
            echo_json(json_schema(kinds[0]))
        return
    if out.exists() and not out.is_dir():
        raise CrmkitError(f"{out} is not a folder")
    written = []
    for k in kinds:
        path = out / f"{k}.schema.json"
        yamlio.atomic_write_text(path, json.dumps(json_schema(k), indent=2, ensure_ascii=False) + "\n")
        written.append(str(path))
    if app.json:
        echo_json({"written": written})
    else:
        for path in written:
            click.echo(path)
