"""International addresses and 8-bit bodies, as strict parsers and real SMTP servers see them.

Messages go the way `mail send` takes them: built by io/eml.py, written as bytes
(the outbox file), read back, and sent over smtp.Connection to an aiosmtpd server
on localhost that offers, or does not offer, SMTPUTF8 and 8BITMIME.
"""

from __future__ import annotations

import datetime as dt
import socket
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from crmkit.errors import CrmkitError
from crmkit.io import eml
from crmkit.marketing import smtp

STRICT = policy.default.clone(raise_on_defect=True)
# The IDNA form of bjørkli.no, as the idna package, Python's own codec and the punycode of
# RFC 3492 all give it ("bjørkli" -> "bjrkli" + "cya": ø inserted after the 2nd letter).
IDNA = "xn--bjrkli-cya.no"
WHEN = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
TEXT = "Hei Ingrid,\n\ntakk for møtet i går. Blåbærsyltetøy på fredag?\n\nHälsningar, Åsa – Fjordlys\n"
HTML = "<p>Hei Ingrid, takk for møtet i går.</p>\n"


def _message(to: str, name: str = "Bjørkli Eiendom AS") -> bytes:
    msg = eml.build(sender=eml.address("Åsa Öberg", "asa@fjordlys.se"), to=eml.address(name, to),
                    subject="Møtet i går", text=TEXT, html=HTML, when=WHEN)
    return msg.as_bytes()


def test_an_international_domain_is_written_as_idna_and_parses_strictly() -> None:
    raw = _message("post@bjørkli.no")
    msg = BytesParser(policy=STRICT).parsebytes(raw)
    to = msg["To"]
    assert not to.defects, to.defects
    (addr,) = to.addresses
    assert (addr.username, addr.domain) == ("post", "xn--bjrkli-cya.no")
    assert addr.display_name == "Bjørkli Eiendom AS"
    assert b"post@xn--bjrkli-cya.no" in raw and b"=?utf-8?" not in raw.split(b"<", 1)[1].split(b">", 1)[0]
    assert raw.split(b"\r\n\r\n", 1)[0].isascii()   # only ASCII headers for an ASCII local part
    assert msg.get_body(("plain",)).get_content().replace("\r\n", "\n") == TEXT


def test_a_bad_international_domain_is_refused_clearly() -> None:
    with pytest.raises(CrmkitError, match="not a valid international domain name"):
        eml.address("", "post@bjør_kli.no")


class _Recorder:
    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.envelopes.append(envelope)
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server():
    started = []

    def start(*, smtputf8: bool, eightbit: bool) -> tuple[_Recorder, dict]:
        handler, port = _Recorder(), _free_port()
        # decode_data=True is how aiosmtpd plays a 7-bit server: it stops announcing 8BITMIME
        controller = Controller(handler, hostname="127.0.0.1", port=port,
                                enable_SMTPUTF8=smtputf8, decode_data=not eightbit)
        controller.start()
        started.append(controller)
        return handler, {"host": "127.0.0.1", "port": port, "security": "none"}

    yield start
    for controller in started:
        controller.stop()


def _send(tmp_path: Path, config: dict, raw: bytes) -> None:
    path = tmp_path / "outbox.eml"           # through a file, as mail send reads the outbox
    path.write_bytes(raw)
    with smtp.connect(config) as conn:
        conn.send_message(eml.read(path))


def _arrived(envelope) -> bytes:
    return envelope.original_content if envelope.original_content is not None else envelope.content


def test_a_server_without_8bitmime_gets_an_encoding_it_accepts(server, tmp_path: Path) -> None:
    handler, config = server(smtputf8=False, eightbit=False)
    raw = _message("post@bjørkli.no")
    assert b"Content-Transfer-Encoding: 8bit" in raw        # the outbox file itself is readable 8bit
    _send(tmp_path, config, raw)
    (env,) = handler.envelopes
    data = _arrived(env)
    assert isinstance(data, bytes) and data.isascii(), "8-bit data went to a 7-bit server"
    assert not any("8BITMIME" in o.upper() for o in env.mail_options)
    msg = BytesParser(policy=STRICT).parsebytes(data)
    assert msg.get_body(("plain",)).get_content() == TEXT
    assert msg.get_body(("html",)).get_content() == HTML
    assert {p["Content-Transfer-Encoding"] for p in msg.walk() if not p.is_multipart()} <= {"base64", "quoted-printable"}
    assert env.rcpt_tos == ["post@xn--bjrkli-cya.no"]


def test_a_server_with_8bitmime_is_told_the_body_is_8bit(server, tmp_path: Path) -> None:
    handler, config = server(smtputf8=False, eightbit=True)
    _send(tmp_path, config, _message("post@bjørkli.no"))
    (env,) = handler.envelopes
    assert "BODY=8BITMIME" in [o.upper() for o in env.mail_options]
    msg = BytesParser(policy=STRICT).parsebytes(_arrived(env))
    assert msg.get_body(("plain",)).get_content().replace("\r\n", "\n") == TEXT   # 8bit: line ends as sent


def test_a_non_ascii_local_part_goes_with_smtputf8(server, tmp_path: Path) -> None:
    handler, config = server(smtputf8=True, eightbit=True)
    _send(tmp_path, config, _message("jørgen@bjørkli.no", "Jørgen Ås"))
    (env,) = handler.envelopes
    assert "SMTPUTF8" in [o.upper() for o in env.mail_options]
    assert env.rcpt_tos == ["jørgen@xn--bjrkli-cya.no"]
    msg = eml._utf8_headers(BytesParser(policy=STRICT).parsebytes(_arrived(env)))  # RFC 6532 headers
    (addr,) = msg["To"].addresses
    assert (addr.username, addr.domain) == ("jørgen", "xn--bjrkli-cya.no")
    # Python's parser predates RFC 6532 and notes a UTF-8 local part; nothing else is wrong
    assert [type(d).__name__ for d in msg["To"].defects] == ["NonASCIILocalPartDefect"]


def test_a_non_ascii_local_part_is_refused_clearly_without_smtputf8(server, tmp_path: Path) -> None:
    handler, config = server(smtputf8=False, eightbit=True)
    with pytest.raises(smtp.SendError) as err:
        _send(tmp_path, config, _message("jørgen@bjørkli.no", "Jørgen Ås"))
    assert "jørgen@xn--bjrkli-cya.no" in str(err.value) and "SMTPUTF8" in str(err.value)
    assert not err.value.fatal and handler.envelopes == []


def test_a_hand_made_message_with_a_unicode_domain_is_sent_with_its_idna_form(server, tmp_path: Path) -> None:
    handler, config = server(smtputf8=False, eightbit=False)
    raw = ("From: asa@fjordlys.se\r\nTo: Bjørkli <post@bjørkli.no>\r\nSubject: hei\r\n"
           "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nblåbær\r\n").encode()
    _send(tmp_path, config, raw)
    (env,) = handler.envelopes
    assert env.rcpt_tos == ["post@xn--bjrkli-cya.no"]
    msg = BytesParser(policy=STRICT).parsebytes(_arrived(env))
    assert msg["To"].addresses[0].domain == "xn--bjrkli-cya.no"
    assert msg.get_content().replace("\r\n", "\n") == "blåbær\n"
