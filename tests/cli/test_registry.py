"""Every command the registry names exists; a name that does not resolve is an error, loudly."""

from __future__ import annotations

import click
import pytest

from crmkit.cli.main import LazyGroup, main
from crmkit.cli.registry import COMMANDS, GROUPS, KIND_COMMANDS
from crmkit.errors import EXIT_INTERNAL, InternalError
from crmkit.targets import resolve

ENTRIES = sorted(
    {spec[0] for spec in COMMANDS.values()}
    | {spec[0] for kind in KIND_COMMANDS.values() for spec in kind.values()}
    | {spec[0] for _help, commands in GROUPS.values() for spec in commands.values()}
)


@pytest.mark.parametrize("target", ENTRIES)
def test_every_registry_entry_is_a_click_command(target: str) -> None:
    assert isinstance(resolve(target), click.Command)


def test_the_generic_add_and_list_of_every_kind_resolve() -> None:
    from crmkit.store.records import KINDS

    for kind in KINDS:
        assert isinstance(resolve(f"crmkit.cli.records:add_{kind}"), click.Command)
        assert isinstance(resolve(f"crmkit.cli.records:list_{kind}"), click.Command)


@pytest.mark.parametrize("target", ["crmkit.cli.records:no_such_command", "crmkit.cli.no_such_module:x", "nocolon"])
def test_a_target_that_does_not_resolve_raises(target: str) -> None:
    with pytest.raises(InternalError, match="registry target"):
        resolve(target)


def test_a_missing_command_is_an_internal_error_not_a_missing_listing(capsys: pytest.CaptureFixture[str]) -> None:
    group = LazyGroup(name="demo", lazy={"gone": ("crmkit.cli.records:gone", "A command that moved.")})
    assert group.list_commands(click.Context(group)) == ["gone"]  # still listed: nothing is hidden
    with pytest.raises(InternalError, match="has no 'gone'"):
        group.get_command(click.Context(group), "gone")


def test_the_boundary_turns_a_broken_entry_into_exit_70(monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from crmkit.cli import main as main_module

    monkeypatch.setitem(main_module.cli.lazy, "gone", ("crmkit.cli.records:gone", "moved"))
    assert main(["gone"]) == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "internal error" in err and "crmkit.cli.records:gone" in err and "Traceback" not in err
