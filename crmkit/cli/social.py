"""`crmkit contact social` and `crmkit report network`."""

from __future__ import annotations

import click

from crmkit.cli.common import App, crmkit_command, echo_json, pass_app
from crmkit.cli.completion import complete_kind
from crmkit.cli.report import emit_report, opt_format, opt_output


@crmkit_command(name="social")
@click.argument("ref", shell_complete=complete_kind("contact"))
@click.argument("network")
@click.argument("profile", required=False)
@click.option("--remove", is_flag=True, help="Remove the contact's profile on NETWORK.")
@pass_app
def social(app: App, ref: str, network: str, profile: str | None, remove: bool) -> None:
    """Add or replace a contact's profile on NETWORK (linkedin, x, facebook, instagram, github,
    youtube, xing, mastodon, skype, ...), given as a handle or URL and kept as the network's
    canonical URL: `crmkit contact social anna-berg linkedin linkedin.com/in/anna-berg/`.

    An unknown network, a `javascript:` (or any non-http) link and a URL on another site
    are refused (exit 1, nothing written). Search with `--where 'social.linkedin exists'`.
    """
    from crmkit.errors import UsageError
    from crmkit.people.social import add_profile, remove_profile

    if remove == (profile is not None):
        raise UsageError("give a PROFILE to add, or --remove without one")
    ws = app.workspace()
    rec = ws.get(ref, "contact")
    changes: list[str] = []
    with ws.transaction(f"social profile of {rec.ref}", app.command_line) as tx:
        tx.update("contact", rec.id, lambda doc: changes.extend(
            remove_profile(doc, network) if remove else add_profile(doc, network, str(profile))))
        if changes:
            tx.note(", ".join(changes))
    if app.json:
        echo_json({"contact": rec.id, "changes": changes})
    else:
        click.echo(f"{rec.ref}: {', '.join(changes) if changes else 'unchanged'}")


@crmkit_command(name="network")
@click.argument("company", shell_complete=complete_kind("company"))
@click.option("--max-links", "max_steps", type=click.IntRange(1, 5), default=3, show_default=True,
              help="The longest path to look for (user -> contact -> ... -> the person).")
@opt_format
@opt_output
@pass_app
def network(app: App, company: str, max_steps: int, fmt: str | None, out: str | None) -> None:
    """Who in our team can get us in at COMPANY: for each person there, the best warm path
    from one of our users, through the relationships on contacts (knows, introduced_by,
    reports_to; `user:` for our own people), the calls, meetings and emails our users logged,
    and organisations people share (memberships)."""
    from crmkit.reports.network import network_report

    emit_report(app, network_report(app.workspace(), company, max_steps=max_steps), fmt, out)
