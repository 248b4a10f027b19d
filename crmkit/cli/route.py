"""`crmkit route`: apply routing and triage rules."""

from __future__ import annotations

import click

from crmkit.cli.common import App, crmkit_command, dumps_json, echo_json, pass_app
from crmkit.errors import PartialFailure
from crmkit.store.records import KINDS


@crmkit_command(name="route")
@click.argument("refs", nargs=-1, metavar="[ID]...")
@click.option("--dry-run", is_flag=True, help="Print what would be done; change nothing.")
@click.option("--explain", "explain_ref", metavar="ID",
              help="Show every rule evaluated for one record, whether it matched and why.")
@click.option("--force", is_flag=True, help="Also re-route records whose owner was set by a person.")
@click.option("--kind", type=click.Choice(KINDS), help="Only records of this kind (default: every kind with rules).")
@click.option("--only-if-branch", metavar="BRANCH",
              help="Refuse (exit 1, nothing changed) unless on BRANCH: one router for a team "
                   "(also team.router_branch in crmkit.yaml).")
@pass_app
def route(app: App, refs: tuple[str, ...], dry_run: bool, explain_ref: str | None, force: bool,
          kind: str | None, only_if_branch: str | None) -> None:
    """Apply the routing rules (rules/routing.yaml, rules/triage.yaml) to records.

    Routes open records that have no owner, or whose status changed since they
    were last routed; the first matching rule wins. An owner set by a person is
    kept unless --force. A run commits once, listing each record, its new owner
    and the rule; a second run changes nothing, so it is safe from cron.

    Prints one line per assignment (with --json: one JSON object per line).
    Exit codes: 0 done (or nothing to do), 1 broken rule files (nothing changed),
    4 some records were left without an owner (no rule matched, or a pool had
    nobody and no fallback). Rules without a fallback are a warning here and in
    `crmkit check` alike.
    """
    from crmkit.sales import routing, routing_explain
    from crmkit.sales.rules import FATAL_CODES, load_checked

    ws = app.workspace()
    ruleset = load_checked(ws)
    for p in ruleset.problems:
        if p.code not in FATAL_CODES:
            app.warn(str(p))
    if explain_ref:
        rec = ws.get(explain_ref, kind)
        info = routing_explain.explain(ws, ruleset, rec, force=force)
        if app.json:
            echo_json(info)
        else:
            for line in routing_explain.explain_text(info):
                click.echo(line)
        return
    if not dry_run:
        from crmkit.store.team import require_router

        require_router(ws, "route", only_if_branch)
    only = [ws.get(r, kind) for r in refs] if refs else None
    kinds = [kind] if kind else None
    plan = routing.plan(ws, ruleset, kinds=kinds, force=force, only=only)
    if not dry_run:
        # planned again under the lock: what a person changed meanwhile wins
        routing.apply(ws, plan, app.command_line, replan=lambda: routing.plan(
            ws, ruleset, kinds=kinds, force=force, only=[ws.get(r, kind) for r in refs] if refs else None))
    _print(app, plan, dry_run)
    if plan.unassigned:
        refs_left = ", ".join(a.ref for a in plan.unassigned[:5]) + (" ..." if len(plan.unassigned) > 5 else "")
        raise PartialFailure(f"{len(plan.unassigned)} record{'s' if len(plan.unassigned) != 1 else ''} "
                             f"left without an owner: {refs_left}")


def _print(app: App, plan: object, dry_run: bool) -> None:
    from crmkit.sales.routing import Plan

    assert isinstance(plan, Plan)
    if app.json:
        rows = []
        for a in plan.assignments:
            rows.append({**a.to_dict(), "dry_run": dry_run})
        for a in plan.unassigned:
            rows.append({**a.to_dict(), "dry_run": dry_run, "unassigned": True})
        if dry_run:
            rows += [{**s.to_dict(), "dry_run": True} for s in plan.skipped]
        if rows:
            click.echo(dumps_json(rows, lines=True))
        return
    verb = "would route" if dry_run else "routed"
    for a in plan.assignments:
        extra = ""
        if a.set:
            extra += " set " + ",".join(f"{k}={v}" for k, v in a.set.items())
        if a.tags:
            extra += " tags +" + ",".join(a.tags)
        if a.notify:
            extra += f" notify {a.notify}"
        was = f" (was {a.previous_owner})" if a.previous_owner and a.previous_owner != a.owner else ""
        click.echo(f"{a.ref} -> {a.owner}{was}  rule {a.rule}{extra}")
        if dry_run:
            for note in a.notes:
                click.echo(f"    {note}")
        else:
            # stdout keeps one line per assignment for scripts; what needs a person's eye goes to stderr
            for note in a.notes:
                if "fell back" in note or "not sent" in note:
                    app.warn(f"{a.ref}: {note}")
    for a in plan.unassigned:
        app.warn(f"{a.ref}: left without an owner: {'; '.join(a.notes)}")
    if dry_run:
        for s in plan.skipped:
            click.echo(f"{s.ref} keeps {s.owner}  ({s.reason})")
    n = len(plan.assignments)
    if n == 0 and not plan.unassigned:
        click.echo("nothing to route" + (f" ({len(plan.skipped)} kept an owner set by a person)" if dry_run and plan.skipped else ""),
                   err=True)
    else:
        click.echo(f"{verb} {n} record{'s' if n != 1 else ''}" + (" (dry run: nothing changed)" if dry_run else ""),
                   err=True)
