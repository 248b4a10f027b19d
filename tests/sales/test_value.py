"""Customer value: CLV, purchases, RFM quintiles and tiers against hand-computed figures."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from crmkit.conditions.views import view
from crmkit.sales import tiers, value
from crmkit.store.workspace import Workspace
from tests.conftest import MINIMAL_CONFIG, git

NOW = "2026-11-30T12:00:00+01:00"

VALUE_RULES = """\
tiers:
  platinum: lifetime_value >= 400000
  gold: lifetime_value >= 200000
  silver: won_deals >= 1
default: standard
"""


def _company(name: str) -> str:
    return f"name: {name}\n"


#: Five buying customers (four companies and one private person) and two who never bought.
#: Amounts in SEK after the workspace rates (EUR 11.50, NOK 1.02).
FILES = {
    "rules/value.yaml": VALUE_RULES,
    "companies/alfa.yaml": _company("Alfa AB"),
    "companies/beta.yaml": _company("Beta AS"),
    "companies/gamma.yaml": _company("Gamma AB"),
    "companies/delta.yaml": _company("Delta AB"),
    "companies/zeta.yaml": _company("Zeta AB"),
    "contacts/anna.yaml": "name: Anna Alfa\ncompany: alfa\nemail: anna@alfa.se\n",
    "contacts/ola.yaml": "name: Ola Privat\nemail: ola@example.no\n",
    "contacts/nils.yaml": "name: Nils Inget\n",
    # alfa: 100000 SEK + 10000 EUR (115000 SEK) won, 50000 open, 99999 lost
    "deals/alfa-1.yaml": "title: A1\ncompany: alfa\nstage: won\nvalue: 100000\nclosed: 2026-01-10\n"
                         "created: 2026-01-02T10:00:00+01:00\n",
    "deals/alfa-2.yaml": "title: A2\ncompany: alfa\nstage: won\nvalue: 10000\ncurrency: EUR\nclosed: 2026-06-01\n"
                         "created: 2026-05-02T10:00:00+02:00\n",
    "deals/alfa-3.yaml": "title: A3\ncompany: alfa\nstage: proposal\nvalue: 50000\n",
    "deals/alfa-4.yaml": "title: A4\ncompany: alfa\nstage: lost\nvalue: 99999\nclosed: 2026-03-01\n",
    # beta: 200000 NOK = 204000 SEK
    "deals/beta-1.yaml": "title: B1\ncompany: beta\nstage: won\nvalue: 200000\ncurrency: NOK\nclosed: 2026-03-15\n"
                         "created: 2026-02-01T10:00:00+01:00\n",
    "deals/gamma-1.yaml": "title: G1\ncompany: gamma\nstage: won\nvalue: 30000\nclosed: 2026-10-01\n"
                          "created: 2026-09-01T10:00:00+02:00\n",
    # delta: won on 2026-11-01 according to its stage history (no closed: field)
    "deals/delta-1.yaml": "title: D1\ncompany: delta\nstage: won\nvalue: 500000\n"
                          "created: 2026-02-01T10:00:00+01:00\nstage_history:\n"
                          "  - {stage: lead, at: 2026-02-01T10:00:00+01:00}\n"
                          "  - {stage: won, at: 2026-11-01T10:00:00+01:00, from: lead}\n",
    # a private purchase: no company, counted for the first contact
    "deals/ola-1.yaml": "title: O1\ncontacts: [ola]\nstage: won\nvalue: 20000\nclosed: 2026-09-01\n"
                        "created: 2026-08-01T10:00:00+02:00\n",
}


@pytest.fixture
def ws_root(make_ws) -> Path:
    return make_ws(FILES)


def _ws(root: Path, now: str = NOW) -> Workspace:
    return Workspace(root, now=now)


def test_lifetime_value_purchases_and_pipeline_by_hand(ws_root: Path) -> None:
    v = value.compute(_ws(ws_root))
    alfa = v[("company", "alfa")]
    assert alfa.lifetime_value == Decimal("215000")  # 100000 + 10000 * 11.50
    assert alfa.won_deals == 2
    assert alfa.average_deal == Decimal("107500.00")
    assert (alfa.first_purchase, alfa.last_purchase) == (dt.date(2026, 1, 10), dt.date(2026, 6, 1))
    assert alfa.open_pipeline == Decimal("50000")  # the lost deal counts nowhere
    assert v[("company", "beta")].lifetime_value == Decimal("204000")  # 200000 NOK * 1.02
    assert v[("company", "delta")].last_purchase == dt.date(2026, 11, 1)  # from the history
    ola = v[("contact", "ola")]
    assert (ola.lifetime_value, ola.won_deals) == (Decimal("20000"), 1)
    zeta = v[("company", "zeta")]
    assert (zeta.lifetime_value, zeta.won_deals, zeta.rfm, zeta.tier) == (0, 0, None, "standard")


def test_rfm_quintiles_by_hand(ws_root: Path) -> None:
    """Five buyers: each score is 1 + floor(5 * strictly-worse / 5).

    recency days (to 2026-11-30): delta 29, gamma 60, ola 90, alfa 182, beta 260
    frequency: alfa 2, the others 1 (tied: nobody is worse)
    monetary: delta 500000, alfa 215000, beta 204000, gamma 30000, ola 20000
    """
    v = value.compute(_ws(ws_root))
    got = {key[1]: (cv.recency_days, cv.rfm, cv.rfm_score) for key, cv in v.items() if cv.won_deals}
    assert got == {
        "delta": (29, "515", 11),
        "gamma": (60, "412", 7),
        "ola": (90, "311", 5),
        "alfa": (182, "254", 11),
        "beta": (260, "113", 5),
    }


def test_tiers_now_and_as_of_a_past_date(ws_root: Path) -> None:
    ws = _ws(ws_root)
    now = {k[1]: cv.tier for k, cv in value.compute(ws).items()}
    assert now == {"alfa": "gold", "beta": "gold", "gamma": "silver", "delta": "platinum", "zeta": "standard",
                   "ola": "silver"}
    # on 2026-07-01 delta's deal was still a lead (its history says so), gamma's and ola's were
    # not closed yet: their value did not count
    then = value.compute(ws, dt.date(2026, 7, 1))
    assert {k[1]: cv.tier for k, cv in then.items()} == {
        "alfa": "gold", "beta": "gold", "gamma": "standard", "delta": "standard", "zeta": "standard"}
    assert then[("company", "delta")].open_pipeline == Decimal("500000")
    assert then[("company", "delta")].lifetime_value == 0
    assert then[("company", "alfa")].recency_days == 30
    assert then[("company", "gamma")].open_pipeline == 0  # won later, no history: not guessed as open


def test_computed_fields_reach_conditions_show_and_references(ws_root: Path, run) -> None:
    ws = _ws(ws_root)
    anna = view(ws, ws.get("anna", "contact"))
    assert anna["tier"] == "gold" and anna["lifetime_value"] == Decimal("215000")  # her company's
    r = run(["--now", NOW, "company", "list", "--where", "tier == gold", "--format", "json"], ws_root)
    assert r.exit_code == 0, r.stderr
    assert sorted(c["id"] for c in json.loads(r.stdout)) == ["alfa", "beta"]
    r = run(["--now", NOW, "contact", "list", "--where", "company.tier == gold", "--format", "json"], ws_root)
    assert [c["id"] for c in json.loads(r.stdout)] == ["anna"]  # through the reference
    r = run(["--now", NOW, "contact", "list", "--where", "rfm_score >= 5 and lifetime_value < 100000",
             "--format", "json"], ws_root)
    assert [c["id"] for c in json.loads(r.stdout)] == ["ola"]
    r = run(["--now", NOW, "show", "company/delta"], ws_root)
    assert "tier: platinum" in r.stdout and "rfm: '515'" in r.stdout


def test_report_value_ranks_pareto_tiers_and_movement(ws_root: Path, run) -> None:
    r = run(["--now", NOW, "report", "value", "--since", "2026-07-01", "--json"], ws_root)
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["revenue"] == "969000.00"
    assert [row["customer"] for row in data["ranked"]] == [
        "company/delta", "company/alfa", "company/beta", "company/gamma", "contact/ola"]
    assert [row["share"] for row in data["ranked"]] == ["51.6", "22.2", "21.1", "3.1", "2.1"]
    # 500000 + 215000 = 73.8 % < 80 %; with beta 94.8 %: three of five customers
    assert data["pareto"] == {"customers": 3, "of": 5, "share_of_customers": "60.0", "revenue_share": "80"}
    assert [row["pareto"] for row in data["ranked"]] == [True, True, True, False, False]
    tiers = {t["tier"]: (t["customers"], t["lifetime_value"]) for t in data["tiers"]}
    assert tiers == {"platinum": (1, "500000.00"), "gold": (2, "419000.00"), "silver": (2, "50000.00"),
                     "standard": (1, "0.00")}
    moves = {m["customer"]: (m["from"], m["to"], m["direction"]) for m in data["movement"]}
    assert moves == {"company/delta": ("standard", "platinum", "up"), "company/gamma": ("standard", "silver", "up"),
                     "contact/ola": ("standard", "silver", "up")}
    csv = run(["--now", NOW, "report", "value", "--format", "csv"], ws_root).stdout.splitlines()
    assert csv[0].startswith("rank,customer,name,tier,lifetime_value")
    assert csv[1].startswith("1,company/delta,Delta AB,platinum,500000.00,1,")
    html = run(["--now", NOW, "report", "value", "--format", "html"], ws_root).stdout
    assert "<svg" in html and "Customers by lifetime value" in html and "<script" not in html
    r = run(["--now", NOW, "report", "value", "--as-of", "2026-07-01", "--since", "2026-01-01", "--json"], ws_root)
    data = json.loads(r.stdout)
    assert [row["customer"] for row in data["ranked"]] == ["company/alfa", "company/beta"]
    r = run(["--now", NOW, "report", "value", "--where", "tier == gold", "--json"], ws_root)
    assert [row["customer"] for row in json.loads(r.stdout)["ranked"]] == ["company/alfa", "company/beta"]


@pytest.mark.parametrize("rules, message", [
    ("tiers:\n  gold: lifetime_valu >= 10\n", "rules/value.yaml:2: value-field: tier gold: unknown field "
                                              "'lifetime_valu' (did you mean 'lifetime_value'?)"),
    ("tiers:\n  gold: lifetime_value >=\n", "rules/value.yaml:2: value-syntax: tier gold:"),
    ("tiers:\n  gold: tier == silver\n", "a tier cannot depend on the tier itself"),
    ("tiers: [gold]\n", "tiers: is a mapping of tier name to condition"),
])
def test_a_broken_value_rule_is_one_line_with_file_and_line(make_ws, run, rules: str, message: str) -> None:
    root = make_ws(dict(FILES, **{"rules/value.yaml": rules}))
    before = git(root, "status", "--porcelain")
    r = run(["--now", NOW, "report", "value"], root)
    assert r.exit_code == 1
    assert r.stdout == ""
    [line] = r.stderr.strip().splitlines()
    assert message in line and "Traceback" not in r.stderr
    r = run(["check"], root)
    assert r.exit_code == 1 and message.split(": ", 1)[-1][:30] in r.stdout + r.stderr
    # a listing that needs the tier refuses too; nothing is written anywhere
    r = run(["--now", NOW, "company", "list", "--where", "tier == gold"], root)
    assert r.exit_code == 1 and len(r.stderr.strip().splitlines()) == 1
    assert git(root, "status", "--porcelain") == before


def test_an_unknown_tier_in_a_rule_file_is_reported_by_check(make_ws, run) -> None:
    triage = ("- id: vip\n  when: company.tier == platnum\n  set: {line: second}\n  assign: daniel\n"
              "- id: rest\n  assign: karin\n")
    root = make_ws(dict(FILES, **{"rules/triage.yaml": triage}))
    r = run(["check"], root)
    assert r.exit_code == 1
    assert ("rules/triage.yaml:2: value-tier: when: unknown tier 'platnum' (did you mean 'platinum'?)"
            in r.stdout + r.stderr)
    default = "tiers:\n  gold: won_deals >= 1\ndefault: 7\n"
    root = make_ws(dict(FILES, **{"rules/value.yaml": default}))
    r = run(["check"], root)
    assert r.exit_code == 1 and "default: names the tier of everyone else" in r.stdout + r.stderr


def test_without_rules_everyone_is_standard(make_ws) -> None:
    files = {k: v for k, v in FILES.items() if k != "rules/value.yaml"}
    root = make_ws(files)
    v = value.compute(_ws(root))
    assert {cv.tier for cv in v.values()} == {"standard"}


@pytest.mark.parametrize("rules", [
    VALUE_RULES,
    # exactly on a threshold, strict and loose, a negation, an exact-value field (rfm) and exists()
    "tiers:\n  platinum: lifetime_value > 204000 and not (won_deals == 2)\n"
    "  gold: lifetime_value >= 204000 or rfm_score >= 12\n  silver: rfm in ['111', '545'] or recency_days < 30\n"
    "  bronze: exists(last_purchase) and lifetime_value != 30000\ndefault: standard\n",
])
def test_tiers_grouped_by_thresholds_equal_one_evaluation_each(make_ws, rules: str) -> None:
    """compute evaluates the tier rules once per group of customers whose figures lie alike
    among the rules' numbers: every customer's tier is what its own evaluation says."""
    root = make_ws(dict(FILES, **{"rules/value.yaml": rules}))
    ws = _ws(root)
    tiering = tiers.load_tiering(ws)
    figures = value.compute(ws)
    assert len(figures) == 6
    for cv in figures.values():
        assert cv.tier == value.tier_of(ws, tiering, cv, None), cv.ref
    if rules != VALUE_RULES:
        # beta's 204000.00 is exactly on the threshold: gold (>=), not platinum (>)
        assert figures[("company", "beta")].tier == "gold"
        assert figures[("company", "gamma")].tier != "bronze"  # 30000 exactly: != is false


@pytest.mark.parametrize("args, message", [
    (["company", "list", "--where", "tier == platnum"], "--where: unknown tier 'platnum' (did you mean 'platinum'?)"),
    (["contact", "list", "--where", "tier in [gold, silvr]"], "--where: unknown tier 'silvr' (did you mean 'silver'?)"),
    (["deal", "list", "--where", "company.tier != golden"], "--where: unknown tier 'golden' (did you mean 'gold'?)"),
    (["contact", "list", "--where", "sentiment == happy"],
     "--where: unknown sentiment 'happy'; sentiment is one of upset, neutral, satisfied, loyal"),
    (["contact", "list", "--where", "not (sentiment == loyl)"], "--where: unknown sentiment 'loyl' (did you mean 'loyal'?)"),
    (["report", "value", "--where", "tier == platnum"], "--where: unknown tier 'platnum' (did you mean 'platinum'?)"),
])
def test_an_unknown_tier_or_sentiment_in_where_is_a_usage_error(ws_root: Path, run, args, message) -> None:
    r = run(["--now", NOW, *args], ws_root)
    assert r.exit_code == 2, r.stderr
    assert r.stdout == "" and r.stderr.strip() == f"crmkit: error: {message}"


def test_known_tiers_and_sentiments_and_stored_fields_pass(make_ws, run) -> None:
    root = make_ws(dict(FILES, **{"companies/eta.yaml": "name: Eta AB\ntier: A\n"}))
    for where in ("tier in [platinum, gold]", "sentiment != upset", "tier == standard"):
        r = run(["--now", NOW, "contact", "list", "--where", where], root)
        assert r.exit_code == 0, (where, r.stderr)
    # a company that keeps a `tier:` of its own: its value decides, whatever it is
    r = run(["--now", NOW, "company", "list", "--where", "tier == A", "--format", "json"], root)
    assert r.exit_code == 0, r.stderr
    assert [c["id"] for c in json.loads(r.stdout)] == ["eta"]


def test_check_reports_unknown_tiers_and_sentiments_in_segments_rules_and_policies(make_ws, run) -> None:
    triage = ("- id: vip\n  when: company.tier == platinum\n  assign: daniel\n"
              "- id: upset\n  when: contact.sentiment == upste and priority == high\n  assign: daniel\n")
    config = MINIMAL_CONFIG + ("sla:\n  policies:\n    - id: vip\n      when: company.tier in [platinum, goold]\n"
                               "      calendar: 24/7\n      targets:\n        normal: {first_response: 1h}\n")
    root = make_ws(dict(FILES, **{
        "rules/triage.yaml": triage,
        "segments/big.yaml": "kind: company\nwhere: tier == platnum\n",
        "segments/fans.yaml": "kind: contact\ndescription: fans\nwhere: sentiment in [loyal, satisfed]\n",
        "crmkit.yaml": config,
    }))
    r = run(["check"], root)
    assert r.exit_code == 1
    out = r.stdout + r.stderr
    assert ("rules/triage.yaml:5: value-tier: when: unknown sentiment 'upste' (did you mean 'upset'?)"
            in out)
    assert "segments/big.yaml:2: segment: where: unknown tier 'platnum' (did you mean 'platinum'?)" in out
    assert "segments/fans.yaml:3: segment: where: unknown sentiment 'satisfed' (did you mean 'satisfied'?)" in out
    assert "crmkit.yaml:" in out and "sla.policies[0] (vip): unknown tier 'goold' (did you mean 'gold'?)" in out
    line = next(x for x in out.splitlines() if "goold" in x)
    assert line.startswith(f"crmkit.yaml:{config.splitlines().index('      when: company.tier in [platinum, goold]') + 1}:")
    assert "vip" not in [x for x in out.splitlines() if "rules/triage.yaml:2" in x]
    # using the segment stops with the same line, nothing written
    before = git(root, "status", "--porcelain")
    r = run(["--now", NOW, "segment", "show", "big"], root)
    assert r.exit_code == 1 and r.stdout == ""
    assert r.stderr.strip() == "crmkit: error: segments/big.yaml:2: where: unknown tier 'platnum' (did you mean 'platinum'?)"
    assert git(root, "status", "--porcelain") == before


def test_every_choice_set_resolves(ws_root: Path) -> None:
    from crmkit.conditions.choices import CHOICES
    from crmkit.targets import resolve

    ws = _ws(ws_root)
    assert resolve(CHOICES["tier"])(ws) == ["platinum", "gold", "silver", "standard"]
    assert resolve(CHOICES["sentiment"])(ws) == ["upset", "neutral", "satisfied", "loyal"]


def test_parsed_tiers_are_cached_until_the_file_changes(ws_root: Path) -> None:
    import os

    path = ws_root / "rules/value.yaml"
    os.utime(path, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))  # old: not racy
    first, problems = tiers.read_tiering(_ws(ws_root))
    assert problems == [] and first.names == ["platinum", "gold", "silver", "standard"]
    assert (ws_root / ".crmkit/cache/rules.value.pickle").is_file()
    assert tiers.read_tiering(_ws(ws_root))[0].names == first.names  # from the cache
    path.write_text("tiers:\n  vip: won_deals >= 1\ndefault: basic\n", encoding="utf-8")
    os.utime(path, ns=(1_700_000_100_000_000_000, 1_700_000_100_000_000_000))
    assert tiers.read_tiering(_ws(ws_root))[0].names == ["vip", "basic"]
    # a broken file is never served from the cache
    path.write_text("tiers:\n  vip: won_dels >= 1\n", encoding="utf-8")
    os.utime(path, ns=(1_700_000_200_000_000_000, 1_700_000_200_000_000_000))
    tiering, problems = tiers.read_tiering(_ws(ws_root))
    assert [p.line for p in problems] == [2] and "won_dels" in problems[0].message
