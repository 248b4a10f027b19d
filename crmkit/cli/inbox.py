"""`crmkit inbox fetch`: file email that arrives."""

from __future__ import annotations

from pathlib import Path

import click

from crmkit.cli.common import App, crmkit_command, dumps_json, pass_app


@crmkit_command(name="fetch")
@click.option("--maildir", "maildir", metavar="DIR", type=click.Path(file_okay=False, path_type=Path),
              help="Read this Maildir (default: inbox.maildir in crmkit.yaml).")
@click.option("--imap", "use_imap", is_flag=True,
              help="Read the IMAP folder of inbox.imap over TLS (password from the environment or ~/.netrc).")
@click.option("--no-route", is_flag=True, help="Do not triage new tickets or route new leads.")
@pass_app
def fetch(app: App, maildir: Path | None, use_imap: bool, no_route: bool) -> None:
    """File each message of a Maildir or an IMAP folder once, by its Message-ID.

    A reply to a ticket becomes the customer's reply (clocks and reopening as with
    `ticket reply --customer`); a reply to other mail we sent is logged on its record;
    a new message to a support address opens a ticket, to a sales address a lead (then
    triage and routing); bounces mark the address; spam and automatic replies are not
    filed. The mailbox itself is never changed. Running it again files nothing twice.

    One line per message. Exit codes: 0 done, 1 bad settings or not a Maildir,
    4 some messages could not be filed (they are named; nothing of them was written)
    or the IMAP server could not be reached.
    """
    from crmkit.errors import PartialFailure, UsageError
    from crmkit.io.maildir import maildir_messages
    from crmkit.support import inbound

    ws = app.workspace()
    if use_imap and maildir is not None:
        raise UsageError("--maildir and --imap: choose one source")
    if use_imap:
        from crmkit.support.imap import messages

        source = messages(ws)
    else:
        folder = maildir or inbound.configured_maildir(ws)
        source = maildir_messages(folder)
    result = inbound.fetch(ws, source, app.command_line)
    routed = [] if no_route else inbound.route_created(ws, result, app.command_line)
    if app.json:
        rows = [m.to_dict() for m in result.messages]
        if rows:
            click.echo(dumps_json(rows, lines=True))
    else:
        for m in result.messages:
            if m.action == "refused":
                continue
            click.echo(f"{m.name}: {m.action}{' ' + m.record if m.record else ''}  {m.detail}".rstrip())
        for line in routed:
            click.echo(f"    routed {line}")
    for m in result.refused:
        app.warn(f"{m.name}: not filed: {m.detail}")
    filed = sum(1 for m in result.messages if m.filed)
    click.echo(f"filed {filed} of {len(result.messages)} message{'s' if len(result.messages) != 1 else ''}", err=True)
    if result.refused:
        raise PartialFailure(f"{len(result.refused)} message{'s' if len(result.refused) != 1 else ''} not filed "
                             f"(left in the mailbox; nothing of them was written): {result.refused[0].name}")
