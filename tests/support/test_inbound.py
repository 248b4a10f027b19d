"""`crmkit inbox fetch` from a real Maildir: every filing rule, once per Message-ID, bad input."""

from __future__ import annotations

import mailbox
import os
import stat
from email.message import EmailMessage
from pathlib import Path

import pytest
from conftest import MINIMAL_CONFIG, git

from crmkit.store import yamlio

INBOX = """
inbox:
  maildir: mail
  support: support@example.se
  sales: [sales@example.se]
  max_attachment_mb: 1
"""

FILES = {
    "crmkit.yaml": MINIMAL_CONFIG + INBOX,
    "companies/plain-ab.yaml": "name: Plain AB\ndomain: plain.se\n",
    "contacts/anna.yaml": "name: Anna\ncompany: plain-ab\nemail: anna@plain.se\n",
    "contacts/bo.yaml": "name: Bo\nemail: bo@other.se\nconsent: {marketing: true}\n",
    "rules/triage.yaml": "- id: first\n  assign: karin\n",
    "rules/routing.yaml": "- id: prospects\n  when: status == prospect\n  assign: alan\n",
    "activities/act-20261120-aaaaa.yaml": (
        "type: email\ndirection: out\nsubject: Nyhetsbrev\nat: 2026-11-20T10:00:00+01:00\n"
        "contact: bo\nmessage_id: <news-1@example.se>\n"),
}


