"""Offers and mail end to end: golden renderings, a real PDF, a real SMTP server on localhost."""

from __future__ import annotations

import email
import json
import os
import socket
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from conftest import git

from crmkit.store import yamlio

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
NOW = "2026-11-22T10:00:00+01:00"

CONFIG_EXTRA = """
offers: {vat: 25, rounding: line, validity_days: 30}
mail:
  from: "Fjordlys Consulting <hej@fjordlys.se>"
  unsubscribe: "Svara AVREGISTRERA för att slippa fler utskick."
"""

FILES = {
    "companies/nordvik-as.yaml": "name: Nordvik AS\ncountry: NO\n"
                                 "address: {street: Strandveien 50, zip: '1366', city: Lysaker}\n",
    "companies/akerberg-ab.yaml": "name: Åkerberg AB\ncountry: SE\n",
    "contacts/bjorn-odegard.yaml": "name: Bjørn Ødegård\nemail: bjorn@nordvik.no\ncompany: nordvik-as\n"
                                   "consent: {marketing: true}\ntitle: CTO\n",
    "contacts/asa-oberg.yaml": "name: Åsa Öberg\nemail: asa@akerberg.se\ncompany: akerberg-ab\n"
                               "consent: {marketing: true}\n",
    "contacts/no-consent.yaml": "name: Nils Nej\nemail: nils@akerberg.se\ncompany: akerberg-ab\n",
    "contacts/opted-out.yaml": "name: Olle Ut\nemail: olle@akerberg.se\nopted_out: true\nconsent: {marketing: true}\n",
    "contacts/asa-again.yaml": "name: Åsa Ö.\nemail: ASA@akerberg.se\nconsent: {marketing: true}\n",
    "contacts/no-email.yaml": "name: Ingen Post\nconsent: {marketing: true}\n",
    "contacts/curly.yaml": "name: '{{ 7*7 }}'\nemail: curly@example.com\nconsent: {marketing: true}\ntitle: QA\n",
    "deals/nordvik-erp.yaml": (
        "title: Nordvik ERP\ncompany: nordvik-as\ncontacts: [bjorn-odegard]\nstage: proposal\nowner: daniel\n"
        "currency: SEK\noffer:\n  number: FL-2026-007\n  discount: 5%\n"
        "  notes: \"Priserna gäller i 30 dagar. <Moms> tillkommer & redovisas separat.\"\n  items:\n"
        "    - {description: ERP-licens, quantity: 25, unit: st, unit_price: 4900, vat: 25}\n"
        "    - {description: Implementation, quantity: 80, unit: tim, unit_price: 1250, discount: 10%, vat: 25}\n"
        "    - {description: Kursbok, quantity: 3, unit: st, unit_price: 345.50, vat: 6}\n"),
    "segments/everyone.yaml": "kind: contact\nwhere: exists(name)\n",
    "templates/mail/news.md.j2": (
        "---\nsubject: \"Nyheter för {{ contact.name }}\"\nkind: marketing\n---\n"
        "Hej {{ contact.name }} på {{ company.name | default('') }},\nläs om våra nyheter.\n{{ unsubscribe }}\n"
        "=== html ===\n<p>Hej {{ contact.name }}</p>\n<p>{{ unsubscribe }}</p>\n"),
    "templates/mail/title.md.j2": "---\nsubject: Hej\nkind: transactional\n---\nDin titel: {{ contact.title }}\n",
    "templates/mail/no-unsub.md.j2": "---\nsubject: Hej\nkind: marketing\n---\nKöp nu!\n",
}


@pytest.fixture
def ws(make_ws):
    from conftest import MINIMAL_CONFIG

    return make_ws(dict(FILES, **{"crmkit.yaml": MINIMAL_CONFIG + CONFIG_EXTRA}))


def test_offer_markdown_and_html_match_the_golden_files(run, ws) -> None:
    for fmt in ("md", "html"):
        r = run(["--now", NOW, "--no-commit", "offer", "render", "nordvik-erp", "--format", fmt], ws)
        assert r.exit_code == 0, r.stderr
        golden = GOLDEN / f"offer-nordvik-erp.sv.{fmt}"
        if os.environ.get("UPDATE_GOLDEN"):   # regenerate, then review the diff by hand
            golden.write_text(r.stdout, encoding="utf-8")
        assert r.stdout == golden.read_text(encoding="utf-8"), f"{fmt} differs from {golden}"
    assert "253\u00a0387,50\u00a0kr" in r.stdout


