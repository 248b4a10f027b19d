"""`crmkit report partners`."""

from __future__ import annotations

from crmkit.cli.common import App, crmkit_command, pass_app
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
