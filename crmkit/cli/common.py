"""What every command shares: global options, the App object, output formatting."""

from __future__ import annotations

import datetime as dt
import os
import shlex
import sys
from collections.abc import Callable, Iterable, Sequence
from functools import update_wrapper
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from crmkit.errors import CrmkitError, Problem, UsageError

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace

FORMATS = ("table", "json", "csv", "md")


class App:
    """Global options and the lazily opened workspace, shared by all commands of one run."""

    def __init__(self) -> None:
        self.json = False
        self.now_text: str | None = None
        self.workspace_dir: str | None = None
        self.no_commit = False
        self.include_edits = False
        self.debug = False
        self.quiet = False
        self.verbose = 0
        self.argv: list[str] = []
        self._ws: Workspace | None = None

    @property
    def command_line(self) -> str:
        return "crmkit " + " ".join(shlex.quote(a) for a in self.argv)

    def workspace(self) -> Workspace:
        """Open the workspace once (the clock is set from --now / CRMKIT_NOW)."""
        if self._ws is None:
            from crmkit.store.workspace import Workspace

            self._ws = Workspace.find(self.workspace_dir, now=self.now_text, commit=not self.no_commit,
                                      include_edits=self.include_edits)
            self._wire_merge_driver(self._ws.root)
        return self._ws

    def _wire_merge_driver(self, root: Path) -> None:
        """A clone does not carry .git/config: register crmkit's merge driver there, once."""
        from crmkit.store.team import ensure_driver

        if ensure_driver(root):
            click.echo("crmkit: registered the crmkit merge driver for record files in .git/config", err=True)

    @property
    def now(self) -> dt.datetime:
        return self.workspace().now()

    def echo(self, text: str = "", nl: bool = True) -> None:
        click.echo(text, nl=nl)

    def warn(self, text: str) -> None:
        click.echo(f"crmkit: warning: {text}", err=True)

    def flush_warnings(self) -> None:
        """Report files that could not be read (they never stop a listing or report)."""
        if self._ws is not None:
            for problem in self._ws.warnings:
                self.warn(f"skipped {problem}")
            self._ws.warnings.clear()


