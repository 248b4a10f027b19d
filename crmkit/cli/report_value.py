"""`crmkit report value` and `crmkit report satisfaction`."""

from __future__ import annotations

import datetime as dt

import click

from crmkit.cli.common import App, crmkit_command, pass_app
from crmkit.cli.report import emit_report, opt_format, opt_output, opt_period, opt_where, report_records
from crmkit.errors import UsageError
from crmkit.reports.selection import option_date


@crmkit_command(name="value")
@opt_format
@click.option("--where", metavar="EXPR", default=None,
              help="Only customers (companies and private contacts) matching this condition, "
                   "e.g. 'country == SE' or 'tier in [platinum, gold]'.")
@click.option("--as-of", "as_of", metavar="DATE", default=None, help="The figures as they stood on DATE (default: today).")
@click.option("--since", metavar="DATE", default=None,
              help="Tier movement from DATE to the as-of date (default: 90 days before it).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Show the top N customers (shares stay of all).")
@opt_output
@pass_app
def value(app: App, fmt: str | None, where: str | None, as_of: str | None, since: str | None,
          limit: int | None, out: str | None) -> None:
    """Customers ranked by lifetime value (won deals in the workspace currency): tier, won
    deals, average deal, last purchase, RFM scores, open pipeline, share of revenue and the
    Pareto line (how many customers make 80 %); revenue per tier; customers who changed
    tier since a date. Tiers come from rules/value.yaml.

    \b
      crmkit report value --as-of 2026-06-30 --since 2026-01-01
      crmkit report value --format html -o value.html
    """
    from crmkit.reports.value import value_report

    ws = app.workspace()
    day = option_date(as_of, "--as-of") or app.now.date()
    start = option_date(since, "--since") or day - dt.timedelta(days=90)
    if start > day:
        raise UsageError(f"--since {start} is after the as-of date {day}")
    chosen = None
    if where:
        chosen = {("company", rid) for rid, _ in report_records(app, "company", where)}
        chosen |= {("contact", rid) for rid, _ in report_records(app, "contact", where)}
    emit_report(app, value_report(ws, day, start, chosen, limit), fmt, out)


@crmkit_command(name="satisfaction")
@opt_format
@opt_where("ticket")
@opt_period("the last 12 months")
@opt_output
@pass_app
def satisfaction(app: App, fmt: str | None, where: str | None, period: str | None, out: str | None) -> None:
    """Customer satisfaction: CSAT (share of ratings 4-5) per month, agent, line and tier for
    ratings given in the period; the journey matrix (each contact's sentiment at the start
    and end of the period) and every change with its reason; survey response rate.
    """
    from crmkit.reports.periods import parse_period
    from crmkit.reports.satisfaction import satisfaction_report

    ws = app.workspace()
    chosen = {rid for rid, _ in report_records(app, "ticket", where)} if where else None
    p = parse_period(period or "12m", app.now.date())
    emit_report(app, satisfaction_report(ws, chosen, p.start, p.end, p.label), fmt, out)
