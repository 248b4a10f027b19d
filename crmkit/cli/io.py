"""`crmkit import csv|vcard` and `crmkit export csv|json|vcard`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from crmkit.cli.common import App, crmkit_command, echo_json, pass_app, stdin_bytes
from crmkit.cli.completion import complete_segment
from crmkit.errors import EXIT_PARTIAL, CrmkitError, UsageError
from crmkit.exchange.columns import load_mapping, resolve_columns
from crmkit.exchange.importer import ImportPlan, apply_import, plan_import, plan_vcard_import
from crmkit.store.records import KINDS

IMPORT_KINDS = ("contact", "company", "lead", "deal")


def import_options(item: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--dry-run, --strict, --on-match and --merge, the options of every import; `item` is
    what the file holds one of (a row, a card)."""
    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        for opt in reversed([
            click.option("--dry-run", is_flag=True, help=f"Report {item} by {item} what would happen; write nothing."),
            click.option("--strict", is_flag=True, help=f"Any bad {item} aborts the whole import; nothing is written."),
            click.option("--on-match", type=click.Choice(["update", "merge", "skip"]), default="update",
                         show_default=True,
                         help="A row whose key matches an existing record: set its fields (update), only fill "
                              "what it lacks (merge), or leave it (skip)."),
            click.option("--merge", "merge_", is_flag=True, help="Same as --on-match merge."),
        ]):
            f = opt(f)
        return f

    return decorate


def _report(app: App, plan: ImportPlan, dry_run: bool) -> None:
    """Row by row on a dry run (or for rejected rows), then a summary line."""
    if app.json:
        echo_json({"source": plan.source, "kind": plan.kind, "dry_run": dry_run, "summary": plan.summary,
                   "companies_created": sorted(plan.companies), "rows": [r.to_dict() for r in plan.rows]})
        return
    for row in plan.rows:
        if dry_run or row.action == "reject":
            target = f"{row.kind}/{row.id}" if row.id else "-"
            click.echo(f"{plan.source}:{row.line}: {row.action}: {target}: {row.reason}")
    for cid in sorted(plan.companies):
        if dry_run:
            click.echo(f"{plan.source}: create: company/{cid}: named in the file, not found")
    s = plan.summary
    verb = "would import" if dry_run else "imported"
    click.echo(f"{verb}: {s['create']} created, {s['update']} updated, {s['skip']} unchanged, "
               f"{s['reject']} rejected" + (f", {len(plan.companies)} companies created" if plan.companies else ""),
               err=True)


def _run_import(app: App, plan: ImportPlan, dry_run: bool, strict: bool,
                replan: Callable[[], ImportPlan] | None = None) -> None:
    rejected = plan.count("reject")
    if strict and rejected:
        _report(app, plan, True)
        raise CrmkitError(f"--strict: {rejected} bad row{'s' if rejected != 1 else ''}; nothing was written")
    if not dry_run and (plan.count("create") or plan.count("update")):
        ws = app.workspace()
        todo = plan.count("create") + plan.count("update") + plan.count("skip")
        if sys.stderr.isatty() and todo > 200:
            with click.progressbar(length=len(plan.rows), label="importing", file=sys.stderr) as bar:
                apply_import(ws, plan, app.command_line, progress=bar.update, replan=replan)
        else:
            apply_import(ws, plan, app.command_line, replan=replan)
    _report(app, plan, dry_run)
    if rejected:
        sys.exit(EXIT_PARTIAL)  # the good rows are in; the bad ones are listed above


@crmkit_command(name="csv")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(IMPORT_KINDS), required=True, help="What each row is.")
@click.option("--map", "maps", multiple=True, metavar="COLUMN=FIELD",
              help="Map a column to a field (repeatable; FIELD '-' ignores the column).")
@click.option("--mapping", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="A YAML file of column: field.")
@click.option("--delimiter", type=click.Choice([",", ";", "tab"]), help="Default: guessed from the header.")
@import_options("row")
@pass_app
def import_csv(app: App, file: Path, kind: str, maps: tuple[str, ...], mapping: Path | None,
               delimiter: str | None, dry_run: bool, strict: bool, on_match: str, merge_: bool) -> None:
    """Import records from a CSV file (UTF-8 with or without BOM, or Windows-1252; ',' ';' or tab).

    Columns map to fields by name (English, Swedish, Norwegian and Hungarian titles
    are known: E-post, Namn, Postnummer, Telefonszám, ...) or by --map. Rows match
    existing records by email (contacts, leads), domain or name (companies) or title
    (deals), or by an `id` column as `export csv` writes it: a match is never a
    second record; it is updated (or with --merge only filled in, or with
    --on-match skip left alone), the rest created. A mapping file is YAML:
    `{E-post: email, Ort: address.city, Intern kod: "-"}` ("-" ignores a column).
    Importing the same file twice changes nothing. Bad rows are reported with their line; the good ones are still
    imported and the exit code is 4 (partial). With --strict any bad row aborts the
    import with nothing written (exit code 1). One commit for the whole import.
    """
    from crmkit.io.csvfmt import read_rows

    ws = app.workspace()
    sep = "\t" if delimiter == "tab" else delimiter
    if str(file) == "-":
        from crmkit.io.csvfmt import decode, parse_rows

        header, rows = parse_rows(decode(stdin_bytes(), "<stdin>"), "<stdin>", sep)
    else:
        header, rows = read_rows(file, sep)
    columns = resolve_columns(kind, header, load_mapping(list(maps), mapping))
    if not columns:
        raise UsageError("no column maps to a field; use --map COLUMN=FIELD")
    source = "<stdin>" if str(file) == "-" else str(file)
    mode = "merge" if merge_ else on_match
    plan = plan_import(ws, kind, rows, columns, source, mode)
    _run_import(app, plan, dry_run, strict, lambda: plan_import(ws, kind, rows, columns, source, mode))