def _setter(attr: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        # A global option may come before or after the subcommand; the last one given wins,
        # and a default never overrides what the other position set.
        if value is None or value is False:
            return
        setattr(ctx.ensure_object(App), attr, value)

    return callback


def _color(ctx: click.Context, param: click.Parameter, value: bool | None) -> None:
    # --color / --no-color win over $NO_COLOR; click strips colours off a non-terminal by itself
    if value is None:
        return
    ctx.color = value
    ctx.find_root().color = value


def _verbose(ctx: click.Context, param: click.Parameter, value: int) -> None:
    if value:
        app = ctx.ensure_object(App)
        app.verbose = max(app.verbose, value)


def global_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """-w, --json, --now, --no-commit, --include-edits, --debug, --color/--no-color, -q, -v:
    accepted on the root and on every command."""
    opts = [
        click.option("-w", "--workspace", "workspace_dir", metavar="DIR", expose_value=False,
                     callback=_setter("workspace_dir"), is_eager=True,
                     help="Workspace folder (default: $CRMKIT_WORKSPACE or the nearest crmkit.yaml upwards)."),
        click.option("--json", "json_", is_flag=True, default=False, expose_value=False,
                     callback=_setter("json"), help="Machine-readable JSON on stdout."),
        click.option("--now", "now_text", metavar="TIME", expose_value=False, callback=_setter("now_text"),
                     is_eager=True, help="Pretend it is TIME (ISO date or timestamp); also $CRMKIT_NOW."),
        click.option("--no-commit", is_flag=True, default=False, expose_value=False,
                     callback=_setter("no_commit"), help="Write files but do not commit them."),
        click.option("--include-edits", is_flag=True, default=False, expose_value=False,
                     callback=_setter("include_edits"),
                     help="Let a command change files that hold uncommitted edits of yours, and commit "
                          "those edits with it (the commit message says so)."),
        click.option("--debug", is_flag=True, default=False, expose_value=False,
                     callback=_setter("debug"), help="Show tracebacks for errors."),
        click.option("--color/--no-color", "color", default=None, expose_value=False, callback=_color,
                     is_eager=True, help="Colour on or off (default: on a terminal, unless $NO_COLOR is set)."),
        click.option("-q", "--quiet", is_flag=True, default=False, expose_value=False, callback=_setter("quiet"),
                     help="Nothing on stderr but the error, if any (no warnings, summaries or progress)."),
        click.option("-v", "--verbose", count=True, expose_value=False, callback=_verbose,
                     help="Also say on stderr which commits were made."),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def crmkit_command(name: str | None = None, **kwargs: Any) -> Callable[[Callable[..., Any]], click.Command]:
    """click.command plus the global options."""

    def decorator(f: Callable[..., Any]) -> click.Command:
        return click.command(name, **kwargs)(global_options(f))

    return decorator


def pass_app(f: Callable[..., Any]) -> Callable[..., Any]:
    """Give the command the App as its first argument."""

    def new_func(*args: Any, **kwargs: Any) -> Any:
        import contextlib
        import os

        app = click.get_current_context().ensure_object(App)
        with contextlib.ExitStack() as stack:
            if app.quiet:
                # everything a command says on stderr is warnings, summaries and progress;
                # the error itself is printed by the boundary in main, after this
                stack.enter_context(contextlib.redirect_stderr(stack.enter_context(open(os.devnull, "w"))))
            before = _head(app) if app.verbose else None
            try:
                return f(app, *args, **kwargs)
            except CrmkitError as exc:
                # The error names the file already: one line about it, not a warning and an error.
                if exc.path and app._ws is not None:
                    same = {exc.path, app._ws.rel(Path(exc.path))}
                    app._ws.warnings[:] = [w for w in app._ws.warnings if w.path not in same]
                raise
            finally:
                app.flush_warnings()
                if app.verbose and not app.quiet:
                    _say_commits(app, before)

    return update_wrapper(new_func, f)


def _head(app: App) -> str | None:
    from crmkit.store.history import head_commit

    try:
        return head_commit(app.workspace().root)
    except Exception:  # noqa: BLE001 - -v must never break a command
        return None


def _say_commits(app: App, before: str | None) -> None:
    """-v: the commits this command made, one line each on stderr."""
    if app._ws is None:
        return
    from crmkit.store.history import commits_after

    try:
        for sha, subject in commits_after(app._ws.root, before):
            click.echo(f"crmkit: committed {sha[:10]} {subject}", err=True)
    except Exception:  # noqa: BLE001
        return


def format_option(choices: Sequence[str] = FORMATS) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option("--format", "fmt", type=click.Choice(list(choices)), default=None,
                        help="Output format (default: table; json with --json).")


# -- JSON -------------------------------------------------------------------------


def dumps_json(data: Any, *, lines: bool = False) -> str:
    """JSON text; indented for a person at a terminal, compact (and fast) for a pipe."""
    import json  # here, not at the top: `crmkit --help` and table output never need it

    from crmkit.render.jsontext import json_default

    if lines:
        return "\n".join(json.dumps(item, ensure_ascii=False, default=json_default) for item in data)
    indent = 2 if sys.stdout.isatty() else None
    return json.dumps(data, ensure_ascii=False, indent=indent, default=json_default)


def echo_json(data: Any) -> None:
    click.echo(dumps_json(data))


# -- tables ------------------------------------------------------------------------


def render_table(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> str:
    """Rows as aligned columns; on a terminal narrowed to fit its width."""
    import shutil

    from crmkit.render.table import listing_text

    room = shutil.get_terminal_size((120, 20)).columns if sys.stdout.isatty() else None
    return listing_text(rows, columns, room)


def render_csv(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> str:
    from crmkit.io.csvfmt import write_csv

    return write_csv(rows, columns, newline="\n")


def render_md(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> str:
    from crmkit.render.table import listing_md

    return listing_md(rows, columns)


def output(app: App, rows: list[dict[str, Any]], columns: Sequence[str], fmt: str | None = None) -> None:
    """Print rows as a table, or JSON / CSV / Markdown."""
    fmt = fmt or ("json" if app.json else "table")
    if fmt == "json":
        echo_json(rows)
    elif fmt == "csv":
        click.echo(render_csv(rows, columns), nl=False)
    elif fmt == "md":
        click.echo(render_md(rows, columns))
    else:
        click.echo(render_table(rows, columns))


def echo_problems(app: App, problems: list[Problem]) -> None:
    if app.json:
        echo_json([p.to_dict() for p in problems])
    else:
        for p in problems:
            click.echo(str(p))


def stdin_bytes() -> bytes:
    """FILE `-` reads standard input (for pipes: `curl ... | crmkit import csv - --kind lead`)."""
    if sys.stdin is None or sys.stdin.isatty():
        raise UsageError("FILE is '-' but standard input is a terminal; pipe a file in")
    buffer = getattr(sys.stdin, "buffer", None)
    return buffer.read() if buffer is not None else sys.stdin.read().encode("utf-8")


def find_editor() -> str:
    """$VISUAL, then $EDITOR, then the first of vi and nano on $PATH (as git does)."""
    import shutil

    for var in ("VISUAL", "EDITOR"):
        value = os.environ.get(var, "").strip()
        if value:
            return value
    for name in ("vi", "nano"):
        if shutil.which(name):
            return name
    raise UsageError("no editor found: set $EDITOR (or $VISUAL), or install vi or nano")
