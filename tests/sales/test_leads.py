"""The lead lifecycle: qualify, disqualify, convert (with and without existing records), forms."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from crmkit.errors import CrmkitError, UsageError
from crmkit.sales import leads
from crmkit.store.workspace import Workspace

NOW = "2026-11-22T10:00:00+01:00"
LEAD = """\
name: Anna Berg
email: anna.berg@nordvik.no
company_name: Nordvik AS
status: qualified
source: web_form
users: 100
country: NO
interest: ERP system
owner: daniel
"""


def commits(root: Path) -> int:
    return int(subprocess.run(["git", "rev-list", "--count", "HEAD"], cwd=root, capture_output=True,
                              text=True, check=True).stdout)


@pytest.fixture
def one(make_ws) -> Workspace:  # type: ignore[no-untyped-def]
    root = make_ws({"leads/ld-1.yaml": LEAD})
    return Workspace(root, now=NOW)


def test_convert_creates_everything(one: Workspace) -> None:
    before = commits(one.root)
    conv = leads.convert(one, "ld-1", "crmkit lead convert ld-1")
    assert commits(one.root) == before + 1
    assert (conv.contact, conv.contact_created, conv.company, conv.company_created, conv.deal, conv.owner) == (
        "anna-berg", True, "nordvik-as", True, "nordvik-as-erp-system", "daniel")
    ws = Workspace(one.root, now=NOW)
    contact, company, deal, lead = (ws.get("anna-berg"), ws.get("nordvik-as"), ws.get("nordvik-as-erp-system"),
                                    ws.get("ld-1"))
    assert contact.data["company"] == "nordvik-as" and contact.data["email"] == "anna.berg@nordvik.no"
    assert company.data["domain"] == "nordvik.no" and company.data["country"] == "NO"
    assert deal.data["stage"] == "lead" and deal.data["owner"] == "daniel" and deal.data["contacts"] == ["anna-berg"]
    assert deal.data["company"] == "nordvik-as" and deal.data["lead"] == "ld-1" and deal.data["title"] == "Nordvik AS: ERP system"
    assert lead.data["status"] == "converted"
    assert lead.data["converted"]["contact"] == "anna-berg" and lead.data["converted"]["deal"] == "nordvik-as-erp-system"
    assert lead.data["converted"]["at"].isoformat() == NOW
    msg = subprocess.run(["git", "log", "-1", "--format=%B"], cwd=one.root, capture_output=True, text=True).stdout
    assert msg.startswith("crmkit: convert lead/ld-1 into deal/nordvik-as-erp-system")
    from crmkit.check import check_workspace

    assert check_workspace(ws) == []


def test_convert_links_existing_contact_and_company(make_ws) -> None:  # type: ignore[no-untyped-def]
    root = make_ws({
        "leads/ld-1.yaml": LEAD.replace("company_name: Nordvik AS", "company_name: Nordvik"),
        "contacts/anna.yaml": "name: Anna B.\nemail: Anna.Berg@Nordvik.no\n",
        "companies/nordvik.yaml": "name: Nordvik Holding\ndomain: www.nordvik.no\n",
    })
    ws = Workspace(root, now=NOW)
    conv = leads.convert(ws, "ld-1", "c", owner="karin", value="120000")
    assert (conv.contact, conv.contact_created, conv.company, conv.company_created) == ("anna", False, "nordvik", False)
    ws = Workspace(root, now=NOW)
    assert ws.get("anna").data["company"] == "nordvik"  # the link is filled in
    deal = ws.get(f"deal/{conv.deal}")
    assert deal.data["owner"] == "karin" and deal.data["value"] == "120000" and deal.data["currency"] == "SEK"
    assert sorted(p.name for p in (root / "contacts").iterdir()) == ["anna.yaml"]


def test_company_found_by_name_when_mail_is_free(make_ws) -> None:  # type: ignore[no-untyped-def]
    root = make_ws({
        "leads/ld-1.yaml": "name: Bo Ek\nemail: bo.ek@gmail.com\ncompany_name: Ek & Son AB\nstatus: qualified\n",
        "companies/ek-son.yaml": "name: EK & SON\ndomain: gmail.com\n",  # a domain of free mail is never matched
    })
    ws = Workspace(root, now=NOW)
    conv = leads.convert(ws, "ld-1", "c")
    assert conv.company == "ek-son" and not conv.company_created and conv.contact_created
    assert conv.owner is None


def test_convert_without_company_name(make_ws) -> None:  # type: ignore[no-untyped-def]
    root = make_ws({"leads/ld-1.yaml": "name: Solo\nemail: solo@hotmail.com\nstatus: prospect\n"})
    ws = Workspace(root, now=NOW)
    conv = leads.convert(ws, "ld-1", "c")
    assert conv.company is None and conv.deal == "solo-new-business"
    assert "company" not in Workspace(root).get("ld-1").data["converted"]


def test_convert_refuses_converted_and_disqualified(make_ws) -> None:  # type: ignore[no-untyped-def]
    root = make_ws({"leads/ld-1.yaml": "name: A\nstatus: disqualified\ndisqualified_reason: no budget\n",
                    "leads/ld-2.yaml": "name: B\nstatus: converted\nconverted: {deal: x}\n"})
    ws = Workspace(root, now=NOW)
    with pytest.raises(CrmkitError, match="disqualified \\(no budget\\); qualify it first"):
        leads.convert(ws, "ld-1", "c")
    with pytest.raises(CrmkitError, match="converted already \\(into deal x\\)"):
        leads.convert(ws, "ld-2", "c")
    root2 = make_ws({"leads/ld-3.yaml": "name: C\nstatus: qualified\n"})
    with pytest.raises(UsageError, match="not a user"):
        leads.convert(Workspace(root2), "ld-3", "c", owner="ghost")


def test_qualify_and_disqualify(make_ws) -> None:  # type: ignore[no-untyped-def]
    root = make_ws({"leads/ld-1.yaml": "name: A\nstatus: prospect\n# keep me\nusers: 5\n"})
    ws = Workspace(root, now=NOW)
    with pytest.raises(UsageError, match="reason is required"):
        leads.disqualify(ws, "ld-1", "  ", "c")
    rec = leads.disqualify(ws, "ld-1", "no budget", "c")
    assert rec.data["status"] == "disqualified" and rec.data["disqualified_reason"] == "no budget"
    rec = leads.qualify(Workspace(root), "ld-1", "c")
    assert rec.data["status"] == "qualified" and "disqualified_reason" not in rec.data
    assert "# keep me" in (root / "leads/ld-1.yaml").read_text()
    with pytest.raises(CrmkitError, match="qualified already"):
        leads.qualify(Workspace(root), "ld-1", "c")


@pytest.mark.parametrize("text,fragment", [
    ("{not json", "not valid JSON"),
    ("", "no JSON form"),
    ("[1, 2]", "must be a JSON object"),
    ('{"name": "A"}', "lacks email"),
    ('{"email": "a@b.se"}', "lacks name"),
    ('{"phone": "1"}', "lacks name and email"),
    ('{"name": "A", "email": "nope"}', "not an email address"),
])
def test_bad_forms_are_refused(text: str, fragment: str) -> None:
    with pytest.raises(CrmkitError) as err:
        leads.form_data(text)
    assert fragment in str(err.value) and "nothing was written" in str(err.value)


def test_form_values() -> None:
    data = leads.form_data('{"first_name": "Anna", "last_name": "Berg", "e-mail": "a@b.no", "company": "Nordvik AS",'
                           ' "users": "100", "phone": "0767101055", "zip": "01234", "empty": "", "x": null, "seats2": 3.0}')
    assert data == {"name": "Anna Berg", "email": "a@b.no", "company_name": "Nordvik AS", "users": 100,
                    "phone": "0767101055", "zip": "01234", "seats2": 3.0}
    assert leads.form_data('{"name": "A", "email": "a@b.se", "users": "many"}')["users"] == "many"


def test_form_field_names_become_lead_fields() -> None:
    data = leads.form_data('{"Full Name": "Anna Berg", "E-mail": "a@b.no", "Company Name": "Nordvik AS",'
                           ' "Company Size": "80", "tags": "erp, vip", "Lead-Source": "web_form"}')
    assert data == {"name": "Anna Berg", "email": "a@b.no", "company_name": "Nordvik AS", "company_size": "80",
                    "tags": ["erp", "vip"], "lead_source": "web_form"}
    assert leads.form_key("First Name") == "first_name" and leads.form_key(" seats ") == "users"
