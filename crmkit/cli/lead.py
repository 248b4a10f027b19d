"""`crmkit lead add|qualify|disqualify|convert|score`: the lead lifecycle."""

from __future__ import annotations

import sys

import click

from crmkit.cli.common import App, crmkit_command, echo_json, pass_app
from crmkit.cli.completion import complete_kind, complete_user
from crmkit.errors import CrmkitError, UsageError
from crmkit.people.adding import add_record
from crmkit.store.records import Record


@crmkit_command(name="add")
@click.argument("name", metavar="NAME|-", required=False)
@click.argument("fields", nargs=-1, metavar="[KEY=VALUE]...")
@click.option("--id", "record_id", help="Choose the id instead of generating one.")
@click.option("--json-input", is_flag=True, help="Read a JSON form submission from stdin (same as NAME '-').")
@pass_app
def add(app: App, name: str | None, fields: tuple[str, ...], record_id: str | None, json_input: bool) -> None:
    """Add a lead: NAME and KEY=VALUE fields, or a JSON form submission on stdin.

    \b
      crmkit lead add "Anna Berg" email=anna@nordvik.no users=100 source=web_form
      echo '{"name": "Anna Berg", "email": "anna@nordvik.no", "users": 100}' | crmkit lead add - source=web_form

    A form must be a JSON object with at least a name and an email; anything else
    is refused with a message and nothing is written. Form fields are kept as
    they come (custom fields too); numbers sent as text become numbers where the
    field counts (users). KEY=VALUE arguments after '-' are added on top.
    """
    if name == "-" or json_input:
        if name not in (None, "-"):
            fields = (name, *fields)
        rec = _add_form(app, list(fields), record_id)
    else:
        rec = add_record(app.workspace(), "lead", name, list(fields), record_id, app.command_line)
    ws = app.workspace()
    if app.json:
        echo_json({"kind": rec.kind, "id": rec.id, "path": ws.rel(rec.path), "record": rec.data})
    else:
        click.echo(rec.ref)


def _add_form(app: App, assignments: list[str], record_id: str | None) -> Record:
    from crmkit.sales.leads import form_data
    from crmkit.store.editing import new_record, parse_assignments
    from crmkit.store.records import Record, check_id, new_id
    from crmkit.store.validate import record_problems

    stdin = sys.stdin
    if stdin.isatty():
        raise UsageError("lead add -: pipe a JSON form into stdin (e.g. < form.json)")
    data = form_data(stdin.read())
    ws = app.workspace()
    pairs = list(data.items()) + parse_assignments("lead", assignments)
    full = new_record(ws, "lead", None, pairs)
    if record_id is not None:
        check_id(record_id)
    with ws.transaction("add lead", app.command_line) as tx:
        rid = record_id or new_id("lead", full, ws.taken_ids("lead"), ws.now())
        problems = record_problems(ws, Record("lead", rid, full, ws.path_for("lead", rid)))
        fatal = [m for f, code, m in problems if code != "type"]
        if fatal:
            raise CrmkitError(f"the form cannot become a lead: {fatal[0]}; nothing was written")
        for _f, code, message in problems:
            if code == "type":
                # Keep the lead (a lost lead is worse than an odd value); rules comparing it will not match.
                app.warn(f"{message}; kept as sent (crmkit check will report it)")
        tx.message = f"add lead/{rid} from a form"
        tx.note("fields: " + ", ".join(full))
        return tx.create("lead", full, rid)


@crmkit_command(name="qualify")
@click.argument("ref", metavar="ID", shell_complete=complete_kind("lead"))
@pass_app
def qualify(app: App, ref: str) -> None:
    """Mark a lead qualified (from prospect, or again from disqualified).

    Its status changes, so the next `crmkit route` routes it by the rules for
    qualified leads.
    """
    from crmkit.sales import leads

    rec = leads.qualify(app.workspace(), ref, app.command_line)
    _done(app, rec, "qualified")


@crmkit_command(name="disqualify")
@click.argument("ref", metavar="ID", shell_complete=complete_kind("lead"))
@click.option("--reason", required=True, help="Why (kept on the lead as disqualified_reason).")
@pass_app
def disqualify(app: App, ref: str, reason: str) -> None:
    """Mark a lead disqualified; a reason is required."""
    from crmkit.sales import leads

    rec = leads.disqualify(app.workspace(), ref, reason, app.command_line)
    _done(app, rec, "disqualified")


def _done(app: App, rec: object, what: str) -> None:
    from crmkit.store.records import Record

    assert isinstance(rec, Record)
    if app.json:
        echo_json({"kind": rec.kind, "id": rec.id, "status": rec.data.get("status"), "record": rec.data})
    else:
        click.echo(f"{rec.ref} {what}")


@crmkit_command(name="convert")
@click.argument("ref", metavar="ID", shell_complete=complete_kind("lead"))
@click.option("--owner", metavar="USER", shell_complete=complete_user, help="Owner of the new deal (default: the lead's owner).")
@click.option("--title", help="Title of the new deal (default: '<company>: <interest>').")
@click.option("--value", metavar="AMOUNT", help="Value of the new deal.")
@pass_app
def convert(app: App, ref: str, owner: str | None, title: str | None, value: str | None) -> None:
    """Convert a lead: link or create its contact (by email) and company (by email
    domain or name), open a deal in the first pipeline stage, mark the lead converted.

    The deal's owner is the lead's owner (after routing a qualified lead: the
    person the rules chose), unless --owner. One commit for everything.
    """
    from crmkit.sales import leads
    from crmkit.store.schema import coerce

    amount = coerce("deal", "value", value) if value is not None else None
    conv = leads.convert(app.workspace(), ref, app.command_line, owner=owner, title=title, value=amount)
    if app.json:
        echo_json(conv.to_dict())
        return
    click.echo(f"lead/{conv.lead} converted")
    click.echo(f"  contact/{conv.contact} ({'created' if conv.contact_created else 'existing'})")
    if conv.company:
        click.echo(f"  company/{conv.company} ({'created' if conv.company_created else 'existing'})")
    click.echo(f"  deal/{conv.deal}" + (f" (owner {conv.owner})" if conv.owner else ""))


@crmkit_command(name="score")
@click.argument("ref", metavar="ID", shell_complete=complete_kind("lead"))
@click.option("--explain", is_flag=True, help="Show every scoring rule, its points, the caps and the band.")
@pass_app
def score(app: App, ref: str, explain: bool) -> None:
    """Show a lead's score and band (computed from rules/scoring.yaml, never stored)."""
    from crmkit.sales import scoring

    ws = app.workspace()
    rec = ws.get(ref, "lead")
    info = scoring.explain_score(ws, rec)
    if app.json:
        echo_json(info if explain else {"kind": "lead", "id": rec.id, "score": info["score"], "band": info["band"]})
        return
    if explain:
        for line in scoring.explain_text(info):
            click.echo(line)
    else:
        click.echo(f"{rec.id}\t{info['score']}" + (f"\t{info['band']}" if info["band"] else ""))


