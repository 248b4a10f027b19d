"""`crmkit segment list|show`."""

from __future__ import annotations

import click

from crmkit.cli.common import App, crmkit_command, echo_json, format_option, global_options, output, pass_app
from crmkit.cli.completion import complete_segment
from crmkit.conditions.listing import DEFAULT_COLUMNS, project
from crmkit.marketing.segments import get_segment, members, segments


@click.group(name="segment")
@global_options
def segment() -> None:
    """Segments: saved queries (smart lists) in segments/*.yaml, for reports, exports and mail merge."""


@crmkit_command(name="list")
@format_option()
@pass_app
def list_segments(app: App, fmt: str | None) -> None:
    """Every segment with its kind, condition and how many records it holds today."""
    ws = app.workspace()
    rows = [dict(s.to_dict(), members=len(members(ws, s))) for s in segments(ws)]
    output(app, rows, ["name", "kind", "members", "where", "description"], fmt)


@crmkit_command(name="show")
@click.argument("name", shell_complete=complete_segment)
@click.option("--fields", metavar="A,B", help="Columns to show.")
@format_option()
@pass_app
def show_segment(app: App, name: str, fields: str | None, fmt: str | None) -> None:
    """The records in segment NAME today."""
    ws = app.workspace()
    seg = get_segment(ws, name)
    views = members(ws, seg)
    columns = [f.strip() for f in fields.split(",")] if fields else DEFAULT_COLUMNS[seg.kind]
    if (fmt or ("json" if app.json else "table")) == "json":
        echo_json({"segment": seg.to_dict(), "members": [project(v, None) for v in views]})
        return
    if fmt in (None, "table"):
        click.echo(f"{seg.name}: {seg.description or seg.kind} ({len(views)})", err=True)
    output(app, [project(v, columns) for v in views], columns, fmt)


segment.add_command(list_segments)
segment.add_command(show_segment)
