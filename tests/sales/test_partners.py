"""Channel partners: routing hands leads over by territory and capacity, the partner is mailed
what it may see, once; `check` and `report partners`."""

from __future__ import annotations

import json
from email import policy
from email.parser import BytesParser

import pytest
from conftest import MINIMAL_CONFIG

from crmkit.store import yamlio

PARTNER = """\
name: Fjord Partner AS
partner:
  territory: country == NO
  specialities: [ERP]
  capacity: 1
  contact: petter
"""

FILES = {
    "crmkit.yaml": MINIMAL_CONFIG + 'mail:\n  from: "Test AB <hej@example.se>"\n',
    "companies/fjord-partner.yaml": PARTNER,
    "contacts/petter.yaml": "name: Petter Partner\nemail: petter@fjordpartner.no\ncompany: fjord-partner\n",
    "rules/routing.yaml": ("- id: norway\n  when: status == prospect and country == NO\n  partner: auto\n"
                           "  assign: alan\n- id: rest\n  assign: daniel\n"),
}


def lead(name: str, *, country: str = "NO", interest: str = "ERP", consent: bool = False) -> str:
    text = (f"name: {name}\nemail: {name.lower()}@kunde.no\nphone: '+47 900 00 000'\ncompany_name: {name} AS\n"
            f"status: prospect\ncountry: {country}\ninterest: {interest}\nusers: 20\n")
    return text + ("consent: {partners: true}\n" if consent else "")


@pytest.fixture
def ws(make_ws):  # type: ignore[no-untyped-def]
    return make_ws({**FILES, "leads/ld-1.yaml": lead("Kari")})


def outbox(ws) -> list:  # type: ignore[no-untyped-def]
    return [BytesParser(policy=policy.default).parsebytes(p.read_bytes())
            for p in sorted((ws / "outbox").glob("partner-*.eml"))]


def test_a_lead_in_the_territory_is_handed_over_and_the_partner_mailed_once(run, ws) -> None:
    r = run(["--now", "2026-11-23T10:00", "route"], ws)
    assert r.exit_code == 0, r.stderr
    data = yamlio.load_fast(ws / "leads/ld-1.yaml")
    assert data["partner"] == "fjord-partner" and data["owner"] == "alan"
    (msg,) = outbox(ws)
    assert msg["To"].addresses[0].addr_spec == "petter@fjordpartner.no" and "[ld-1]" in msg["Subject"]
    body = msg.get_content()
    assert "company_name: Kari AS" in body and "interest: ERP" in body
    assert "kari@kunde.no" not in body and "+47" not in body  # not in the default share
    assert msg["X-Crmkit-Record"] == "lead/ld-1"
    assert run(["--now", "2026-11-23T11:00", "route", "--force"], ws).exit_code == 0
    assert len(outbox(ws)) == 1  # the same hand-over is one message


def test_personal_details_go_only_with_consent_and_only_the_shared_fields(run, make_ws) -> None:
    ws = make_ws({**FILES, "companies/fjord-partner.yaml": PARTNER + "  share: [company_name, email]\n",
                  "leads/ld-1.yaml": lead("Kari", consent=True)})
    assert run(["--now", "2026-11-23T10:00", "route"], ws).exit_code == 0
    body = outbox(ws)[0].get_content()
    assert "email: kari@kunde.no" in body and "company_name: Kari AS" in body
    assert "interest" not in body and "+47" not in body and "withheld" not in body
    ws = make_ws({**FILES, "companies/fjord-partner.yaml": PARTNER + "  share: [company_name, email]\n",
                  "leads/ld-1.yaml": lead("Kari")})
    assert run(["--now", "2026-11-23T10:00", "route"], ws).exit_code == 0
    body = outbox(ws)[0].get_content()
    assert "kari@kunde.no" not in body and "withheld" in body


def test_territory_speciality_and_capacity_decide_and_say_why(run, make_ws) -> None:
    ws = make_ws({**FILES, "leads/ld-1.yaml": lead("Kari"), "leads/ld-2.yaml": lead("Ola"),
                  "leads/ld-3.yaml": lead("Sven", country="SE"), "leads/ld-4.yaml": lead("Nils", interest="BI")})
    r = run(["--now", "2026-11-23T10:00", "route", "--dry-run", "--json"], ws)
    rows = {row["id"]: row for row in map(json.loads, r.stdout.splitlines())}
    assert rows["ld-1"]["set"] == {"partner": "fjord-partner"}
    assert "at capacity (1 open leads)" in " ".join(rows["ld-2"]["notes"]) and "partner" not in rows["ld-2"]["set"]
    assert rows["ld-3"]["rule"] == "rest"
    assert "no speciality for BI" in " ".join(rows["ld-4"]["notes"])
    assert run(["--now", "2026-11-23T10:00", "route"], ws).exit_code == 0
    handed = [p.stem for p in sorted((ws / "leads").glob("*.yaml")) if yamlio.load_fast(p).get("partner")]
    assert handed == ["ld-1"]


