"""Rule files: loading with lines, and every problem `crmkit check` reports."""

from __future__ import annotations

import pytest

from crmkit.sales.rules import check_rules, load_rules
from crmkit.store.workspace import Workspace

CONFIG = """\
name: Test AB
timezone: Europe/Stockholm
users:
  daniel: {name: Daniel}
  karin: {name: Karin}
pools:
  sellers: {members: [daniel]}
"""


def problems(make_ws, rules: str, **files: str) -> list[str]:  # type: ignore[no-untyped-def]
    all_files = {"crmkit.yaml": CONFIG, "rules/routing.yaml": rules}
    all_files.update({k.replace("__", "/") + ".yaml": v for k, v in files.items()})
    root = make_ws(all_files)
    return [str(p) for p in check_rules(Workspace(root))]


def test_clean_rules_have_no_problems(make_ws) -> None:  # type: ignore[no-untyped-def]
    rules = """\
# comment
rules:
  - id: big
    description: the big ones
    when: users > 50
    assign: karin
    set: {industry: retail}
    tags: [big]
    notify: new-lead
  - id: rest
    when: true
    pool: sellers
"""
    assert problems(make_ws, rules) == []
    root = make_ws({"crmkit.yaml": CONFIG, "rules/routing.yaml": rules})
    rs = load_rules(Workspace(root))
    big, rest = rs.rules
    assert (big.id, big.kind, big.line, big.assign, big.set, big.tags, big.notify) == (
        "big", "lead", 3, "karin", {"industry": "retail"}, ["big"], "new-lead")
    assert rest.catch_all and rest.pool == "sellers" and rest.where == "rules/routing.yaml:10"


def test_every_kind_of_problem_is_reported_at_once_with_lines(make_ws) -> None:  # type: ignore[no-untyped-def]
    rules = """\
- id: broken
  when: users > 50 and
  assign: karin
- id: typo
  when: users > 10
  asign: karin
- id: ghost
  when: users > 5
  assign: nobody
- id: nopool
  when: users > 1
  pool: hunters
- id: badset
  when: users > 0
  assign: karin
  set: {owner: karin, stauts: x, users: many}
- id: catch
  assign: daniel
- id: late
  when: users < 0
  assign: karin
"""
    found = problems(make_ws, rules)
    text = "\n".join(found)
    assert "rules/routing.yaml:2: rule-syntax: rule broken: when: the condition ends too early at column 15" in text
    assert "rules/routing.yaml:6: rule-field: rule typo: unknown field 'asign' (did you mean 'assign'?)" in text
    assert "rules/routing.yaml:7: rule-owner: rule ghost: assign: 'nobody' is not a user in crmkit.yaml" in text
    assert "rules/routing.yaml:10: rule-pool: rule nopool: pool: 'hunters' is not a pool in crmkit.yaml (pools: sellers)" in text
    assert "cannot set 'owner'" in text
    assert "unknown lead field 'stauts' (did you mean 'status'?)" in text
    assert "set: users: expected a whole number, found 'many'" in text
    assert "rules/routing.yaml:19: rule-unreachable: rule late can never match: the catch-all catch (rules/routing.yaml:17)" in text


def test_missing_fallback_per_kind(make_ws) -> None:  # type: ignore[no-untyped-def]
    rules = """\
- id: big
  when: users > 50
  assign: karin
- id: tickets-all
  kind: ticket
  assign: daniel
"""
    found = problems(make_ws, rules)
    assert found == ["rules/routing.yaml:1: rule-fallback: lead rules have no fallback: end them with a rule "
                     "without `when` (or `when: true`) so no record is left unrouted"]


def test_triage_file_defaults_to_tickets_and_yaml_errors_have_lines(make_ws) -> None:  # type: ignore[no-untyped-def]
    root = make_ws({"crmkit.yaml": CONFIG, "rules/routing.yaml": "- id: all\n  assign: karin\n",
                    "rules/triage.yaml": "- id: all\n  assign: daniel\n"})
    rs = load_rules(Workspace(root))
    assert [(r.kind, r.id) for r in rs.rules] == [("lead", "all"), ("ticket", "all")]
    found = problems(make_ws, "- id: a\n  when: [unclosed\n  assign: karin\n")
    assert len(found) == 1 and found[0].startswith("rules/routing.yaml:") and "rule-syntax: invalid YAML" in found[0]


def test_unknown_fields_in_conditions_are_warned(make_ws) -> None:  # type: ignore[no-untyped-def]
    found = problems(make_ws, "- id: a\n  when: usres > 5\n  assign: karin\n- id: b\n  assign: karin\n")
    assert found == ["rules/routing.yaml:1: rule-unknown-field: rule a: when: no lead has a field 'usres', "
                     "so this comparison is always false"]


def test_duplicate_ids_and_unknown_kind(make_ws) -> None:  # type: ignore[no-untyped-def]
    found = problems(make_ws, "- id: a\n  when: users > 1\n  assign: karin\n- id: a\n  kind: lemon\n  assign: karin\n")
    text = "\n".join(found)
    assert "rule-id: rule id 'a' is used twice" in text and "rule-kind: rule a: unknown kind 'lemon'" in text


def test_unknown_notify_template_is_reported(make_ws) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("crmkit.marketing.mail")
    found = problems(make_ws, "- id: a\n  assign: karin\n  notify: no-such-template\n")
    assert len(found) == 1 and found[0].startswith("rules/routing.yaml:1: rule-notify: rule a: notify: ")
    assert problems(make_ws, "- id: a\n  assign: karin\n  notify: new-lead\n") == []
