"""Where the files shipped with crmkit are: default templates and the sample workspace.

In a wheel they are the packages crmkit.templates and crmkit.sample_workspace (see
setup.cfg's package_dir); in a source checkout they are the top-level folders.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def shipped(name: str) -> Path:
    """The folder `templates` or `sample_workspace`, installed or in the checkout."""
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"crmkit's {name} folder is missing from this installation")


def default_templates_dir() -> Path:
    return shipped("templates")


def sample_workspace_dir() -> Path:
    return shipped("sample_workspace")
