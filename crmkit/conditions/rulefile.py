"""Conditions as they appear in rule files: a `when:` value read into a Condition or a Problem.

Every rule file (routing, triage, scoring, escalation) reads its `when:` keys the
same way, so the reading lives here, below the domains that own those files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crmkit.conditions.language import Condition, parse
from crmkit.errors import ConditionError, Problem


@dataclass(frozen=True)
class RuleProblem(Problem):
    """A problem in a condition, with the column of the condition where it is."""

    column: int | None = None


def column_of(problem: Problem) -> int | None:
    """The column of a condition problem, None for any other problem."""
    return getattr(problem, "column", None)


def parse_condition(value: Any, rel: str, line: int | None, what: str) -> tuple[Condition | None, Problem | None]:
    """A rule's `when`: True or absent is a catch-all; text is parsed; anything else is an error."""
    if value is None or value is True:
        return None, None
    if value is False:
        return parse("exists(__never__)"), None
    if isinstance(value, (int, float)):
        return None, Problem(rel, line, "rule-syntax", f"{what}: `when` must be a condition, not the number {value}")
    if not isinstance(value, str):
        return None, Problem(rel, line, "rule-syntax", f"{what}: `when` must be a condition (text)")
    try:
        return parse(value), None
    except ConditionError as exc:
        return None, RuleProblem(rel, line, "rule-syntax", f"{what}: when: {exc.message}", exc.column)
