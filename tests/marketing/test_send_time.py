"""What `mail send` decides when a message leaves: consent again, and subjects kept as written.

Everything runs over a real SMTP server (aiosmtpd) on localhost and a real git workspace.
"""

from __future__ import annotations

import email
import json
import socket
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from conftest import git

from crmkit.store import yamlio

NOW = "2026-11-23T10:00:00+01:00"


class Recorder:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"


@pytest.fixture
def smtp(sample_ws: Path):
    """A real SMTP server on a free port, and the sample workspace pointed at it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = Recorder()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    text = (sample_ws / "crmkit.yaml").read_text(encoding="utf-8")
    (sample_ws / "crmkit.yaml").write_text(text.replace("port: 1025", f"port: {port}").replace(
        "host: localhost", "host: 127.0.0.1"), encoding="utf-8")
    git(sample_ws, "commit", "-qam", "smtp on a test port")
    yield handler
    controller.stop()


def test_an_opt_out_after_rendering_holds_the_message_back(run, sample_ws, smtp) -> None:
    ws = sample_ws
    r = run(["--now", NOW, "mail", "render", "support-offer", "--segment", "erp-without-support"], ws)
    assert r.exit_code == 0, r.stderr
    rendered = len(list((ws / "outbox").glob("*.eml")))
    assert rendered == 4
    assert run(["--now", NOW, "set", "anna-akerberg", "opted_out=true"], ws).exit_code == 0
    # and one more withdraws consent by hand-editing the file
    path = ws / "contacts/kovacs-peter.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("marketing: true", "marketing: false"), encoding="utf-8")
    git(ws, "commit", "-qam", "Péter withdrew consent")

    r = run(["--now", NOW, "mail", "send", "--dry-run", "--json"], ws)
    assert r.exit_code == 0, r.stderr
    report = json.loads(r.stdout)
    assert {h["reason"] for h in report["would_hold"]} == {
        "contact/anna-akerberg opted out", "contact/kovacs-peter has no consent to marketing"}
    assert len(report["would_send"]) == rendered - 2
    r = run(["--now", NOW, "mail", "send", "--dry-run"], ws)
    assert "would hold outbox/" in r.stdout and "anna-akerberg opted out" in r.stdout

    r = run(["--now", NOW, "mail", "send"], ws)
    assert r.exit_code == 0, r.stderr
    received = {m["To"].addresses[0].addr_spec for m in smtp.messages}
    assert "anna.akerberg@akerberg.se" not in received and "kovacs.peter@dunamenti.hu" not in received
    assert len(received) == rendered - 2
    assert "held back 2 marketing messages" in r.stderr
    assert r.stdout.count("held outbox/") == 2
    held = sorted(p.name for p in (ws / "outbox/held").glob("*.eml"))
    assert len(held) == 2 and all("anna-akerberg" in n or "kovacs-peter" in n for n in held)
    assert not list((ws / "outbox").glob("*.eml"))
    assert git(ws, "status", "--porcelain") == ""
    assert "hold back 2 marketing messages" in git(ws, "log", "--format=%s")
    # nothing logged as sent for the two, and a second run does not send them either
    acts = [yamlio.load_fast(p) for p in (ws / "activities").glob("*.yaml")]
    assert not [a for a in acts if a.get("type") == "email" and a.get("contact") == "anna-akerberg"
                and "ERP" in str(a.get("subject"))]
    r = run(["--now", NOW, "mail", "send"], ws)
    assert r.exit_code == 0 and len(smtp.messages) == rendered - 2


def test_a_changed_address_or_a_removed_record_holds_it_too(run, sample_ws, smtp) -> None:
    ws = sample_ws
    run(["--now", NOW, "mail", "render", "support-offer", "--to", "anna-akerberg", "--to", "rachel-thompson"], ws)
    assert run(["--now", NOW, "set", "anna-akerberg", "email=anna@elsewhere.se"], ws).exit_code == 0
    assert run(["--now", NOW, "rm", "rachel-thompson", "--force"], ws).exit_code == 0
    r = run(["--now", NOW, "mail", "send", "--json"], ws)
    assert r.exit_code == 0, r.stderr
    reasons = sorted(h["reason"] for h in json.loads(r.stdout)["held"])
    assert reasons[0] == "contact/anna-akerberg's address is now anna@elsewhere.se, not anna.akerberg@akerberg.se"
    assert "rachel-thompson" in reasons[1]
    assert smtp.messages == []


def test_transactional_mail_is_not_held_by_consent(run, sample_ws, smtp) -> None:
    ws = sample_ws
    (ws / "templates/mail/receipt.md.j2").write_text("---\nsubject: Kvitto\n---\nTack {{ contact.name }}\n",
                                                     encoding="utf-8")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "receipt template")
    run(["--now", NOW, "mail", "render", "receipt", "--to", "anna-akerberg"], ws)
    run(["--now", NOW, "set", "anna-akerberg", "opted_out=true"], ws)
    r = run(["--now", NOW, "mail", "send"], ws)
    assert r.exit_code == 0 and len(smtp.messages) == 1


def test_one_click_unsubscribe_is_offered_only_with_an_https_url(run, sample_ws) -> None:
    ws = sample_ws
    run(["--now", NOW, "--no-commit", "mail", "render", "support-offer", "--to", "anna-akerberg"], ws)
    [path] = list((ws / "outbox").glob("*.eml"))
    msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert msg["List-Unsubscribe"] == "<mailto:hej@fjordlys.se?subject=unsubscribe>"
    assert msg["List-Unsubscribe-Post"] is None
    path.unlink()
    text = (ws / "crmkit.yaml").read_text(encoding="utf-8")
    (ws / "crmkit.yaml").write_text(text.replace(
        'mail:\n', 'mail:\n  unsubscribe_url: "https://fjordlys.se/avregistrera?id={id}&e={email}"\n', 1),
        encoding="utf-8")
    run(["--now", NOW, "--no-commit", "mail", "render", "support-offer", "--to", "anna-akerberg"], ws)
    [path] = list((ws / "outbox").glob("*.eml"))
    msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert msg["List-Unsubscribe"] == ("<https://fjordlys.se/avregistrera?id=anna-akerberg&e=anna.akerberg%40akerberg.se>,"
                                       " <mailto:hej@fjordlys.se?subject=unsubscribe>")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


NAMES = ["Alexander Montgomery-Fitzwilliam of Northgate Retail Limited",
         "Anna Åkerberg", "Bjørn Ødegård", "Szőke Zsófia", "Karin Lind", "Jo", "Aleksander Nordmann-Hansen",
         "Zsófia Szőke-Kovács", "Ingrid Østergaard", "Ödön Ő"]
SUBJECT = "God jul, {{ contact.name }}! Ærlig talt: å ø ő ű"


def test_a_long_ascii_subject_has_no_leading_space(run, sample_ws, smtp) -> None:
    ws = sample_ws
    subject = "Escalated to you: Duplicate invoices after the upgrade (tk-20261119-hg3vr)"   # 73 characters
    (ws / "templates/mail/long.md.j2").write_text(f'---\nsubject: "{subject}"\n---\nx\n', encoding="utf-8")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "long subject")
    assert run(["--now", NOW, "mail", "render", "long", "--to", "rachel-thompson"], ws).exit_code == 0
    r = run(["--now", NOW, "mail", "send", "--dry-run"], ws)
    assert r.stdout.rstrip().endswith(f"> : {subject}".replace("> : ", ">: ")), r.stdout
    assert run(["--now", NOW, "mail", "send"], ws).exit_code == 0
    assert [str(m["Subject"]) for m in smtp.messages] == [subject]
    assert git(ws, "log", "-1", "--format=%s").strip().endswith(subject)


def test_non_ascii_subjects_arrive_with_their_spaces(run, sample_ws, smtp) -> None:
    ws = sample_ws
    (ws / "templates/mail/jul.md.j2").write_text(f'---\nsubject: "{SUBJECT}"\n---\nGod jul!\n', encoding="utf-8")
    ids = []
    for n, name in enumerate(NAMES):
        rid = f"jul-{n}"
        ids += ["--to", rid]
        (ws / f"contacts/{rid}.yaml").write_text(f"name: {name}\nemail: jul{n}@example.se\n", encoding="utf-8")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "ten recipients")
    assert run(["--now", NOW, "mail", "render", "jul", *ids], ws).exit_code == 0
    r = run(["--now", NOW, "mail", "send"], ws)
    assert r.exit_code == 0, r.stderr
    want = {f"jul{n}@example.se": f"God jul, {name}! Ærlig talt: å ø ő ű" for n, name in enumerate(NAMES)}
    got = {m["To"].addresses[0].addr_spec: str(m["Subject"]) for m in smtp.messages}
    assert got == want
    acts = {str(a.get("to", "")).split("<")[-1].rstrip(">"): a["subject"]
            for a in (yamlio.load_fast(p) for p in (ws / "activities").glob("*.yaml")) if a.get("type") == "email"}
    assert {k: v for k, v in acts.items() if k in want} == want
    log = git(ws, "log", "--format=%s")
    for _addr, subject in want.items():
        assert subject in log


def test_mail_to_a_segment_needs_the_template_to_say_its_kind(run, make_ws) -> None:
    """A greeting without `kind:` went to a segment as transactional mail, opted-out people included."""
    ws = make_ws({"contacts/anna.yaml": "name: Anna\nemail: anna@example.se\nopted_out: true\n",
                  "segments/everyone.yaml": "kind: contact\nwhere: exists(email)\n",
                  "templates/mail/god-jul.md.j2": "---\nsubject: God jul, {{ contact.name }}\n---\nGod jul!\n"})
    r = run(["mail", "render", "god-jul", "--segment", "everyone"], ws)
    assert r.exit_code == 1, r.stdout + r.stderr
    assert r.stderr.count("\n") == 1 and "templates/mail/god-jul.md.j2:1:" in r.stderr
    assert "kind: marketing" in r.stderr and "Traceback" not in r.stderr
    assert not list((ws / "outbox").glob("*.eml")) if (ws / "outbox").exists() else True
    # to one person by id, the default (transactional) still holds
    assert run(["mail", "render", "god-jul", "--to", "anna"], ws).exit_code == 0