def test_offer_in_english_and_recorded_on_the_deal(run, ws, tmp_path) -> None:
    out = tmp_path / "offer.md"
    r = run(["--now", NOW, "offer", "render", "nordvik-erp", "--lang", "en", "-o", str(out), "--json"], ws)
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["total"] == "253387.50"
    text = out.read_text(encoding="utf-8")
    assert "# Offer FL-2026-007" in text and "SEK253,387.50" in text.replace("\u00a0", "")
    offer = yamlio.load_fast(ws / "deals/nordvik-erp.yaml")["offer"]
    assert offer["history"][0]["revision"] == 1 and offer["history"][0]["total"] == "253387.50"
    assert git(ws, "log", "-1", "--format=%s").startswith("crmkit: offer FL-2026-007 revision 1")
    # the same offer again: the same revision, nothing new to commit
    before = git(ws, "rev-parse", "HEAD")
    run(["--now", NOW, "offer", "render", "nordvik-erp", "-o", str(out)], ws)
    assert git(ws, "rev-parse", "HEAD") == before
    # a changed offer: revision 2
    run(["set", "nordvik-erp", "offer.discount=10%"], ws)
    r = run(["--now", NOW, "offer", "render", "nordvik-erp", "-o", str(out), "--json"], ws)
    assert json.loads(r.stdout)["revision"] == 2


def test_offer_pdf_is_a_real_pdf_with_the_total(run, ws, tmp_path) -> None:
    from pypdf import PdfReader

    out = tmp_path / "offer.pdf"
    r = run(["--now", NOW, "offer", "render", "nordvik-erp", "--format", "pdf", "-o", str(out)], ws)
    assert r.exit_code == 0, r.stderr
    assert out.read_bytes().startswith(b"%PDF-")
    text = "".join(page.extract_text() for page in PdfReader(str(out)).pages).replace("\u00a0", " ")
    assert "253 387,50 kr" in text and "Nordvik AS" in text and "Offert" in text


def test_templates_are_sandboxed_and_record_text_is_data(run, ws) -> None:
    (ws / "templates/offer.md.j2").write_text("{{ ''.__class__.__mro__[1].__subclasses__() }}\n")
    r = run(["--no-commit", "offer", "render", "nordvik-erp"], ws)
    assert r.exit_code == 1 and "unsafe" in r.stderr and "Traceback" not in r.stderr
    (ws / "templates/offer.md.j2").write_text("{% for x in %}\n")
    r = run(["--no-commit", "offer", "render", "nordvik-erp"], ws)
    assert r.exit_code == 1 and "template syntax error" in r.stderr and "offer.md.j2:1" in r.stderr
    (ws / "templates/offer.md.j2").unlink()
    r = run(["--now", NOW, "mail", "render", "title", "--to", "curly"], ws)
    assert r.exit_code == 0, r.stderr
    msg = email.message_from_bytes(next((ws / "outbox").glob("*.eml")).read_bytes(), policy=policy.default)
    assert "Din titel: QA" in msg.get_content()
    r = run(["--now", NOW, "mail", "render", "news", "--to", "curly", "--json"], ws)
    html_msg = email.message_from_bytes((ws / json.loads(r.stdout)["written"][0]).read_bytes(), policy=policy.default)
    assert "Hej {{ 7*7 }}" in html_msg.get_body(("plain",)).get_content()
    assert html_msg["Subject"] == "Nyheter för {{ 7*7 }}"


def test_html_offer_escapes_record_text(run, ws) -> None:
    run(["set", "nordvik-as", "name=<script>alert(1)</script> AS"], ws)
    r = run(["--no-commit", "offer", "render", "nordvik-erp", "--format", "html"], ws)
    assert "<script>alert" not in r.stdout and "&lt;script&gt;alert(1)&lt;/script&gt; AS" in r.stdout


