"""Re-import never cross-matches; titles in four languages; --map joins, --value maps; nothing lost silently."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from crmkit.store import yamlio

CORPUS = Path(__file__).resolve().parents[1] / "data" / "addressbooks"


def commits(ws: Path) -> int:
    return int(subprocess.run(["git", "rev-list", "--count", "HEAD"], cwd=ws, capture_output=True, text=True,
                              check=True).stdout)


def load(ws: Path, rel: str) -> dict:
    return yamlio.load_fast(ws / rel)


def folder(ws: Path, name: str) -> dict[str, dict]:
    return {p.stem: yamlio.load_fast(p) for p in sorted((ws / name).glob("*.yaml"))}


def test_same_name_cards_are_different_people_and_a_second_import_changes_nobody(run, make_ws) -> None:
    ws = make_ws()
    assert run(["import", "vcard", str(CORPUS / "iphone_ios17.vcf")], ws).exit_code == 0
    amelies = {rid: c for rid, c in folder(ws, "contacts").items() if c["name"] == "Amelie Alpha"}
    assert sorted(c["phone"] for c in amelies.values()) == ["+46 70 555 01 01", "+46 73 555 02 02", "08-555 03 03"]
    before = folder(ws, "contacts")
    again = run(["import", "vcard", str(CORPUS / "iphone_ios17.vcf")], ws)
    assert "0 created, 0 updated, 4 unchanged, 0 rejected" in again.stderr
    assert folder(ws, "contacts") == before


def test_a_rejected_card_stays_rejected_and_never_updates_the_first(run, make_ws, tmp_path: Path) -> None:
    card = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Amelie Alpha\r\nTITLE:{}\r\nEND:VCARD\r\n"
    path = tmp_path / "twins.vcf"
    path.write_text(card.format("Partner") + card.format("Intern"), encoding="utf-8")
    ws = make_ws()
    r = run(["import", "vcard", str(path)], ws)
    assert r.exit_code == 4 and "twins.vcf:6: reject: contact/amelie-alpha: same name and company as line 1" in r.stdout
    n = commits(ws)
    again = run(["import", "vcard", str(path)], ws)
    assert again.exit_code == 4 and "same name and company as line 1" in again.stdout
    assert load(ws, "contacts/amelie-alpha.yaml")["title"] == "Partner" and commits(ws) == n


def test_opportunities_with_the_same_name_keep_their_own_accounts(run, make_ws, tmp_path: Path) -> None:
    ws = make_ws()
    r = run(["import", "csv", str(CORPUS / "salesforce_opportunities.csv"), "--kind", "deal", "--dry-run"], ws)
    assert "layout: Salesforce opportunities" in r.stdout
    run(["import", "csv", str(CORPUS / "salesforce_opportunities.csv"), "--kind", "deal"], ws)
    deals = folder(ws, "deals")
    erp = sorted((d["company"], d["stage"], d["value"]) for d in deals.values() if d["title"] == "ERP support 2027")
    assert erp == [("akerberg-ab", "proposal", "180000.50"), ("nordvik-as", "won", 240000)]
    assert {d["external_id"] for d in deals.values()} >= {"0065g00000AbCdEAA1", "0065g00000AbCdFAA1"}
    again = run(["import", "csv", str(CORPUS / "salesforce_opportunities.csv"), "--kind", "deal"], ws)
    assert "0 created, 0 updated, 4 unchanged" in again.stderr and folder(ws, "deals") == deals
    # A sheet without ids: title and company together are the key, never the title alone.
    sheet = tmp_path / "deals.csv"
    sheet.write_text("Affär;Företag;Värde\nSupport;Nordvik AS;100\nSupport;Åkerberg AB;200\n", encoding="utf-8")
    ws2 = make_ws()
    run(["import", "csv", str(sheet), "--kind", "deal"], ws2)
    twice = run(["import", "csv", str(sheet), "--kind", "deal"], ws2)
    assert "2 unchanged" in twice.stderr
    assert sorted((d["company"], d["value"]) for d in folder(ws2, "deals").values()) == [
        ("akerberg-ab", 200), ("nordvik-as", 100)]


def test_strict_refuses_values_not_imported(run, make_ws) -> None:
    ws = make_ws()
    r = run(["import", "vcard", str(CORPUS / "android_21_qp.vcf"), "--strict"], ws)
    assert r.exit_code == 1 and "not imported: PHOTO ×1, VERSION ×2" in r.stderr and commits(ws) == 1
    r = run(["import", "vcard", str(CORPUS / "handwritten_nordic.vcf")], ws)
    assert "handwritten_nordic.vcf:27: this line has no colon: not a property (no ':'); skipped" in r.stderr
    assert "handwritten_nordic.vcf:28: NOTE: unknown CHARSET 'X-UNKNOWN-8'; skipped" in r.stderr
    assert load(ws, "contacts/choeyulim.yaml")["name"] == "최유림"


def test_nordic_titles_for_deals_and_companies(run, make_ws, tmp_path: Path) -> None:
    ws = make_ws()
    companies = tmp_path / "bolag.csv"
    companies.write_text("Namn;Antal anställda;Omsättning;Bransch;Land\n"
                         "Nordvik AS;1 200;12 345 678,90;Industri;Norge\n", encoding="utf-8")
    r = run(["import", "csv", str(companies), "--kind", "company", "--strict"], ws)
    assert r.exit_code == 0, r.stdout + r.stderr
    assert load(ws, "companies/nordvik-as.yaml") | {"created": None} == {
        "name": "Nordvik AS", "employees": 1200, "revenue": "12345678.90", "industry": "Industri", "country": "NO",
        "created": None}
    for lang, header in (("sv", "Affär;Företag;Värde;Valuta;Steg;Förväntat avslut;Ägare"),
                         ("nb", "Tittel;Firma;Verdi;Valuta;Fase;Forventet avslutning;Eier"),
                         ("hu", "Megnevezés;Cég;Érték;Pénznem;Szakasz;Várható zárás;Felelős"),
                         ("en", "Deal name;Account;Amount;Currency;Stage;Close date;Owner")):
        sheet = tmp_path / f"deals-{lang}.csv"
        sheet.write_text(f"{header}\nERP {lang};Nordvik AS;12 345 678,90;NOK;proposal;2027-03-31;daniel\n",
                         encoding="utf-8")
        r = run(["--json", "import", "csv", str(sheet), "--kind", "deal", "--strict"], ws)
        assert r.exit_code == 0, r.stdout + r.stderr
        (row,) = json.loads(r.stdout)["rows"]
        deal = load(ws, f"deals/{row['id']}.yaml")
        assert (deal["title"], deal["company"], deal["value"], deal["currency"], deal["stage"], deal["owner"],
                str(deal["expected_close"])) == (f"ERP {lang}", "nordvik-as", "12345678.90", "NOK", "proposal",
                                                 "daniel", "2027-03-31"), lang


def test_unknown_titles_are_reported_and_strict_fails_on_them(run, make_ws, tmp_path: Path) -> None:
    ws = make_ws()
    sheet = tmp_path / "kunder.csv"
    sheet.write_text("Namn;E-post;Favoritfärg\nÅsa Öberg;asa@akerberg.se;grön\n", encoding="utf-8")
    r = run(["import", "csv", str(sheet), "--kind", "contact", "--strict"], ws)
    assert r.exit_code == 1 and "column 'Favoritfärg' is no known field" in r.stderr and commits(ws) == 1
    r = run(["import", "csv", str(sheet), "--kind", "contact"], ws)
    assert r.exit_code == 0 and load(ws, "contacts/asa-oberg.yaml")["favoritfarg"] == "grön"


def test_map_joins_columns_and_value_maps_stages(run, make_ws, tmp_path: Path) -> None:
    ws = make_ws()
    people = tmp_path / "people.csv"
    people.write_text("Fornamn X,Efternamn X,Mejl\nÅsa,Öberg,asa@akerberg.se\n", encoding="utf-8")
    r = run(["import", "csv", str(people), "--kind", "contact", "--map", "Fornamn X+Efternamn X=name",
             "--map", "Mejl=email", "--strict"], ws)
    assert r.exit_code == 0, r.stdout + r.stderr
    assert load(ws, "contacts/asa-oberg.yaml")["name"] == "Åsa Öberg"
    deals = tmp_path / "deals.csv"
    deals.write_text("Deal,Phase\nBig one,Offert skickad\n", encoding="utf-8")
    r = run(["import", "csv", str(deals), "--kind", "deal", "--map", "Deal=title", "--map", "Phase=stage",
             "--value", "stage:offert skickad=proposal"], ws)
    assert r.exit_code == 0, r.stdout + r.stderr
    assert load(ws, "deals/big-one.yaml")["stage"] == "proposal"


def test_a_mapping_file_joins_columns_maps_values_and_typed_lists_take_more_columns(run, make_ws, tmp_path: Path) -> None:
    ws = make_ws()
    people = tmp_path / "people.csv"
    people.write_text("First,Last,Mail,Mail 2,Mail 3\nÅsa,Öberg,asa@akerberg.se,asa@home.se,\n", encoding="utf-8")
    mapping = tmp_path / "people.yaml"
    mapping.write_text("First+Last: name\nMail: email\nMail 2: emails\nMail 3: emails\n", encoding="utf-8")
    r = run(["import", "csv", str(people), "--kind", "contact", "--mapping", str(mapping), "--strict"], ws)
    assert r.exit_code == 0, r.stdout + r.stderr
    asa = load(ws, "contacts/asa-oberg.yaml")
    assert asa["name"] == "Åsa Öberg" and asa["email"] == "asa@akerberg.se"
    assert asa["emails"] == [{"type": "other", "value": "asa@home.se"}]
    r = run(["import", "csv", str(people), "--kind", "contact", "--map", "First+Last=name", "--map", "Mail=email",
             "--map", "Mail 2=emails", "--map", "Mail 3=emails"], ws)
    assert r.exit_code == 0 and "0 created, 0 updated" in r.stderr      # the same file again changes nothing

    deals = tmp_path / "opps.csv"
    deals.write_text("Opportunity,Phase,Amount\nLicenser,Closed Won,\"1,234\"\nKurs,Avvaktar,500\n", encoding="utf-8")
    mapping = tmp_path / "opps.yaml"
    mapping.write_text("columns:\n  Opportunity: title\n  Phase: stage\n  Amount: value\n"
                       "values:\n  stage:\n    closed won: won\n    Avvaktar: lead\n", encoding="utf-8")
    r = run(["import", "csv", str(deals), "--kind", "deal", "--mapping", str(mapping),
             "--value", "stage:Avvaktar=qualified"], ws)                  # a flag wins over the file
    assert r.exit_code == 0, r.stdout + r.stderr
    assert load(ws, "deals/licenser.yaml")["stage"] == "won" and load(ws, "deals/kurs.yaml")["stage"] == "qualified"
    assert load(ws, "deals/licenser.yaml")["value"] == "1.234"         # sv_SE: the comma is a decimal comma
    mapping.write_text("columns:\n  Phase: stage\nvalues:\n  stage: [won]\n", encoding="utf-8")
    r = run(["import", "csv", str(deals), "--kind", "deal", "--mapping", str(mapping)], ws)
    assert r.exit_code != 0 and "values:" in r.stderr and "Traceback" not in r.stderr


def test_vcard_export_carries_crmkit_fields_and_names_what_it_cannot(run, make_ws, tmp_path: Path) -> None:
    ws = make_ws({
        "contacts/anna-akerberg.yaml": ("name: Anna Åkerberg\nemail: anna@akerberg.se\nopted_out: true\n"
                                        "consent: {marketing: false, date: 2026-03-01}\nlanguage: sv\n"
                                        "owner: daniel\ntags: [erp, vip]\ncreated: 2026-01-02T09:30:00+01:00\n"
                                        "Kund nr: 4711\n"),
    })
    out = tmp_path / "out.vcf"
    r = run(["export", "vcard", "-o", str(out)], ws)
    assert r.exit_code == 0 and "contact/anna-akerberg: field 'Kund nr' cannot be carried in a vCard" in r.stderr
    text = out.read_text(encoding="utf-8")
    assert "CATEGORIES:erp,vip" in text and "X-CRMKIT-OPTED-OUT:true" in text
    ws2 = make_ws()
    run(["import", "vcard", str(out)], ws2)
    back = load(ws2, "contacts/anna-akerberg.yaml")
    original = load(ws, "contacts/anna-akerberg.yaml")
    original.pop("Kund nr")
    assert back == original


def test_csv_export_names_companies(run, make_ws, tmp_path: Path) -> None:
    ws = make_ws({"companies/nike.yaml": "name: Nike\n",
                  "contacts/phil.yaml": "name: Phil Knight\nemail: phil@nike.example\ncompany: nike\n"})
    out = tmp_path / "contacts.csv"
    run(["export", "csv", "-o", str(out)], ws)
    assert "Phil Knight,phil@nike.example,Nike" in out.read_text(encoding="utf-8")
    ws2 = make_ws()
    run(["import", "csv", str(out), "--kind", "contact"], ws2)
    assert load(ws2, "companies/nike.yaml")["name"] == "Nike"
    assert load(ws2, "contacts/phil.yaml")["company"] == "nike"


def test_hubspot_pipedrive_and_icloud_layouts(run, make_ws, tmp_path: Path) -> None:
    ws = make_ws()
    hubspot = tmp_path / "hubspot.csv"
    hubspot.write_text("Record ID,First Name,Last Name,Email,Phone Number,Company Name,Job Title,Lifecycle Stage\n"
                       "51,Karin,Lind,karin@fjallbackafisk.se,+46 70 111 22 33,Fjällbacka Fisk AB,VD,customer\n",
                       encoding="utf-8")
    r = run(["import", "csv", str(hubspot), "--kind", "contact", "--dry-run"], ws)
    assert "layout: HubSpot" in r.stdout and "column 'Lifecycle Stage' is no known field" in r.stderr
    run(["import", "csv", str(hubspot), "--kind", "contact"], ws)
    karin = load(ws, "contacts/karin-lind.yaml")
    assert (karin["uid"], karin["name"], karin["company"], karin["extra"]) == (
        "51", "Karin Lind", "fjallbacka-fisk-ab", {"Lifecycle Stage": "customer"})
    pipedrive = tmp_path / "pipedrive.csv"
    pipedrive.write_text("Deal - ID,Deal - Title,Deal - Value,Deal - Currency,Deal - Stage,Deal - Organization\n"
                         "7,Lisenser,120000,NOK,proposal,Fjordlys AS\n", encoding="utf-8")
    run(["import", "csv", str(pipedrive), "--kind", "deal"], ws)
    deal = load(ws, "deals/lisenser.yaml")
    assert (deal["external_id"], deal["value"], deal["currency"], deal["company"]) == ("7", 120000, "NOK", "fjordlys-as")
    icloud = tmp_path / "icloud.csv"
    icloud.write_text("First name,Last name,Company,Work email,Home email,Mobile phone,Work fax,Work street,Work city\n"
                      "Øystein,Berg,Fjordlys AS,oystein@fjordlys.no,ob@gmail.com,+47 901 23 456,+47 77 60 00 01,"
                      "Storgata 1,Tromsø\n", encoding="utf-8")
    assert run(["import", "csv", str(icloud), "--kind", "contact", "--strict"], ws).exit_code == 0
    oystein = load(ws, "contacts/oystein-berg.yaml")
    assert oystein["email"] == "oystein@fjordlys.no" and oystein["emails"] == [{"type": "home", "value": "ob@gmail.com"}]
    assert oystein["phone"] == "+47 901 23 456" and oystein["phones"] == [{"type": "fax", "value": "+47 77 60 00 01"}]
    assert oystein["address"] == {"type": "work", "street": "Storgata 1", "city": "Tromsø"}


def test_hungarian_name_parts_make_family_first_names(run, make_ws, tmp_path: Path) -> None:
    ws = make_ws()
    sheet = tmp_path / "ugyfelek.csv"
    sheet.write_text("Vezetéknév;Keresztnév;E-mail cím\nKovács;Ádám;adam@dunaipar.hu\n", encoding="utf-8")
    assert run(["import", "csv", str(sheet), "--kind", "contact", "--strict"], ws).exit_code == 0
    adam = load(ws, "contacts/kovacs-adam.yaml")
    assert adam["name"] == "Kovács Ádám" and adam["name_parts"] == {"family": "Kovács", "given": "Ádám"}


def test_google_2024_export_keeps_prefixes_and_names_a_company_only_row(run, make_ws) -> None:
    ws = make_ws()
    path = Path(__file__).resolve().parents[1] / "data" / "addressbooks" / "google_contacts_2024.csv"
    r = run(["import", "csv", str(path), "--kind", "contact"], ws)
    assert r.exit_code == 0, r.stdout + r.stderr
    ors = load(ws, "contacts/dr-ors-kiss.yaml")
    assert ors["name_parts"] == {"given": "Őrs", "family": "Kiss", "prefix": "Dr."}
    assert ors["address"]["country"] == "HU" and ors["phones"] == [{"type": "fax", "value": "+36 1 234 5679"}]
    switchboard = load(ws, "contacts/fjordkraft-service-as.yaml")     # no name: named by its company
    assert switchboard["name"] == "Fjordkraft Service AS" and switchboard["company"] == "fjordkraft-service-as"
