"""Likely duplicates and the email lookup used by `contact add`."""

from __future__ import annotations

import pytest

from crmkit.errors import UsageError
from crmkit.people.dedupe import find_by_email, find_duplicates, normal_domain, normal_email, normal_name, normal_phone
from crmkit.store.workspace import Workspace


@pytest.mark.parametrize("text, region, e164", [
    ("070-123 45 67", "SE", "+46701234567"),
    ("+46 (0)70 123 45 67", "SE", "+46701234567"),
    ("0046 70 123 45 67", "SE", "+46701234567"),
    ("912 34 567", "NO", "+4791234567"),
    ("+47 912 34 567", "SE", "+4791234567"),          # a country code wins over the default
    ("06 30 765 4321", "HU", "+36307654321"),         # Hungarian trunk prefix 06
    ("+36-1-234-5678", "HU", "+3612345678"),
    ("n/a", "SE", None),
    ("12", "SE", None),
])
def test_phone_numbers_in_international_form(text: str, region: str, e164: str | None) -> None:
    assert normal_phone(text, region) == e164


def test_email_domain_and_name_normalising() -> None:
    assert normal_email(" Anna.Berg@Example.SE ") == "anna.berg@example.se"
    assert normal_email("a.n.na+crm@googlemail.com") == "anna@gmail.com"
    assert normal_email("not-an-address") is None
    assert normal_domain("https://www.Nordvik.no/kontakt") == "nordvik.no"
    assert normal_name("Åkerberg AB") == normal_name("akerberg") == "akerberg"
    assert normal_name("Dunaipar Kft.") == "dunaipar"


WS = {
    "crmkit.yaml": "name: T\ntimezone: Europe/Stockholm\nlocale: nb_NO\n",
    "contacts/anna-berg.yaml": "name: Anna Berg\nemail: Anna.Berg@Example.se\nphone: \"070-123 45 67\"\ncountry: SE\n",
    "contacts/anna-b.yaml": "name: Anna B.\nemails:\n  - {type: work, value: anna.berg@example.se}\n",
    "contacts/ola.yaml": "name: Ola Nordmann\nphone: \"912 34 567\"\n",            # read as Norwegian (locale)
    "contacts/ola-n.yaml": "name: Ola Nordman\nphone: \"+47 912 34 567\"\n",
    "contacts/zoltan.yaml": "name: Zoltán Kiss\nemail: z@example.hu\n",
    "contacts/zoltan-k.yaml": "name: Zoltan Kis\n",
    "companies/nordvik-as.yaml": "name: Nordvik AS\ndomain: nordvik.no\n",
    "companies/nordvik.yaml": "name: Nordvik\ndomain: www.nordvik.no\n",
    "companies/fjordlys.yaml": "name: Fjordlys Consulting AB\n",
}


def test_find_duplicates_with_reasons_and_confidence(make_ws) -> None:
    ws = Workspace.find(make_ws(WS))
    pairs = {(d.keep, d.other): d for d in find_duplicates(ws, "contact")}
    assert pairs[("anna-b", "anna-berg")].reason == "same email anna.berg@example.se"
    assert pairs[("anna-b", "anna-berg")].confidence == 0.99
    assert pairs[("ola", "ola-n")].reason == "same phone +4791234567"
    assert pairs[("zoltan", "zoltan-k")].reason.startswith("similar names")
    assert 0.6 < pairs[("zoltan", "zoltan-k")].confidence < 0.9
    found = find_duplicates(ws, "contact")
    assert [d.confidence for d in found] == sorted((d.confidence for d in found), reverse=True)
    companies = find_duplicates(ws, "company")
    assert [(d.keep, d.other, d.reason) for d in companies] == [("nordvik", "nordvik-as", "same domain nordvik.no")]
    with pytest.raises(UsageError):
        find_duplicates(ws, "deal")


def test_find_by_email_sees_every_address(make_ws) -> None:
    ws = Workspace.find(make_ws(WS))
    assert find_by_email(ws, "ANNA.BERG@example.se ").id == "anna-berg"
    assert find_by_email(ws, "z@example.hu").id == "zoltan"
    assert find_by_email(ws, "nobody@example.se") is None
    assert find_by_email(ws, "  ") is None


def test_hungarian_name_order_is_the_same_person(make_ws) -> None:
    ws = Workspace.find(make_ws({"contacts/kovacs-adam.yaml": "name: Kovács Ádám\n",
                                 "contacts/adam-kovacs.yaml": "name: Adam Kovacs\n"}))
    assert [(d.keep, d.other, d.reason) for d in find_duplicates(ws, "contact")] == [
        ("adam-kovacs", "kovacs-adam", "same name")]