def test_mail_merge_to_a_segment_respects_consent(run, ws) -> None:
    r = run(["--now", NOW, "mail", "render", "news", "--segment", "everyone", "--json"], ws)
    assert r.exit_code == 0, r.stderr
    report = json.loads(r.stdout)
    assert sorted(report["recipients"]) == ["asa-again", "bjorn-odegard", "curly"] or \
        sorted(report["recipients"]) == ["asa-oberg", "bjorn-odegard", "curly"]
    reasons = {s["id"]: s["reason"] for s in report["skipped"]}
    assert reasons["no-consent"] == "no consent to marketing"
    assert reasons["opted-out"] == "opted out"
    assert reasons["no-email"] == "no email address"
    assert any(r.startswith("same address as") for r in reasons.values())
    assert len(list((ws / "outbox").glob("*.eml"))) == 3
    eml = next((ws / "outbox").glob("*bjorn-odegard.eml")).read_bytes()
    msg = email.message_from_bytes(eml, policy=policy.default)
    assert msg.get_content_type() == "multipart/alternative"
    assert msg["To"] == "Bjørn Ødegård <bjorn@nordvik.no>"
    assert "Svara AVREGISTRERA" in msg.get_body(("plain",)).get_content()
    assert "left out: " in git(ws, "log", "-1", "--format=%B")


def test_missing_variable_is_an_error_and_dry_run_lists_it(run, ws) -> None:
    r = run(["mail", "render", "title", "--to", "bjorn-odegard", "--to", "asa-oberg", "--dry-run", "--json"], ws)
    assert r.exit_code == 1
    failed = json.loads(r.stdout)["failed"]
    assert failed == [{"id": "asa-oberg", "error": "template title: missing variable: contact.title",
                       "missing": ["contact.title"]}]
    assert not (ws / "outbox").exists()
    r = run(["mail", "render", "title", "--to", "bjorn-odegard", "--to", "asa-oberg"], ws)
    assert r.exit_code == 1 and "nothing was written" in r.stderr
    assert "crmkit: asa-oberg: template title: missing variable: contact.title" in r.stderr
    assert not (ws / "outbox").exists() or not list((ws / "outbox").glob("*.eml"))


def test_marketing_template_needs_an_unsubscribe_line(run, ws) -> None:
    r = run(["mail", "render", "no-unsub", "--to", "bjorn-odegard"], ws)
    assert r.exit_code == 1 and "unsubscribe" in r.stderr


def test_a_line_break_in_a_name_cannot_inject_a_header(run, ws) -> None:
    (ws / "contacts/eve.yaml").write_text('name: "Eve\\nBcc: everyone@example.com"\nemail: eve@example.com\ntitle: x\n')
    r = run(["mail", "render", "title", "--to", "eve"], ws)
    assert r.exit_code == 1 and "eve: the name contains a line break" in r.stderr
    assert not list((ws / "outbox").glob("*.eml"))  # no folder at all is fine too


# -- a real SMTP server on localhost ----------------------------------------------------


class Recorder:
    def __init__(self, refuse: set[str] | None = None) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.refuse = refuse or set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    servers = []

    def start(refuse: set[str] | None = None, auth: tuple[str, str] | None = None) -> tuple[Recorder, int]:
        handler = Recorder(refuse)
        port = free_port()
        kwargs = {}
        if auth:
            def authenticator(server, session, envelope, mechanism, data):
                ok = isinstance(data, LoginPassword) and (data.login.decode(), data.password.decode()) == auth
                return AuthResult(success=ok)
            kwargs = {"authenticator": authenticator, "auth_require_tls": False}
        controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
        controller.start()
        servers.append(controller)
        return handler, port

    yield start
    for c in servers:
        c.stop()


def _smtp_config(ws: Path, port: int, user: str | None = None) -> None:
    text = (ws / "crmkit.yaml").read_text()
    text += f"smtp: {{host: 127.0.0.1, port: {port}, security: none" + (f", user: {user}" if user else "") + "}\n"
    (ws / "crmkit.yaml").write_text(text)
    git(ws, "commit", "-qam", "smtp settings")


