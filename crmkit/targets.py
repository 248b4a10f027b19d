"""Lazily imported "module:attribute" targets, resolved loudly.

Two places name code by string on purpose: the CLI registry (so `crmkit --help`
imports no command module) and the computed fields of the condition layer (which
sits below the domains that compute them). A typo or a moved function there must
fail the run and the tests that resolve every entry, never disable a feature
without a sound.
"""

from __future__ import annotations

import importlib
from typing import Any

from crmkit.errors import InternalError


def resolve(target: str) -> Any:
    """The object named by "package.module:attribute"; InternalError when there is none."""
    module, sep, attr = target.partition(":")
    if not sep or not module or not attr:
        raise InternalError(f"registry target {target!r} is not of the form 'module:attribute'")
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise InternalError(f"registry target {target!r}: module {module} cannot be imported ({exc})") from exc
    try:
        return getattr(mod, attr)
    except AttributeError:
        raise InternalError(f"registry target {target!r}: {module} has no {attr!r}") from None
