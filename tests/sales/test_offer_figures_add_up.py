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