@crmkit_command(name="vcard")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@import_options("card")
@pass_app
def import_vcard(app: App, file: Path, dry_run: bool, strict: bool, on_match: str, merge_: bool) -> None:
    """Import contacts from a vCard file (2.1, 3.0 or 4.0, many cards), as phones and address books export them.

    Names, organisations (matched to companies by name, created when missing),
    titles, every email and phone with its type (the preferred ones as email and
    phone, the others in emails and phones), the address and notes are kept. Cards
    match existing contacts by any of their emails; a bad card is reported with the
    line of its BEGIN:VCARD and the others are still imported (exit code 4).
    """
    from crmkit.io import vcard
    from crmkit.io.csvfmt import decode

    ws = app.workspace()
    try:
        text = decode(stdin_bytes() if str(file) == "-" else file.read_bytes(), str(file))
    except OSError as exc:
        raise CrmkitError(f"cannot read: {exc.strerror}", path=str(file)) from None
    try:
        cards = vcard.parse(text)
    except CrmkitError as exc:
        raise CrmkitError(exc.message, path=str(file)) from None
    source = "<stdin>" if str(file) == "-" else str(file)
    mode = "merge" if merge_ else on_match
    plan = plan_vcard_import(ws, cards, source, mode)
    _run_import(app, plan, dry_run, strict, lambda: plan_vcard_import(ws, cards, source, mode))


# -- export -------------------------------------------------------------------------------


def _write(app: App, text: str, out: Path | None) -> None:
    if out is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    from crmkit.store.yamlio import atomic_write_text

    atomic_write_text(out, text)
    click.echo(f"wrote {out}", err=True)


def _export_options(f: Any) -> Any:
    f = click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path),
                     help="Write to this file (default: stdout).")(f)
    f = click.option("--segment", metavar="NAME", shell_complete=complete_segment, help="Only the members of this segment.")(f)
    f = click.option("--where", metavar="EXPR", help="Only records matching this condition.")(f)
    f = click.option("--kind", type=click.Choice(KINDS), help="Which records (default: contact).")(f)
    return f


@crmkit_command(name="csv")
@_export_options
@click.option("--fields", metavar="A,B", help="Columns (default: id, the usual ones, then every field present).")
@click.option("--delimiter", type=click.Choice([",", ";", "tab"]), default=",", help="';' for Nordic Excel.")
@click.option("--excel", is_flag=True,
              help="For Excel or LibreOffice: ';', a UTF-8 BOM, the workspace locale's decimal mark, "
                   "digits that must stay text (zip 0150) as =\"0150\".")
@pass_app
def export_csv(app: App, kind: str | None, where: str | None, segment: str | None, out: Path | None,
               fields: str | None, delimiter: str, excel: bool) -> None:
    """Export records as CSV that `import csv` reads back.

    Nested fields become dotted columns (address.city), lists are comma-joined or
    JSON (emails, phones). Cells a spreadsheet would run as a formula (starting
    with = or @, a tab or a carriage return, or + or - not followed by a number or
    phone number) get a leading ' so they stay text.
    """
    from crmkit.exchange.exporter import export_csv as to_csv
    from crmkit.exchange.exporter import select_records

    kind, records = select_records(app.workspace(), kind, where, segment)
    columns = [f.strip() for f in fields.split(",") if f.strip()] if fields else None
    sep = "\t" if delimiter == "tab" else (";" if excel else delimiter)
    locale = str(app.workspace().config.get("locale", "sv_SE")) if excel else None
    _write(app, to_csv(kind, records, columns, delimiter=sep, bom=excel, excel_locale=locale), out)


@crmkit_command(name="json")
@_export_options
@pass_app
def export_json(app: App, kind: str | None, where: str | None, segment: str | None, out: Path | None) -> None:
    """Export records as a JSON list of {"id": ..., fields...} (the shape of `list --json`)."""
    from crmkit.exchange.exporter import export_json as to_json
    from crmkit.exchange.exporter import select_records

    _, records = select_records(app.workspace(), kind, where, segment)
    _write(app, to_json(records), out)


@crmkit_command(name="vcard")
@click.option("--where", metavar="EXPR", help="Only contacts matching this condition.")
@click.option("--segment", metavar="NAME", shell_complete=complete_segment, help="Only the members of this contact segment.")
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (default: stdout).")
@pass_app
def export_vcard(app: App, where: str | None, segment: str | None, out: Path | None) -> None:
    """Export contacts as vCard 3.0, ready for a phone or address book.

    Every field crmkit models goes out: name, company (ORG), title, the primary and
    the other emails and phones with their types, the address and notes.
    """
    from crmkit.exchange.exporter import export_vcard as to_vcard
    from crmkit.exchange.exporter import select_records

    ws = app.workspace()
    _, records = select_records(ws, "contact", where, segment)
    _write(app, to_vcard(ws, records), out)
