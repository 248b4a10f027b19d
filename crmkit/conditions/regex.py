"""Regular expressions of `matches`, in linear time.

Conditions come from rule and segment files that anyone with a pull request can
change, and from `--where`. Python's `re` backtracks, so a pattern such as
`^(a+)+$` takes exponential time on a long name and would hang `route` every cron
minute. `matches` therefore runs on RE2 (the `google-re2` package), whose matching
time is linear in the text for every pattern it accepts.

RE2 has no backreferences (`\\1`) and no look-around (`(?=...)`, `(?<!...)`): these
are the features that need backtracking. A pattern using them is refused where it
is parsed, so `crmkit check` reports the rule or segment before `route` runs it.
The syntax is otherwise Python's (classes, `\\d`, `\\w`, `{m,n}`, `(?i)`, named
groups `(?P<n>...)`); `$` matches only at the very end of the text.

Limits: a pattern is at most MAX_PATTERN characters, and RE2 is given a memory
budget (MAX_MEMORY) for the automaton it builds; past either the pattern is refused.
"""

from __future__ import annotations

from typing import Any

MAX_PATTERN = 1000
MAX_MEMORY = 8 << 20

_OPTIONS: Any = None


class UnsafePattern(ValueError):
    """A pattern RE2 cannot take (it would need backtracking) or that is too large."""


def _options() -> Any:
    global _OPTIONS
    if _OPTIONS is None:
        import re2

        opts = re2.Options()
        opts.log_errors = False  # else RE2 writes its own lines to stderr
        opts.max_mem = MAX_MEMORY
        _OPTIONS = opts
    return _OPTIONS


def _reason(message: str) -> str:
    if "invalid escape sequence: \\" in message and message.rstrip()[-1:].isdigit():
        return "backreferences (\\1) are not supported: they need backtracking"
    if "invalid perl operator: (?=" in message or "invalid perl operator: (?!" in message:
        return "look-ahead (?=...) / (?!...) is not supported: it needs backtracking"
    if "invalid perl operator: (?<" in message:
        return "look-behind (?<=...) / (?<!...) is not supported: it needs backtracking"
    if "pattern too large" in message:
        return "the pattern is too large"
    return message


def compile_safe(source: str) -> Any:
    """A compiled RE2 pattern with `.search(text)`, or UnsafePattern saying why not."""
    import re2

    if len(source) > MAX_PATTERN:
        raise UnsafePattern(f"the pattern is longer than {MAX_PATTERN} characters")
    try:
        return re2.compile(source, options=_options())
    except re2.error as exc:
        detail = exc.args[0] if exc.args else str(exc)
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        raise UnsafePattern(_reason(str(detail))) from None
