"""vCards as phones export them, and cards that parse back to the same contact."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.errors import CrmkitError
from crmkit.io import vcard

DATA = Path(__file__).resolve().parents[1] / "data"


def cards(name: str) -> dict[str, vcard.Card]:
    return {c.contact.get("name", f"line {c.line}"): c for c in vcard.parse((DATA / name).read_text(encoding="utf-8"))}


def test_iphone_30_and_android_40_cards() -> None:
    found = cards("phone_contacts.vcf")
    karin = found["Karin Lind"]                       # iPhone 3.0: type=pref, item1.ADR, a folded NOTE
    assert karin.line == 1 and karin.company == "Fjällbacka Fisk AB"
    assert karin.contact["email"] == "karin.lind@fjallbackafisk.se"
    assert karin.contact["emails"] == [{"type": "home", "value": "karin.lind@gmail.com"}]
    assert karin.contact["phones"] == [{"type": "work", "value": "031-12 34 56"}]
    assert karin.contact["address"] == {"type": "work", "street": "Hamngatan 3", "zip": "45071", "city": "Fjällbacka", "country": "SE"}
    assert karin.contact["notes"].endswith("efter helgerna.")
    bjorn = found["Bjørn Ødegård"]                    # Android 4.0: TYPE=cell,voice; VALUE=uri
    assert bjorn.contact["phone"] == "+4791234567" and bjorn.contact["country"] == "NO"
    nameless = found["nobody@example.com"]            # no FN or N: named after its email, not rejected
    assert nameless.line == 35 and nameless.error is None and nameless.contact["email"] == "nobody@example.com"


def test_android_21_quoted_printable_and_40_tel_uris() -> None:
    found = cards("android_contacts.vcf")
    asa = found["Åsa Öberg"]
    assert asa.company == "Åkerberg AB"
    assert asa.contact["phone"] == "+46701234567"                 # TEL;CELL;PREF: the preferred one
    assert asa.contact["phones"] == [{"type": "work", "value": "08-123 456"}, {"type": "fax", "value": "08-123 457"}]
    assert asa.contact["emails"] == [{"type": "work", "value": "asa.oberg@akerberg.se"}]
    assert asa.contact["notes"] == "Träffades på mässan\nvill ha offert"
    zs = found["Szőke Zsófia"]
    assert zs.contact["phone"] == "+36-30-123-4567"               # tel: scheme dropped
    assert zs.contact["address"]["country"] == "HU" and zs.company == "Dunaipar Kft."


def test_not_a_vcard_file() -> None:
    with pytest.raises(CrmkitError, match="no vCard found"):
        vcard.parse("name,email\n")


def test_a_broken_card_does_not_stop_the_others() -> None:
    text = "BEGIN:VCARD\nVERSION:3.0\nFN:Ok Person\nEND:VCARD\nBEGIN:VCARD\nVERSION:3.0\nFN:Cut off\n"
    parsed = vcard.parse(text)
    assert parsed[0].contact["name"] == "Ok Person" and parsed[0].error is None
    assert parsed[1].line == 5


FULL = {
    "name": "Kovács Ádám", "email": "adam.kovacs@dunaipar.hu", "phone": "+36 30 765 4321",
    "emails": [{"type": "home", "value": "adam@example.hu"}],
    "phones": [{"type": "work", "value": "+36 1 234 5678"}, {"type": "fax", "value": "+36 1 234 5679"}],
    "title": "Beszerző", "notes": "Két sor;\nmásodik, harmadik",
    "address": {"street": "Fő utca 12", "zip": "1011", "city": "Budapest", "country": "HU"}, "country": "HU",
}


def test_to_vcard_parses_back_to_the_same_contact() -> None:
    text = vcard.to_vcard(FULL, "Dunaipar Kft.", uid="crmkit:contact/kovacs-adam")
    assert text.startswith("BEGIN:VCARD\r\nVERSION:3.0\r\n")
    assert ":Kovács;Ádám;;;" in text                              # Hungarian: family name first
    back = vcard.parse(text)[0]
    assert back.contact == FULL and back.company == "Dunaipar Kft."


_TEXT = st.text(alphabet="abcåäöőűøæ ÁÉ,;:.-'\"\\\n", min_size=1, max_size=20).map(str.strip).filter(bool)
_TYPES = st.sampled_from(["home", "work", "cell", "fax", "other"])


@settings(max_examples=40, deadline=None)
@given(name=_TEXT, title=st.one_of(st.none(), _TEXT), notes=st.one_of(st.none(), _TEXT),
       phones=st.lists(st.tuples(_TYPES, st.from_regex(r"\+?[0-9][0-9 \-]{4,12}[0-9]", fullmatch=True)), max_size=3),
       city=st.one_of(st.none(), _TEXT))
def test_round_trip_keeps_every_modelled_field(name, title, notes, phones, city) -> None:
    contact: dict = {"name": name}
    if phones:
        contact["phone"] = phones[0][1]
        if phones[1:]:
            contact["phones"] = [{"type": t, "value": v} for t, v in phones[1:]]
    if title:
        contact["title"] = title
    if notes:
        contact["notes"] = notes
    if city:
        contact["address"] = {"city": city}
    back = vcard.parse(vcard.to_vcard(contact))[0]
    assert back.error is None and back.contact == contact


def test_a_mobile_phone_goes_out_as_type_cell() -> None:
    import vobject

    contact = {"name": "Ingrid Solberg", "phone": "+47 22 33 44 55",
               "phones": [{"type": "mobile", "value": "+47 912 34 567"}, {"type": "Work", "value": "+47 22 00 00 00"}]}
    text = vcard.to_vcard(contact)
    assert "TEL;TYPE=CELL:+47 912 34 567\r\n" in text and "MOBILE" not in text.upper()
    card = vobject.readOne(text)
    types = {t.value: [p.upper() for p in t.params.get("TYPE", [])] for t in card.contents["tel"]}
    assert types["+47 912 34 567"] == ["CELL"] and types["+47 22 00 00 00"] == ["WORK"]
