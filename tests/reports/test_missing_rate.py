"""One deal in a currency without an exchange rate: every report still reports the rest.

The money reports leave the rate-less deal out (counts and money alike), name it in one
warning on stderr, carry it in the JSON's ``left_out`` and exit 4 (partial); ``stale`` needs
no money and lists it like any other deal, without a value, exit 0.
"""

from __future__ import annotations

import json

import pytest

FILES = {
    "companies/alfa.yaml": "name: Alfa AB\ncountry: SE\n",
    "companies/pecs.yaml": "name: Pécs Kft\ncountry: HU\n",
    "deals/a.yaml": "title: Alpha\nstage: proposal\nvalue: 100000\nexpected_close: 2026-12-15\nowner: daniel\n"
                    "company: alfa\ncreated: 2026-10-01T09:00:00+02:00\n",
    "deals/w.yaml": "title: Won one\nstage: won\nvalue: 40000\nclosed: 2026-11-02\nowner: daniel\ncompany: alfa\n"
                    "created: 2026-09-01T09:00:00+02:00\n",
    "deals/h.yaml": "title: Budapest ERP\nstage: proposal\nvalue: 1200000\ncurrency: HUF\nexpected_close: 2026-12-20\n"
                    "owner: karin\ncompany: pecs\ncreated: 2026-10-01T09:00:00+02:00\n",
    "deals/hw.yaml": "title: Pécs BI\nstage: won\nvalue: 800000\ncurrency: huf\nclosed: 2026-11-05\nowner: karin\n"
                     "company: pecs\ncreated: 2026-09-01T09:00:00+02:00\n",
}
NOW = ["--now", "2026-11-23T10:00"]
HINT = "`HUF: <how many SEK one HUF is worth>`"


@pytest.fixture
def ws(make_ws):
    return make_ws(FILES)


@pytest.mark.parametrize("report", ["pipeline", "forecast", "winrate", "velocity", "value"])
def test_money_reports_leave_the_rateless_deals_out_and_exit_4(ws, run, report) -> None:
    r = run(["report", report, *NOW], ws)
    assert r.exit_code == 4, r.stderr
    assert r.stdout.strip(), "the rest is reported"
    warnings = [line for line in r.stderr.splitlines() if "exchange rate" in line]
    assert len(warnings) == 1, r.stderr
    assert warnings[0].startswith("crmkit: warning: 2 deal(s) left out of this report: crmkit.yaml has no exchange rate for HUF")
    assert "deals/h.yaml (1200000 HUF)" in warnings[0] and "deals/hw.yaml (800000 HUF)" in warnings[0]
    assert HINT in warnings[0]
    assert "Traceback" not in r.stderr and "error" not in r.stderr
    assert "left out" in r.stdout  # the report itself says it is not whole


def test_pipeline_figures_are_those_of_the_convertible_deals(ws, run) -> None:
    r = run(["report", "pipeline", "--json", *NOW], ws)
    assert r.exit_code == 4
    data = json.loads(r.stdout)
    assert data["totals"]["count"] == 1 and data["totals"]["value"] == "100000.00"
    assert data["closed"]["won"] == {"outcome": "won", "count": 1, "value": "40000.00"}
    assert data["left_out"] == [{"deal": "h", "value": "1200000", "currency": "HUF"},
                                {"deal": "hw", "value": "800000", "currency": "HUF"}]


def test_forecast_and_value_figures(ws, run) -> None:
    fc = json.loads(run(["report", "forecast", "--json", *NOW], ws).stdout)
    assert sum(b["count"] for b in fc["buckets"]) == 1
    assert [b["won"] for b in fc["buckets"] if b["won"] != "0.00"] == ["40000.00"]
    assert [x["deal"] for x in fc["left_out"]] == ["h", "hw"]
    val = json.loads(run(["report", "value", "--json", *NOW], ws).stdout)
    assert val["revenue"] == "40000.00" and val["buying_customers"] == 1
    assert [c["customer"] for c in val["ranked"]] == ["company/alfa"]


def test_html_dashboard_is_written_and_partial(ws, run, tmp_path) -> None:
    out = tmp_path / "p.html"
    r = run(["report", "pipeline", "-o", str(out), *NOW], ws)
    assert r.exit_code == 4 and out.exists()
    assert "left out" in out.read_text()
    assert r.stderr.count("left out of this report") == 1  # pipeline and forecast on one page: one warning


def test_stale_needs_no_money(ws, run) -> None:
    r = run(["report", "stale", "--json", *NOW], ws)
    assert r.exit_code == 0, r.stderr
    deals = {d["deal"]: d for d in json.loads(r.stdout)["deals"]}
    assert deals["h"]["value"] is None and deals["a"]["value"] == "100000.00"
    assert "1 deal(s) shown without a value: crmkit.yaml has no exchange rate for HUF" in r.stderr
    table = run(["report", "stale", *NOW], ws)
    assert table.exit_code == 0 and "Budapest ERP" in table.stdout


def test_a_rate_makes_the_report_whole(ws, run) -> None:
    cfg = ws / "crmkit.yaml"
    cfg.write_text(cfg.read_text().replace("rates: {EUR: 11.50, NOK: 1.02}", "rates: {EUR: 11.50, NOK: 1.02, HUF: 0.029}"))
    r = run(["report", "pipeline", "--json", *NOW], ws)
    assert r.exit_code == 0 and r.stderr == ""
    data = json.loads(r.stdout)
    assert data["totals"]["value"] == "134800.00" and "left_out" not in data


def test_a_reporting_currency_without_rate_is_still_refused(ws, run) -> None:
    r = run(["report", "pipeline", "--currency", "USD", *NOW], ws)
    assert r.exit_code == 1 and "no exchange rate for USD" in r.stderr


def test_tiers_and_sla_do_not_vanish_for_want_of_a_rate(make_ws, run) -> None:
    """A policy that asks `company.tier` reads customer values; one HUF deal without a rate
    used to make that fail quietly, and every ticket's SLA clock disappeared from list and tick."""
    from conftest import MINIMAL_CONFIG

    config = MINIMAL_CONFIG + """calendars:
  office:
    timezone: Europe/Stockholm
    hours: {mon: [08:00-17:00], tue: [08:00-17:00], wed: [08:00-17:00], thu: [08:00-17:00], fri: [08:00-17:00]}
sla:
  policies:
    - id: platinum
      when: company.tier == platinum
      calendar: office
      targets:
        normal: {first_response: 1h}
    - id: standard
      calendar: office
      targets:
        normal: {first_response: 4h}
"""
    ws = make_ws({**FILES, "crmkit.yaml": config,
                  "tickets/tk-20261123-aaaaa.yaml": "subject: Cannot post invoices\ncompany: alfa\npriority: normal\n"
                  "status: new\nline: first\nevents:\n  - {type: created, at: 2026-11-23T08:00:00+01:00}\n"
                  "created: 2026-11-23T08:00:00+01:00\n"})
    r = run(["ticket", "list", "--json", "--now", "2026-11-23T09:00"], ws)
    assert r.exit_code == 0, r.stderr
    (ticket,) = json.loads(r.stdout)
    assert ticket["sla"]["state"] == "running", ticket.get("sla")
    companies = run(["company", "list", "--where", "tier == standard", *NOW], ws)
    assert companies.exit_code == 0, companies.stderr
