"""`crmkit activity done ID`: mark a follow-up done."""

from __future__ import annotations

import click

from crmkit.cli.common import App, crmkit_command, echo_json, pass_app


@crmkit_command(name="done")
@click.argument("activity_ids", metavar="ID...", nargs=-1, required=True)
@click.option("--note", metavar="TEXT", default=None, help="Add a line to the activity's body (what came of it).")
@pass_app
def done(app: App, activity_ids: tuple[str, ...], note: str | None) -> None:
    """Mark follow-ups done: sets `done` to now (--now to backdate). Already done ones are left as they are.

    \b
    Example:
      crmkit activity done act-20261120-k3f9q --note "Sent the revised offer"
    """
    ws = app.workspace()
    recs = [ws.get(a, "activity") for a in activity_ids]
    now = app.now
    changed: list[str] = []
    skipped: list[str] = []
    todo = [r for r in recs if r.get("done") in (None, False, "")]
    skipped = [r.id for r in recs if r not in todo]
    if todo:
        label = todo[0].id if len(todo) == 1 else f"{len(todo)} activities"
        with ws.transaction(f"crmkit: done activity/{label}" if len(todo) == 1 else f"crmkit: done {label}",
                            app.command_line) as tx:
            for r in todo:
                def change(doc: object, r_id: str = r.id) -> None:
                    d = doc  # a CommentedMap
                    if d.get("done") not in (None, False, ""):  # type: ignore[attr-defined]
                        return
                    d["done"] = now  # type: ignore[index]
                    if note:
                        body = d.get("body")  # type: ignore[attr-defined]
                        d["body"] = f"{body.rstrip()}\n{note}" if body else note  # type: ignore[index]

                if tx.update("activity", r.id, change):
                    changed.append(r.id)
                    tx.note(f"activity/{r.id}: {r.get('subject') or r.get('type') or ''}".rstrip(": "))
    if app.json:
        echo_json({"done": changed, "already_done": skipped, "at": now})
        return
    for rid in changed:
        app.echo(f"done activity/{rid}")
    for rid in skipped:
        app.echo(f"activity/{rid} was already done")
