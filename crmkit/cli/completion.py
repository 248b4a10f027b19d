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


def _tombstone(path: Any) -> bool:
    """A merged record's file: a few lines with merged_into (read only when that small)."""
    try:
        if path.stat().st_size > 512:
            return False
        return "merged_into:" in path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def complete_kind(kind: str) -> Any:
    """Completion of ids of one kind only, wherever the command is (`offer render <TAB>`: deals)."""

    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
        from crmkit.store.records import FOLDERS

        try:
            root = _workspace_root(ctx)
            names = os.listdir(root / FOLDERS[kind])
        except Exception:  # noqa: BLE001 - completion must never fail loudly
            return []
        prefix = incomplete[len(kind) + 1:] if incomplete.startswith(kind + "/") else incomplete
        ids = sorted(n[:-5] for n in names if n.endswith(".yaml") and not n.startswith(".") and n.startswith(prefix)
                     and not _tombstone(root / FOLDERS[kind] / n))
        return [CompletionItem(rid if prefix == incomplete else f"{kind}/{rid}", help=kind) for rid in ids]

    return complete


def _config(ctx: click.Context) -> dict[str, Any]:
    from crmkit.store import yamlio

    try:
        data = yamlio.load_fast(_workspace_root(ctx) / "crmkit.yaml")
    except Exception:  # noqa: BLE001
        return {}
    return data if isinstance(data, dict) else {}


def _items(values: Any, incomplete: str, help: str) -> list[CompletionItem]:
    return [CompletionItem(str(v), help=help) for v in values if str(v).startswith(incomplete)]


def stage_names(config: dict[str, Any]) -> list[str]:
    stages = (config.get("pipeline") or {}).get("stages") or []
    return [str(s.get("name")) for s in stages if isinstance(s, dict) and s.get("name")]


def complete_stage(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """The pipeline's stages from crmkit.yaml (`crmkit deal move nordvik-erp <TAB>`)."""
    return _items(stage_names(_config(ctx)), incomplete, "stage")


def complete_user(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Users from crmkit.yaml, for owner and assign arguments."""
    users = _config(ctx).get("users") or {}
    return [CompletionItem(str(u), help=str((v or {}).get("name", "")) if isinstance(v, dict) else "")
            for u, v in (users.items() if isinstance(users, dict) else []) if str(u).startswith(incomplete)]


def complete_template(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Email templates: the workspace's templates/mail/ and crmkit's defaults, without language variants."""
    from crmkit.resources import default_templates_dir as templates_dir

    names: set[str] = set()
    try:
        folders = [_workspace_root(ctx) / "templates" / "mail", templates_dir() / "mail"]
    except Exception:  # noqa: BLE001
        return []
    for folder in folders:
        try:
            files = os.listdir(folder)
        except OSError:
            continue
        for n in files:
            for ending in (".md.j2", ".txt.j2"):
                if n.endswith(ending):
                    base = n[: -len(ending)]
                    if "." not in base:         # news.nb.md.j2 is a language variant of news
                        names.add(base)
    return _items(sorted(names), incomplete, "template")


def complete_segment(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    try:
        files = os.listdir(_workspace_root(ctx) / "segments")
    except Exception:  # noqa: BLE001
        return []
    return _items(sorted(n[:-5] for n in files if n.endswith(".yaml")), incomplete, "segment")


def _holds(ctx: click.Context, kind: str) -> bool:
    """Whether the command's `ref` argument names a record of this kind."""
    from crmkit.store.records import FOLDERS

    ref = str(ctx.params.get("ref") or "")
    head, sep, rid = ref.partition("/")
    if sep:
        return head == kind
    try:
        return (_workspace_root(ctx) / FOLDERS[kind] / f"{ref}.yaml").is_file()
    except Exception:  # noqa: BLE001
        return False


def complete_assignment(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """KEY=VALUE arguments: users after owner=, stages after stage=, and the enums of
    status, priority, line and channel."""
    key, sep, value = incomplete.partition("=")
    if not sep:
        return []
    config = _config(ctx)
    choices: list[str] = []
    if key == "owner":
        users = config.get("users") or {}
        choices = [str(u) for u in users] if isinstance(users, dict) else []
    elif key == "stage":
        choices = stage_names(config)
    else:
        from crmkit.store.schema import FIELDS

        kinds = [k for k in FIELDS if _holds(ctx, k)] or list(FIELDS)
        types = [FIELDS[k][key] for k in kinds if key in FIELDS[k]]
        for t in types:
            if isinstance(t, tuple) and t[0] == "enum":
                choices += [c for c in t[1] if c not in choices]
    return [CompletionItem(f"{key}={c}") for c in choices if c.startswith(value)]


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
        folder = root / FOLDERS[kind]
        ids = sorted(n[:-5] for n in names if n.endswith(".yaml") and not n.startswith(".") and n.startswith(prefix)
                     and not _tombstone(folder / n))
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
