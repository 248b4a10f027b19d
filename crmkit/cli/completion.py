"""`crmkit completion bash|zsh|fish`."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

from crmkit.cli.common import crmkit_command


@crmkit_command(name="completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the completion script for SHELL (commands, options and record ids).

    \b
    bash:  eval "$(crmkit completion bash)"      (in ~/.bashrc)
    zsh:   eval "$(crmkit completion zsh)"       (in ~/.zshrc)
    fish:  crmkit completion fish > ~/.config/fish/completions/crmkit.fish
    """
    from crmkit.cli.main import cli

    cls = get_completion_class(shell)
    assert cls is not None  # the choice above only admits shells click supports
    click.echo(cls(cli, {}, "crmkit", "_CRMKIT_COMPLETE").source())