def test_send_delivers_logs_activities_and_empties_the_outbox(run, ws, smtp_server, monkeypatch) -> None:
    handler, port = smtp_server(auth=("crm", "s3cret"))
    _smtp_config(ws, port, user="crm")
    run(["--now", NOW, "mail", "render", "news", "--to", "bjorn-odegard", "--to", "asa-oberg"], ws)
    r = run(["mail", "send"], ws)
    assert r.exit_code == 1 and "$CRMKIT_SMTP_PASSWORD is empty" in r.stderr
    monkeypatch.setenv("CRMKIT_SMTP_PASSWORD", "s3cret")
    r = run(["mail", "send", "--dry-run"], ws)
    assert r.stdout.count("would send") == 2 and not handler.messages
    r = run(["--now", NOW, "mail", "send"], ws)
    assert r.exit_code == 0, r.stderr
    assert sorted(m["To"] for m in handler.messages) == ["Bjørn Ødegård <bjorn@nordvik.no>", "Åsa Öberg <asa@akerberg.se>"]
    got = handler.messages[0]
    assert got.get_content_type() == "multipart/alternative"
    assert got["Subject"].startswith("Nyheter för ")
    assert not list((ws / "outbox").glob("*.eml"))
    acts = [yamlio.load_fast(p) for p in (ws / "activities").glob("*.yaml")]
    assert sorted(a["contact"] for a in acts) == ["asa-oberg", "bjorn-odegard"]
    assert all(a["type"] == "email" and a["direction"] == "out" and a["message_id"] for a in acts)
    assert all(a["delivery"] == "sent" for a in acts)
    # two commits per message: "sending" (before SMTP), then "email to" (after the server took it)
    subjects = [s for s in git(ws, "log", "-4", "--format=%s").splitlines() if s.startswith("crmkit: email to")]
    assert sorted(subjects) == ["crmkit: email to contact/asa-oberg: Nyheter för Åsa Öberg",
                                "crmkit: email to contact/bjorn-odegard: Nyheter för Bjørn Ødegård"]
    assert git(ws, "status", "--porcelain") == ""
    assert "s3cret" not in (ws / "crmkit.yaml").read_text()


def test_a_failure_half_way_keeps_what_was_sent_and_the_next_run_sends_the_rest(run, ws, smtp_server) -> None:
    handler, port = smtp_server(refuse={"asa@akerberg.se"})
    _smtp_config(ws, port)
    run(["--now", NOW, "mail", "render", "news", "--to", "bjorn-odegard", "--to", "asa-oberg", "--to", "curly"], ws)
    r = run(["--now", NOW, "mail", "send"], ws)
    assert r.exit_code == 4, r.stderr
    assert "sent 2, failed 1" in r.stderr
    assert sorted(m["To"].addresses[0].addr_spec for m in handler.messages) == ["bjorn@nordvik.no", "curly@example.com"]
    left = list((ws / "outbox").glob("*.eml"))
    assert len(left) == 1 and "asa-oberg" in left[0].name
    assert len(list((ws / "activities").glob("*.yaml"))) == 2
    assert git(ws, "status", "--porcelain") == ""            # what was sent is committed
    handler.refuse.clear()
    r = run(["--now", NOW, "mail", "send"], ws)
    assert r.exit_code == 0
    assert [m["To"].addresses[0].addr_spec for m in handler.messages].count("bjorn@nordvik.no") == 1
    assert len(handler.messages) == 3


def test_unreachable_server_changes_nothing(run, ws) -> None:
    _smtp_config(ws, free_port())
    run(["--now", NOW, "mail", "render", "news", "--to", "bjorn-odegard"], ws)
    r = run(["mail", "send"], ws)
    assert r.exit_code == 4 and "cannot reach the SMTP server" in r.stderr   # try again later (cron)
    assert len(list((ws / "outbox").glob("*.eml"))) == 1


# -- more of the same story ------------------------------------------------------------------


def test_pdf_without_weasyprint_says_how_to_install_it(run, ws, tmp_path, monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "weasyprint", None)   # as if the `pdf` extra were not installed
    out = tmp_path / "offer.pdf"
    r = run(["--now", NOW, "offer", "render", "nordvik-erp", "--format", "pdf", "-o", str(out)], ws)
    assert r.exit_code == 1 and "Traceback" not in r.stderr
    assert "pip install 'crmkit[pdf]'" in r.stderr
    assert not out.exists()
    assert git(ws, "status", "--porcelain") == ""           # nothing recorded for an offer not made


