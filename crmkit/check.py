"""`crmkit check`: the store's own validation plus every domain's checker, all at once.

This module sits above the domains on purpose: the store validates records and
references and must not import the domains, so the list of domain checkers lives
here, as plain imported functions. A checker added to a domain is added to
CHECKERS too; a renamed one fails at import, never silently.
"""

from __future__ import annotations

from collections.abc import Callable

from crmkit.errors import Problem
from crmkit.marketing.campaigns import check_campaigns
from crmkit.marketing.events import check_events
from crmkit.marketing.mailtemplate import check_templates
from crmkit.marketing.segments import check_segments
from crmkit.people.damage import duplicate_people
from crmkit.people.network import check_network
from crmkit.people.social import WARNING_CODES as SOCIAL_WARNINGS
from crmkit.people.social import check_social
from crmkit.sales.offers import check_offers
from crmkit.sales.partners import check_partners
from crmkit.sales.pipeline import WARNING_CODES as RATE_WARNINGS
from crmkit.sales.pipeline import check_rates
from crmkit.sales.rules import WARNING_CODES as RULE_WARNINGS
from crmkit.sales.rules import check_rules as check_sales_rules
from crmkit.sales.tiers import check_value_rules
from crmkit.store.damage import check_damage
from crmkit.store.paths import symlinks
from crmkit.store.validate import WARNING_CODES as STORE_WARNINGS
from crmkit.store.validate import check_records
from crmkit.store.workspace import Workspace
from crmkit.support.cadence_rules import check_cadences
from crmkit.support.damage import repeated_events
from crmkit.support.escalation import check_rules as check_escalation_rules
from crmkit.support.recurring import check_repeats
from crmkit.support.sla_checks import check_config as check_sla_config

Checker = Callable[[Workspace], list[Problem]]

#: The codes that are warnings, not problems: `check` fails on them only with --strict.
WARNING_CODES: frozenset[str] = frozenset(STORE_WARNINGS | RULE_WARNINGS | RATE_WARNINGS | SOCIAL_WARNINGS)

#: Every domain's checker, in the order their problems were reported before sorting.
CHECKERS: list[Checker] = [
    symlinks,
    check_sales_rules,
    check_segments,
    check_sla_config,
    check_escalation_rules,
    check_rates,
    check_offers,
    check_templates,
    check_value_rules,
    check_social,
    check_network,
    check_partners,
    check_cadences,
    check_campaigns,
    check_events,
    check_repeats,
    # what a merge of two clones can break (README: Working as a team)
    check_damage,
    repeated_events,
    duplicate_people,
]


def check_workspace(ws: Workspace, progress: Callable[[int], None] | None = None) -> list[Problem]:
    """Everything wrong with the workspace, sorted by file and line."""
    problems = check_records(ws, progress)
    for checker in CHECKERS:
        problems.extend(checker(ws))
    problems.sort(key=lambda p: (p.path, p.line or 0, p.code))
    return problems
