"""An offer shows each unit price as the computation used it: a forint price with fillér
is not printed rounded to whole forints, so quantity x unit price checks against the line."""

from __future__ import annotations

NB = "\u00a0"


def test_a_unit_price_keeps_the_decimals_it_is_used_with(run, make_ws, tmp_path) -> None:
    ws = make_ws({"deals/huf.yaml": "title: BI\nstage: proposal\ncurrency: HUF\noffer:\n  items:\n"
                                    "    - {description: Bevezetés, quantity: 3, unit: day, unit_price: 333333.33, vat: 27}\n"
                                    "    - {description: Licenc, quantity: 2, unit: month, unit_price: 12000, vat: 27}\n",
                  "deals/sek.yaml": "title: Support\nstage: proposal\noffer:\n  items:\n"
                                    "    - {description: Support, quantity: 12, unit: month, unit_price: 9500}\n"})
    out = tmp_path / "huf.md"
    r = run(["offer", "render", "huf", "--lang", "hu", "--format", "md", "-o", str(out)], ws)
    assert r.exit_code == 0, r.stderr
    text = out.read_text(encoding="utf-8")
    assert f"| 3 nap | 333{NB}333,33{NB}Ft |" in text and f"| 1{NB}000{NB}000{NB}Ft |" in text
    assert f"| 2 hónap | 12{NB}000{NB}Ft |" in text  # a whole price stays whole
    out = tmp_path / "sek.md"
    assert run(["offer", "render", "sek", "--lang", "sv", "--format", "md", "-o", str(out)], ws).exit_code == 0
    assert f"| 12 månader | 9{NB}500,00{NB}kr |" in out.read_text(encoding="utf-8")
