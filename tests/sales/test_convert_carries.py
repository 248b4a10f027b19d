"""What a deal made by `lead convert` carries, and what stays on the lead."""

from __future__ import annotations

from crmkit.store import yamlio

LEAD = ("name: Astrid Vik\nemail: astrid.vik@vikmarine.no\ncompany_name: Vik Marine AS\nstatus: qualified\n"
        "source: referral\nusers: 22\ntags: [large, fair]\ncountry: NO\nindustry: marine\ninterest: CRM\n"
        "owner: karin\nreferred_by: someone\nrouting: {rule: r1, at: 2026-11-06T11:00:00+01:00, status: qualified}\n")


def test_the_deal_carries_what_it_is_about(run, make_ws) -> None:
    """Issue: a deal made from a lead for 22 users, tagged large, lost the 22 and the tags."""
    ws = make_ws({"leads/ld-20261106-cv6mm.yaml": LEAD})
    r = run(["--now", "2026-11-24T14:00", "lead", "convert", "ld-20261106-cv6mm", "--value", "120000"], ws)
    assert r.exit_code == 0, r.stderr
    [deal_file] = list((ws / "deals").glob("*.yaml"))
    deal = yamlio.load_fast(deal_file)
    assert set(deal) == {"title", "company", "contacts", "owner", "value", "currency", "source", "lead", "stage",
                         "stage_history", "created", "users", "interest", "tags", "referred_by"}
    assert deal["source"] == "referral" and deal["lead"] == "ld-20261106-cv6mm" and deal["owner"] == "karin"
    assert deal["users"] == 22 and deal["tags"] == ["large", "fair"] and deal["interest"] == "CRM"
    assert deal["referred_by"] == "someone"                                 # a custom field goes along
    lead = yamlio.load_fast(ws / "leads/ld-20261106-cv6mm.yaml")
    assert lead["users"] == 22 and lead["tags"] == ["large", "fair"]       # and stays on the lead
    assert "routing" in lead and "routing" not in deal                     # the lead's bookkeeping stays
    assert run(["check"], ws).exit_code == 0
