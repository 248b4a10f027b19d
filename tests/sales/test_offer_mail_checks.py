"""What `crmkit check` can learn about offers and templates (crmkit.sales.offers:check_offers,
crmkit.marketing.mailtemplate:check_templates)."""

from __future__ import annotations

from crmkit.marketing.mailtemplate import check_templates
from crmkit.sales.offers import check_offers
from crmkit.store.workspace import Workspace


def test_offer_problems_name_the_deal_file_and_line(make_ws) -> None:
    root = make_ws({
        "deals/good.yaml": "title: Good\nstage: lead\noffer:\n  items:\n    - {quantity: 1, unit_price: 10}\n",
        "deals/bad.yaml": "title: Bad\nstage: lead\ncurrency: SEK\noffer:\n  discount: 5\n  items:\n"
                          "    - {quantity: 1, unit_price: 10}\n",
        "deals/none.yaml": "title: None\nstage: lead\n",
    }, git=False)
    problems = [str(p) for p in check_offers(Workspace.find(str(root)))]
    assert problems == ["deals/bad.yaml:6: offer: offer.discount: discount 5 is ambiguous: "
                        "write 5% for a percent or {amount: 5} for an amount"]


def test_template_problems_name_the_file_and_line(make_ws) -> None:
    root = make_ws({
        "templates/offer.md.j2": "# {{ offer.number }}\n{% for x in %}\n",
        "templates/mail/ok.md.j2": "---\nsubject: Hej {{ contact.name }}\n---\nHej\n=== html ===\n<p>Hej</p>\n",
        "templates/mail/syntax.md.j2": "---\nsubject: Hej\n---\nline 4\nline 5 {{ oops(\n",
        "templates/mail/html.md.j2": "---\nsubject: Hej\n---\ntext\n=== html ===\n<p>\n{% if %}\n",
        "templates/mail/nofront.md.j2": "Hej\n",
        "templates/mail/unsub.md.j2": "---\nsubject: Hej\nkind: marketing\n---\nKöp!\n",
    }, git=False)
    problems = sorted(str(p) for p in check_templates(Workspace.find(str(root))))
    assert [p.split(": template: ")[0] for p in problems] == [
        "templates/mail/html.md.j2:7", "templates/mail/nofront.md.j2:1", "templates/mail/syntax.md.j2:5",
        "templates/mail/unsub.md.j2:5", "templates/offer.md.j2:2"]
    assert any("needs the unsubscribe line" in p for p in problems)
