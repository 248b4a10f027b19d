"""`check` warns about a deal whose currency has no exchange rate (reports leave it out)."""

from __future__ import annotations


def test_check_warns_about_a_deal_without_a_rate(run, make_ws) -> None:
    ws = make_ws({"companies/dunamenti.yaml": "name: Dunamenti Kft.\n",
                  "deals/budapest.yaml": "title: Budapest rollout\ncompany: dunamenti\nstage: lead\n"
                                         "value: 4500000\ncurrency: HUF\n",
                  "deals/plain.yaml": "title: Plain\ncompany: dunamenti\nstage: lead\nvalue: 1000\n"})
    r = run(["check"], ws)
    assert r.exit_code == 0, r.stdout + r.stderr          # a warning: the workspace is not broken
    lines = [line for line in (r.stdout + r.stderr).splitlines() if "deal-rate" in line]
    assert len(lines) == 1, r.stdout + r.stderr
    assert "deals/budapest.yaml:5: deal-rate: no exchange rate for HUF" in lines[0]
    assert "HUF: <how many SEK one HUF is worth>" in lines[0]
    assert run(["check", "--strict"], ws).exit_code == 1
    # with a rate, nothing to say
    config = ws / "crmkit.yaml"
    text = config.read_text(encoding="utf-8")
    assert "rates: {EUR: 11.50, NOK: 1.02}" in text
    config.write_text(text.replace("rates: {EUR: 11.50, NOK: 1.02}", "rates: {EUR: 11.50, NOK: 1.02, HUF: 0.029}"),
                      encoding="utf-8")
    r = run(["check", "--strict"], ws)
    assert r.exit_code == 0 and "deal-rate" not in r.stdout + r.stderr, r.stdout + r.stderr