def test_offer_errors_are_one_line(run, ws) -> None:
    (ws / "deals/empty.yaml").write_text("title: Empty\nstage: lead\noffer:\n  items: []\n")
    r = run(["offer", "render", "empty"], ws)
    assert r.exit_code == 1 and r.stderr.strip().count("\n") == 0 and "no items" in r.stderr
    (ws / "deals/bad.yaml").write_text("title: Bad\nstage: lead\noffer:\n  items:\n    - {quantity: two, unit_price: 1}\n")
    r = run(["offer", "render", "bad"], ws)
    assert r.exit_code == 1 and "offer.items[1] quantity: 'two' is not an amount" in r.stderr
    r = run(["offer", "render", "nobody"], ws)
    assert r.exit_code == 1 and "nobody" in r.stderr


def test_a_workspace_offer_template_in_one_language_overrides(run, ws) -> None:
    (ws / "templates/offer.nb.md.j2").write_text("Tilbud {{ offer.number }}: {{ totals.total | money(currency) }}\n")
    r = run(["--now", NOW, "--no-commit", "offer", "render", "nordvik-erp", "--lang", "nb"], ws)
    assert r.stdout == "Tilbud FL-2026-007: 253\u00a0387,50\u00a0SEK\n"
    r = run(["--now", NOW, "--no-commit", "offer", "render", "nordvik-erp", "--lang", "sv"], ws)
    assert r.stdout.startswith("# Offert FL-2026-007")


def test_recipients_get_their_own_language_and_nobody_gets_it_twice(run, ws) -> None:
    (ws / "contacts/bjorn-odegard.yaml").write_text(
        (ws / "contacts/bjorn-odegard.yaml").read_text() + "language: nb\n")
    (ws / "templates/mail/news.nb.md.j2").write_text(
        "---\nsubject: \"Nyheter for {{ contact.name }}\"\nkind: marketing\n---\nHei {{ contact.name }}!\n"
        "{{ unsubscribe }}\n")
    r = run(["--now", NOW, "mail", "render", "news", "--to", "bjorn-odegard", "--to", "asa-oberg", "--json"], ws)
    assert r.exit_code == 0, r.stderr
    msgs = {p.name: email.message_from_bytes(p.read_bytes(), policy=policy.default)
            for p in (ws / "outbox").glob("*.eml")}
    by_to = {m["To"].addresses[0].addr_spec: m for m in msgs.values()}
    assert by_to["bjorn@nordvik.no"]["Subject"] == "Nyheter for Bjørn Ødegård"
    assert by_to["asa@akerberg.se"]["Subject"] == "Nyheter för Åsa Öberg"
    assert by_to["asa@akerberg.se"]["List-Unsubscribe"] == "<mailto:hej@fjordlys.se?subject=unsubscribe>"
    # the same campaign again, while it still waits in the outbox: nobody gets it twice
    r = run(["--now", "2026-11-22T11:00:00+01:00", "mail", "render", "news", "--to", "bjorn-odegard", "--json"], ws)
    report = json.loads(r.stdout)
    assert report["recipients"] == [] and report["skipped"] == [
        {"id": "bjorn-odegard", "reason": "already waiting in the outbox"}]
    assert len(list((ws / "outbox").glob("*.eml"))) == 2


def test_mail_goes_to_contacts_and_leads_only(run, ws) -> None:
    r = run(["mail", "render", "title", "--to", "nordvik-as"], ws)
    assert r.exit_code == 2 and "company/nordvik-as is a company" in r.stderr
    r = run(["mail", "render", "title"], ws)
    assert r.exit_code == 2 and "--to ID... or --segment NAME" in r.stderr
    r = run(["mail", "render", "../../crmkit", "--to", "asa-oberg"], ws)
    assert r.exit_code == 1 and "not a template name" in r.stderr


