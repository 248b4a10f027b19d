"""Segments: saved queries, the cross-sell case, and what check says about broken ones."""

from __future__ import annotations

import json

import pytest
from conftest import MINIMAL_CONFIG

FILES = {
    "crmkit.yaml": MINIMAL_CONFIG,
    "companies/akerberg-ab.yaml": "name: Åkerberg AB\n",
    "companies/nordvik-as.yaml": "name: Nordvik AS\n",
    "companies/dunamenti-kft.yaml": "name: Dunamenti Kft.\n",
    "contacts/anna-akerberg.yaml": "name: Anna Åkerberg\nemail: anna@akerberg.se\ncompany: akerberg-ab\n",
    "contacts/bjorn-odegard.yaml": "name: Bjørn Ødegård\nemail: bjorn@nordvik.no\ncompany: nordvik-as\n",
    "contacts/kovacs-peter.yaml": "name: Kovács Péter\nemail: peter@dunamenti.hu\ncompany: dunamenti-kft\n",
    # Åkerberg bought ERP only; Nordvik bought ERP and support; Dunamenti's ERP deal is still open
    "deals/akerberg-erp.yaml": "title: Åkerberg ERP\ncompany: akerberg-ab\nstage: won\nproducts: [ERP, Training]\n",
    "deals/nordvik-erp.yaml": "title: Nordvik ERP\ncompany: nordvik-as\nstage: won\nproducts: [ERP]\n",
    "deals/nordvik-support.yaml": "title: Nordvik support\ncompany: nordvik-as\nstage: won\n"
                                  "products: [Support agreement]\n",
    "deals/dunamenti-erp.yaml": "title: Dunamenti ERP\ncompany: dunamenti-kft\nstage: proposal\nproducts: [ERP]\n",
    "segments/cross-sell-support.yaml": "description: ERP customers without support\nkind: contact\n"
                                        "where: '\"ERP\" in bought and not (\"Support agreement\" in bought)'\n",
    "segments/all-companies.yaml": "kind: company\n",
}


@pytest.fixture
def ws(make_ws):
    return make_ws(FILES)


def test_cross_sell_finds_who_bought_one_product_but_not_the_other(run, ws) -> None:
    r = run(["segment", "show", "cross-sell-support", "--json"], ws)
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert [m["id"] for m in data["members"]] == ["anna-akerberg"]
    assert data["segment"]["kind"] == "contact" and data["segment"]["description"] == "ERP customers without support"


def test_list_counts_members_today(run, ws) -> None:
    r = run(["segment", "list", "--format", "json"], ws)
    assert r.exit_code == 0, r.stderr
    rows = {row["name"]: row for row in json.loads(r.stdout)}
    assert rows["cross-sell-support"]["members"] == 1
    assert rows["all-companies"]["members"] == 3 and rows["all-companies"]["where"] is None


def test_show_as_a_table_with_chosen_fields(run, ws) -> None:
    r = run(["segment", "show", "cross-sell-support", "--fields", "id,email,bought"], ws)
    assert r.exit_code == 0, r.stderr
    assert "anna@akerberg.se" in r.stdout and "bjorn" not in r.stdout


def test_an_unknown_segment_lists_the_known_ones(run, ws) -> None:
    r = run(["segment", "show", "nope"], ws)
    assert r.exit_code == 1
    assert "no segment named 'nope' (segments: all-companies, cross-sell-support)" in r.stderr


@pytest.mark.parametrize("text,fragment", [
    ("kind: contact\nwhere: 'bought ==='\n", "segments/bad.yaml:2: segment: where:"),
    ("kind: robot\n", "segments/bad.yaml:1: segment: unknown kind 'robot'"),
    ("kind: contact\nwher: x == 1\n", "segments/bad.yaml:2: segment: unknown key 'wher'"),
    ("kind: contact\nwhere: colour == 'red'\n", "segments/bad.yaml:2: segment: where: unknown field 'colour'"),
    ("- a list\n", "segments/bad.yaml:1: segment: a segment is a mapping"),
])
def test_check_reports_broken_segments_with_file_and_line(run, ws, text, fragment) -> None:
    (ws / "segments/bad.yaml").write_text(text)
    r = run(["check"], ws)
    assert r.exit_code == 1
    assert fragment in r.stdout + r.stderr
    r = run(["segment", "show", "bad"], ws)
    assert r.exit_code == 1 and "Traceback" not in r.stderr


def test_mail_to_a_segment_of_companies_is_refused(run, ws) -> None:
    r = run(["mail", "render", "follow-up", "--segment", "all-companies"], ws)
    assert r.exit_code == 2 and "holds company records" in r.stderr
