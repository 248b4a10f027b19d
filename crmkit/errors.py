"""Errors and problems: the one exception tree, turned into exit codes at the CLI boundary."""

from __future__ import annotations

from dataclasses import asdict, dataclass

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_BUSY = 3
EXIT_PARTIAL = 4
#: the repository or the disk cannot take a write now (stale index.lock, merge in progress,
#: disk full); nothing was changed
EXIT_NOT_READY = 5
EXIT_INTERNAL = 70


class CrmkitError(Exception):
    """A data or user error: bad input, a missing record, a broken file."""

    exit_code = EXIT_ERROR

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.column = column

    def __str__(self) -> str:
        where = ""
        if self.path:
            where = f"{self.path}:{self.line}: " if self.line else f"{self.path}: "
        return where + self.message


class UsageError(CrmkitError):
    """The command line itself is wrong."""

    exit_code = EXIT_USAGE


class WorkspaceBusy(CrmkitError):
    """Another crmkit command holds the workspace lock."""

    exit_code = EXIT_BUSY


class PartialFailure(CrmkitError):
    """Some items were done and some failed (for example half a mail batch)."""

    exit_code = EXIT_PARTIAL


class NotFound(CrmkitError):
    """A record, template or file that was asked for does not exist."""


class ConditionError(CrmkitError):
    """A condition expression does not parse or cannot be evaluated."""


class RuleError(CrmkitError):
    """A rule file is malformed."""


class TemplateError(CrmkitError):
    """A template is missing, broken or lacks a variable."""


class InternalError(RuntimeError):
    """A fault in crmkit itself (say a registry naming a function that does not exist).

    Deliberately not a CrmkitError: the CLI boundary reports it as an internal error
    (exit 70), because no input of the user's can cause or fix it.
    """


@dataclass(frozen=True)
class Problem:
    """One finding of a validator; validators return lists of these instead of raising."""

    path: str
    line: int | None
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line or 1}: {self.code}: {self.message}"

    def to_dict(self) -> dict[str, object]:
        return asdict(self)
