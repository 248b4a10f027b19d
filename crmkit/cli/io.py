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
from crmkit.exchange.importer import ImportPlan, apply_import, plan_import
from crmkit.exchange.vcard_import import plan_cards as plan_vcard_import
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
                   "layout": plan.layout, "unknown_columns": plan.unknown_columns,
                   "problems": [{"line": line, "message": m} for line, m in plan.notes],
                   "not_imported": plan.unkept,
                   "companies_created": sorted(plan.companies), "rows": [r.to_dict() for r in plan.rows]})
        return
    if plan.layout and dry_run:
        click.echo(f"{plan.source}: layout: {plan.layout} (recognised by its header)")
    for column in plan.unknown_columns:
        click.echo(f"{plan.source}: column {column!r} is no known field; kept as custom field "
                   f"{plan.columns.get(column, column)!r}", err=True)
    for line, message in plan.notes:
        click.echo(f"{plan.source}:{line}: {message}", err=True)
    if plan.unkept:
        counted = ", ".join(f"{name} ×{n}" for name, n in sorted(plan.unkept.items()))
        click.echo(f"{plan.source}: not imported: {counted}", err=True)
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
    lost = plan.strict_issues + len(plan.unknown_columns)
    if strict and lost:
        _report(app, plan, True)
        raise CrmkitError(f"--strict: {lost} value{'s' if lost != 1 else ''} or column{'s' if lost != 1 else ''} "
                          "not imported as a known field (listed above); nothing was written")
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
              help="A YAML file of column: field (or columns: and values:, as --map and --value).")
@click.option("--value", "values", multiple=True, metavar="FIELD:FROM=TO",
              help="Map a cell value (repeatable): --value 'stage:Closed Won=won'.")
@click.option("--delimiter", type=click.Choice([",", ";", "tab"]), help="Default: guessed from the header.")
@import_options("row")
@pass_app
def import_csv(app: App, file: Path, kind: str, maps: tuple[str, ...], mapping: Path | None,
               values: tuple[str, ...], delimiter: str | None, dry_run: bool, strict: bool, on_match: str, merge_: bool) -> None:
    """Import records from a CSV file (UTF-8 with or without BOM, or Windows-1252; ',' ';' or tab).

    Exports of Google Contacts, Outlook, Thunderbird, Apple/iCloud, LinkedIn,
    HubSpot, Salesforce and Pipedrive are recognised by their header (shown by
    --dry-run): name parts are joined into the name, numbered and typed columns
    become typed emails, phones and addresses, other columns are kept in `extra`.
    Otherwise columns map to fields by name (English, Swedish, Norwegian and
    Hungarian titles are known: E-post, Värde, Antal anställda, Telefonszám, ...)
    or by --map; an unknown title is reported and kept as a custom field.
    `--map "First+Last=name"` joins columns, `--value "stage:Closed Won=won"` maps
    values. Rows match existing records by an `id` column or a stable key (email,
    UID, name with phone, domain, another CRM's id, a deal's title with its
    company), never by a bare name: a match is never a second record; it is
    updated (or with --merge only filled in, or with --on-match skip left alone),
    the rest created. A mapping file is YAML: `{E-post: email, Ort: address.city,
    Intern kod: "-"}` ("-" ignores a column), or `{columns: {...}, values:
    {stage: {Closed Won: won}}}`. A bare "1,234" is read by the workspace
    locale (1.234 with sv_SE, 1234 with en). Importing the same file twice
    changes nothing. Bad rows are reported with their line; the good ones are
    still imported and the exit code is 4 (partial). With --strict any bad row,
    unknown column or value not imported aborts the import with nothing written
    (exit code 1). One commit for the whole import.
    """
    from crmkit.io.csvfmt import read_rows

    ws = app.workspace()
    sep = "\t" if delimiter == "tab" else delimiter
    if str(file) == "-":
        from crmkit.io.csvfmt import decode, parse_rows

        header, rows = parse_rows(decode(stdin_bytes(), "<stdin>"), "<stdin>", sep)
    else:
        header, rows = read_rows(file, sep)
    from crmkit.exchange.layouts import detect
    from crmkit.exchange.mapping import apply_mapping, parse_values

    given = load_mapping(list(maps), mapping)
    rows, given = apply_mapping(rows, given)
    value_map = parse_values(list(values), mapping)
    layout = detect(kind, header)
    header = header + [spec for spec in given if spec not in header]
    if layout is not None:   # the layout reads its own columns; mapped ones and `id` go by the titles
        header = [h for h in header if h in given or (h.strip().lower() == "id" and not layout.handles(h))]
    columns = resolve_columns(kind, header, given)
    if not columns and layout is None:
        raise UsageError("no column maps to a field; use --map COLUMN=FIELD")
    source = "<stdin>" if str(file) == "-" else str(file)
    mode = "merge" if merge_ else on_match
    plan = plan_import(ws, kind, rows, columns, source, mode, layout, value_map)
    _run_import(app, plan, dry_run, strict,
                lambda: plan_import(ws, kind, rows, columns, source, mode, layout, value_map))


@crmkit_command(name="vcard")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@import_options("card")
@pass_app
def import_vcard(app: App, file: Path, dry_run: bool, strict: bool, on_match: str, merge_: bool) -> None:
    """Import contacts from a vCard file (2.1, 3.0 or 4.0, many cards), as phones and address books export them.

    Every value is kept whole: names and their parts, organisations (matched to
    companies by name, created when missing) and departments, titles, every
    email, phone, fax and address with its type, birthdays, websites, profiles,
    categories as tags, notes; other properties under `extra`. A property that
    cannot be read is skipped and reported with its line; photos are counted as
    not imported. Cards match existing contacts by UID, email, or name and phone,
    never by name alone; a card without any name is reported with the line of
    its BEGIN:VCARD and the others are still imported (exit code 4).
    """
    from crmkit.io import vcard

    ws = app.workspace()
    try:
        text = vcard.decode_bytes(stdin_bytes() if str(file) == "-" else file.read_bytes(), str(file))
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
    from crmkit.exchange.exporter import company_names, select_records
    from crmkit.exchange.exporter import export_csv as to_csv

    ws = app.workspace()
    kind, records = select_records(ws, kind, where, segment)
    columns = [f.strip() for f in fields.split(",") if f.strip()] if fields else None
    sep = "\t" if delimiter == "tab" else (";" if excel else delimiter)
    locale = str(app.workspace().config.get("locale", "sv_SE")) if excel else None
    names = company_names(ws) if kind in ("contact", "deal", "ticket", "activity") else None
    _write(app, to_csv(kind, records, columns, delimiter=sep, bom=excel, companies=names, excel_locale=locale), out)


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

    Every field goes out: name and its parts (N), company and department (ORG),
    title, emails, phones and addresses with their types, birthday, websites,
    profiles, tags (CATEGORIES), notes; crmkit's own fields (opted_out, consent,
    language, owner, created, custom fields) as X-CRMKIT-* properties. A field no
    vCard can carry is named on stderr.
    """
    from crmkit.exchange.exporter import export_vcard as to_vcard
    from crmkit.exchange.exporter import select_records, vcard_uncarried

    ws = app.workspace()
    _, records = select_records(ws, "contact", where, segment)
    _write(app, to_vcard(ws, records), out)
    for line in vcard_uncarried(records):
        click.echo(f"export vcard: {line}", err=True)
