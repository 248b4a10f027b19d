"""Generic record commands: add, list, show, set, edit, rm, history."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import click

from crmkit.cli.common import App, crmkit_command, dumps_json, echo_json, find_editor, format_option, output, pass_app
from crmkit.cli.completion import complete_assignment, complete_record_id
from crmkit.conditions.listing import DEFAULT_COLUMNS, project, select
from crmkit.conditions.views import computed_fields, view
from crmkit.errors import CrmkitError, UsageError
from crmkit.people.adding import add_record
from crmkit.people.merge import follow_merge
from crmkit.render.cells import cell
from crmkit.reports.related import related, summary
from crmkit.store import yamlio
from crmkit.store.editing import (
    apply_change,
    check_key,
    parse_changes,
    plain,
    unset_path,
)
from crmkit.store.records import KINDS, TITLE_FIELD, Record
from crmkit.store.validate import validate_data

# -- add ----------------------------------------------------------------------------


def make_add(kind: str) -> click.Command:
    title = TITLE_FIELD[kind]

    @crmkit_command(name="add", help=f"""Add {"an" if kind[0] in "aeiou" else "a"} {kind}.

    The first argument is the {kind}'s {title} unless it contains '='; the rest are
    KEY=VALUE fields (dotted keys for nested fields: address.city=Oslo; lists
    comma-separated: tags=vip,nordic). The id is made from the {title} or the date.
    """)
    @click.argument("title_", metavar=title.upper(), required=False)
    @click.argument("fields", nargs=-1, metavar="[KEY=VALUE]...")
    @click.option("--id", "record_id", help="Choose the id instead of deriving it.")
    @click.option("--merge", is_flag=True, hidden=kind != "contact",
                  help="If a contact with this email exists, add the fields to it instead of refusing.")
    @click.option("--force", is_flag=True, hidden=kind != "contact",
                  help="Add the contact even though one with the same name, email or phone exists.")
    @pass_app
    def add(app: App, title_: str | None, fields: tuple[str, ...], record_id: str | None, merge: bool,
            force: bool) -> None:
        rec = add_record(app.workspace(), kind, title_, list(fields), record_id, app.command_line, merge, force)
        if app.json:
            echo_json({"kind": rec.kind, "id": rec.id, "path": app.workspace().rel(rec.path), "record": rec.data})
        else:
            click.echo(rec.ref)

    return add


# -- list ---------------------------------------------------------------------------


def list_options(f: Any) -> Any:
    """--where, --sort, --limit, --fields and --format: the options of every listing."""
    for opt in reversed([
        click.option("--where", metavar="EXPR", help="Only records matching this condition."),
        click.option("--sort", metavar="FIELDS", help="Sort by these fields; prefix '-' for descending."),
        click.option("--limit", type=click.IntRange(min=0), help="At most this many records."),
        click.option("--fields", metavar="A,B", help="Columns to show (dotted paths such as address.city)."),
        format_option(),
    ]):
        f = opt(f)
    return f


def make_list(kind: str) -> click.Command:
    @crmkit_command(name="list", help=f"""List {kind} records.

    --where takes a condition (e.g. "country in [SE, NO] and exists(email)");
    --sort takes fields, '-' for descending ("-value,title"); --fields picks columns.
    """)
    @list_options
    @pass_app
    def list_(app: App, where: str | None, sort: str | None, limit: int | None, fields: str | None,
              fmt: str | None) -> None:
        ws = app.workspace()
        as_json = (fmt or ("json" if app.json else "table")) == "json"
        if as_json and not (where or sort or fields or computed_fields(kind)) and not sys.stdout.isatty():
            # The plain `list --json` of a script: whole rows straight from the JSON cache.
            rows = ws.derived(kind, "json", lambda rid, data: dumps_json({"id": rid, **data}))
            if rows is not None:
                texts = [text for _rid, text in (rows[:limit] if limit is not None else rows)]
                click.echo("[" + ", ".join(texts) + "]")
                return
        views = select(ws, kind, where=where, sort=sort, limit=limit)
        columns = [f.strip() for f in fields.split(",") if f.strip()] if fields else None
        if as_json:
            projected = [project(v, columns) for v in views]
            if not columns:
                extra = computed_fields(kind)
                for row, v in zip(projected, views):
                    for name in extra:
                        value = v.get(name)
                        if value is not None:
                            row[name] = value
            echo_json(projected)
            return
        cols = columns or DEFAULT_COLUMNS[kind] + [c for c in computed_fields(kind) if c == "score"]
        output(app, [project(v, cols) for v in views], cols, fmt)

    return list_


for _kind in KINDS:
    globals()[f"add_{_kind}"] = make_add(_kind)
    globals()[f"list_{_kind}"] = make_list(_kind)


# -- show ---------------------------------------------------------------------------


@crmkit_command(name="show")
@click.argument("ref", shell_complete=complete_record_id)
@pass_app
def show(app: App, ref: str) -> None:
    """Show a record (ID or KIND/ID) and everything related to it: the 360° view.

    The id of a record merged into another shows the one it lives on as (exit 0),
    with a note on stderr; `merged_from` in --json names the id that was asked for.
    """
    ws = app.workspace()
    merged_from = None
    rec: Record | None
    try:
        rec = ws.get(ref)
    except CrmkitError:
        rec = follow_merge(ws, ref)
        if rec is None:
            raise
        merged_from = ref
        app.warn(f"{rec.kind}/{ref.split('/')[-1]} was merged into {rec.ref}; showing {rec.ref}")
    links = related(ws, rec)
    v = view(ws, rec)
    computed = {name: v.get(name) for name in computed_fields(rec.kind) if v.get(name) is not None}
    from crmkit.support.cadence import next_touch

    touch = next_touch(ws, rec)
    if app.json:
        echo_json({
            "kind": rec.kind, "id": rec.id, "path": ws.rel(rec.path), "record": rec.data,
            "computed": computed, **({"merged_from": merged_from} if merged_from else {}),
            **({"next_touch": touch} if touch else {}),
            "related": {group: [summary(r) for r in recs] for group, recs in links.items()},
        })
        return
    click.secho(f"{rec.ref}  {rec.title}", bold=True)
    click.echo(yamlio.dumps(rec.data).rstrip())
    if computed:
        import json

        plain = json.loads(dumps_json(computed))  # computed values may be views or Decimals
        click.echo(f"# computed, not stored:\n{yamlio.dumps(plain).rstrip()}")
    if touch:
        due = touch["due"]
        what = f"activity/{touch['activity']}" if touch["activity"] else f"cadence {touch['cadence']}, to be created"
        click.echo(f"next touch: {str(due)[:10]} {what}: {touch['subject']}")
    for group, recs in links.items():
        click.echo("")
        click.secho(f"{group}:", bold=True)
        for r in recs:
            bits = [f"{k}={cell(v)}" for k, v in summary(r).items() if k not in ("kind", "id", "title")]
            click.echo(f"  {r.ref}  {r.title}" + (f"  ({', '.join(bits)})" if bits else ""))


# -- set ----------------------------------------------------------------------------


@crmkit_command(name="set")
@click.argument("ref", shell_complete=complete_record_id)
@click.argument("fields", nargs=-1, metavar="[KEY=VALUE]...", shell_complete=complete_assignment)
@click.option("--unset", "unset", multiple=True, metavar="KEY", help="Remove a field (repeatable).")
@pass_app
def set_(app: App, ref: str, fields: tuple[str, ...], unset: tuple[str, ...]) -> None:
    """Set fields of a record (KEY=VALUE, dotted keys for nested fields) or --unset them.

    On lists, KEY+=ITEM adds items (comma-separated; none twice) and KEY-=ITEM
    removes them: `crmkit set bjorn-odegard tags+=vip`. A KEY that is not a field
    name (letters, digits, _ and -) is refused.

    Only the lines that change are rewritten; comments, order and quoting stay.
    """
    if not fields and not unset:
        raise UsageError("nothing to change: give KEY=VALUE or --unset KEY")
    ws = app.workspace()
    rec = ws.get(ref)
    pairs = parse_changes(rec.kind, list(fields))
    for key in unset:
        check_key(key)
    missing: list[str] = []

    def change(doc: Any) -> None:
        for key, op, value in pairs:
            missing.extend(f"{key} item {v}" for v in apply_change(doc, key, op, value))
        for key in unset:
            if not unset_path(doc, key):
                missing.append(key)
        validate_data(ws, rec.kind, rec.id, plain(doc), rec.path)

    with ws.transaction(f"set {rec.ref}", app.command_line) as tx:
        keys = [k if op == "=" else f"{k}{op}{','.join(map(str, v))}" for k, op, v in pairs] + [f"-{k}" for k in unset]
        tx.note("fields: " + ", ".join(keys))
        changed = tx.update(rec.kind, rec.id, change)
    for key in missing:
        app.warn(f"{rec.ref} has no {key}" if " item " in key else f"{rec.ref} has no field {key!r}")
    if app.json:
        echo_json({"kind": rec.kind, "id": rec.id, "changed": changed})
    else:
        click.echo(f"{rec.ref} {'updated' if changed else 'unchanged'}")


# -- edit ---------------------------------------------------------------------------


@crmkit_command(name="edit")
@click.argument("ref", shell_complete=complete_record_id)
@pass_app
def edit(app: App, ref: str) -> None:
    """Open a record in $VISUAL, else $EDITOR, else vi or nano; the result is validated
    before it replaces the file.

    An invalid result is refused: the record stays as it was and your edit is
    kept under .crmkit/rejected/ so no typing is lost.
    """
    editor = find_editor()
    ws = app.workspace()
    rec = ws.get(ref)
    before = yamlio.read_text(rec.path)
    scratch_dir = ws.root / ".crmkit"
    scratch_dir.mkdir(exist_ok=True)
    fd, scratch = tempfile.mkstemp(prefix=f"{rec.kind}-{rec.id}.", suffix=".yaml", dir=scratch_dir)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(before)
    try:
        result = subprocess.run([*shlex.split(editor), scratch])
        if result.returncode != 0:
            raise CrmkitError(f"the editor exited with status {result.returncode}; nothing was changed")
        after = Path(scratch).read_text(encoding="utf-8")
    finally:
        text_kept = Path(scratch).read_text(encoding="utf-8") if Path(scratch).exists() else ""
        Path(scratch).unlink(missing_ok=True)
    if after == before:
        click.echo(dumps_json({"kind": rec.kind, "id": rec.id, "changed": False}) if app.json else f"{rec.ref} unchanged")
        return
    try:
        doc = yamlio.loads_roundtrip(after, ws.rel(rec.path))
        validate_data(ws, rec.kind, rec.id, plain(doc), rec.path)
    except CrmkitError as exc:
        keep = scratch_dir / "rejected" / f"{rec.kind}-{rec.id}.yaml"
        yamlio.atomic_write_text(keep, text_kept)
        raise CrmkitError(f"{exc}; your edit is kept in {ws.rel(keep)}") from None
    with ws.transaction(f"edit {rec.ref}", app.command_line) as tx:
        tx.write_file(ws.rel(rec.path), after)
    click.echo(dumps_json({"kind": rec.kind, "id": rec.id, "changed": True}) if app.json else f"{rec.ref} updated")


# -- rm -----------------------------------------------------------------------------


@crmkit_command(name="rm")
@click.argument("ref", shell_complete=complete_record_id)
@click.option("--force", is_flag=True, help="Remove even though other records reference it.")
@pass_app
def rm(app: App, ref: str, force: bool) -> None:
    """Remove a record. Refused while other records reference it, unless --force."""
    ws = app.workspace()
    rec = ws.get(ref)
    refs = ws.referrers(rec)
    if refs and not force:
        names = ", ".join(f"{r.ref} ({field})" for r, field in refs[:5])
        more = f" and {len(refs) - 5} more" if len(refs) > 5 else ""
        raise CrmkitError(f"{rec.ref} is referenced by {names}{more}; use --force to remove it anyway")
    with ws.transaction(f"rm {rec.ref}", app.command_line) as tx:
        if refs:
            tx.note("left dangling references in: " + ", ".join(r.ref for r, _ in refs))
        tx.delete(rec.kind, rec.id)
    if app.json:
        echo_json({"kind": rec.kind, "id": rec.id, "removed": True, "dangling": [r.ref for r, _ in refs]})
    else:
        click.echo(f"{rec.ref} removed")


# -- history ------------------------------------------------------------------------


@crmkit_command(name="history")
@click.argument("ref", shell_complete=complete_record_id)
@click.option("--limit", type=click.IntRange(min=1), help="Only the newest N changes.")
@click.option("--patch/--no-patch", default=True, help="Show what changed in each commit.")
@pass_app
def history(app: App, ref: str, limit: int | None, patch: bool) -> None:
    """Who changed a record, when, why and what: its commits, following renames."""
    from crmkit.store.history import record_history

    _path, changes = record_history(app.workspace(), ref, limit)
    if app.json:
        echo_json([{
            "commit": c.sha, "author": c.author, "email": c.email, "date": c.date,
            "message": c.message, "path": c.path, "status": c.status, "patch": c.patch if patch else None,
        } for c in changes])
        return
    for c in changes:
        click.secho(f"{c.sha[:10]}  {c.date}  {c.author} <{c.email}>", fg="yellow")
        for line in c.message.splitlines():
            click.echo(f"    {line}")
        if patch and c.patch:
            body = [ln for ln in c.patch.splitlines()
                    if not ln.startswith(("diff --git", "index ", "similarity", "rename ", "new file", "deleted file"))]
            for ln in body:
                color = "green" if ln.startswith("+") and not ln.startswith("+++") else (
                    "red" if ln.startswith("-") and not ln.startswith("---") else None)
                click.secho(f"    {ln}", fg=color)
        click.echo("")
