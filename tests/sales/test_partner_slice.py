"""`crmkit partner export` -> the partner edits a clone -> `crmkit partner import`, through
the merge machinery; changes outside the slice refused whole."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import MINIMAL_CONFIG, git
from test_partners import PARTNER, lead

from crmkit.store import yamlio

INVITE = "---\nsubject: ERP for {{ contact.name }}\nkind: marketing\n---\nHei!\n\n{{ unsubscribe }}\n"
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
    # campaigns: the running ones travel with the slice, read-only, with their segment and templates
    "segments/nordic.yaml": "kind: contact\nwhere: country == NO\n",
    "templates/mail/erp-invite.md.j2": INVITE,
    "templates/mail/erp-invite.nb.md.j2": INVITE.replace("ERP for", "ERP til"),
    "templates/mail/erp-invite-old.md.j2": INVITE,
    "campaigns/erp-spring.yaml": ("name: ERP spring\ngoal: ERP pilots in Norway\nchannel: email\nsegment: nordic\n"
                                  "template: erp-invite\nstatus: running\nbudget: 20000\nowner: daniel\n"
                                  "learned: our own lessons\n"),
    "campaigns/erp-autumn.yaml": "name: ERP autumn\nsegment: nordic\ntemplate: erp-invite-old\nstatus: finished\n",
    "campaigns/erp-november.yaml": ("name: ERP November\nsegment: nordic\ntemplate: erp-invite\n"
                                    "start: 2026-11-01\nend: 2026-11-30\n"),           # no status: its dates say
    "campaigns/erp-next-year.yaml": "name: ERP 2027\nsegment: nordic\ntemplate: erp-invite\nstart: 2027-01-04\n",
}
CARRIED = {"campaigns/erp-spring.yaml", "campaigns/erp-november.yaml", "segments/nordic.yaml",
           "templates/mail/erp-invite.md.j2", "templates/mail/erp-invite.nb.md.j2"}


@pytest.fixture
def ws(make_ws):  # type: ignore[no-untyped-def]
    return make_ws(FILES)


def export_and_clone(run, ws, tmp_path):  # type: ignore[no-untyped-def]
    r = run(["--now", "2026-11-20T09:00", "partner", "export", "fjord-partner", str(tmp_path / "slice")], ws)
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


def test_the_running_campaigns_travel_read_only_with_their_segment_and_templates(run, ws, tmp_path) -> None:
    clone = export_and_clone(run, ws, tmp_path)
    files = set(git(clone, "ls-files").split())
    assert CARRIED <= files
    assert not {"campaigns/erp-autumn.yaml", "campaigns/erp-next-year.yaml", "templates/mail/erp-invite-old.md.j2"} \
        & files
    spring = yamlio.load_fast(clone / "campaigns/erp-spring.yaml")
    assert spring == {"name": "ERP spring", "goal": "ERP pilots in Norway", "channel": "email", "segment": "nordic",
                      "template": "erp-invite", "status": "running"}      # not our budget, owner or lessons
    assert (clone / "templates/mail/erp-invite.nb.md.j2").read_bytes() == \
        (ws / "templates/mail/erp-invite.nb.md.j2").read_bytes()
    manifest = yamlio.load_fast(clone / "slice.yaml")
    assert set(manifest["read_only"]) == CARRIED and not CARRIED & set(manifest["records"])
    listed = run(["campaign", "list"], clone)
    assert listed.exit_code == 0 and "ERP spring" in listed.stdout and "ERP autumn" not in listed.stdout
    assert run(["check"], clone).exit_code == 0
    # later, the November campaign is over: a new export carries only the running one
    later = run(["--now", "2026-12-02T09:00", "partner", "export", "fjord-partner", str(tmp_path / "dec")], ws)
    assert later.exit_code == 0 and "campaigns 1" in later.stdout, later.stdout
    assert (tmp_path / "dec/campaigns/erp-spring.yaml").is_file()
    assert not (tmp_path / "dec/campaigns/erp-november.yaml").exists()


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
    # the 360° views: the lead shows its partner and the quote made from it, the partner its leads
    shown = json.loads(run(["show", "ld-1", "--json"], ws).stdout)["related"]
    assert [d["id"] for d in shown["deals"]] == ["kari-erp"] and shown["partner"][0]["id"] == "fjord-partner"
    shown = json.loads(run(["show", "fjord-partner", "--json"], ws).stdout)["related"]
    assert [ld["id"] for ld in shown["leads"]] == ["ld-1"]
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
    (lambda c: (c / "campaigns/erp-spring.yaml").write_text("name: ERP spring\nstatus: finished\n"),
     "campaigns/erp-spring.yaml: a campaign is ours; the slice carries it read-only"),
    (lambda c: (c / "campaigns/theirs.yaml").write_text("name: Their own\n"), "a campaign is ours"),
    (lambda c: (c / "templates/mail/erp-invite.md.j2").write_text(INVITE + "PS\n"), "a campaign's template is ours"),
    (lambda c: (c / "segments/nordic.yaml").unlink(), "a campaign's segment is ours"),
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


def test_the_sample_slice_is_the_one_the_readme_shows(run, sample_ws, tmp_path) -> None:
    """README "A partner's own workspace": after the sample's inbox hands the Finnish enquiry over."""
    assert run(["--now", "2026-11-23T10:30", "inbox", "fetch"], sample_ws).exit_code == 0
    r = run(["--now", "2026-11-23T11:00", "partner", "export", "saimaa-solutions-oy", str(tmp_path / "saimaa")],
            sample_ws)
    assert r.exit_code == 0, r.stderr
    assert re.fullmatch(r".*/saimaa: slice for partner saimaa-solutions-oy \(\(top\) 4, companies 1, contacts 1, "
                        r"leads 1, shared 1\), commit [0-9a-f]{10}\n", r.stdout), r.stdout
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert r.stdout.split(": ", 1)[1].rsplit(" ", 1)[0] in readme
    assert set(git(tmp_path / "saimaa", "ls-files", "shared").split()) == {
        "shared/" + p.name for p in (sample_ws / "partners/shared").iterdir()}
