"""`crmkit dedupe` and `crmkit merge`."""

from __future__ import annotations

import click

from crmkit.cli.common import App, crmkit_command, echo_json, format_option, output, pass_app
from crmkit.cli.records import complete_id
from crmkit.core.dedupe import apply_merge, find_duplicates


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
    output(app, rows, ["a", "b", "reason", "confidence"], fmt)


@crmkit_command(name="merge")
@click.argument("keep", shell_complete=complete_id)
@click.argument("other", shell_complete=complete_id)
@pass_app
def merge(app: App, keep: str, other: str) -> None:
    """Merge OTHER into KEEP: KEEP takes OTHER's values where it has none (lists are joined),
    every reference to OTHER moves to KEEP, and OTHER leaves a tombstone saying where it went.
    One commit."""
    result = apply_merge(app.workspace(), keep, other, app.command_line)
    if app.json:
        echo_json(result)
    else:
        click.echo(f"merged {result['merged']} into {result['kept']}"
                   f" (fields: {', '.join(result['fields']) or 'none'}; references moved: {len(result['moved'])})")
