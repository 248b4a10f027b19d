"""Shell completion through the real entry point, as bash asks for it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


@pytest.fixture
def ws(make_ws):
    root = make_ws({
        "crmkit.yaml": __import__("conftest").MINIMAL_CONFIG + "pools:\n  sales: {strategy: round_robin, members: [daniel]}\n",
        "deals/nordvik-erp.yaml": "title: Nordvik ERP\nstage: proposal\n",
        "deals/nordvik-bi.yaml": "title: Nordvik BI\nstage: lead\n",
        "contacts/nordvik-anna.yaml": "name: Anna\n",
        "contacts/anna-berg.yaml": "name: Anna Berg\n",
        "contacts/anna-b.yaml": "merged_into: anna-berg\nmerged_at: 2026-11-01T10:00:00+01:00\nwas: Anna B.\n",
        "tickets/tk-20261123-aaaaa.yaml": "subject: Help\nstatus: open\n",
        "segments/hot-leads.yaml": "kind: lead\nwhere: exists(name)\n",
        "segments/newsletter-sv.yaml": "kind: contact\nwhere: exists(email)\n",
        "templates/mail/news.md.j2": "---\nsubject: x\n---\nx\n",
        "templates/mail/news.nb.md.j2": "---\nsubject: x\n---\nx\n",
    })
    return root


def complete(ws, line: str) -> list[str]:
    words = line.split(" ")
    env = dict(os.environ, _CRMKIT_COMPLETE="bash_complete", COMP_WORDS=line, COMP_CWORD=str(len(words) - 1),
               CRMKIT_WORKSPACE=str(ws))
    out = subprocess.run([sys.executable, "-m", "crmkit"], env=env, capture_output=True, text=True, check=True).stdout
    return [item.split(",", 1)[1] for item in out.splitlines() if "," in item]


def test_deal_move_completes_deals_then_stages(ws) -> None:
    assert complete(ws, "crmkit deal move ") == ["nordvik-bi", "nordvik-erp"]
    assert complete(ws, "crmkit deal move nordvik-erp ") == ["lead", "qualified", "proposal", "negotiation",
                                                              "won", "lost"]
    assert complete(ws, "crmkit deal move nordvik-erp ne") == ["negotiation"]


def test_offer_render_completes_only_deals(ws) -> None:
    assert complete(ws, "crmkit offer render nordvik") == ["nordvik-bi", "nordvik-erp"]


def test_no_tombstones(ws) -> None:
    assert complete(ws, "crmkit show anna") == ["anna-berg"]


def test_users_templates_segments_and_field_values(ws) -> None:
    assert complete(ws, "crmkit ticket assign tk-20261123-aaaaa ") == ["daniel", "karin", "alan"]
    assert complete(ws, "crmkit ticket escalate tk-20261123-aaaaa --to k") == ["karin"]
    assert complete(ws, "crmkit lead convert x --owner a") == ["alan"]
    templates = complete(ws, "crmkit mail render ")
    assert "news" in templates and "new-lead" in templates and "news.nb" not in templates
    assert complete(ws, "crmkit mail render news --segment ") == ["hot-leads", "newsletter-sv"]
    assert complete(ws, "crmkit segment show n") == ["newsletter-sv"]
    assert complete(ws, "crmkit set nordvik-erp owner=d") == ["owner=daniel"]
    assert complete(ws, "crmkit set nordvik-erp stage=") == ["stage=lead", "stage=qualified", "stage=proposal",
                                                            "stage=negotiation", "stage=won", "stage=lost"]
    assert complete(ws, "crmkit set tk-20261123-aaaaa status=") == [
        "status=new", "status=open", "status=pending", "status=solved", "status=closed"]
    assert complete(ws, "crmkit report agenda --owner ") == ["daniel", "karin", "alan"]
