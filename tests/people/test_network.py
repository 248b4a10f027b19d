"""Memberships and relationships: one reference-checked shape; warm paths into an account."""

from __future__ import annotations

import json

import pytest

from crmkit.people.network import warm_paths
from crmkit.store.workspace import Workspace

FILES = {
    "companies/target-ab.yaml": "name: Target AB\n",
    "companies/home-ab.yaml": "name: Home AB\n",
    "companies/bni-city.yaml": "name: BNI City\ntype: network\n",
    "contacts/tina.yaml": "name: Tina Target\ncompany: target-ab\ntitle: CFO\n"
                          "memberships:\n  - {organisation: bni-city, role: member}\n",
    "contacts/tom.yaml": "name: Tom Target\ncompany: target-ab\n"
                         "relationships:\n  - {type: reports_to, contact: tina}\n",
    "contacts/tess.yaml": "name: Tess Target\ncompany: target-ab\n",
    "contacts/hugo.yaml": "name: Hugo Home\ncompany: home-ab\n"
                          "memberships:\n  - {organisation: bni-city, role: chapter president}\n"
                          "relationships:\n  - {type: knows, user: daniel}\n",
    "contacts/hanna.yaml": "name: Hanna Home\ncompany: home-ab\n",
    "activities/act-20261101-aaaaa.yaml": "type: meeting\nsubject: Lunch\nat: 2026-11-01T12:00:00+01:00\n"
                                          "owner: karin\ncontact: hanna\n",
    "activities/act-20261102-aaaab.yaml": "type: note\nsubject: heard of Tess\nat: 2026-11-02T12:00:00+01:00\n"
                                          "owner: alan\ncontact: tess\n",
}


@pytest.fixture
def ws(make_ws):  # type: ignore[no-untyped-def]
    return make_ws(FILES)


def test_warm_paths_follow_relationships_shared_organisations_and_logged_interactions(ws) -> None:
    targets = {t.contact: t for t in warm_paths(Workspace(ws), "target-ab")}
    (tina,) = targets["tina"].paths
    assert tina.user == "daniel" and tina.steps == [("knows", "hugo"), ("both in BNI City", "tina")]
    (tom,) = targets["tom"].paths
    assert [who for _, who in tom.steps] == ["hugo", "tina", "tom"] and tom.steps[-1][0] == "manages"
    assert targets["tess"].paths == []  # a note about someone is no interaction with them
    assert [t.contact for t in warm_paths(Workspace(ws), "target-ab")] == ["tina", "tom", "tess"]
    assert not [t for t in warm_paths(Workspace(ws), "target-ab", max_steps=1) if t.paths]


def test_an_interaction_a_user_logged_is_a_direct_tie(ws) -> None:
    (hanna,) = [t for t in warm_paths(Workspace(ws), "home-ab") if t.contact == "hanna"]
    assert [(p.user, p.steps) for p in hanna.paths] == [("karin", [("1 interaction", "hanna")])]


def test_report_network_as_table_and_json(run, ws) -> None:
    r = run(["report", "network", "target-ab"], ws)
    assert r.exit_code == 0, r.stderr
    assert "daniel -[knows]-> Hugo Home -[both in BNI City]-> Tina Target" in r.stdout
    assert "(no warm path)" in r.stdout
    data = json.loads(run(["report", "network", "target-ab", "--format", "json"], ws).stdout)
    tina = next(c for c in data["contacts"] if c["contact"] == "tina")
    assert tina["paths"][0]["steps"] == [{"how": "knows", "contact": "hugo"},
                                        {"how": "both in BNI City", "contact": "tina"}]
    assert run(["report", "network", "no-such-company"], ws).exit_code == 1
    one = run(["report", "network", "target-ab", "--max-links", "1"], ws)
    assert "at most: 1 link\n" in one.stdout and "at most: 3 links\n" in r.stdout


def test_check_finds_every_broken_membership_and_relationship(run, make_ws) -> None:
    ws = make_ws({**FILES, "contacts/bad.yaml": (
        "name: Bad\nmemberships:\n  - {organisation: rotary-nowhere, role: member}\n"
        "relationships:\n  - {type: knows, contact: ghost}\n  - {type: likes, contact: tina}\n"
        "  - {type: knows, user: nobody}\n  - {type: knows, contact: tina, user: daniel}\n"
        "  - {type: knows, contact: bad}\n")})
    r = run(["check"], ws)
    out = r.stdout + r.stderr
    assert r.exit_code == 1
    for line in ("contacts/bad.yaml:2: network: memberships item 1: no company with id 'rotary-nowhere'",
                 "contacts/bad.yaml:4: network: relationships item 1: no contact with id 'ghost'",
                 "relationships item 2: type is one of knows, introduced_by, reports_to, not 'likes'",
                 "relationships item 3: 'nobody' is not a user in crmkit.yaml",
                 "relationships item 4: names one contact or one user",
                 "relationships item 5: a contact's relationship to itself"):
        assert line in out, line
    assert run(["check"], make_ws(FILES)).exit_code == 0


def test_show_lists_memberships_and_relationships(run, ws) -> None:
    r = run(["show", "hugo"], ws)
    assert r.exit_code == 0 and "organisation: bni-city" in r.stdout and "user: daniel" in r.stdout


def test_the_sample_has_a_warm_path_into_lindholmen(run, sample_ws) -> None:
    r = run(["report", "network", "lindholmen-bygg-ab", "--format", "json"], sample_ws)
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    oskar = next(c for c in data["contacts"] if c["contact"] == "oskar-wallin")
    users = {p["user"]: p["steps"] for p in oskar["paths"]}
    assert users["daniel"] == [{"how": "knows", "contact": "ulf-sodergran"}, {"how": "knows", "contact": "oskar-wallin"}]
    assert [s["how"] for s in users["sofia"]][-1].startswith("both in Ekonomichefsn")