def test_notification_for_routing_goes_to_the_owner(ws) -> None:
    from crmkit.marketing.mail import render_notification
    from crmkit.store.workspace import Workspace

    (ws / "leads").mkdir(exist_ok=True)
    (ws / "leads/ld-20261122-abcde.yaml").write_text("name: Ingrid Solberg\ncompany_name: Fjellkraft AS\nusers: 100\n")
    w = Workspace.find(str(ws))
    lead = w.get("lead/ld-20261122-abcde")
    with w.transaction("route", "crmkit route") as tx:
        rel = render_notification(w, tx, "new-lead", lead, "daniel", rule="prospect-large")
        assert render_notification(w, tx, "new-lead", lead, "nobody") is None   # no address: nothing
    msg = email.message_from_bytes((ws / rel).read_bytes(), policy=policy.default)
    assert msg["To"].addresses[0].addr_spec == w.users["daniel"]["email"]
    assert msg["Subject"] == "New lead for you: Ingrid Solberg"
    assert "rule prospect-large" in msg.get_content() and "company_name: Fjellkraft AS" in msg.get_content()
    assert msg["X-Crmkit-Record"] == "lead/ld-20261122-abcde"


class Dying(Recorder):
    """Accepts the first message, then says 421 (service closing): the connection is gone."""

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.messages:
            return "421 4.3.0 shutting down"
        return await super().handle_DATA(server, session, envelope)


