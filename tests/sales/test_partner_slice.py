"""`crmkit partner export` -> the partner edits a clone -> `crmkit partner import`, through
the merge machinery; changes outside the slice refused whole."""

from __future__ import annotations

import pytest
from conftest import MINIMAL_CONFIG, git
from test_partners import PARTNER, lead

from crmkit.store import yamlio

FILES = {
    "crmkit.yaml": MINIMAL_CONFIG + 'mail:\n  from: "Test AB <hej@example.se>"\n',
    "companies/fjord-partner.yaml": PARTNER.replace("capacity: 1", "capacity: 5"),
    "contacts/petter.yaml": "name: Petter Partner\nemail: petter@fjordpartner.no\ncompany: fjord-partner\n",
    "contacts/other.yaml": "name: Someone Else\n",
    "leads/ld-1.yaml": lead("Kari") + "owner: alan\npartner: fjord-partner\n",
    "leads/ld-9.yaml": lead("Other") + "owner: daniel\n",
    "activities/act-20261120-aaaaa.yaml": "type: email\ndirection: in\nsubject: Hej\nat: 2026-11-20T10:00:00+01:00\n"
                                          "lead: ld-1\nbody: my private words\n",
    "partners/shared/erp-brochure.pdf": "%PDF-1.4 brochure\n",
}


@pytest.fixture
def ws(make_ws):  # type: ignore[no-untyped-def]
    return make_ws(FILES)


def export_and_clone(run, ws, tmp_path):  # type: ignore[no-untyped-def]
    r = run(["partner", "export", "fjord-partner", str(tmp_path / "slice")], ws)
    assert r.exit_code == 0, r.stderr
    git(tmp_path, "clone", "-q", str(tmp_path / "slice"), str(tmp_path / "clone"))
    return tmp_path / "clone"


def test_the_slice_holds_only_the_partners_records_and_what_it_may_see(run, ws, tmp_path) -> None:
    clone = export_and_clone(run, ws, tmp_path)
    files = set(git(clone, "ls-files").split())
    assert {"leads/ld-1.yaml", "companies/fjord-partner.yaml", "contacts/petter.yaml",
            "shared/erp-brochure.pdf", "crmkit.yaml", "slice.yaml"} <= files
    assert not {"leads/ld-9.yaml", "contacts/other.yaml", "activities/act-20261120-aaaaa.yaml"} & files
    kari = yamlio.load_fast(clone / "leads/ld-1.yaml")
    assert "email" not in kari and "phone" not in kari and kari["name"] == "Kari AS" and "owner" not in kari
    assert run(["check"], clone).exit_code == 0


def test_export_edit_in_the_clone_import_and_again_nothing(run, ws, tmp_path) -> None:
    clone = export_and_clone(run, ws, tmp_path)
    assert run(["set", "ld-1", "status=qualified", "partner_status=accepted"], clone).exit_code == 0
    assert run(["--now", "2026-11-24T09:00", "activity", "add", "Called Kari", "type=call", "lead=ld-1"],
               clone).exit_code == 0
    (clone / "deals").mkdir(exist_ok=True)
    (clone / "deals/kari-erp.yaml").write_text("title: Kari ERP\nstage: proposal\nvalue: '90000'\nlead: ld-1\n")
    git(clone, "add", "-A")
    git(clone, "commit", "-qm", "quote for Kari")
    # meanwhile, we changed the same lead elsewhere: the merge keeps both
    assert run(["set", "ld-1", "notes=met at the fair"], ws).exit_code == 0
    r = run(["partner", "import", "fjord-partner", str(clone)], ws)
    assert r.exit_code == 0, r.stderr
    kari = yamlio.load_fast(ws / "leads/ld-1.yaml")
    assert (kari["status"], kari["partner_status"], kari["notes"]) == ("qualified", "accepted", "met at the fair")
    assert kari["email"] == "kari@kunde.no" and kari["owner"] == "alan"  # what the slice never had stays
    assert yamlio.load_fast(ws / "deals/kari-erp.yaml")["lead"] == "ld-1"
    assert any(yamlio.load_fast(p).get("subject") == "Called Kari" for p in (ws / "activities").glob("*.yaml"))
    assert "take back partner fjord-partner" in git(ws, "log", "-1", "--format=%s")
    head = git(ws, "rev-parse", "HEAD")
    again = run(["partner", "import", "fjord-partner", str(clone)], ws)
    assert again.exit_code == 0 and "nothing new" in again.stderr and git(ws, "rev-parse", "HEAD") == head


@pytest.mark.parametrize(("edit", "why"), [
    (lambda c: (c / "leads/ld-9.yaml").write_text("name: Sneaky\nstatus: prospect\n"), "a partner does not add leads"),
    (lambda c: (c / "contacts/petter.yaml").write_text("name: Petter P\n"), "outside the partner's slice"),
    (lambda c: (c / "crmkit.yaml").write_text("name: Mine\n"), "outside the partner's slice"),
    (lambda c: (c / "leads/ld-1.yaml").write_text((c / "leads/ld-1.yaml").read_text() + "owner: petter\n"),
     "not owner"),
    (lambda c: (c / "leads/ld-1.yaml").unlink(), "a partner does not delete records"),
    (lambda c: (c / "activities").mkdir() or (c / "activities/act-20261125-zzzzz.yaml").write_text(
        "type: call\nat: 2026-11-25T10:00:00+01:00\nlead: ld-9\n"), "not one of partner fjord-partner's leads"),
])
def test_a_change_outside_the_slice_refuses_the_whole_import(run, ws, tmp_path, edit, why) -> None:
    clone = export_and_clone(run, ws, tmp_path)
    assert run(["set", "ld-1", "status=qualified"], clone).exit_code == 0
    edit(clone)
    git(clone, "add", "-A")
    git(clone, "commit", "-qm", "partner work")
    before = (ws / "leads/ld-1.yaml").read_bytes()
    head = git(ws, "rev-parse", "HEAD")
    r = run(["partner", "import", "fjord-partner", str(clone)], ws)
    assert r.exit_code == 1 and why in r.stderr and "nothing taken back" in r.stderr, r.stderr
    assert (ws / "leads/ld-1.yaml").read_bytes() == before and git(ws, "rev-parse", "HEAD") == head


def test_a_slice_that_names_a_missing_company_or_another_partner_is_refused(run, ws, make_ws, tmp_path) -> None:
    r = run(["partner", "export", "ghost-as", str(tmp_path / "x")], ws)
    assert r.exit_code == 1 and "no partner company 'ghost-as'" in r.stderr and not (tmp_path / "x").exists()
    r = run(["partner", "export", "fjord-partner", str(tmp_path / "slice")], ws)
    (ws / "companies/fjord-partner.yaml").write_text("name: Fjord Partner AS\n")  # no longer a partner
    git(ws, "commit", "-qam", "not a partner any more")
    r = run(["partner", "import", "fjord-partner", str(tmp_path / "slice")], ws)
    assert r.exit_code == 1 and "has no partner: settings" in r.stderr
    other = make_ws({**FILES, "companies/other-partner.yaml": PARTNER})
    r = run(["partner", "import", "other-partner", str(tmp_path / "slice")], other)
    assert r.exit_code == 1 and "is the slice of partner fjord-partner, not of other-partner" in r.stderr
    r = run(["partner", "export", "fjord-partner", str(tmp_path / "slice")], other)
    assert r.exit_code == 1 and "is not an empty folder" in r.stderr
