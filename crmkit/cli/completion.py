"""`crmkit completion bash|zsh|fish`, and completing record ids for ID arguments."""

from __future__ import annotations

import os
from typing import Any

import click
from click.shell_completion import CompletionItem, get_completion_class

from crmkit.cli.common import crmkit_command

#: A kind group's commands complete ids of that kind only (`crmkit deal move <TAB>`).
_KIND_GROUPS = ("contact", "company", "lead", "deal", "ticket", "activity")


def _workspace_root(ctx: click.Context) -> Any:
    """The workspace the command line points at (-w, CRMKIT_WORKSPACE, or walking up)."""
    from crmkit.cli.common import App
    from crmkit.store.workspace import Workspace

    app = ctx.find_object(App)
    return Workspace.find(getattr(app, "workspace_dir", None)).root


def _kind_of(ctx: click.Context) -> str | None:
    node: click.Context | None = ctx
    while node is not None:
        if node.info_name in _KIND_GROUPS:
            return node.info_name
        node = node.parent
    return None


def complete_record_id(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Shell completion for an ID argument: record ids from file names (no YAML is parsed).

    `ann<TAB>` offers `anna-berg`, `anna-b`; `deal/<TAB>` offers `deal/...` ids; under
    `crmkit deal ...` only deal ids are offered. Never fails: outside a workspace it
    offers nothing. Attach with `@click.argument("ref", shell_complete=complete_record_id)`.
    """
    from crmkit.store.records import FOLDERS, KINDS

    try:
        root = _workspace_root(ctx)
    except Exception:  # noqa: BLE001 - completion must never fail loudly
        return []
    prefix_kind, sep, rest = incomplete.partition("/")
    if sep and prefix_kind in KINDS:
        kinds, prefix, qualify = [prefix_kind], rest, True
    else:
        only = _kind_of(ctx)
        kinds, prefix, qualify = ([only] if only else list(KINDS)), incomplete, False
    items: list[CompletionItem] = []
    for kind in kinds:
        try:
            names = os.listdir(root / FOLDERS[kind])
        except OSError:
            continue
        ids = sorted(n[:-5] for n in names if n.endswith(".yaml") and not n.startswith(".") and n.startswith(prefix))
        items += [CompletionItem(f"{kind}/{rid}" if qualify else rid, help=kind) for rid in ids]
    if not qualify and not items and "/" not in incomplete:
        items = [CompletionItem(f"{k}/", help=f"{k} ids") for k in kinds if k.startswith(incomplete)]
    return items


@crmkit_command(name="completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the completion script for SHELL: commands, options and record ids.

    \b
    bash:  eval "$(crmkit completion bash)"      (in ~/.bashrc)
    zsh:   eval "$(crmkit completion zsh)"       (in ~/.zshrc)
    fish:  crmkit completion fish > ~/.config/fish/completions/crmkit.fish
    """
    from crmkit.cli.main import cli

    cls = get_completion_class(shell)
    if cls is None:  # pragma: no cover - the choice above only admits shells click supports
        raise click.UsageError(f"no completion for {shell}")
    click.echo(cls(cli, {}, "crmkit", "_CRMKIT_COMPLETE").source())