def test_check_refuses_a_partner_that_names_a_missing_company(run, make_ws) -> None:
    ws = make_ws({**FILES, "rules/routing.yaml": "- id: gone\n  partner: no-such-partner\n  assign: alan\n",
                  "leads/ld-1.yaml": lead("Kari") + "partner: ghost-as\n",
                  "companies/broken.yaml": "name: Broken\npartner:\n  territory: 'country =>'\n  contact: nobody\n"})
    r = run(["check"], ws)
    out = r.stdout + r.stderr
    assert r.exit_code == 1
    assert "rules/routing.yaml:1: partner: rule gone: partner: 'no-such-partner' is not a company" in out
    assert "leads/ld-1.yaml:9: partner: partner: 'ghost-as' is not a company with partner: settings" in out
    assert "companies/broken.yaml:2: partner:" in out and "partner.contact: no contact with id 'nobody'" in out


def test_report_partners_counts_handed_accepted_converted_won_and_first_contact(run, make_ws) -> None:
    ws = make_ws({**FILES,
                  "companies/fjord-partner.yaml": PARTNER.replace("capacity: 1", "capacity: 5"),
                  "leads/ld-1.yaml": lead("Kari"), "leads/ld-2.yaml": lead("Ola")})
    assert run(["--now", "2026-11-23T10:00", "route"], ws).exit_code == 0
    run(["--now", "2026-11-23T16:00", "activity", "add", "Called", "type=call", "lead=ld-1",
         "at=2026-11-23T14:00:00+01:00"], ws)
    run(["set", "ld-2", "partner_status=declined"], ws)
    run(["set", "ld-1", "status=converted"], ws)
    (ws / "deals").mkdir(exist_ok=True)
    (ws / "deals/kari-erp.yaml").write_text("title: Kari ERP\nstage: won\nvalue: '150000'\nlead: ld-1\n")
    r = run(["--now", "2026-11-30T10:00", "report", "partners", "--format", "json"], ws)
    assert r.exit_code == 0, r.stderr
    (row,) = json.loads(r.stdout)["partners"]
    assert (row["handed"], row["accepted"], row["declined"], row["converted"]) == (2, 1, 1, 1)
    assert row["won_value"] == "150000.00" and row["first_contact_h"] == 4.0


@pytest.fixture
def smtp():  # type: ignore[no-untyped-def]
    """A real local SMTP server (aiosmtpd) on a free port; yields the messages it received."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    class Recorder:
        def __init__(self) -> None:
            self.messages: list[bytes] = []

        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
            self.messages.append(envelope.content)
            return "250 OK"

    handler = Recorder()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def test_the_hand_over_mail_is_not_the_partners_first_contact_and_the_total_has_a_median(run, make_ws, smtp) -> None:
    handler, port = smtp
    ws = make_ws({**FILES, "crmkit.yaml": FILES["crmkit.yaml"] + f"smtp: {{host: 127.0.0.1, port: {port}, "
                                                                  "security: none}\n",
                  "companies/fjord-partner.yaml": PARTNER.replace("capacity: 1", "capacity: 5"),
                  "leads/ld-1.yaml": lead("Kari"), "leads/ld-2.yaml": lead("Ola")})
    assert run(["--now", "2026-11-23T10:00", "route"], ws).exit_code == 0
    # the partner's mail goes out at once and is logged on each lead, as `mail send` does ...
    sent = run(["--now", "2026-11-23T10:05", "mail", "send"], ws)
    assert sent.exit_code == 0 and len(handler.messages) == 2, sent.stderr
    logged = [yamlio.load_fast(p) for p in (ws / "activities").glob("*.yaml")]
    assert sorted(a["lead"] for a in logged if a.get("type") == "email") == ["ld-1", "ld-2"]
    # ... but the partner first calls Kari 4 hours after the hand-over, and Ola after 8
    for lid, at in (("ld-1", "14:00"), ("ld-2", "18:00")):
        assert run(["--now", "2026-11-23T19:00", "activity", "add", "Called", "type=call", f"lead={lid}",
                    f"at=2026-11-23T{at}:00+01:00"], ws).exit_code == 0
    r = run(["--now", "2026-11-30T10:00", "report", "partners", "--format", "json"], ws)
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["partners"][0]["first_contact_h"] == 6.0 and out["total"]["first_contact_h"] == 6.0
