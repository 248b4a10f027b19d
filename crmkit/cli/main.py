"""The root command, lazy command loading and the one error boundary."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from crmkit import __version__
from crmkit.cli.common import App, global_options
from crmkit.cli.registry import COMMANDS, GROUPS, KIND_COMMANDS, KIND_HELP
from crmkit.errors import EXIT_INTERNAL, EXIT_USAGE, CrmkitError, InternalError, StorageError
from crmkit.store.records import KINDS
from crmkit.targets import resolve


def article(word: str) -> str:
    """'a' or 'an' before a kind's name (an activity, a deal)."""
    return "an" if word[:1] in "aeiou" else "a"


def _load(target: str) -> click.Command:
    # A registry entry that does not resolve is a bug: InternalError (exit 70), never a
    # command that silently disappears from the listing.
    command = resolve(target)
    if not isinstance(command, click.Command):
        raise InternalError(f"registry target {target!r} is not a click command")
    return command


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when one of them runs."""

    def __init__(self, *args: Any, lazy: dict[str, tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy:
            return _load(self.lazy[name][0])
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # One-line help comes from the registry, so `--help` imports no command module.
        rows = []
        for name in self.list_commands(ctx):
            if name in self.lazy:
                rows.append((name, self.lazy[name][1]))
            else:
                cmd = super().get_command(ctx, name)
                if cmd is not None and not cmd.hidden:
                    rows.append((name, cmd.get_short_help_str(limit=80)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def kind_group(kind: str) -> LazyGroup:
    generic = {
        "add": (f"crmkit.cli.records:add_{kind}", f"Add {article(kind)} {kind} (fields as KEY=VALUE)."),
        "list": (f"crmkit.cli.records:list_{kind}", f"List {kind} records, filtered and sorted."),
    }
    # A kind may replace the generic add (lead add reads JSON forms).
    generic.update(KIND_COMMANDS.get(kind, {}))
    return LazyGroup(name=kind, help=KIND_HELP[kind], lazy=generic)


def sub_group(name: str) -> LazyGroup:
    help_text, commands = GROUPS[name]
    return LazyGroup(name=name, help=help_text, lazy=commands)


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@global_options
@click.version_option(__version__, prog_name="crmkit")
def cli() -> None:
    """crmkit: a command-line CRM whose database is a folder of YAML files in git.

    Records live one per file under contacts/, companies/, leads/, deals/, tickets/
    and activities/; every change is a git commit. Global options may come before
    or after the command. Exit codes: 0 ok, 1 data or user error, 2 usage error,
    3 workspace busy, 4 partial or temporary failure (run it again), 5 repository or
    disk not ready (nothing changed), 70 internal error, 74 disk or file system error,
    128+N killed by signal N (rolled back; 130 for Ctrl-C).
    """


for _kind in KINDS:
    cli.add_command(kind_group(_kind))
for _group in GROUPS:
    cli.add_command(sub_group(_group))


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; turn every error into one line on stderr and a documented exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    app = App()
    app.argv = args
    try:
        # https://no-color.org: any non-empty NO_COLOR turns colour off (--color turns it back on)
        color = False if os.environ.get("NO_COLOR") else None
        cli.main(args=args, prog_name="crmkit", obj=app, standalone_mode=False, color=color)
        return 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort as exc:
        # click turns Ctrl-C into Abort; it is still an interrupt (130), as for any Unix tool
        if isinstance(exc.__context__, KeyboardInterrupt):
            click.echo("crmkit: interrupted", err=True)
            return 130
        click.echo("crmkit: aborted", err=True)
        return 1
    except click.ClickException as exc:
        if app.debug:
            raise
        exc.show()
        return exc.exit_code if exc.exit_code else EXIT_USAGE
    except CrmkitError as exc:
        if app.debug:
            raise
        click.echo(f"crmkit: error: {exc}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("crmkit: interrupted", err=True)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:
        # The machine, not crmkit: disk full, read-only file system, no permission.
        if app.debug:
            raise
        err = StorageError.from_os_error(exc)
        click.echo(f"crmkit: error: {err}", err=True)
        return err.exit_code
    except Exception as exc:  # noqa: BLE001 - the boundary: never a traceback without --debug
        if app.debug:
            raise
        click.echo(f"crmkit: internal error: {type(exc).__name__}: {exc} (run with --debug for details)", err=True)
        return EXIT_INTERNAL
    except BaseException as exc:
        from crmkit.store.signals import Interrupted

        if not isinstance(exc, Interrupted):
            raise
        # SIGTERM, SIGHUP or SIGINT inside a transaction: it was rolled back (or had committed)
        click.echo(f"crmkit: interrupted by {exc.name}; nothing of this command was left half done", err=True)
        return exc.exit_code


def run() -> None:
    """Console-script entry point."""
    code = main()
    try:
        sys.stdout.flush()
    except OSError as exc:  # stdout on a full disk (or /dev/full): say so once, not in a traceback
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        if not isinstance(exc, BrokenPipeError):
            click.echo(f"crmkit: error: {StorageError.from_os_error(exc)}", err=True)
            code = code or StorageError.exit_code
    sys.exit(code)
