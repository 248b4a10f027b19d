"""Offer figures as printed add up, and JSON gives rounded money as text."""

from __future__ import annotations

import json
from decimal import Decimal

from crmkit.sales.offers import compute

HUF_OFFER = {"items": [
    {"description": "Licenc", "quantity": "1.5", "unit_price": "2314.78125", "discount": "7%", "vat": 27},
    {"description": "Tanácsadás", "quantity": "3.25", "unit_price": "18999.99", "discount": "12.5%", "vat": 27},
], "discount": "3%"}


def test_each_line_adds_up_as_printed() -> None:
    totals = compute(HUF_OFFER, "HUF")
    data = totals.to_dict()
    for line in data["lines"]:
        assert Decimal(line["gross"]) - Decimal(line["discount"]) == Decimal(line["net"]), line
        for key in ("gross", "discount", "net"):
            assert len(line[key].partition(".")[2]) <= 2, line       # rounded to the currency
    assert Decimal(data["subtotal"]) == sum(Decimal(ln["net"]) for ln in data["lines"])
    assert Decimal(data["subtotal"]) - Decimal(data["discount"]) == Decimal(data["net"])
    assert Decimal(data["net"]) + Decimal(data["vat_total"]) == Decimal(data["total"])
    assert "3472.171875" not in json.dumps(data)


def test_offer_show_json_money_is_rounded_text(run, make_ws) -> None:
    ws = make_ws({"deals/huf.yaml": "title: HUF deal\nstage: proposal\ncurrency: HUF\noffer:\n  items:\n"
                                    "    - {description: Licenc, quantity: 1.5, unit_price: 2314.78125, vat: 27}\n"})
    r = run(["offer", "show", "huf", "--json"], ws)
    assert r.exit_code == 0, r.stderr
    line = json.loads(r.stdout)["lines"][0]
    assert line["gross"] == "3472" and line["net"] == "3472"   # forints are whole and isinstance(line["gross"], str)


def test_units_in_the_offer_language() -> None:
    from crmkit.render.units import unit_text

    assert unit_text("month", 12, "sv") == "månader" and unit_text("months", 1, "sv") == "månad"
    assert unit_text("month", 12, "nb") == "måneder" and unit_text("day", "2", "hu") == "nap"
    assert unit_text("st", 3, "sv") == "st" and unit_text("tim", 80, "sv") == "tim"   # as written
    assert unit_text("hour", 2, "en") == "hours"


def test_rendered_offer_says_12_manader(run, make_ws) -> None:
    ws = make_ws({"deals/support.yaml": "title: Support\nstage: proposal\noffer:\n  items:\n"
                                        "    - {description: Support, quantity: 12, unit: month, unit_price: 9500}\n"
                                        "    - {description: Workshop, quantity: 1, unit: day, unit_price: 12000}\n"})
    r = run(["--no-commit", "offer", "render", "support"], ws)
    assert r.exit_code == 0, r.stderr
    assert "| 12 månader |" in r.stdout and "| 1 dag |" in r.stdout
    r = run(["--no-commit", "offer", "render", "support", "--lang", "nb", "--format", "html"], ws)
    assert "12 måneder" in r.stdout


def test_an_accepted_offer_can_become_the_deal_value(run, make_ws) -> None:
    from conftest import git

    from crmkit.store import yamlio

    ws = make_ws({"deals/support.yaml": "title: Support\nstage: negotiation\nvalue: 120000\noffer:\n  discount: {amount: 12000}\n"
                                        "  items:\n    - {description: Support, quantity: 12, unit: month, unit_price: 10500}\n"})
    r = run(["--now", "2026-11-24T10:00", "offer", "accept", "support", "--json"], ws)
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["net"] == "114000.00" and out["total"] == "142500.00" and out["value_set"] is False
    deal = yamlio.load_fast(ws / "deals/support.yaml")
    assert deal["value"] == 120000 and deal["offer"]["accepted"]["net"] == "114000.00"
    assert deal["stage"] == "negotiation"
    assert run(["offer", "accept", "support"], ws).exit_code == 1          # once
    assert git(ws, "status", "--porcelain") == ""

    ws2 = make_ws({"crmkit.yaml": __import__("conftest").MINIMAL_CONFIG + "offers:\n  accepted_sets_value: true\n",
                   "deals/support.yaml": "title: Support\nstage: negotiation\nvalue: 120000\noffer:\n  items:\n"
                                         "    - {description: Support, quantity: 12, unit: month, unit_price: 9500.5}\n"})
    r = run(["offer", "accept", "support"], ws2)
    assert r.exit_code == 0 and "value 120000 -> 114006.00" in r.stdout
    assert str(yamlio.load_fast(ws2 / "deals/support.yaml")["value"]) == "114006"
    assert run(["check"], ws2).exit_code == 0
