"""`crmkit report partners`, `crmkit partner export|import`."""

from __future__ import annotations

from pathlib import Path

import click

from crmkit.cli.common import App, crmkit_command, echo_json, pass_app
from crmkit.cli.completion import complete_kind
from crmkit.cli.report import emit_report, opt_format, opt_output, opt_period


@crmkit_command(name="partners")
@opt_format
@opt_period("the last 12 months")
@opt_output
@pass_app
def partners(app: App, fmt: str | None, period: str | None, out: str | None) -> None:
    """Leads handed to each channel partner in the period: accepted, declined, converted, the
    won value of their deals and the median hours to first contact."""
    from crmkit.reports.partners import partners_report
    from crmkit.reports.periods import parse_period

    emit_report(app, partners_report(app.workspace(), parse_period(period or "12m", app.now.date())), fmt, out)


@crmkit_command(name="export")
@click.argument("partner", shell_complete=complete_kind("company"))
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@pass_app
def export(app: App, partner: str, dest: Path) -> None:
    """Write PARTNER's slice as a git repository of its own at DEST (a new or empty folder):
    the partner, its leads, their activities and deals, the files of partners/shared/, and
    the running campaigns with their segments and templates, read-only.
    The partner clones it, works there, and `crmkit partner import` takes the changes back."""
    from crmkit.sales.partner_slice import export as export_slice

    sha, counts = export_slice(app.workspace(), partner, dest, app.command_line)
    if app.json:
        echo_json({"partner": partner, "dest": str(dest), "commit": sha, "files": counts})
        return
    click.echo(f"{dest}: slice for partner {partner} ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))}), "
               f"commit {sha[:10]}")


@crmkit_command(name="import")
@click.argument("partner", shell_complete=complete_kind("company"))
@click.argument("src", type=click.Path(file_okay=False, exists=True, path_type=Path))
@pass_app
def import_(app: App, partner: str, src: Path) -> None:
    """Take back what PARTNER committed in their slice at SRC (a clone of the export): lead
    status and partner fields, activities and deals on their leads, merged field by field
    as `git pull` merges a colleague's work. Any change outside the slice refuses it all
    (exit 1, nothing changed); running it again takes nothing twice."""
    from crmkit.sales.partner_slice import take_back

    result = take_back(app.workspace(), partner, src, app.command_line)
    if app.json:
        echo_json({"partner": partner, "changed": result.changed, "notes": result.notes})
        return
    for rel in result.changed:
        click.echo(f"took back {rel}")
    for note in result.notes:
        click.echo(note, err=True)
