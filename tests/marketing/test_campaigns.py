"""Campaigns: the A/B split, sending with campaign and variant stamped, results by the
documented attribution rule, the significance note, and broken campaigns refused."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from crmkit.marketing.campaigns import Campaign, Variant
from crmkit.reports.campaign import two_proportion_p
from crmkit.store.records import Record
from tests.conftest import MINIMAL_CONFIG, git

TEMPLATE = """\
---
subject: "{subject}, {{{{ contact.name }}}}"
kind: marketing
---
Hej {{{{ contact.name }}}}, {body}

{{{{ unsubscribe }}}}
"""

CAMPAIGN = """\
name: BI pilot invitation
goal: BI pilots
channel: email
segment: newsletter
variants:
  - {id: a, template: invite-a, share: 40}
  - {id: b, template: invite-b, share: 40}
holdout: 20
start: 2026-10-05
end: 2026-10-31
budget: 12000
attribution_days: 30
"""


def _camp(shares: list[int], holdout: int = 0, cid: str = "c1") -> Campaign:
    rec = Record("campaign", cid, {"name": cid}, Path(f"campaigns/{cid}.yaml"))
    return Campaign(rec, "seg", [Variant(chr(97 + i), "t", Decimal(s)) for i, s in enumerate(shares)],
                    Decimal(holdout))


def test_the_split_is_stable_and_balanced_on_10000_contacts() -> None:
    camp = _camp([45, 45], holdout=10)
    ids = [f"contact-{n:05d}" for n in range(10_000)]
    groups = [camp.variant_of(i) for i in ids]
    assert groups == [_camp([45, 45], holdout=10).variant_of(i) for i in ids]     # stable
    for name, share in (("a", 0.45), ("b", 0.45), ("holdout", 0.10)):
        assert abs(groups.count(name) / 10_000 - share) < 0.02, (name, groups.count(name))
    # another campaign splits the same people differently (seeded by campaign and contact)
    other = [_camp([45, 45], holdout=10, cid="c2").variant_of(i) for i in ids]
    assert sum(x != y for x, y in zip(groups, other)) > 4000


def test_two_proportion_test_known_values() -> None:
    # 40/200 against 20/200: pooled 0.15, se = sqrt(0.15 * 0.85 * 2/200) = 0.0357, z = 2.80, p = 0.0051
    assert abs(two_proportion_p(40, 200, 20, 200) - 0.0051) < 0.0001
    assert two_proportion_p(5, 50, 5, 50) == pytest.approx(1.0)
    assert two_proportion_p(1, 0, 1, 10) is None


def _contacts(n: int) -> dict[str, str]:
    files = {}
    for i in range(n):
        files[f"contacts/p{i:02d}.yaml"] = (f"name: Person {i:02d}\nemail: p{i:02d}@example.se\nowner: daniel\n"
                                            "consent: {marketing: true}\ntags: [news]\n")
    files["contacts/nope.yaml"] = "name: No Consent\nemail: nope@example.se\ntags: [news]\n"
    return files


@pytest.fixture
def smtp(local_smtp):
    return local_smtp


@pytest.fixture
def ws(make_ws, smtp) -> Path:
    _, port = smtp
    files = _contacts(30)
    files.update({
        "crmkit.yaml": MINIMAL_CONFIG + f"smtp: {{host: 127.0.0.1, port: {port}, security: none}}\n",
        "segments/newsletter.yaml": "kind: contact\nwhere: '\"news\" in tags'\n",
        "templates/mail/invite-a.md.j2": TEMPLATE.format(subject="BI-pilot", body="vill ni testa BI?"),
        "templates/mail/invite-b.md.j2": TEMPLATE.format(subject="Se era siffror", body="en BI-demo?"),
        "campaigns/bi-pilot.yaml": CAMPAIGN,
    })
    return make_ws(files)


def _groups(ws: Path) -> dict[str, list[str]]:
    from crmkit.marketing.campaigns import load
    from crmkit.store.workspace import Workspace

    camp = load(Workspace(ws), "bi-pilot")
    out: dict[str, list[str]] = {}
    for p in sorted((ws / "contacts").glob("*.yaml")):
        out.setdefault(camp.variant_of(p.stem), []).append(p.stem)
    return out


def test_send_stamps_campaign_and_variant_and_respects_consent_and_holdout(run, ws, smtp) -> None:
    handler, _ = smtp
    groups = _groups(ws)
    r = run(["--now", "2026-10-05T09:00:00+02:00", "campaign", "send", "bi-pilot", "--json"], ws)
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert sorted(out["holdout"]) == sorted(groups.get("holdout", []))
    assert {"id": "nope", "reason": "no consent to marketing"} in out["skipped"] or "nope" in out["holdout"]
    for v in ("a", "b"):
        assert sorted(out["variants"][v]) == sorted(i for i in groups[v] if i != "nope")
    assert git(ws, "status", "--porcelain") == ""
    # a second run writes nothing: everyone is waiting in the outbox
    r = run(["--now", "2026-10-05T09:01:00+02:00", "campaign", "send", "bi-pilot", "--json"], ws)
    assert json.loads(r.stdout)["written"] == []
    assert run(["--now", "2026-10-05T10:00:00+02:00", "mail", "send"], ws).exit_code == 0
    sent = len(out["variants"]["a"]) + len(out["variants"]["b"])
    assert len(handler.messages) == sent
    assert not any(k.lower().startswith("x-crmkit") for m in handler.messages for k in m.keys())
    acts = [yaml.safe_load(p.read_text()) for p in (ws / "activities").glob("*.yaml")]
    logged = {(a["contact"], a["variant"]) for a in acts if a.get("campaign") == "bi-pilot"}
    assert logged == {(c, v) for v in ("a", "b") for c in out["variants"][v]}
    # and after sending, nobody gets it again
    r = run(["--now", "2026-10-06T09:00:00+02:00", "campaign", "send", "bi-pilot", "--json"], ws)
    again = json.loads(r.stdout)
    assert again["written"] == [] and {s["reason"] for s in again["skipped"]} <= {
        "already sent in this campaign", "no consent to marketing"}


def _write(ws: Path, rel: str, text: str) -> None:
    (ws / rel).parent.mkdir(parents=True, exist_ok=True)
    (ws / rel).write_text(text)


def test_report_numbers_by_hand(run, ws) -> None:
    run(["--now", "2026-10-05T09:00:00+02:00", "campaign", "send", "bi-pilot"], ws)
    assert run(["--now", "2026-10-05T10:00:00+02:00", "mail", "send"], ws).exit_code == 0
    groups = _groups(ws)
    a = [c for c in groups["a"] if c != "nope"]
    b = [c for c in groups["b"] if c != "nope"]
    # replies: two in a (one too late to count), three in b
    for n, (c, day) in enumerate([(a[0], "2026-10-07"), (a[1], "2026-11-20"), (b[0], "2026-10-06"),
                                  (b[1], "2026-10-08"), (b[2], "2026-10-09")]):
        _write(ws, f"activities/act-20261006-rep{n:02d}.yaml",
               f"type: email\ndirection: in\nsubject: Re\nat: {day}T10:00:00+02:00\ncontact: {c}\n")
    # leads: b[0] by email match in the window; an explicit one for a; one outside the window
    _write(ws, "leads/ld-20261010-aaaa1.yaml",
           f"name: Lead B\nemail: {b[0]}@example.se\nstatus: prospect\ncreated: 2026-10-10T09:00:00+02:00\n")
    _write(ws, "leads/ld-20261012-aaaa2.yaml",
           "name: Lead A\nstatus: qualified\ncampaign: bi-pilot\nvariant: a\ncreated: 2026-10-12T09:00:00+02:00\n")
    _write(ws, "leads/ld-20261201-aaaa3.yaml",
           f"name: Late\nemail: {a[2]}@example.se\nstatus: prospect\ncreated: 2026-12-01T09:00:00+01:00\n")
    # deals: one won from lead B (80 000 SEK), one open for a contact of a, one won in EUR via `campaign:`
    _write(ws, "deals/bi-b.yaml", "title: BI B\nlead: ld-20261010-aaaa1\nstage: won\nvalue: 80000\n"
                                  "created: 2026-10-15T09:00:00+02:00\n")
    _write(ws, "deals/bi-a.yaml", f"title: BI A\ncontacts: [{a[3]}]\nstage: proposal\nvalue: 50000\n"
                                  "created: 2026-10-20T09:00:00+02:00\n")
    _write(ws, "deals/bi-a2.yaml", "title: BI A2\ncampaign: bi-pilot\nvariant: a\nstage: won\nvalue: 2000\n"
                                   "currency: EUR\ncreated: 2026-10-25T09:00:00+02:00\n")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "results")
    r = run(["--now", "2026-11-30T12:00:00+01:00", "report", "campaign", "bi-pilot", "--json"], ws)
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    va, vb = data["variants"]
    assert (va["variant"], va["sent"], va["replied"], va["leads"], va["deals"], va["won"]) == \
        ("a", len(a), 1, 1, 2, 1)
    assert Decimal(va["value"]) == Decimal("23000")           # 2 000 EUR at 11.50
    assert (vb["variant"], vb["sent"], vb["replied"], vb["leads"], vb["deals"], vb["won"]) == \
        ("b", len(b), 3, 1, 1, 1)
    assert Decimal(vb["value"]) == Decimal("80000")
    assert data["total"]["leads"] == 2
    assert Decimal(data["cost_per_lead"]) == Decimal("6000.00")          # 12 000 / 2
    assert Decimal(data["return_on_budget"]) == Decimal("8.58")          # 103 000 / 12 000
    assert data["notes"] == []          # 1 of ~12 against 3 of ~12 is no evidence
    assert data["holdout"][0]["members"] == len(groups["holdout"])
    r = run(["--now", "2026-11-30T12:00:00+01:00", "report", "campaign", "bi-pilot"], ws)
    assert r.exit_code == 0 and "Per variant" in r.stdout and "is higher than" not in r.stdout


def test_the_note_appears_only_when_p_is_below_005() -> None:
    from crmkit.reports.campaign import _compare

    rows = [{"variant": "a", "sent": 200, "replied": 20, "leads": 10},
            {"variant": "b", "sent": 200, "replied": 40, "leads": 12}]
    tests, notes = _compare(rows)
    assert notes == ["Variant b's reply rate (20.0 %) is higher than a's (10.0 %): p = 0.0051, "
                     "two-proportion z-test."]
    assert [t["p"] for t in tests] == [0.0051, 0.6609]
    rows[1]["replied"] = 28          # p = 0.22: nothing is said
    assert _compare(rows)[1] == []


@pytest.mark.parametrize("change,message,line", [
    ("segment: newsletter", "segment: no segment named 'nope'", 4),
    ("template: invite-b", "variant b: no email template 'nope'", 7),
    ("holdout: 20", "the variants' shares and the holdout add up to 90 %, not 100 %", 5),
])
def test_broken_campaigns_are_refused_by_check_and_by_send(run, ws, change, message, line) -> None:
    bad = CAMPAIGN.replace(change, change.split(":")[0] + ": " + ("10" if "holdout" in change else "nope"))
    _write(ws, "campaigns/bi-pilot.yaml", bad)
    git(ws, "commit", "-qam", "break it")
    r = run(["check"], ws)
    assert r.exit_code == 1
    assert f"campaigns/bi-pilot.yaml:{line}:" in r.stdout and message in r.stdout
    r = run(["campaign", "send", "bi-pilot"], ws)
    assert r.exit_code == 1 and "Traceback" not in r.stderr
    assert r.stderr.startswith(f"crmkit: error: campaigns/bi-pilot.yaml:{line}:") and message in r.stderr
    assert not (ws / "outbox").exists()


def test_the_sample_campaign_by_hand(run, sample_ws) -> None:
    """campaigns/bi-autumn-2026.yaml: 5 Swedish newsletter contacts, elin-oberg opted out;
    the split gives a: linnea-ek, oskar-wallin; b: anna-akerberg, maria-lindgren; holdout:
    ulf-sodergran. Maria replied on 7 Oct (within 30 days of the 5 Oct mail), the lead
    ld-20261014-v6nz4 names the campaign (variant b) and became the deal vastkust-erp-upgrade
    (qualified, not won). Budget 15 000: 15 000 per lead, nothing won yet."""
    r = run(["--now", "2026-11-30T12:00:00+01:00", "report", "campaign", "bi-autumn-2026", "--json"], sample_ws)
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    got = [(v["variant"], v["sent"], v["bounced"], v["replied"], v["leads"], v["deals"], v["won"]) for v in
           data["variants"]]
    assert got == [("a", 2, 0, 0, 0, 0, 0), ("b", 2, 0, 1, 1, 1, 0)]
    assert data["holdout"] == [{"variant": "holdout", "members": 1, "leads": 0, "lead_rate": "0.0"}]
    assert Decimal(data["budget"]) == 15000 and Decimal(data["cost_per_lead"]) == Decimal("15000.00")
    assert Decimal(data["return_on_budget"]) == 0 and data["notes"] == []
    r = run(["--now", "2026-10-05T08:30:00+02:00", "campaign", "send", "bi-autumn-2026", "--dry-run", "--json"],
            sample_ws)
    plan = json.loads(r.stdout)
    assert plan["variants"] == {"a": [], "b": []} and plan["holdout"] == ["ulf-sodergran"]
    assert {"id": "elin-oberg", "reason": "opted out"} in plan["skipped"]


def test_the_readme_campaign_table_is_what_the_sample_prints(run, sample_ws) -> None:
    r = run(["--now", "2026-11-30T12:00:00+01:00", "report", "campaign", "bi-autumn-2026"], sample_ws)
    assert r.exit_code == 0, r.stderr
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    table = r.stdout.split("Per variant\n-----------\n", 1)[1].split("\n\n", 1)[0]
    table = table.replace("\u00a0", " ")   # Babel's sv_SE percent has a no-break space before %
    assert table.count("\n") >= 5 and table in readme, table
