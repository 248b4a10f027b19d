"""`crmkit check` and `crmkit schema`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from crmkit.cli.common import App, crmkit_command, echo_json, echo_problems, pass_app
from crmkit.errors import CrmkitError
from crmkit.store import yamlio
from crmkit.store.records import KINDS
from crmkit.store.schema import json_schema

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace


@crmkit_command(name="check")
@click.option("--staged", is_flag=True,
              help="Check the files as staged in git's index (what the next commit holds), not the work tree.")
@click.option("--strict", is_flag=True, help="Fail on warnings too (such as routing rules without a fallback).")
@pass_app
def check(app: App, staged: bool, strict: bool) -> None:
    """Validate every record (fields and types), every reference, ids, rule files and templates.

    Prints all problems at once as `path:line: code: message` (a JSON list with
    --json) and exits 1 if there are any, 0 if the workspace is clean. Made for CI
    jobs and pre-commit hooks; the hook runs `crmkit check --staged`, which reads
    the staged version of every file, so deleting a record that others refer to
    (`git rm`) is caught too. Warnings (routing rules without a fallback, rules
    that can never match) are printed on stderr, as `route` prints them, and fail
    only with --strict. Record files that are changed or untracked in git (and no
    interrupted crmkit command explains) and stray temp files are warned about on
    stderr; they do not change the exit code.
    """
    from crmkit.check import check_workspace  # the domains' checkers; `schema` needs none

    ws = app.workspace()
    if staged:
        from crmkit.store.staged import staged_copy
        from crmkit.store.workspace import Workspace

        with staged_copy(ws.root) as root:
            staged_ws = Workspace(root, now=app.now_text, commit=False)
            _report(app, staged_ws, check_workspace(staged_ws), strict)
        return
    from crmkit.store.recovery import unexplained_changes

    # warnings, not problems: a record edited by hand and not committed yet is no error,
    # but it is something crmkit did not do (or a command of it killed without a journal)
    for line in unexplained_changes(ws):
        app.warn(line)
    _report(app, ws, check_workspace(ws), strict)


def _report(app: App, ws: Workspace, found: list[Any], strict: bool) -> None:
    from crmkit.check import WARNING_CODES

    # warnings (rules without a fallback, unknown keys in crmkit.yaml) fail only with --strict
    problems = [p for p in found if strict or p.code not in WARNING_CODES]
    warnings = [p for p in found if p not in problems]
    echo_problems(app, problems)
    for w in warnings:
        app.warn(str(w))
    if problems:
        click.echo(f"crmkit: {len(problems)} problem{'s' if len(problems) != 1 else ''} found", err=True)
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
        for name in written:
            click.echo(name)
