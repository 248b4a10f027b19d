"""`crmkit report sla`."""

from __future__ import annotations

from crmkit.cli.common import App, crmkit_command, pass_app
from crmkit.cli.report import emit_report, opt_format, opt_output, opt_period, opt_where, report_records


@crmkit_command(name="sla")
@opt_format
@opt_where("ticket")
@opt_period("the last 30 days")
@opt_output
@pass_app
def sla(app: App, fmt: str | None, where: str | None, period: str | None, out: str | None) -> None:
    """Support SLA: attainment per policy, priority and target for tickets created in the
    period; tickets breached and at risk now; the backlog by status, priority, line and
    age; median and 90th percentile business hours to first response and resolution;
    the share escalated from first to second line.
    """
    from crmkit.reports.periods import parse_period
    from crmkit.reports.sla import sla_report

    ws = app.workspace()
    chosen = {rid for rid, _ in report_records(app, "ticket", where)}
    tickets = [r for r in ws.records("ticket") if r.id in chosen]
    p = parse_period(period or "30d", app.now.date())
    report = sla_report(ws, tickets, p.start, p.end, p.label)
    emit_report(app, report, fmt, out)
