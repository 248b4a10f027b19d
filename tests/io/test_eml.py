"""RFC 5322 messages: text and HTML alternatives, encoded headers, no header injection."""

from __future__ import annotations

import datetime as dt
import email
from email import policy
from zoneinfo import ZoneInfo

import pytest

from crmkit.errors import CrmkitError
from crmkit.io import eml

WHEN = dt.datetime(2026, 11, 22, 10, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
SENDER = eml.address("Fjordlys Consulting", "hej@fjordlys.se")


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)  # type: ignore[return-value]


def test_text_and_html_make_multipart_alternative() -> None:
    msg = eml.build(sender=SENDER, to=eml.address("Bjørn Ødegård", "bjorn@nordvik.no"), subject="Tilbud på ERP",
                    text="Hei Bjørn!\n", html="<p>Hei Bjørn!</p>\n", when=WHEN, headers={"X-Crmkit-Record": "contact/b"})
    raw = msg.as_bytes()
    assert b"\r\n" in raw                                         # SMTP line endings
    assert b"=?utf-8?" in raw.split(b"\r\n\r\n", 1)[0]            # non-ASCII headers are encoded
    got = parse(raw)
    assert got.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in got.iter_parts()] == ["text/plain", "text/html"]
    assert got["To"] == "Bjørn Ødegård <bjorn@nordvik.no>"
    assert got["Subject"] == "Tilbud på ERP"
    assert got["Date"] == "Sun, 22 Nov 2026 10:00:00 +0100"
    assert got["Message-ID"].endswith("@fjordlys.se>")
    assert got["X-Crmkit-Record"] == "contact/b"
    assert eml.text_body(got).replace("\r\n", "\n") == "Hei Bjørn!\n"


def test_text_only_is_a_single_part() -> None:
    msg = eml.build(sender=SENDER, to=eml.address("A", "a@example.com"), subject="s", text="body\n", html=None,
                    when=WHEN)
    got = parse(msg.as_bytes())
    assert got.get_content_type() == "text/plain" and not got.is_multipart()


@pytest.mark.parametrize("field", ["name", "email", "subject", "header"])
@pytest.mark.parametrize("evil", ["x\nBcc: all@example.com", "x\r\nBcc: all@example.com", "x\rBcc: y", "x\x00y"])
def test_no_line_break_ever_reaches_a_header(field, evil) -> None:
    values = {"name": "Eve", "email": "eve@example.com", "subject": "Hej", "header": "ok"}
    values[field] = evil if field != "email" else f"eve@example.com{evil}"
    with pytest.raises(CrmkitError, match="line break"):
        eml.build(sender=SENDER, to=eml.address(values["name"], values["email"]), subject=values["subject"],
                  text="t", html=None, when=WHEN, headers={"X-Crmkit-Record": values["header"]})


def test_a_display_name_with_specials_is_quoted_not_parsed() -> None:
    to = eml.address('Lind, Karin "KL" <boss@evil.example>', "karin@fjordlys.se")
    msg = eml.build(sender=SENDER, to=to, subject="s", text="t", html=None, when=WHEN)
    got = parse(msg.as_bytes())
    assert [a.addr_spec for a in got["To"].addresses] == ["karin@fjordlys.se"]


@pytest.mark.parametrize("bad", ["no-at-sign", "", "two@@example.com@"])
def test_bad_addresses_are_refused(bad) -> None:
    with pytest.raises(CrmkitError):
        eml.address("X", bad)


def test_read_back_from_a_file(tmp_path) -> None:
    msg = eml.build(sender=SENDER, to=eml.address("A", "a@example.com"), subject="Åter", text="t\n", html=None,
                    when=WHEN, headers={"X-Crmkit-Template": "news"})
    path = tmp_path / "m.eml"
    path.write_bytes(msg.as_bytes())
    assert eml.read(path)["Subject"] == "Åter"
    assert eml.read_headers(path)["X-Crmkit-Template"] == "news"
    with pytest.raises(CrmkitError, match="cannot read"):
        eml.read(tmp_path / "missing.eml")
