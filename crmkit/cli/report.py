"""`crmkit report pipeline|forecast|winrate|velocity|stale|agenda` and `crmkit export ics`.

Thin: read records, narrow them with --where, call a pure report function in
crmkit.reports.sales, render with crmkit.render.report.
"""

from __future__ import annotations

import datetime as dt
import gc
from pathlib import Path
from typing import Any, Callable

import click

from crmkit.cli.completion import complete_user

from crmkit.cli.common import App, crmkit_command, pass_app
from crmkit.errors import UsageError

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
    """(id, data) of the records of a kind, narrowed by --where in the condition language."""
    # A report is a short run that allocates hundreds of thousands of small objects and
    # frees none of them: the cyclic collector would only re-scan them, over and over
    # (about 60% of the time of a 100,000-deal report). Reference counting still frees.
    gc.disable()
    ws = app.workspace()
    records = ws.records(kind)
    if where:
        from crmkit.conditions.listing import compile_where
        from crmkit.conditions.views import view

        cond = compile_where(ws, kind, where, records)
        records = [r for r in records if cond.evaluate(view(ws, r), ws.resolve)]
    return [(r.id, r.data) for r in records]


def deal_summaries(app: App, where: str | None, cfg: Any) -> list[tuple[str, dict[str, Any]]]:
    """The deals pipeline and forecast read: cached summaries (crmkit.reports.sales.deal_summary),
    or with --where whole records (a condition may read any field, or follow a reference)."""
    if where:
        return report_records(app, "deal", where)
    from crmkit.reports.sales import deal_summary, summary_key

    pairs = app.workspace().derived("deal", "summary", lambda _rid, d: deal_summary(d, cfg), key=summary_key(cfg))
    return pairs if pairs is not None else report_records(app, "deal", None)


def _config(app: App) -> Any:
    from crmkit.sales.pipeline import PipelineConfig

    ws = app.workspace()
    return PipelineConfig.from_config(ws.config, ws.tz)


def _period(app: App, text: str | None) -> Any:
    if text is None:
        return None
    from crmkit.reports.sales import parse_period

    return parse_period(text, app.now.date())


def emit_report(app: App, report: Any, fmt: str | None, out: str | None) -> None:
    from crmkit.render.report import render

    for w in report.warnings:
        app.warn(w)
    fmt = fmt or ("json" if app.json else ("html" if out and out.endswith((".html", ".htm")) else "table"))
    text = render(report, fmt)
    if out:
        from crmkit.store import yamlio

        path = Path(out)
        if not path.parent.exists():
            raise UsageError(f"-o {out}: folder {path.parent} does not exist")
        yamlio.atomic_write_text(path, text)
        click.echo(f"crmkit: wrote {out}", err=True)
    else:
        click.echo(text, nl=False)


def _date(text: str | None, name: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{name} {text!r}: expected a date YYYY-MM-DD") from None


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
    from crmkit.reports.sales import dashboard, forecast_report, pipeline_report

    cfg = _config(app)
    day = _date(as_of, "--as-of")
    # --as-of rebuilds each deal from its whole stage history
    deals = report_records(app, "deal", where) if day is not None else deal_summaries(app, where, cfg)
    rep = pipeline_report(deals, cfg, app.now, by=by, period=_period(app, period), currency=currency, as_of=day)
    if (fmt == "html" or (fmt is None and out and out.endswith((".html", ".htm")))) and day is None:
        rep = dashboard(rep, forecast_report(deals, cfg, app.now, months=months, currency=currency))
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
    from crmkit.reports.sales import forecast_report

    cfg = _config(app)
    rep = forecast_report(deal_summaries(app, where, cfg), cfg, app.now, months=months, by=by, currency=currency,
                          overdue_limit=None if overdue_limit < 0 else overdue_limit)
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
    from crmkit.reports.sales import winrate_report

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
    from crmkit.reports.sales import velocity_report

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
    from crmkit.reports.sales import stale_report

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
    from crmkit.reports.sales import agenda_report

    acts = report_records(app, "activity", where)
    if owner:
        acts = [(i, a) for i, a in acts if a.get("owner") == owner]
    rep = agenda_report(acts, _config(app), app.now, days=days, by=None if by == "none" else by,
                        titles=_titles(app, acts))
    emit_report(app, rep, fmt, out)


def _titles(app: App, acts: list[tuple[str, dict[str, Any]]]) -> dict[str, str]:
    """Display names of the records follow-ups are about (only the kinds that occur)."""
    ws = app.workspace()
    from crmkit.store.records import TITLE_FIELD

    wanted: dict[str, set[str]] = {}
    for _i, a in acts:
        for k in ("deal", "ticket", "lead", "contact", "company"):
            if a.get(k):
                wanted.setdefault(k, set()).add(str(a[k]))
                break
    out: dict[str, str] = {}
    for kind, ids in wanted.items():
        idx = ws.index(kind)
        for rid in ids:
            rec = idx.get(rid)
            if rec is not None:
                out[f"{kind}/{rid}"] = str(rec.get(TITLE_FIELD[kind]) or rid)
    return out


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
        uid_domain=_uid_domain(ws),
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


def _uid_domain(ws: Any) -> str:
    from crmkit.store.records import slugify

    return (slugify(str(ws.config.get("name") or "")) or "workspace") + ".crmkit"
