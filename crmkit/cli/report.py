"""`crmkit report pipeline|forecast|winrate|velocity|stale|agenda` and `crmkit export ics`.

Thin: read records, narrow them with --where, call a pure report function in
crmkit.reports (one module per report), render with crmkit.render.report.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from crmkit.cli.common import App, crmkit_command, pass_app
from crmkit.cli.completion import complete_user
from crmkit.errors import EXIT_PARTIAL, UsageError

REPORT_FORMATS = ("table", "json", "csv", "md", "html")


def opt_format(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--format", "fmt", type=click.Choice(REPORT_FORMATS), default=None,
        help="table (default on a terminal), json, csv (main table), md, or html (one self-contained page).",
    )(f)


def opt_where(kind: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option("--where", metavar="EXPR", default=None,
                        help=f"Only {kind} records matching this condition, e.g. 'owner == \"karin\"'.")


def opt_output(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("-o", "--output", "out", metavar="FILE", type=click.Path(dir_okay=False), default=None,
                        help="Write to FILE instead of stdout (typical with --format html).")(f)


def _opt_by(choices: tuple[str, ...] = ("owner", "source", "company")) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option("--by", type=click.Choice(list(choices)), default=None, help="Group by this field.")


def _opt_currency(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--currency", metavar="CODE", default=None,
                        help="Report in this currency (default: the workspace currency; needs pipeline.rates).")(f)


def opt_period(default_help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--period", metavar="PERIOD", default=None,
        help=f"month, quarter, year, last-month, last-quarter, last-year, 30d, 12m, 2026, 2026-11, 2026-Q4 "
             f"or START..END (default: {default_help}).",
    )


def report_records(app: App, kind: str, where: str | None) -> list[tuple[str, dict[str, Any]]]:
    from crmkit.reports.selection import report_records as select

    return select(app.workspace(), kind, where)


def deal_summaries(app: App, where: str | None, cfg: Any) -> list[tuple[str, dict[str, Any]]]:
    from crmkit.reports.selection import deal_summaries as summaries

    return summaries(app.workspace(), where, cfg)


def _config(app: App) -> Any:
    from crmkit.reports.selection import pipeline_config

    return pipeline_config(app.workspace())


def _period(app: App, text: str | None) -> Any:
    if text is None:
        return None
    from crmkit.reports.periods import parse_period

    return parse_period(text, app.now.date())


def _titles(app: App, acts: list[tuple[str, dict[str, Any]]]) -> dict[str, str]:
    from crmkit.reports.selection import titles

    return titles(app.workspace(), acts)


def emit_report(app: App, report: Any, fmt: str | None, out: str | None) -> None:
    from crmkit.render.report import render

    for w in report.warnings:
        app.warn(w)
    fmt = fmt or ("json" if app.json else ("html" if out and out.endswith((".html", ".htm")) else "table"))
    text = render(report, fmt, locale=app.workspace().config.get("locale"))
    if out:
        from crmkit.store import yamlio

        path = Path(out)
        if not path.parent.exists():
            raise UsageError(f"-o {out}: folder {path.parent} does not exist")
        yamlio.atomic_write_text(path, text)
        click.echo(f"crmkit: wrote {out}", err=True)
    else:
        click.echo(text, nl=False)
    if report.partial:
        sys.exit(EXIT_PARTIAL)  # what could be reported is above; the warnings say what is missing


# --------------------------------------------------------------------------- commands


@crmkit_command(name="pipeline")
@opt_format
@opt_where("deal")
@_opt_by()
@opt_period("this quarter, for won and lost")
@click.option("--as-of", "as_of", metavar="DATE", default=None,
              help="The pipeline as it stood at the end of DATE, rebuilt from the stage histories.")
@_opt_currency
@click.option("--months", type=int, default=6, show_default=True, help="Months of forecast on the html page.")
@opt_output
@pass_app
def pipeline(app: App, fmt: str | None, where: str | None, by: str | None, period: str | None, as_of: str | None,
             currency: str | None, months: int, out: str | None) -> None:
    """Open deals by stage: count, value and weighted value (value x probability), with totals;
    deals won and lost in the period shown apart.

    \b
    Examples:
      crmkit report pipeline
      crmkit report pipeline --by owner --period last-quarter
      crmkit report pipeline --as-of 2026-06-30
      crmkit report pipeline --format html -o pipeline.html   # funnel and forecast charts
    """
    from crmkit.reports.forecast import forecast_report
    from crmkit.reports.pipeline import dashboard, pipeline_report
    from crmkit.reports.selection import option_date

    cfg = _config(app)
    day = option_date(as_of, "--as-of")
    # --as-of rebuilds each deal from its whole stage history
    deals = report_records(app, "deal", where) if day is not None else deal_summaries(app, where, cfg)
    rep = pipeline_report(deals, cfg, app.now, by=by, period=_period(app, period), currency=currency, as_of=day,
                          locale=app.workspace().config.get("locale"))
    if (fmt == "html" or (fmt is None and out and out.endswith((".html", ".htm")))) and day is None:
        rep = dashboard(rep, forecast_report(deals, cfg, app.now, months=months, currency=currency,
                                             locale=app.workspace().config.get("locale")))
    emit_report(app, rep, fmt, out)


@crmkit_command(name="forecast")
@opt_format
@opt_where("deal")
@_opt_by()
@click.option("--months", type=int, default=6, show_default=True, help="How many months ahead, this one included.")
@click.option("--overdue-limit", type=int, default=50, show_default=True,
              help="List at most this many overdue deals, largest first (0: none, -1: all).")
@_opt_currency
@opt_output
@pass_app
def forecast(app: App, fmt: str | None, where: str | None, by: str | None, months: int, overdue_limit: int,
             currency: str | None, out: str | None) -> None:
    """Expected revenue by month of expected close: weighted and unweighted, split by forecast
    category (commit, best case, pipeline). Deals whose expected close has passed are flagged.

    \b
    Examples:
      crmkit report forecast --months 3
      crmkit report forecast --by owner --format csv > forecast.csv
    """
    from crmkit.reports.forecast import forecast_report

    cfg = _config(app)
    rep = forecast_report(deal_summaries(app, where, cfg), cfg, app.now, months=months, by=by, currency=currency,
                          overdue_limit=None if overdue_limit < 0 else overdue_limit,
                          locale=app.workspace().config.get("locale"))
    emit_report(app, rep, fmt, out)


@crmkit_command(name="winrate")
@opt_format
@opt_where("deal")
@_opt_by()
@opt_period("the last 12 months")
@_opt_currency
@opt_output
@pass_app
def winrate(app: App, fmt: str | None, where: str | None, by: str | None, period: str | None, currency: str | None,
            out: str | None) -> None:
    """Win rate by count and by value of the deals closed in a period, average won deal size and
    average sales cycle (creation to close).

    \b
    Examples:
      crmkit report winrate --by owner
      crmkit report winrate --by source --period 2026
    """
    from crmkit.reports.winrate import winrate_report

    rep = winrate_report(report_records(app, "deal", where), _config(app), app.now, period=_period(app, period), by=by,
                         currency=currency)
    emit_report(app, rep, fmt, out)


@crmkit_command(name="velocity")
@opt_format
@opt_where("deal")
@_opt_by()
@opt_period("the last 12 months, for win rate, size and cycle")
@_opt_currency
@opt_output
@pass_app
def velocity(app: App, fmt: str | None, where: str | None, by: str | None, period: str | None,
             currency: str | None, out: str | None) -> None:
    """Average time in each stage and conversion from stage to stage (from the stage histories),
    and sales velocity: open deals x win rate x average size / cycle length, per day.
    """
    from crmkit.reports.velocity import velocity_report

    rep = velocity_report(report_records(app, "deal", where), _config(app), app.now, period=_period(app, period), by=by,
                          currency=currency)
    emit_report(app, rep, fmt, out)


@crmkit_command(name="stale")
@opt_format
@opt_where("deal")
@_opt_by()
@click.option("--days", type=int, default=30, show_default=True, help="Idle after this many days without activity.")
@click.option("--limit", type=int, default=None, help="At most this many deals, the longest idle first.")
@_opt_currency
@opt_output
@pass_app
def stale(app: App, fmt: str | None, where: str | None, by: str | None, days: int, limit: int | None,
          currency: str | None, out: str | None) -> None:
    """Open deals that need attention: no activity for N days, past their expected close, or
    without a planned follow-up.

    \b
    Example (cron, Monday 07:00, mail the list to the team):
      crmkit report stale --days 21 --format md
    """
    from crmkit.reports.stale import stale_report

    ws = app.workspace()
    acts = [(r.id, r.data) for r in ws.records("activity")]
    rep = stale_report(report_records(app, "deal", where), acts, _config(app), app.now, days=days, by=by,
                       currency=currency, limit=limit)
    emit_report(app, rep, fmt, out)


@crmkit_command(name="agenda")
@opt_format
@opt_where("activity")
@click.option("--by", type=click.Choice(["owner", "type", "none"]), default="owner", show_default=True,
              help="Group follow-ups by owner or type.")
@click.option("--days", type=int, default=7, show_default=True, help="How many days ahead count as coming.")
@click.option("--owner", metavar="USER", default=None, shell_complete=complete_user, help="Only this owner's follow-ups.")
@opt_output
@pass_app
def agenda(app: App, fmt: str | None, where: str | None, by: str, days: int, owner: str | None,
           out: str | None) -> None:
    """Follow-ups (activities with a due date that are not done): overdue, today and coming, per owner.

    Mark one done with `crmkit activity done ID`; export them to a calendar with
    `crmkit export ics`.
    """
    from crmkit.reports.agenda import agenda_report

    acts = report_records(app, "activity", where)
    if owner:
        acts = [(i, a) for i, a in acts if a.get("owner") == owner]
    rep = agenda_report(acts, _config(app), app.now, days=days, by=None if by == "none" else by,
                        titles=_titles(app, acts))
    emit_report(app, rep, fmt, out)


@crmkit_command(name="ics")
@opt_where("activity")
@click.option("--owner", metavar="USER", default=None, shell_complete=complete_user, help="Only this owner's follow-ups.")
@click.option("--as", "component", type=click.Choice(["todo", "event"]), default="todo", show_default=True,
              help="VTODO (tasks) or VEVENT (calendar entries; for programs that ignore tasks).")
@click.option("--include-done", is_flag=True, help="Also export follow-ups already done (as completed).")
@opt_output
@pass_app
def export_ics(app: App, where: str | None, owner: str | None, component: str, include_done: bool,
               out: str | None) -> None:
    """Follow-ups (activities with a due date) as an iCalendar file that calendar programs import.

    Each follow-up keeps a stable UID, so importing again updates instead of duplicating.

    \b
    Example:
      crmkit export ics --owner karin -o karin.ics
    """
    from crmkit.io.ics import follow_ups_to_ics

    ws = app.workspace()
    acts = report_records(app, "activity", where)
    if owner:
        acts = [(i, a) for i, a in acts if a.get("owner") == owner]
    data = follow_ups_to_ics(
        acts,
        now=app.now,
        tz=ws.tz,
        calendar_name=str(ws.config.get("name") or "crmkit"),
        component=component,
        include_done=include_done,
        titles=_titles(app, acts),
        users=ws.users,
    )
    if out:
        from crmkit.store import yamlio

        yamlio.atomic_write_bytes(Path(out), data)
        click.echo(f"crmkit: wrote {out}", err=True)
    else:
        click.echo(data, nl=False)  # bytes: written as is, CRLF line ends intact