def test_a_lost_connection_stops_the_run_keeps_the_rest_and_exit_code_4(run, ws) -> None:
    handler, port = Dying(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        _smtp_config(ws, port)
        run(["--now", NOW, "mail", "render", "news", "--to", "bjorn-odegard", "--to", "asa-oberg",
             "--to", "curly"], ws)
        r = run(["--now", NOW, "mail", "send", "--json"], ws)
        assert r.exit_code == 4, r.stderr
        report = json.loads(r.stdout)
        assert len(report["sent"]) == 1 and len(report["failed"]) == 2
        assert report["failed"][1]["error"] == "not tried after the connection failed"
        assert len(list((ws / "outbox").glob("*.eml"))) == 2
        assert git(ws, "status", "--porcelain") == ""
        [act] = [yamlio.load_fast(p) for p in (ws / "activities").glob("*.yaml")]
        assert act["type"] == "email" and act["subject"].startswith("Nyheter för")
    finally:
        controller.stop()


def test_a_message_logged_but_left_in_the_outbox_is_not_sent_again(run, ws, smtp_server) -> None:
    """A run killed between logging and clearing the outbox must not send a duplicate."""
    handler, port = smtp_server()
    _smtp_config(ws, port)
    run(["--now", NOW, "mail", "render", "news", "--to", "bjorn-odegard"], ws)
    [path] = list((ws / "outbox").glob("*.eml"))
    saved = path.read_bytes()
    assert run(["--now", NOW, "mail", "send"], ws).exit_code == 0
    path.write_bytes(saved)                                  # as if the removal had been lost
    r = run(["--now", NOW, "mail", "send"], ws)
    assert r.exit_code == 0 and "already sent" in r.stdout
    assert len(handler.messages) == 1 and not path.exists()


def test_sending_what_was_rendered_without_a_commit(run, ws, smtp_server) -> None:
    handler, port = smtp_server()
    _smtp_config(ws, port)
    run(["--now", NOW, "--no-commit", "mail", "render", "news", "--to", "bjorn-odegard", "--to", "asa-oberg"], ws)
    r = run(["--now", NOW, "mail", "send"], ws)
    assert r.exit_code == 0, r.stderr
    assert len(handler.messages) == 2 and not list((ws / "outbox").glob("*.eml"))
    assert git(ws, "status", "--porcelain") == ""             # the two activities are committed


def test_the_unsubscribe_line_speaks_the_recipients_language(run, ws) -> None:
    text = (ws / "crmkit.yaml").read_text().replace(
        '  unsubscribe: "Svara AVREGISTRERA för att slippa fler utskick."\n',
        '  unsubscribe: {sv: "Svara AVREGISTRERA.", en: "Reply UNSUBSCRIBE."}\n')
    (ws / "crmkit.yaml").write_text(text)
    (ws / "contacts/curly.yaml").write_text((ws / "contacts/curly.yaml").read_text() + "language: en\n")
    r = run(["--now", NOW, "--no-commit", "mail", "render", "news", "--to", "curly", "--to", "asa-oberg"], ws)
    assert r.exit_code == 0, r.stderr
    bodies = {p.name: email.message_from_bytes(p.read_bytes(), policy=policy.default).get_body(("plain",))
              .get_content() for p in (ws / "outbox").glob("*.eml")}
    assert any("Reply UNSUBSCRIBE." in b and "{{ 7*7 }}" in b for b in bodies.values())
    assert any("Svara AVREGISTRERA." in b and "Åsa" in b for b in bodies.values())


def test_the_word_unsubscribe_alone_is_not_an_unsubscribe_line(run, ws) -> None:
    (ws / "templates/mail/sneaky.md.j2").write_text(
        "---\nsubject: Hej\nkind: marketing\n---\nYou cannot unsubscribe.\n")
    r = run(["mail", "render", "sneaky", "--to", "asa-oberg"], ws)
    assert r.exit_code == 1 and "needs the unsubscribe line {{ unsubscribe }}" in r.stderr


def test_an_unwritable_output_leaves_the_deal_as_it_was(run, ws, tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    before = (ws / "deals/nordvik-erp.yaml").read_text()
    r = run(["--now", NOW, "offer", "render", "nordvik-erp", "-o", str(blocker / "offer.md")], ws)
    assert r.exit_code == 1 and r.stderr.startswith("crmkit: error: cannot write ") and "Traceback" not in r.stderr
    assert (ws / "deals/nordvik-erp.yaml").read_text() == before
    assert git(ws, "status", "--porcelain") == ""


def test_an_interrupt_half_way_keeps_what_was_sent_committed(ws, smtp_server, monkeypatch, run) -> None:
    """Ctrl-C (or any crash) after the first message: it stays sent, logged and committed;
    the one being handed to the server then is unconfirmed, and not sent again blindly."""
    from crmkit.marketing import smtp
    from crmkit.marketing.sending import send_outbox
    from crmkit.store.workspace import Workspace

    handler, port = smtp_server()
    _smtp_config(ws, port)
    run(["--now", NOW, "mail", "render", "news", "--to", "bjorn-odegard", "--to", "asa-oberg"], ws)
    real = smtp.Connection.send_message
    calls = []

    def once_then_interrupt(self, msg):
        if calls:
            raise KeyboardInterrupt
        calls.append(msg)
        return real(self, msg)

    monkeypatch.setattr(smtp.Connection, "send_message", once_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        send_outbox(Workspace.find(str(ws)), "crmkit mail send")
    assert len(handler.messages) == 1
    assert len(list((ws / "outbox").glob("*.eml"))) == 1
    acts = sorted(yamlio.load_fast(p)["delivery"] for p in (ws / "activities").glob("*.yaml"))
    assert acts == ["sending", "sent"]          # the interrupted one is logged, as unconfirmed
    assert git(ws, "status", "--porcelain") == ""
    monkeypatch.setattr(smtp.Connection, "send_message", real)
    r = run(["--now", NOW, "mail", "send"], ws)
    assert r.exit_code == 4 and "unconfirmed" in r.stderr and len(handler.messages) == 1
    assert run(["--now", NOW, "mail", "send", "--resend-unconfirmed"], ws).exit_code == 0
    assert len(handler.messages) == 2 and len({m["To"] for m in handler.messages}) == 2
    acts = sorted(yamlio.load_fast(p)["delivery"] for p in (ws / "activities").glob("*.yaml"))
    assert acts == ["sent", "sent"] and not list((ws / "outbox").glob("*.eml"))


def test_the_offer_speaks_the_customers_language_unless_told(run, ws) -> None:
    (ws / "contacts/bjorn-odegard.yaml").write_text(
        (ws / "contacts/bjorn-odegard.yaml").read_text() + "language: nb\n")
    r = run(["--now", NOW, "--no-commit", "offer", "render", "nordvik-erp"], ws)
    assert r.stdout.startswith("# Tilbud FL-2026-007") and "| **Å betale** | **253\u00a0387,50\u00a0SEK** |" in r.stdout
    r = run(["--now", NOW, "--no-commit", "offer", "render", "nordvik-erp", "--lang", "sv"], ws)
    assert r.stdout.startswith("# Offert FL-2026-007")


def test_transactional_mail_reaches_someone_who_opted_out_of_marketing(run, ws) -> None:
    (ws / "contacts/opted-out.yaml").write_text(
        (ws / "contacts/opted-out.yaml").read_text() + "title: Inköpare\n")
    r = run(["--now", NOW, "--no-commit", "mail", "render", "title", "--to", "opted-out", "--json"], ws)
    assert r.exit_code == 0 and json.loads(r.stdout)["recipients"] == ["opted-out"]
    r = run(["--now", NOW, "--no-commit", "mail", "render", "news", "--to", "opted-out", "--json"], ws)
    assert json.loads(r.stdout)["skipped"] == [{"id": "opted-out", "reason": "opted out"}]


def test_what_the_server_gets_and_hand_made_messages(run, ws, smtp_server) -> None:
    handler, port = smtp_server()
    _smtp_config(ws, port)
    run(["--now", NOW, "mail", "render", "news", "--to", "bjorn-odegard"], ws)
    (ws / "outbox").mkdir(exist_ok=True)
    (ws / "outbox/by-hand.eml").write_bytes(b"From: hej@fjordlys.se\r\nTo: karin@fjordlys.se\r\n"
                                            b"Subject: by hand\r\n\r\nHej!\r\n")
    (ws / "outbox/no-recipient.eml").write_bytes(b"From: hej@fjordlys.se\r\nSubject: nobody\r\n\r\nHej!\r\n")
    r = run(["--now", NOW, "mail", "send", "--json"], ws)
    assert r.exit_code == 4
    report = json.loads(r.stdout)
    assert report["failed"][0]["file"] == "outbox/no-recipient.eml"
    assert "names no recipient" in report["failed"][0]["error"]
    assert len(report["sent"]) == 2
    by_subject = {m["Subject"]: m for m in handler.messages}
    assert not [h for h in by_subject["by hand"].keys() if h.lower().startswith("x-crmkit")]
    assert by_subject["by hand"]["Message-ID"]
    assert not [h for m in handler.messages for h in m.keys() if h.lower().startswith("x-crmkit")]
    assert by_subject["Nyheter för Bjørn Ødegård"]["Date"] == "Sun, 22 Nov 2026 10:00:00 +0100"
    # the refused hand-made message stays in the outbox, now committed with the Message-ID it got
    assert (ws / "outbox/no-recipient.eml").exists()
    assert git(ws, "status", "--porcelain", "--untracked-files=all").strip() == ""


def test_notifications_are_sent_but_not_logged_as_customer_mail(ws, smtp_server, run) -> None:
    from crmkit.marketing.mail import render_notification
    from crmkit.store.workspace import Workspace

    handler, port = smtp_server()
    _smtp_config(ws, port)
    w = Workspace.find(str(ws))
    with w.transaction("route", "crmkit route") as tx:
        render_notification(w, tx, "follow-up", w.get("contact/asa-oberg"), "daniel")
    r = run(["--now", NOW, "mail", "send"], ws)
    assert r.exit_code == 0, r.stderr
    assert len(handler.messages) == 1 and not (ws / "activities").exists()


def test_a_syntax_error_in_an_email_template_names_its_file_and_line(run, ws) -> None:
    (ws / "templates/mail/broken.md.j2").write_text("---\nsubject: Hej\n---\nrad 4\nrad 5 {{ oops( }}\n")
    r = run(["mail", "render", "broken", "--to", "asa-oberg"], ws)
    assert r.exit_code == 1
    assert "templates/mail/broken.md.j2:5: template syntax error" in r.stderr


def test_offer_show_gives_the_figures_and_changes_nothing(run, ws) -> None:
    r = run(["offer", "show", "nordvik-erp", "--json"], ws)
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["deal"] == "nordvik-erp" and data["total"] == "253387.50" and data["discount"] == "10676.83"
    assert data["vat"] == [{"rate": "6", "base": "984.67", "vat": "59.08"},
                           {"rate": "25", "base": "201875.00", "vat": "50468.75"}]
    r = run(["offer", "show", "nordvik-erp"], ws)
    assert r.exit_code == 0 and "total (SEK)" in r.stdout and "253387.50" in r.stdout
    assert git(ws, "status", "--porcelain") == ""
    r = run(["offer", "show", "bjorn-odegard"], ws)
    assert r.exit_code != 0 and "Traceback" not in r.stderr
