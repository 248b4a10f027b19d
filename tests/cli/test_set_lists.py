"""`crmkit set ID tags+=vip / tags-=vip` on lists, and field names that are not keys refused."""

from __future__ import annotations

import pytest
from conftest import git

from crmkit.store import yamlio


@pytest.fixture
def ws(make_ws):
    return make_ws({"contacts/bjorn-odegard.yaml": "name: Bjørn Ødegård\n# who he is\ntags:\n  - decision-maker\n"})


def tags(ws) -> list:
    return yamlio.load_fast(ws / "contacts/bjorn-odegard.yaml").get("tags")


def test_add_and_remove_list_items(run, ws) -> None:
    r = run(["set", "bjorn-odegard", "tags+=vip,nordic"], ws)
    assert r.exit_code == 0, r.stderr
    assert tags(ws) == ["decision-maker", "vip", "nordic"]
    assert run(["set", "bjorn-odegard", "tags+=vip"], ws).stdout.strip() == "contact/bjorn-odegard unchanged"
    r = run(["set", "bjorn-odegard", "tags-=nordic", "tags-=gone"], ws)
    assert r.exit_code == 0 and tags(ws) == ["decision-maker", "vip"]
    assert "has no tags item gone" in r.stderr
    text = (ws / "contacts/bjorn-odegard.yaml").read_text()
    assert "# who he is" in text and "tags+" not in text
    assert "fields: tags-=nordic" in git(ws, "log", "-1", "--format=%B")


def test_add_to_a_missing_list_creates_it(run, ws) -> None:
    (ws / "contacts/anna.yaml").write_text("name: Anna\n")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "anna")
    assert run(["set", "anna", "tags+=vip"], ws).exit_code == 0
    assert yamlio.load_fast(ws / "contacts/anna.yaml")["tags"] == ["vip"]


@pytest.mark.parametrize("arg", ["tags++=vip", "a b=1", "=1", "x.=1", "1abc=2", "tags!=x", "na$me=x"])
def test_a_field_name_that_is_not_a_key_is_refused(run, ws, arg) -> None:
    before = (ws / "contacts/bjorn-odegard.yaml").read_text()
    r = run(["set", "bjorn-odegard", arg], ws)
    assert r.exit_code == 2 and r.stderr.startswith("crmkit: error: ") and "Traceback" not in r.stderr
    assert (ws / "contacts/bjorn-odegard.yaml").read_text() == before


def test_plus_equals_on_a_scalar_or_in_add_is_refused(run, ws) -> None:
    r = run(["set", "bjorn-odegard", "name+=x"], ws)
    assert r.exit_code == 2 and "not a list" in r.stderr
    r = run(["contact", "add", "Anna", "tags+=vip"], ws)
    assert r.exit_code == 2 and "is for `crmkit set`" in r.stderr
    r = run(["set", "bjorn-odegard", "--unset", "tags+"], ws)
    assert r.exit_code == 2