def message(subject: str = "Printer on fire", *, sender: str = "Anna <anna@plain.se>",
            to: str = "support@example.se", mid: str | None = "<m1@plain.se>", body: str = "Help!",
            date: str = "Mon, 23 Nov 2026 09:00:00 +0100", **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Date"] = sender, to, date
    msg["Subject"] = subject
    if mid:
        msg["Message-ID"] = mid
    for key, value in headers.items():
        msg[key.replace("_", "-")] = value
    msg.set_content(body)
    return msg


def deliver(ws: Path, *msgs: EmailMessage | bytes) -> None:
    box = mailbox.Maildir(ws / "mail", create=True)
    for m in msgs:
        box.add(m if isinstance(m, bytes) else m.as_bytes())


@pytest.fixture
def ws(make_ws) -> Path:
    return make_ws(FILES)


def fetch(run, ws: Path, *extra: str, now: str = "2026-11-23T12:00"):  # type: ignore[no-untyped-def]
    return run(["--now", now, "inbox", "fetch", *extra], ws)


def records(ws: Path, kind: str) -> dict[str, dict]:
    folder = ws / {"activity": "activities"}.get(kind, kind + "s")
    return {p.stem: yamlio.load_fast(p) for p in sorted(folder.glob("*.yaml"))} if folder.is_dir() else {}


def inbound(ws: Path) -> dict[str, dict]:
    return {k: v for k, v in records(ws, "activity").items() if v.get("direction") == "in"}


def test_a_new_message_to_support_opens_a_ticket_triaged_and_is_filed_once(run, ws) -> None:
    deliver(ws, message())
    r = fetch(run, ws)
    assert r.exit_code == 0, r.stderr
    (tid, ticket), = records(ws, "ticket").items()
    assert f"ticket/{tid}" in r.stdout and "routed ticket/" in r.stdout and "karin" in r.stdout
    assert ticket["subject"] == "Printer on fire" and ticket["contact"] == "anna" and ticket["company"] == "plain-ab"
    assert ticket["channel"] == "email" and ticket["owner"] == "karin"
    assert str(ticket["created"]).startswith("2026-11-23 09:00") or str(ticket["created"]).startswith("2026-11-23T09:00")
    (act,) = inbound(ws).values()
    assert act["ticket"] == tid and act["message_id"] == "<m1@plain.se>" and act["body"] == "Help!"
    commits = git(ws, "rev-list", "--count", "HEAD")
    again = fetch(run, ws, now="2026-11-23T13:00")
    assert again.exit_code == 0 and "already" in again.stdout
    assert git(ws, "rev-list", "--count", "HEAD") == commits
    assert len(records(ws, "ticket")) == 1 and len(inbound(ws)) == 1


def test_an_unknown_sender_gets_a_contact_by_the_documented_rule(run, ws) -> None:
    deliver(ws, message(sender="Cecilia Ek <cecilia@plain.se>", mid="<c1@plain.se>"))
    assert fetch(run, ws).exit_code == 0
    contacts = records(ws, "contact")
    new = next(c for c in contacts.values() if c.get("email") == "cecilia@plain.se")
    assert new["name"] == "Cecilia Ek" and new["company"] == "plain-ab"
    (ticket,) = records(ws, "ticket").values()
    assert contacts[ticket["contact"]] == new


def test_a_reply_to_a_solved_ticket_reopens_it_at_the_time_it_was_written(run, ws) -> None:
    deliver(ws, message())
    fetch(run, ws)
    (tid,) = records(ws, "ticket")
    assert run(["--now", "2026-11-23T12:30", "ticket", "reply", tid, "-m", "Fixed"], ws).exit_code == 0
    assert run(["--now", "2026-11-23T12:40", "ticket", "status", tid, "solved"], ws).exit_code == 0
    deliver(ws, message("Re: Printer on fire", mid="<m2@plain.se>", body="Still burning",
                        date="Mon, 23 Nov 2026 14:00:00 +0100", In_Reply_To="<m1@plain.se>",
                        References="<m1@plain.se>"))
    r = fetch(run, ws, now="2026-11-23T15:00")
    assert r.exit_code == 0, r.stderr
    assert "ticket-reply" in r.stdout and "reopened (status solved -> open)" in r.stdout
    ticket = records(ws, "ticket")[tid]
    reply = ticket["events"][-2]
    assert reply["type"] == "customer_replied" and reply["body"] == "Still burning" and reply["by"] == "anna"
    assert "14:00" in str(reply["at"]) and ticket["status"] == "open"


def test_a_ticket_token_in_the_subject_finds_the_ticket(run, ws) -> None:
    deliver(ws, message())
    fetch(run, ws)
    (tid,) = records(ws, "ticket")
    deliver(ws, message(f"Re: [{tid}] more", sender="someone@else.se", mid="<t1@else.se>", to="x@example.se"))
    r = fetch(run, ws)
    assert r.exit_code == 0 and f"ticket-reply ticket/{tid}" in r.stdout
    assert records(ws, "ticket")[tid]["events"][-1]["by"] == "someone@else.se"


def test_a_reply_to_a_campaign_is_logged_on_the_contact(run, ws) -> None:
    deliver(ws, message("Re: Nyhetsbrev", sender="bo@other.se", to="news@example.se", mid="<r1@other.se>",
                        In_Reply_To="<news-1@example.se>"))
    r = fetch(run, ws)
    assert r.exit_code == 0 and "reply contact/bo" in r.stdout
    (act,) = inbound(ws).values()
    assert act["contact"] == "bo" and act["in_reply_to"] == "act-20261120-aaaaa"
    assert not records(ws, "ticket")


def test_a_message_to_sales_opens_a_routed_lead(run, ws) -> None:
    deliver(ws, message("ERP for 40 users?", sender="Dag <dag@newco.no>", to="Sales <sales@example.se>",
                        mid="<l1@newco.no>"))
    r = fetch(run, ws)
    assert r.exit_code == 0, r.stderr
    (lid, lead), = records(ws, "lead").items()
    assert lead["email"] == "dag@newco.no" and lead["status"] == "prospect" and lead["source"] == "email"
    assert lead["owner"] == "alan" and f"routed lead/{lid} -> alan" in r.stdout
    assert not [c for c in records(ws, "contact").values() if c.get("email") == "dag@newco.no"]


def test_a_known_contact_writing_is_logged_and_an_unknown_one_is_not_filed(run, ws) -> None:
    deliver(ws, message("Hello", to="daniel@example.se", mid="<h1@plain.se>"),
            message("Hello", sender="nobody@nowhere.se", to="daniel@example.se", mid="<h2@nowhere.se>"))
    r = fetch(run, ws)
    assert r.exit_code == 0
    assert "logged contact/anna" in r.stdout and "unknown-sender" in r.stdout
    assert [a["contact"] for a in inbound(ws).values()] == ["anna"]


def bounce(recipient: str) -> bytes:
    return (
        "From: MAILER-DAEMON@mx.example.se\r\nTo: hej@example.se\r\nSubject: Undelivered Mail\r\n"
        "Message-ID: <b1@mx.example.se>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0100\r\n"
        "MIME-Version: 1.0\r\nAuto-Submitted: auto-replied\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="BB"\r\n\r\n'
        "--BB\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
        "--BB\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.se\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n"
        "--BB--\r\n").encode()


def test_a_bounce_marks_the_address_and_mail_merge_skips_it(run, ws) -> None:
    deliver(ws, bounce("bo@other.se"))
    r = fetch(run, ws)
    assert r.exit_code == 0 and "bounce contact/bo" in r.stdout
    bo = records(ws, "contact")["bo"]
    assert bo["bounced"]["address"] == "bo@other.se" and bo["bounced"]["status"] == "5.1.1"
    assert "user unknown" in bo["bounced"]["reason"]
    from crmkit.marketing.mail import choose_recipients
    from crmkit.store.workspace import Workspace

    w = Workspace(ws)
    chosen, skipped = choose_recipients(w, [w.get("bo")], marketing=True)
    assert not chosen and "bounced" in skipped[0].reason
    assert run(["check"], ws).exit_code == 0


def test_spam_and_automatic_replies_are_not_filed(run, ws) -> None:
    deliver(ws, message("WIN", mid="<s1@x>", X_Spam_Flag="YES"),
            message("Out of office", mid="<o1@x>", Auto_Submitted="auto-replied"))
    r = fetch(run, ws)
    assert r.exit_code == 0 and "spam" in r.stdout and "automatic" in r.stdout
    assert not records(ws, "ticket") and not inbound(ws)


def test_attachments_are_stored_beside_the_activity_and_never_executable(run, ws) -> None:
    msg = message(mid="<a1@plain.se>")
    msg.add_attachment(b"#!/bin/sh\necho owned\n", maintype="application", subtype="x-sh",
                       filename="../../run me.sh")
    deliver(ws, msg)
    assert fetch(run, ws).exit_code == 0
    (aid, act), = inbound(ws).items()
    (att,) = act["attachments"]
    assert att["name"] == "run me.sh" and att["path"] == f"attachments/{aid}/run me.sh" and att["size"] == 21
    path = ws / att["path"]
    assert path.read_bytes() == b"#!/bin/sh\necho owned\n"
    assert not path.stat().st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    assert att["path"] in git(ws, "ls-files")


def test_bad_messages_are_named_and_not_filed_while_the_rest_are(run, ws) -> None:
    big = message("Logs", mid="<big@plain.se>")
    big.add_attachment(os.urandom(30 * 1024 * 1024), maintype="application", subtype="zip", filename="logs.zip")
    malformed = (b"From: anna@plain.se\r\nTo: support@example.se\r\nSubject: broken\r\nMessage-ID: <bad@plain.se>\r\n"
                 b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\nno boundary at all\r\n")
    # the encoded word decodes to "Hello\r\nBcc: victim@example.com"
    injected = (b"From: anna@plain.se\r\nTo: support@example.se\r\nMessage-ID: <inj@plain.se>\r\n"
                b"Subject: =?utf-8?q?Hello=0D=0ABcc=3A_victim=40example=2Ecom?=\r\n\r\nHi\r\n")
    deliver(ws, big, malformed, injected, message("Fine", mid="<ok@plain.se>"))
    before = set(git(ws, "ls-files").split())
    r = fetch(run, ws)
    assert r.exit_code == 4
    assert "logs.zip is 30.0 MB, over the 1 MB limit" in r.stderr
    assert "malformed MIME" in r.stderr and "line break" in r.stderr and "Traceback" not in r.stderr
    (ticket,) = records(ws, "ticket").values()
    assert ticket["subject"] == "Fine"
    assert [a["message_id"] for a in inbound(ws).values()] == ["<ok@plain.se>"]
    assert not (ws / "attachments").exists()
    # only the Maildir is left outside git; the filed message's two records are committed
    assert all(line.startswith("?? mail/") for line in git(ws, "status", "--porcelain").splitlines())
    assert sorted(p.split("/")[0] for p in set(git(ws, "ls-files").split()) - before) == ["activities", "tickets"]


def test_not_a_maildir_and_bad_settings_are_one_clear_line(run, ws, make_ws) -> None:
    r = run(["inbox", "fetch", "--maildir", str(ws / "nowhere")], ws)
    assert r.exit_code == 1 and "is not a Maildir" in r.stderr and "Traceback" not in r.stderr
    bad = make_ws({**FILES, "crmkit.yaml": MINIMAL_CONFIG + "inbox:\n  maildir: mail\n  create_contacts: maybe\n"})
    deliver(bad, message())
    r = run(["inbox", "fetch"], bad)
    assert r.exit_code == 1 and "inbox.create_contacts is always or never" in r.stderr


def test_two_clones_filing_the_same_message_merge_into_one(tmp_path, run, ws) -> None:
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(ws), str(origin))
    clones = []
    for name in ("a", "b"):
        git(tmp_path, "clone", "-q", str(origin), str(tmp_path / name))
        clones.append(tmp_path / name)
        deliver(tmp_path / name, message())
    for n, c in enumerate(clones):
        assert fetch(run, c, "--no-route", now=f"2026-11-23T1{n + 2}:00").exit_code == 0
    git(clones[0], "push", "-q", "origin", "HEAD")
    run(["check"], clones[1])  # registers the merge driver in the clone
    git(clones[1], "pull", "-q", "--no-rebase", "--no-edit")
    assert len(records(clones[1], "ticket")) == 1 and len(inbound(clones[1])) == 1
    assert git(clones[1], "status", "--porcelain", "--untracked-files=no").strip() == ""


def test_the_sample_inbox_files_a_reply_a_request_a_bounce_and_a_lead_and_skips_the_spam(run, sample_ws) -> None:
    r = run(["--now", "2026-11-23T10:30", "inbox", "fetch", "--json"], sample_ws)
    assert r.exit_code == 0, r.stderr
    import json

    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [row["action"] for row in rows] == ["ticket-reply", "ticket", "bounce", "spam", "lead"]
    lead_id = rows[4]["record"].split("/")[1]
    assert records(sample_ws, "lead")[lead_id]["partner"] == "saimaa-solutions-oy"  # rules/routing.yaml partner-finland
    assert list((sample_ws / "outbox").glob(f"partner-{lead_id}-saimaa-solutions-oy-*.eml"))
    assert rows[0]["record"] == "ticket/tk-20261120-g9z9n"
    assert records(sample_ws, "ticket")["tk-20261120-g9z9n"]["status"] == "open"
    assert records(sample_ws, "contact")["espen-aas"]["bounced"]["status"] == "5.1.1"
    new_ticket = records(sample_ws, "ticket")[rows[1]["record"].split("/")[1]]
    assert new_ticket["company"] == "nordvik-as" and new_ticket["owner"]
    assert run(["check"], sample_ws).exit_code == 0
    again = run(["--now", "2026-11-23T11:00", "inbox", "fetch", "--json"], sample_ws)
    assert [json.loads(line)["action"] for line in again.stdout.splitlines()] == ["already"] * 3 + ["spam", "already"]
