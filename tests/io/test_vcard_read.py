"""The vCard reader keeps every value whole and isolates what it cannot read."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from crmkit.io import vcard
from crmkit.io.countries import country_code
from crmkit.io.vcard_read import decode_bytes, read_cards
from crmkit.store.records import slugify

CORPUS = Path(__file__).resolve().parents[1] / "data" / "addressbooks"


def parse(name: str) -> list[vcard.Card]:
    return vcard.parse(decode_bytes((CORPUS / name).read_bytes()))


def test_unescaped_commas_stay_in_the_value() -> None:
    (john,) = parse("outlook_2003.vcf")
    assert john.contact["name"] == "Mr. John Richter, James Doe Sr."
    assert john.company == "Company, The" and john.contact["department"] == "Dept"
    assert john.contact["title"] == "Director, Purchasing"
    assert john.contact["notes"] == ("Met at the Stockholm fair, 2025. Wants pricing for 40 seats, training and "
                                     "support.\nCall back after Easter.")
    assert john.contact["name_parts"] == {"family": "Richter", "given": "John", "additional": "James",
                                          "prefix": "Mr.", "suffix": "Sr."}


def test_quoted_printable_soft_breaks_charsets_and_lower_case_parameters() -> None:
    asa, zoltan = parse("android_21_qp.vcf")
    assert asa.contact["notes"].split("\n") == ["Första raden av anteckningen", "Andra raden: ring efter mässan",
                                                "Tredje raden, med komma", "Fjärde och sista raden"]
    assert asa.contact["extra"]["LABEL"] == "Storgatan 1\nGöteborg"           # CHARSET=ISO-8859-1
    assert zoltan.contact["name"] == "Nagy Zoltán"                            # QP without CHARSET
    assert [p for _, p in asa.unkept] == ["VERSION", "PHOTO"] and asa.problems == []
    oystein, _ = parse("thunderbird.vcf")
    assert oystein.contact["notes"] == "Ringer i mars…\nvil ha tilbud på lisenser"
    assert oystein.contact["address"]["street"] == "Storgata 1\n3. etasje"
    (jurgen,) = parse("outlook_2007.vcf")
    assert jurgen.contact["notes"] == "Grüße an die Familie, Termin im März."


def test_a_bad_property_is_skipped_and_reported_the_card_kept() -> None:
    cards = parse("handwritten_nordic.vcf")
    ors = cards[2]
    assert ors.error is None and ors.contact["name"] == "Kertész Őrs" and ors.contact["phone"] == "+36 20 987 6543"
    assert ors.problems == [(27, "this line has no colon", "not a property (no ':'); skipped"),
                            (28, "NOTE", "unknown CHARSET 'X-UNKNOWN-8'; skipped")]
    assert (29, "PROFILE") in ors.unkept


def test_apple_groups_labels_and_line_numbers_with_cr_cr_lf() -> None:
    raw = (CORPUS / "iphone_ios17.vcf").read_bytes()
    assert b"\r\r\n" in raw
    assert [c.line for c in read_cards(decode_bytes(raw))] == [1, 35, 49, 59]
    first, second, third, john = parse("iphone_ios17.vcf")
    assert first.contact["websites"] == [{"type": "homepage", "value": "https://alpha-consulting.se"}]
    assert first.contact["related"] == [{"type": "spouse", "value": "Björn Alpha"}]
    assert first.contact["addresses"][0]["street"] == "Sveavägen 44\nLgh 1102"
    assert first.contact["tags"] == ["Kund", "VIP"] and str(first.contact["birthday"]) == "1981-06-14"
    assert second.contact["phones"] == [{"type": "växel", "value": "+46 8 555 020 00"}]
    assert second.contact["birthday"] == "--03-02"                          # X-APPLE-OMIT-YEAR
    assert third.contact["email_type"] == "privat"
    assert john.contact["phone"] == "+1 212 555 0100"                       # never the fax
    assert john.contact["phones"] == [{"type": "fax", "value": "+1 212 555 0199"}]
    assert john.contact["address"]["pobox"] == "PO Box 17" and john.contact["address"]["country"] == "US"


def test_utf16_without_bom_and_cards_with_only_an_email() -> None:
    oystein, ors = parse("macos_utf16_nobom.vcf")
    assert oystein.contact["name"] == "Øystein Ödegård" and ors.contact["name"] == "Deák Őrs"
    _, orders = parse("gmail.vcf")
    assert orders.error is None and orders.contact["name"] == "orders@nordvik-fisk.no"


def test_countries_from_names_in_many_languages_and_ids_for_every_script() -> None:
    assert [country_code(n) for n in ("United States of America", "USA", "Deutschland", "Norvégia", "Sverige",
                                      "Magyarország", "Storbritannien", "UK", "se", "Atlantis")] == [
        "US", "US", "DE", "NO", "SE", "HU", "GB", "GB", "SE", "Atlantis"]
    assert slugify("최유림") == "choeyulim" and slugify("黄世勇") == "huangshiyong"
    assert slugify("Őrs Ødegård") == "ors-odegard"


def test_crmkit_fields_travel_in_x_properties() -> None:
    import datetime as dt

    contact = {"name": "Anna Åkerberg", "email": "anna@akerberg.se", "opted_out": True,
               "consent": {"marketing": False, "date": dt.date(2026, 3, 1)}, "language": "sv", "owner": "daniel",
               "tags": ["erp", "vip, gold"], "created": dt.datetime(2026, 1, 2, 9, 30, tzinfo=dt.UTC),
               "customer_no": 4711, "birthday": dt.date(1980, 4, 12), "nickname": "Annie",
               "websites": [{"type": "work", "value": "https://akerberg.se"}]}
    text = vcard.to_vcard(contact)
    assert "X-CRMKIT-OPTED-OUT:true" in text and "CATEGORIES:erp,vip\\, gold" in text
    back = vcard.parse(text)[0]
    assert back.contact == contact


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st

_LINE = st.one_of(
    st.sampled_from(["BEGIN:VCARD", "END:VCARD", "VERSION:2.1", "FN:Åsa", "N:;;;;", "TEL;CELL:+46 70",
                     "NOTE;ENCODING=QUOTED-PRINTABLE:a=", "PHOTO;ENCODING=BASE64;JPEG:/9j/", " folded", "=C3=A5",
                     "item1.X-ABLabel:_$!<x>!$_", 'ADR;LABEL="a;b":;;x', "BDAY:--1304", "X-CRMKIT-OWNER:{bad"]),
    st.text(alphabet="ABC:;=,\\\". \tåő\r", max_size=30),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_LINE, max_size=25))
def test_any_text_with_a_card_parses_without_raising(lines: list[str]) -> None:
    text = "BEGIN:VCARD\n" + "\n".join(lines) + "\nEND:VCARD\n"
    for card in vcard.parse(text):
        assert card.error or card.contact.get("name")
        assert all(isinstance(line, int) and line >= 1 for line, _, _ in card.problems)


def cards(text: str) -> list[vcard.Card]:
    return vcard.parse(text.replace("\n", "\r\n"))


def test_an_email_with_its_display_name_is_the_address_and_the_name_kept() -> None:
    # Android's test cards write EMAIL:"Omega" <omega@...>, folded onto a second line.
    (same, other) = cards('BEGIN:VCARD\nVERSION:2.1\nFN:Omega\nEMAIL;INTERNET:"Omega"\n  <omega@example.com>\nEND:VCARD\n'
                          'BEGIN:VCARD\nVERSION:3.0\nFN:Pia\nEMAIL:Sales desk <sales@example.com>\n'
                          'EMAIL:mailto:pia@example.com\nEND:VCARD\n')
    assert same.contact["email"] == "omega@example.com" and "extra" not in same.contact
    assert other.contact["email"] == "sales@example.com"
    assert other.contact["emails"] == [{"type": "other", "value": "pia@example.com"}]
    assert other.contact["extra"] == {"X-EMAIL-NAME": "Sales desk"}


def test_a_card_without_fn_or_n_is_named_by_its_nickname_or_im_handle() -> None:
    nick, im, nothing = cards(
        "BEGIN:VCARD\nVERSION:2.1\nX-ANDROID-CUSTOM:vnd.android.cursor.item/nickname;Nisse;1;;;;;;;;;;;;;\nEND:VCARD\n"
        "BEGIN:VCARD\nVERSION:2.1\nX-GOOGLE-TALK:pia@example.com\nEND:VCARD\n"
        "BEGIN:VCARD\nVERSION:2.1\nX-ANDROID-CUSTOM:custom_mime;a;b\nEND:VCARD\n")
    assert nick.contact["name"] == nick.contact["nickname"] == "Nisse" and nick.contact["extra"] == {"X-ANDROID-CUSTOM": "1"}
    assert im.contact["name"] == "pia@example.com" and im.contact["social"] == [{"type": "gtalk", "value": "pia@example.com"}]
    assert nothing.error and "NICKNAME" in nothing.error


def test_apple_x_abadr_is_a_country_code_or_data_of_its_own() -> None:
    (code, formatted) = cards(
        "BEGIN:VCARD\nVERSION:3.0\nFN:A\nitem1.ADR;type=HOME:;;Storgatan 1;Lund;;22350;\nitem1.X-ABADR:se\nEND:VCARD\n"
        "BEGIN:VCARD\nVERSION:3.0\nFN:B\nitem2.ADR;type=WORK:;;Street 4;New York;;12345;USA\n"
        "item2.X-ABADR:Street 4\\nNew York\\nUSA\nEND:VCARD\n")
    assert code.contact["address"]["country"] == "SE" and "extra" not in code.contact
    assert formatted.contact["address"]["country"] == "US"
    assert formatted.contact["extra"] == {"X-ABADR": "Street 4\nNew York\nUSA"}


def test_a_second_n_extra_n_parts_and_a_label_of_no_typed_property_are_kept() -> None:
    (card,) = cards("BEGIN:VCARD\nVERSION:4.0\nFN:Wesker\nN:Wesker;Albert;;Dr.;MSc;Extra part\n"
                    "N;ALTID=1:Wesker;Al;;;\nitem1.ORG:Umbrella\nitem1.X-ABLabel:Work\n"
                    "IMPP;X-SERVICE-TYPE=Skype:\nURL:\nEND:VCARD\n")
    assert card.contact["name_parts"] == {"family": "Wesker", "given": "Albert", "prefix": "Dr.", "suffix": "MSc"}
    assert card.contact["extra"] == {"N": ["Extra part", "Wesker;Al;;;"], "X-ABLABEL": "Work"}
    assert "social" not in card.contact and "websites" not in card.contact     # empty values hold nothing


def test_a_type_that_is_no_plain_word_comes_back_whole() -> None:
    contact = {"name": "Mike", "social": [{"type": "mike’s very special, custom im:", "value": "x-apple:mike@im"},
                                          {"type": "x-apple", "value": "x-apple:0283839"}],
               "dates": [{"type": "first met", "value": dt.date(2020, 5, 1)}]}
    (card,) = vcard.parse(vcard.to_vcard(contact))
    assert card.contact["social"] == contact["social"]
    assert card.contact["dates"] == contact["dates"]


def test_an_8bit_file_reads_each_property_in_the_charset_it_names() -> None:
    # macOS Contacts' 2.1 export writes MacRoman bytes labelled CHARSET=MACINTOSH; Outlook Windows-1252.
    raw = ("BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=MACINTOSH:Küchle;Erika;;;\r\nFN;CHARSET=MACINTOSH:Erika Küchle\r\n"
           "ORG;CHARSET=MACINTOSH:Åkerberg AB\r\nEND:VCARD\r\n").encode("mac_roman")
    raw += "BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Jürgen Weiß\r\nEND:VCARD\r\n".encode("cp1252")
    erika, jurgen = vcard.parse(decode_bytes(raw))
    assert erika.contact["name"] == "Erika Küchle" and erika.company == "Åkerberg AB"
    assert erika.contact["name_parts"] == {"family": "Küchle", "given": "Erika"}
    assert jurgen.contact["name"] == "Jürgen Weiß"


def test_shapes_found_in_real_exports() -> None:
    maja, oystein = parse("ios14_impp_altid.vcf")
    assert maja.contact["name_parts"]["suffix"] == "PhD" and maja.contact["extra"]["N"] == "Extra-Part-Of-N"
    assert [s["type"] for s in maja.contact["social"]] == ["skype", "majas egen, speciella chatt:", "jabber"]
    assert maja.contact["addresses"][0]["country"] == "SE"                  # from item6.X-ABADR:se
    assert maja.contact["extra"]["X-ABLABEL"] == "Arbete" and maja.company == "Fjällbacka Fisk AB"
    assert oystein.contact["name_parts"] == {"family": "Berg", "given": "Øystein"}
    assert oystein.contact["extra"]["N"] == "Berg;Oystein;;;"
    omega, nisse, ors, nobody = parse("android_aosp_shapes.vcf")
    assert omega.contact["email"] == "omega@example.com" and omega.contact["extra"] == {"X-EMAIL-NAME": "Försäljning"}
    assert nisse.contact["name"] == "Nisse" and ors.contact["name"] == "ors.kiss@gtalk.example"
    assert nobody.error
    (erika,) = parse("macos_21_macroman.vcf")
    assert erika.contact["notes"] == "Träffades på mässan – ring i vår" and erika.contact["department"] == "Försäljning"
