"""`crmkit mail render` and `crmkit mail send`."""

from __future__ import annotations

import click

from crmkit.cli.common import App, crmkit_command, echo_json, global_options, pass_app
from crmkit.cli.completion import complete_record_id, complete_segment, complete_template
from crmkit.errors import CrmkitError, UsageError
from crmkit.marketing.mail import (
    choose_recipients,
    drop_pending,
    outbox_files,
    render_all,
    write_outbox,
)
from crmkit.marketing.mailtemplate import load_template
from crmkit.marketing.sending import raise_if_partial, send_outbox


@click.group(name="mail")
@global_options
def mail() -> None:
    """Email from templates: mail merge into outbox/, then send over SMTP."""


@crmkit_command(name="render")
@click.argument("template", shell_complete=complete_template)
@click.option("--to", "to", multiple=True, metavar="ID", shell_complete=complete_record_id,
              help="A contact or lead (repeatable).")
@click.option("--segment", metavar="NAME", shell_complete=complete_segment, help="Every contact (or lead) in this segment.")
@click.option("--dry-run", is_flag=True,
              help="Say who would get it, who not and why, and who would fail on which variables; write nothing.")
@pass_app
def render_cmd(app: App, template: str, to: tuple[str, ...], segment: str | None, dry_run: bool) -> None:
    """Render TEMPLATE (templates/mail/TEMPLATE.md.j2) for each recipient into outbox/ as .eml files.

    A recipient with `language: nb` gets TEMPLATE.nb.md.j2 when there is one.
    Marketing templates go only to contacts who consented and did not opt out
    (transactional ones are not held back by either); mail goes once per address,
    and nobody gets the same template twice while it waits in the outbox.
    A missing variable is an error for that recipient, never a blank: if any
    recipient fails, nothing is written and each failure names its variables.
    """
    if bool(to) == bool(segment):
        raise UsageError("give --to ID... or --segment NAME (not both)")
    ws = app.workspace()
    tpl = load_template(ws, template)
    if segment:
        from crmkit.marketing.segments import get_segment, members

        seg = get_segment(ws, segment)
        if seg.kind not in ("contact", "lead"):
            raise UsageError(f"segment {segment!r} holds {seg.kind} records; mail goes to contacts or leads")
        tpl.for_segment(segment, ws.rel(tpl.path))
        records = [v.record for v in members(ws, seg)]
    else:
        records = [ws.get(ref) for ref in to]
        for rec in records:
            if rec.kind not in ("contact", "lead"):
                raise UsageError(f"{rec.ref} is a {rec.kind}; mail goes to contacts or leads")
    chosen, skipped = choose_recipients(ws, records, tpl.kind == "marketing")
    chosen, waiting = drop_pending(ws, tpl, chosen)
    skipped += waiting
    rendered, failed = render_all(ws, tpl, chosen)
    report = {"template": tpl.name, "kind": tpl.kind, "dry_run": dry_run,
              "recipients": [r.record.id for r in rendered],
              "skipped": [s.to_dict() for s in skipped], "failed": [f.to_dict() for f in failed], "written": []}
    if not dry_run and not failed and rendered:
        with ws.transaction(f"mail {tpl.name} to {len(rendered)} recipient{'s' if len(rendered) != 1 else ''}",
                            app.command_line) as tx:
            report["written"] = write_outbox(ws, tx, tpl, rendered)
            if skipped:
                tx.note("left out: " + ", ".join(f"{s.id} ({s.reason})" for s in skipped))
    if app.json:
        echo_json(report)
    else:
        verb = "would write" if dry_run or failed else "wrote"
        for r in rendered:
            click.echo(f"{verb} mail to {r.record.id} <{r.record.get('email')}>")
        for s in skipped:
            click.echo(f"left out {s.id}: {s.reason}")
        for f in failed:
            # in a dry run the failures are the report; otherwise they explain the error
            click.echo(f"would fail {f.id}: {f.error}" if dry_run else f"crmkit: {f.id}: {f.error}", err=not dry_run)
    if failed:
        n = len(failed)
        raise CrmkitError(f"{n} recipient{'s' if n != 1 else ''} failed"
                          + ("" if dry_run else "; nothing was written (fix the template or the records)"))
    if not dry_run and not rendered:
        app.warn("nobody to write to: every recipient was left out")


@crmkit_command(name="send")
@click.option("--dry-run", is_flag=True, help="List what would be sent; connect to nothing.")
@click.option("--resend-unconfirmed", is_flag=True,
              help="Also send messages an interrupted run left unconfirmed (they may arrive twice).")
@pass_app
def send_cmd(app: App, dry_run: bool, resend_unconfirmed: bool) -> None:
    """Send everything in outbox/ over the SMTP server in crmkit.yaml (password from the environment).

    Each message is sent exactly once: before it goes to the server its Message-ID,
    the state "sending" and its email activity are committed; once the server takes it,
    it leaves the outbox and the activity says `delivery: sent`. If sending fails half
    way, what was sent stays sent and logged, the rest stays in the outbox, the exit
    code is 4, and the next run sends only the rest. A message an interrupted run left
    "sending" (perhaps delivered) is reported as unconfirmed and not sent again unless
    --resend-unconfirmed.

    Consent is checked again per message as it leaves: marketing mail to someone who
    has since opted out, withdrawn consent, changed address or been removed is held
    back, moved to outbox/held/ and reported (`--dry-run` shows it as "would hold").
    With team.router_branch in crmkit.yaml it sends only on that branch.
    """
    ws = app.workspace()
    if not dry_run:
        from crmkit.store.team import require_router

        require_router(ws, "mail send")
    if dry_run:
        from crmkit.io import eml
        from crmkit.marketing.consent import review

        files = outbox_files(ws)
        held = {h.file: h.reason for h in review(ws, files)}
        rows = []
        for path in files:
            head = eml.read_headers(path)
            rows.append({"file": ws.rel(path), "to": str(head.get("To", "")), "subject": str(head.get("Subject", "")),
                         "held": held.get(ws.rel(path))})
        if app.json:
            echo_json({"would_send": [r for r in rows if not r["held"]],
                       "would_hold": [{"file": f, "reason": why} for f, why in held.items()]})
        else:
            for row in rows:
                if row["held"]:
                    click.echo(f"would hold {row['file']} to {row['to']}: {row['held']}")
                else:
                    click.echo(f"would send {row['file']} to {row['to']}: {row['subject']}")
        return
    result = send_outbox(ws, app.command_line, resend_unconfirmed=resend_unconfirmed)
    if app.json:
        echo_json(result.to_dict())
    else:
        for f in result.sent:
            click.echo(f"sent {f}")
        for f in result.already:
            click.echo(f"already sent {f} (removed from the outbox)")
        for f, error in result.failed:
            click.echo(f"failed {f}: {error}")
        for h in result.held:
            click.echo(f"held {h.file}: {h.reason} (moved to outbox/held/, not sent)")
    if result.held:
        n = len(result.held)
        app.warn(f"held back {n} marketing message{'s' if n != 1 else ''} at send time (see outbox/held/)")
    for f in result.unconfirmed:
        app.warn(f"{f} is unconfirmed: an interrupted run was sending it and may have delivered it; "
                 "not sent again (check, then `crmkit mail send --resend-unconfirmed` to send it anyway)")
    raise_if_partial(result)
    n = len(result.sent)
    click.echo(f"sent {n} message{'s' if n != 1 else ''}", err=True)


mail.add_command(render_cmd)
mail.add_command(send_cmd)
