"""crmkit.yaml's keys are listed twice on purpose (kinds for check, descriptions for the
editor schema); they must name the same keys, or check warns about a documented setting."""

from __future__ import annotations

from crmkit.store.config_keys import CONFIG_KEYS
from crmkit.store.configschema import SCHEMA, config_key_problems


def test_check_and_the_editor_schema_know_the_same_keys() -> None:
    assert set(SCHEMA) == set(CONFIG_KEYS)


def test_documented_team_and_identity_settings_are_not_warned_about() -> None:
    config = {"team": {"router_branch": "main", "stable_ids": True}, "git": {"name": "CRM", "email": "crm@x.se"},
              "tickets": {"reply_to_closed": "reopen"}, "mail": {"unsubscribe_url": "https://x.se/u/{id}"},
              "offers": {"accepted_sets_value": True}}
    assert config_key_problems(config, "crmkit.yaml", {}) == []
    typo = config_key_problems({"team": {"router_brnch": "main"}}, "crmkit.yaml", {})
    assert [p.code for p in typo] == ["config-key"] and "router_branch" in typo[0].message
