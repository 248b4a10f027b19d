"""`crmkit offer show` and `crmkit offer render`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from crmkit.cli.common import App, crmkit_command, echo_json, format_option, global_options, output, pass_app
from crmkit.cli.completion import complete_kind
from crmkit.errors import CrmkitError, UsageError
from crmkit.sales.offers import record_rendering, render, totals_of
from crmkit.store import yamlio


@click.group(name="offer")
@global_options
def offer() -> None:
    """Offers: line items, discounts and VAT on a deal, rendered from templates."""


@crmkit_command(name="render")
@click.argument("deal", shell_complete=complete_kind("deal"))
@click.option("--format", "fmt", type=click.Choice(["md", "html", "pdf"]), default="md", show_default=True)
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to FILE (default: stdout; PDF needs a file).")
@click.option("--lang", type=click.Choice(["sv", "nb", "hu", "en"]),
              help="Language (default: the `language` of the deal's first contact, else the workspace locale's).")
@pass_app
def render_cmd(app: App, deal: str, fmt: str, out: Path | None, lang: str | None) -> None:
    """Render the offer of DEAL from the offer templates (the workspace's templates/ first).

    crmkit computes every figure: exact decimals, VAT grouped per rate, rounding half
    up to the currency's minor unit. Amounts and dates are written for the language's
    locale (Swedish: 12 345,50 kr). The offer speaks the customer's language (the
    `language` of the deal's first contact) unless --lang says otherwise. Rendering records the offer on the deal (number,
    revision, date, total) and commits; a changed offer gets a new revision.
    """
    ws = app.workspace()
    rec = ws.get(deal, "deal") if "/" not in deal else ws.get(deal)
    if rec.kind != "deal":
        raise UsageError(f"{rec.ref} is not a deal")
    if fmt == "pdf" and out is None and sys.stdout.isatty():
        raise UsageError("a PDF goes to a file: add -o offer.pdf")
    result = render(ws, rec, fmt, lang)
    with ws.transaction(f"offer {result.number} revision {result.revision} for {rec.ref}", app.command_line) as tx:
        tx.update("deal", rec.id, lambda doc: record_rendering(doc, result, fmt, rec.get("offer") or {}))
        if out is not None:
            try:
                yamlio.atomic_write_bytes(out, result.content)
            except OSError as exc:
                # the deal is left as it was: an offer nobody received is not recorded
                raise CrmkitError(f"cannot write {out}: {exc.strerror or exc}") from None
    if out is None:
        sys.stdout.buffer.write(result.content)
        sys.stdout.flush()
    summary = {"deal": rec.id, "number": result.number, "revision": result.revision,
               "date": result.date, "total": str(result.total), "currency": result.currency,
               "output": str(out) if out else None}
    if app.json and out is not None:
        echo_json(summary)
    else:
        click.echo(f"offer {result.number} revision {result.revision}: total {result.total} {result.currency}"
                   + (f" -> {out}" if out else ""), err=True)


@crmkit_command(name="show")
@click.argument("deal", shell_complete=complete_kind("deal"))
@format_option()
@pass_app
def show_cmd(app: App, deal: str, fmt: str | None) -> None:
    """The figures of DEAL's offer: every line, VAT per rate and the totals (changes nothing).

    Amounts are exact decimals as text; with --json the shape is
    {"deal", "currency", "lines": [...], "subtotal", "discount", "net", "vat": [{"rate", "base", "vat"}],
    "vat_total", "total"}.
    """
    ws = app.workspace()
    rec = ws.get(deal, "deal") if "/" not in deal else ws.get(deal)
    if rec.kind != "deal":
        raise UsageError(f"{rec.ref} is not a deal")
    totals = totals_of(ws, rec).to_dict()
    if (fmt or ("json" if app.json else "table")) == "json":
        echo_json(dict(totals, deal=rec.id))
        return
    rows = [dict(line, vat_rate=f"{line['vat_rate']} %") for line in totals["lines"]]
    sums = [{"description": label, "net": totals[key]} for label, key in
            (("subtotal", "subtotal"), ("offer discount", "discount"), ("net", "net"))]
    sums += [{"description": f"VAT {g['rate']} % on {g['base']}", "net": g["vat"]} for g in totals["vat"]]
    sums.append({"description": f"total ({totals['currency']})", "net": totals["total"]})
    output(app, rows + sums, ["description", "quantity", "unit", "unit_price", "discount", "vat_rate", "net"], fmt)


@crmkit_command(name="accept")
@click.argument("deal", shell_complete=complete_kind("deal"))
@click.option("--set-value/--keep-value", "set_value", default=None,
              help="Make the offer's net total (excl. VAT) the deal's value "
                   "(default: offers.accepted_sets_value in crmkit.yaml, else keep).")
@pass_app
def accept_cmd(app: App, deal: str, set_value: bool | None) -> None:
    """Record that the customer accepted DEAL's offer (offer.accepted on the deal), and
    optionally make its net total the deal's value. The stage is not moved."""
    from crmkit.sales.acceptance import accept

    result = accept(app.workspace(), deal, app.command_line, set_value=set_value)
    if app.json:
        echo_json(result.to_dict())
        return
    click.echo(f"deal/{result.deal}: offer accepted, net {result.net} {result.currency}, "
               f"total {result.total} {result.currency}"
               + (f"; value {result.old_value} -> {result.net}" if result.value_set else ""))


offer.add_command(show_cmd)
offer.add_command(accept_cmd)
offer.add_command(render_cmd)
