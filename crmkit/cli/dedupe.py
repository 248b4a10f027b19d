"""`crmkit dedupe` and `crmkit merge`."""

from __future__ import annotations

import click

from crmkit.cli.common import App, crmkit_command, echo_json, format_option, output, pass_app
from crmkit.cli.completion import complete_record_id
from crmkit.people.dedupe import find_duplicates
from crmkit.people.merge import apply_merge, plan_merge


@crmkit_command(name="dedupe")
@click.option("--kind", type=click.Choice(["contact", "company"]), default="contact", show_default=True)
@click.option("--min-confidence", type=click.FloatRange(0, 1), default=0.0, help="Hide weaker matches.")
@format_option()
@pass_app
def dedupe(app: App, kind: str, min_confidence: float, fmt: str | None) -> None:
    """List likely duplicates: same email, same phone (compared in international form),
    same domain, or very similar names (diacritics and company forms like AB, AS, Kft ignored)."""
    pairs = [d for d in find_duplicates(app.workspace(), kind) if d.confidence >= min_confidence]
    rows = [d.to_dict() for d in pairs]
    output(app, rows, ["a", "a_name", "b", "b_name", "reason", "confidence"], fmt)


@crmkit_command(name="merge")
@click.argument("keep", shell_complete=complete_record_id)
@click.argument("other", shell_complete=complete_record_id)
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@pass_app
def merge(app: App, keep: str, other: str, dry_run: bool) -> None:
    """Merge OTHER into KEEP: KEEP takes OTHER's values where it has none (lists are joined),
    every reference to OTHER moves to KEEP, and OTHER leaves a tombstone saying where it went.
    One commit."""
    ws = app.workspace()
    if dry_run:
        result = plan_merge(ws, keep, other).to_dict()
    else:
        result = apply_merge(ws, keep, other, app.command_line)
    if app.json:
        echo_json({**result, "dry_run": dry_run})
        return
    verb = "would merge" if dry_run else "merged"
    click.echo(f"{verb} {result['merged']} into {result['kept']}"
               f" (fields: {', '.join(result['fields']) or 'none'}; references moved: {len(result['moved'])})")
    if dry_run:
        for ref in result["references"]:
            click.echo(f"  {ref['record']}: {ref['field']}")
