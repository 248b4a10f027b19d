"""Merging: field by field, every reference moved (nested ones too), a tombstone left behind."""

from __future__ import annotations

import re
import subprocess

from crmkit.people.merge import apply_merge, merged_fields, plan_merge
from crmkit.store import yamlio
from crmkit.store.workspace import Workspace


def test_merged_fields_keep_take_join() -> None:
    keep = {"name": "Anna Berg", "email": "anna@example.se", "phone": "070-123 45 67", "tags": ["a"],
            "address": {"city": "Göteborg"}, "title": ""}
    other = {"name": "Anna B.", "email": "anna.berg@work.se", "phone": "+46 70 123 45 67", "tags": ["b", "a"],
             "address": {"city": "Gbg", "zip": "41101"}, "title": "CFO", "created": "2020-01-01",
             "emails": [{"type": "home", "value": "ANNA@example.se"}, {"type": "home", "value": "a@home.se"}],
             "custom_field": 7}
    changes = merged_fields(keep, other, "SE")
    assert changes == {
        "tags": ["a", "b"],                                             # lists joined, no repeats
        "address": {"city": "Göteborg", "zip": "41101"},                # mapping merged key by key
        "title": "CFO",                                                  # taken where the kept one is empty
        "custom_field": 7,                                               # unknown fields too
        # the other's address and its extra ones survive; the same number written differently does not repeat
        "emails": [{"type": "other", "value": "anna.berg@work.se"}, {"type": "home", "value": "a@home.se"}],
    }
    assert "name" not in changes and "created" not in changes


WS = {
    "contacts/anna-berg.yaml": "name: Anna Berg\nemail: anna@example.se\n",
    "contacts/anna-b.yaml": "name: Anna B.\ntitle: CFO  # from the fair\n",
    "contacts/old-anna.yaml": "merged_into: anna-b\nwas: Old Anna\n",
    "leads/ld-20261101-aaaaa.yaml": ("name: Anna B.\nstatus: converted\nconverted:\n"
                                    "  contact: anna-b\n  company: acme\n"),
    "companies/acme.yaml": "name: Acme\n",
    "deals/acme-erp.yaml": "title: Acme ERP\ncompany: acme\ncontacts:\n  - anna-b  # champion\n  - anna-berg\nstage: lead\n",
    "activities/act-20261101-bbbbb.yaml": "type: call\ncontact: anna-b\nat: 2026-11-01T10:00:00+01:00\n",
}


def test_plan_then_apply_moves_nested_references_and_tombstones(make_ws) -> None:
    root = make_ws(WS)
    ws = Workspace.find(root)
    plan = plan_merge(ws, "anna-berg", "anna-b")
    assert plan.changes == {"title": "CFO"}
    assert sorted((m.record.ref, m.path) for m in plan.moves) == [
        ("activity/act-20261101-bbbbb", "contact"), ("deal/acme-erp", "contacts"),
        ("lead/ld-20261101-aaaaa", "converted.contact")]
    assert plan.tombstones == ["old-anna"]
    assert plan.conflicts == {"name": ("Anna Berg", "Anna B.")}
    result = apply_merge(Workspace.find(root), "anna-berg", "contact/anna-b", "crmkit merge anna-berg anna-b")
    assert result["kept"] == "contact/anna-berg" and result["fields"] == ["title"]
    deal = (root / "deals/acme-erp.yaml").read_text()
    # one entry left, the comment kept (ruamel keeps its column, so the spacing may shift)
    assert re.fullmatch(r"title: Acme ERP\ncompany: acme\ncontacts:\n  - anna-berg +# champion\nstage: lead\n", deal), deal
    assert yamlio.load_fast(root / "leads/ld-20261101-aaaaa.yaml")["converted"]["contact"] == "anna-berg"
    assert yamlio.load_fast(root / "activities/act-20261101-bbbbb.yaml")["contact"] == "anna-berg"
    assert yamlio.load_fast(root / "contacts/old-anna.yaml")["merged_into"] == "anna-berg"
    tomb = yamlio.load_fast(root / "contacts/anna-b.yaml")
    assert tomb["merged_into"] == "anna-berg" and tomb["was"] == "Anna B."
    log = subprocess.run(["git", "log", "--format=%s", "-n", "2"], cwd=root, capture_output=True, text=True).stdout
    assert log.splitlines()[0] == "crmkit: merge contact/anna-b into contact/anna-berg"
    body = subprocess.run(["git", "log", "-1", "--format=%b"], cwd=root, capture_output=True, text=True).stdout
    assert "kept name 'Anna Berg' of contact/anna-berg over 'Anna B.' of contact/anna-b" in body
    assert subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True).stdout == ""


from hypothesis import given  # noqa: E402
from hypothesis import strategies as st

_VALUE = st.one_of(st.text(max_size=5), st.integers(), st.lists(st.sampled_from(["a", "b", "c"]), max_size=3),
                   st.dictionaries(st.sampled_from(["city", "zip"]), st.text(max_size=3), max_size=2))
_RECORD = st.dictionaries(st.sampled_from(["name", "title", "tags", "address", "notes", "x"]), _VALUE, max_size=5)
_CONTACT = st.fixed_dictionaries({}, optional={
    "email": st.sampled_from(["a@x.se", "A@x.se", "b@x.se"]),
    "emails": st.lists(st.builds(lambda v: {"type": "home", "value": v}, st.sampled_from(["a@x.se", "c@x.se"])),
                       max_size=2)})


@given(keep=_RECORD, other=_RECORD, keep_mail=_CONTACT, other_mail=_CONTACT)
def test_merging_keeps_everything_and_loses_nothing(keep, other, keep_mail, other_mail) -> None:
    keep, other = {**keep, **keep_mail}, {**other, **other_mail}
    changes = merged_fields(keep, other)
    after = {**keep, **changes}
    for key, value in keep.items():                   # what KEEP has stays (mappings and lists may grow)
        if value in (None, "", [], {}):
            continue
        if isinstance(value, dict):
            assert all(after[key].get(k) == v for k, v in value.items() if v not in (None, "", [], {}))
        elif isinstance(value, list):
            assert after[key][:len(value)] == value
        elif value not in (None, "", [], {}):
            assert after[key] == value
    for key, value in other.items():                  # what OTHER has is somewhere on KEEP
        if key in ("email", "emails") or value in (None, "", [], {}):
            continue
        if keep.get(key) not in (None, "", [], {}) and type(keep[key]) is not type(value):
            continue                                  # a conflict: KEEP's value wins (OTHER's stays in git history)
        if isinstance(value, list):
            assert isinstance(after[key], list) and all(v in after[key] for v in value)
        elif not isinstance(value, dict):
            assert key in after and after[key] not in (None, "", [], {})
    addresses = {e.lower() for e in [after.get("email")] + [m["value"] for m in after.get("emails", [])] if e}
    for e in [other.get("email")] + [m["value"] for m in other.get("emails", [])]:
        if e:
            assert e.lower() in addresses
    assert merged_fields(after, other) == {}          # merging the same record again changes nothing
