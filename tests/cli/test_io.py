"""Data in and out: real-world-shaped CSV and vCard files, exports, duplicates and merges."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import git

from crmkit.io import vcard
from crmkit.store import yamlio

DATA = Path(__file__).resolve().parents[1] / "data"


def load(ws: Path, rel: str) -> dict:
    return yamlio.load_fast(ws / rel)


def commits(ws: Path) -> int:
    return int(git(ws, "rev-list", "--count", "HEAD"))


def test_nordic_excel_csv_imports_field_by_field(run, make_ws) -> None:
    ws = make_ws()
    r = run(["import", "csv", str(DATA / "excel_contacts_sv.csv"), "--kind", "contact"], ws)
    assert r.exit_code == 4, r.stderr                       # one bad row: partial
    assert "excel_contacts_sv.csv:8: reject: -: more cells than the header has columns" in r.stdout
    assert "4 created, 0 updated, 0 unchanged, 1 rejected, 3 companies created" in r.stderr
    asa = load(ws, "contacts/asa-oberg.yaml")
    assert asa["name"] == "Åsa Öberg" and asa["email"] == "asa.oberg@akerberg.se"
    assert asa["phone"] == "070-123 45 67" and asa["title"] == "Inköpschef"
    assert asa["address"] == {"street": "Storgatan 1", "zip": "01234", "city": "Göteborg"}
    assert asa["country"] == "SE" and asa["company"] == "akerberg-ab"
    assert asa["notes"] == "Träffades på mässan;\nvill ha offert"   # a quoted cell with a line break
    assert load(ws, "contacts/bjorn-odegard.yaml")["address"]["zip"] == "0150"
    assert load(ws, "contacts/bjorn-odegard.yaml")["country"] == "NO"
    zs = load(ws, "contacts/szoke-zsofia.yaml")
    assert zs["notes"] == "Árvíztűrő tükörfúrógép" and zs["company"] == "dunaipar-kft"
    assert load(ws, "companies/dunaipar-kft.yaml")["name"] == "Dunaipar Kft."
    assert load(ws, "contacts/kovacs-adam.yaml")["company"] == "dunaipar-kft"
    assert git(ws, "log", "-1", "--format=%s").startswith("crmkit: import 4 new and 0 changed contact records")
    assert git(ws, "status", "--porcelain") == ""
    assert run(["check"], ws).exit_code == 0


def test_second_import_changes_nothing(run, make_ws) -> None:
    ws = make_ws()
    run(["import", "csv", str(DATA / "excel_contacts_sv.csv"), "--kind", "contact"], ws)
    before = commits(ws)
    r = run(["import", "csv", str(DATA / "excel_contacts_sv.csv"), "--kind", "contact"], ws)
    assert "0 created, 0 updated, 4 unchanged, 1 rejected" in r.stderr
    assert commits(ws) == before


def test_dry_run_reports_row_by_row_and_writes_nothing(run, make_ws) -> None:
    ws = make_ws({"contacts/asa-oberg.yaml": "name: Åsa Öberg\nemail: ASA.OBERG@akerberg.se\n"})
    r = run(["import", "csv", str(DATA / "excel_contacts_sv.csv"), "--kind", "contact", "--dry-run", "--json"], ws)
    data = json.loads(r.stdout)
    actions = {row["line"]: (row["action"], row["id"]) for row in data["rows"]}
    assert actions[2][0] == "update" and actions[2][1] == "asa-oberg"   # matched by email, case ignored
    assert actions[4] == ("create", "bjorn-odegard")
    assert actions[8][0] == "reject"
    assert 5 not in actions                                              # the empty row is skipped
    assert git(ws, "status", "--porcelain") == "" and not (ws / "contacts/bjorn-odegard.yaml").exists()


def test_strict_aborts_with_nothing_written(run, make_ws) -> None:
    ws = make_ws()
    r = run(["import", "csv", str(DATA / "excel_contacts_sv.csv"), "--kind", "contact", "--strict"], ws)
    assert r.exit_code == 1 and "--strict: 1 bad row; nothing was written" in r.stderr
    assert not (ws / "contacts").exists() or not any((ws / "contacts").iterdir())
    assert commits(ws) == 1


def test_mapping_and_bad_values_name_the_line(run, make_ws, tmp_path) -> None:
    ws = make_ws()
    f = tmp_path / "companies.csv"
    f.write_text("Firma,Antal anställda,Webb\nNordvik AS,80,nordvik.no\nBroken AB,many,broken.se\n", encoding="utf-8")
    r = run(["import", "csv", str(f), "--kind", "company", "--map", "Firma=name", "--map", "Antal anställda=employees",
             "--map", "Webb=domain"], ws)
    assert r.exit_code == 4
    assert f"{f}:3: reject: -: employees='many': expected int" in r.stdout
    assert load(ws, "companies/nordvik-as.yaml") == {"name": "Nordvik AS", "employees": 80, "domain": "nordvik.no",
                                                     "created": load(ws, "companies/nordvik-as.yaml")["created"]}
    r = run(["import", "csv", str(tmp_path / "missing.csv"), "--kind", "company"], ws)
    assert r.exit_code == 1 and "cannot read" in r.stderr
    r = run(["import", "csv", str(f), "--kind", "company", "--map", "nonsense"], ws)
    assert r.exit_code == 2 and "expected COLUMN=FIELD" in r.stderr


def test_formula_cells_are_made_safe_on_export(run, make_ws) -> None:
    ws = make_ws()
    r = run(["import", "csv", str(DATA / "formula_cells.csv"), "--kind", "contact"], ws)
    assert r.exit_code == 0, r.stdout + r.stderr
    # the text is kept exactly in the record ...
    assert load(ws, "contacts/eve-evil.yaml")["notes"] == '=HYPERLINK("http://x.example","click")'
    # ... and defused on the way out
    r = run(["export", "csv", "--fields", "name,notes,title", "--delimiter", ";"], ws)
    rows = list(csv.reader(io.StringIO(r.stdout), delimiter=";"))
    assert rows[0] == ["name", "notes", "title"]
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["Eve Evil"][1] == "'=HYPERLINK(\"http://x.example\",\"click\")"
    assert by_name["Eve Evil"][2] == "'+1 boss"
    assert by_name["Mallory"][1:] == ["'@SUM(A1:A9)", "-2"]   # a negative number is not a formula
    assert by_name["Plain Person"][1:] == ["just text", "CEO"]


def test_phone_vcards_import_every_field(run, make_ws) -> None:
    ws = make_ws()
    r = run(["import", "vcard", str(DATA / "phone_contacts.vcf")], ws)
    assert r.exit_code == 0, r.stdout + r.stderr        # the card with only an email is named after it
    assert load(ws, "contacts/nobody-example-com.yaml")["email"] == "nobody@example.com"
    karin = load(ws, "contacts/karin-lind.yaml")
    assert karin["email"] == "karin.lind@fjallbackafisk.se"
    assert karin["emails"] == [{"type": "home", "value": "karin.lind@gmail.com"}]
    assert karin["phone"] == "+46 70 111 22 33"
    assert karin["phones"] == [{"type": "work", "value": "031-12 34 56"}]
    assert karin["title"] == "Marknadschef" and karin["company"] == "fjallbacka-fisk-ab"
    assert karin["address"] == {"type": "work", "street": "Hamngatan 3", "zip": "45071", "city": "Fjällbacka", "country": "SE"}
    assert karin["notes"] == "Vill ha en demo av BI-modulen i januari. Ringer tillbaka efter helgerna."
    bjorn = load(ws, "contacts/bjorn-odegard.yaml")          # vCard 4.0 from Android
    assert bjorn["name"] == "Bjørn Ødegård" and bjorn["phone"] == "+4791234567"
    assert bjorn["address"]["country"] == "NO" and bjorn["address"]["zip"] == "0150"
    before = commits(ws)
    again = run(["import", "vcard", str(DATA / "phone_contacts.vcf")], ws)
    assert "0 created, 0 updated, 4 unchanged" in again.stderr and commits(ws) == before


def test_vcard_round_trip_keeps_every_modelled_field(run, make_ws, tmp_path) -> None:
    ws = make_ws()
    run(["import", "vcard", str(DATA / "phone_contacts.vcf")], ws)
    out = tmp_path / "out.vcf"
    r = run(["export", "vcard", "-o", str(out)], ws)
    assert r.exit_code == 0, r.stderr
    cards = {c.contact["name"]: c for c in vcard.parse(out.read_text(encoding="utf-8"))}
    assert set(cards) == {"Karin Lind", "Bjørn Ødegård", "Kovács Ádám", "nobody@example.com"}
    for name, card in cards.items():
        rid = {"Karin Lind": "karin-lind", "Bjørn Ødegård": "bjorn-odegard", "Kovács Ádám": "kovacs-adam",
               "nobody@example.com": "nobody-example-com"}[name]
        stored = load(ws, f"contacts/{rid}.yaml")
        for key, value in card.contact.items():
            assert stored[key] == value, (name, key)
        modelled = {k: v for k, v in stored.items() if k != "company"}   # created travels in X-CRMKIT-CREATED
        assert modelled == card.contact, name
        company = load(ws, f"companies/{stored['company']}.yaml")["name"] if "company" in stored else None
        assert card.company == company
    # and back into a fresh workspace: the same records
    ws2 = make_ws()
    run(["import", "vcard", str(out)], ws2)
    assert load(ws2, "contacts/karin-lind.yaml")["phones"] == load(ws, "contacts/karin-lind.yaml")["phones"]


def test_export_json_and_where(run, make_ws) -> None:
    ws = make_ws()
    run(["import", "csv", str(DATA / "excel_contacts_sv.csv"), "--kind", "contact"], ws)
    r = run(["export", "json", "--where", "country == HU"], ws)
    assert sorted(row["id"] for row in json.loads(r.stdout)) == ["kovacs-adam", "szoke-zsofia"]
    r = run(["export", "json", "--kind", "company"], ws)
    assert len(json.loads(r.stdout)) == 3
    r = run(["export", "json", "--segment", "nope"], ws)
    assert r.exit_code == 1 and "no segment named 'nope'" in r.stderr


DUPES = {
    "companies/nordvik-as.yaml": "name: Nordvik AS\ndomain: nordvik.no\ncountry: NO\n",
    "companies/nordvik.yaml": "name: Nordvik\ndomain: https://www.nordvik.no/\n",
    "contacts/anna-berg.yaml": "name: Anna Berg\nemail: Anna.Berg@Example.se\nphone: \"070-123 45 67\"\ncompany: nordvik-as\ntags: [a]\n",
    "contacts/anna-b.yaml": "name: Anna B.\nemail: anna.berg@example.se\ntitle: CFO\ntags: [b]\n",
    "contacts/ana-berg.yaml": "name: Ana Berg\nphone: \"+46 70 123 45 67\"\ncountry: SE\n",
    "contacts/zoltan.yaml": "name: Zoltán Kiss\nemail: z@example.hu\n",
    "deals/d1.yaml": "title: D1\ncompany: nordvik\ncontacts: [anna-b, anna-berg]\nstage: lead\n",
}


def test_dedupe_finds_email_phone_domain_and_names(run, make_ws) -> None:
    ws = make_ws(DUPES)
    rows = json.loads(run(["dedupe", "--json"], ws).stdout)
    pairs = {(r["a"], r["b"]): r for r in rows}
    assert pairs[("anna-b", "anna-berg")]["reason"] == "same email anna.berg@example.se"
    assert pairs[("ana-berg", "anna-berg")]["reason"] == "same phone +46701234567"
    assert all("zoltan" not in pair for pair in pairs)
    companies = json.loads(run(["dedupe", "--kind", "company", "--json"], ws).stdout)
    assert companies[0]["reason"] == "same domain nordvik.no" and companies[0]["confidence"] == 0.95


def test_merge_moves_references_and_leaves_a_tombstone(run, make_ws) -> None:
    ws = make_ws(DUPES)
    r = run(["merge", "anna-berg", "anna-b"], ws)
    assert r.exit_code == 0, r.stderr
    kept = load(ws, "contacts/anna-berg.yaml")
    assert kept["title"] == "CFO" and kept["tags"] == ["a", "b"] and kept["email"] == "Anna.Berg@Example.se"
    assert load(ws, "contacts/anna-b.yaml")["merged_into"] == "anna-berg"
    assert load(ws, "deals/d1.yaml")["contacts"] == ["anna-berg"]
    changed = git(ws, "show", "--name-only", "--format=", "HEAD").split()
    assert sorted(changed) == ["contacts/anna-b.yaml", "contacts/anna-berg.yaml", "deals/d1.yaml"]
    assert git(ws, "log", "-1", "--format=%s").strip() == "crmkit: merge contact/anna-b into contact/anna-berg"
    r = run(["show", "anna-b"], ws)
    assert r.exit_code == 0 and "contact/anna-b was merged into contact/anna-berg" in r.stderr   # followed
    assert r.stdout.startswith("contact/anna-berg  Anna Berg")
    assert "anna-b" not in run(["contact", "list", "--format", "csv"], ws).stdout.split()
    # the merged id stays taken: a new "Anna B" gets an id of its own
    r = run(["contact", "add", "Anna B"], ws)
    assert r.exit_code == 0 and r.stdout.strip() == "contact/anna-b-2", r.stderr
    assert run(["check"], ws).exit_code == 0
    r = run(["merge", "anna-berg", "nordvik-as"], ws)
    assert r.exit_code != 0


def test_shell_completion_scripts_and_record_ids(make_ws) -> None:
    ws = make_ws(DUPES)
    for shell in ("bash", "zsh", "fish"):
        r = subprocess.run([sys.executable, "-m", "crmkit", "completion", shell], capture_output=True, text=True)
        assert r.returncode == 0 and "_CRMKIT_COMPLETE" in r.stdout, shell
    env = dict(os.environ, _CRMKIT_COMPLETE="bash_complete", COMP_WORDS="crmkit show ann", COMP_CWORD="2")
    r = subprocess.run([sys.executable, "-m", "crmkit"], capture_output=True, text=True, cwd=ws, env=env)
    assert r.stdout.split() == ["plain,anna-b", "plain,anna-berg"]
    env.update(COMP_WORDS="crmkit rep", COMP_CWORD="1")
    r = subprocess.run([sys.executable, "-m", "crmkit"], capture_output=True, text=True, cwd=ws, env=env)
    assert "plain,report" in r.stdout.split()


def test_nordic_company_sheet_in_windows_1252_matches_domains(run, make_ws) -> None:
    ws = make_ws({"companies/nordvik-as.yaml": "name: Nordvik AS\ndomain: nordvik.no\nemployees: 80\n"})
    f = str(DATA / "excel_companies_cp1252.csv")
    r = run(["import", "csv", f, "--kind", "company", "--map", "Kund=customer", "--dry-run"], ws)
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines() == [
        f"{f}:2: create: company/akerberg-ab: new",
        f"{f}:3: update: company/nordvik-as: changed: country, customer, employees, industry (matched by domain)",  # by domain
        f"{f}:5: create: company/mobelhuset-angby: new",
    ]
    assert "would import: 2 created, 1 updated, 0 unchanged, 0 rejected" in r.stderr
    assert git(ws, "status", "--porcelain") == ""
    run(["import", "csv", f, "--kind", "company", "--map", "Kund=customer"], ws)
    ak = load(ws, "companies/akerberg-ab.yaml")
    assert ak["employees"] == 1200 and ak["customer"] is True and ak["name"] == "Åkerberg AB"
    assert load(ws, "companies/nordvik-as.yaml")["employees"] == 85


def test_on_match_update_merge_or_skip(run, make_ws, tmp_path) -> None:
    existing = "name: Åsa Öberg\nemail: asa.oberg@akerberg.se\ntitle: Inköpare  # as she signs\ntags: [fair]\n"
    f = tmp_path / "c.csv"
    f.write_text("Namn;E-post;Titel;Telefon;Taggar\nÅsa Öberg;ASA.OBERG@akerberg.se;Inköpschef;070-123 45 67;vip\n",
                 encoding="utf-8")
    args = ["import", "csv", str(f), "--kind", "contact", "--map", "Taggar=tags"]
    ws = make_ws({"contacts/asa-oberg.yaml": existing})
    run(args + ["--on-match", "skip"], ws)
    assert (ws / "contacts/asa-oberg.yaml").read_text() == existing
    run(args + ["--merge"], ws)
    merged = load(ws, "contacts/asa-oberg.yaml")
    assert merged["title"] == "Inköpare" and merged["phone"] == "070-123 45 67" and merged["tags"] == ["fair", "vip"]
    assert merged["email"] == "asa.oberg@akerberg.se"              # a key differing only in case is no change
    assert "# as she signs" in (ws / "contacts/asa-oberg.yaml").read_text()
    run(args, ws)
    assert load(ws, "contacts/asa-oberg.yaml")["title"] == "Inköpschef"
    assert len(list((ws / "contacts").iterdir())) == 1             # never a second Åsa


def test_deals_from_a_sheet_with_nordic_numbers_and_json_report(run, make_ws) -> None:
    ws = make_ws()
    args = ["import", "csv", str(DATA / "excel_deals_sv.csv"), "--kind", "deal", "--map", "Affär=title",
            "--map", "Företag=company", "--map", "Steg=stage", "--map", "Värde=value", "--map", "Valuta=currency",
            "--map", "Förväntat avslut=expected_close", "--json"]
    r = run(args, ws)
    assert r.exit_code == 4
    data = json.loads(r.stdout)
    assert data["summary"] == {"create": 2, "update": 0, "skip": 0, "reject": 1}
    assert data["rows"][2] == {"line": 5, "action": "reject", "kind": "deal", "id": None,
                               "reason": "value='mycket': expected amount", "fields": {}}
    deal = load(ws, "deals/erp-utrullning.yaml")
    assert deal["value"] == "120000.50" and deal["company"] == "akerberg-ab" and deal["stage"] == "proposal"
    assert [h["stage"] for h in deal["stage_history"]] == ["proposal"] and deal["stage_history"][0]["by"] == "tester"
    assert load(ws, "deals/szerzodes-2027.yaml")["value"] == 4500000
    assert sorted(p.name for p in (ws / "companies").iterdir()) == ["akerberg-ab.yaml", "dunaipar-kft.yaml"]


def test_merge_dry_run_and_record_id_completion(run, make_ws) -> None:
    ws = make_ws(DUPES)
    r = run(["merge", "anna-berg", "anna-b", "--dry-run"], ws)
    assert r.exit_code == 0 and r.stdout.splitlines() == [
        "would merge contact/anna-b into contact/anna-berg (fields: tags, title; references moved: 1)",
        "  deal/d1: contacts"]
    assert git(ws, "status", "--porcelain") == "" and "title" not in load(ws, "contacts/anna-berg.yaml")

    import click

    from crmkit.cli.common import App
    from crmkit.cli.completion import complete_record_id

    def complete(incomplete: str, *names: str) -> list[str]:
        ctx = None
        for name in names or ("crmkit",):
            ctx = click.Context(click.Command(name), parent=ctx, info_name=name)
        ctx.ensure_object(App).workspace_dir = str(ws)
        return [item.value for item in complete_record_id(ctx, None, incomplete)]  # type: ignore[arg-type]

    assert complete("ann") == ["anna-b", "anna-berg"]
    assert complete("deal/") == ["deal/d1"]
    assert complete("nord") == ["nordvik", "nordvik-as"]
    assert complete("", "crmkit", "deal", "move") == ["d1"]        # under a kind, only that kind's ids
    assert complete("de") == ["deal/"]
    assert complete("x", "crmkit") == []


def test_leads_from_a_web_form_export(run, make_ws, tmp_path) -> None:
    ws = make_ws()
    f = tmp_path / "leads.csv"
    f.write_text("\ufeffName,Email,Company,Users,Source,Country\r\n"
                 "Per Holm,per@holm.se,Holm & Co AB,120,web_form,SE\r\n"
                 "\"Nagy, Katalin\",katalin@nagy.hu,Nagy Kft.,15,event,HU\r\n", encoding="utf-8")
    r = run(["--now", "2026-11-23T10:00:00+01:00", "import", "csv", str(f), "--kind", "lead"], ws)
    assert r.exit_code == 0, r.stdout + r.stderr
    leads = {p.name: load(ws, f"leads/{p.name}") for p in (ws / "leads").iterdir()}
    assert all(name.startswith("ld-20261123-") for name in leads)
    per = next(v for v in leads.values() if v["email"] == "per@holm.se")
    assert per["company_name"] == "Holm & Co AB" and per["users"] == 120 and per["source"] == "web_form"
    assert per["status"] == "prospect" and per["created"].isoformat() == "2026-11-23T10:00:00+01:00"
    assert not (ws / "companies").exists()                       # a lead's company is a name, not a record
    again = run(["import", "csv", str(f), "--kind", "lead"], ws)
    assert "0 created, 0 updated, 2 unchanged" in again.stderr


def test_import_reads_standard_input(run, make_ws) -> None:
    ws = make_ws()
    r = run(["import", "vcard", "-"], ws, input=(DATA / "android_contacts.vcf").read_text(encoding="utf-8"))
    assert r.exit_code == 0, r.stderr
    assert load(ws, "contacts/asa-oberg.yaml")["company"] == "akerberg-ab"
    r = run(["import", "csv", "-", "--kind", "contact", "--dry-run"], ws, input="name;email\nPer Holm;per@holm.se\n")
    assert r.stdout == "<stdin>:2: create: contact/per-holm: new\n"
    assert git(ws, "log", "-1", "--format=%s").startswith("crmkit: import 2 new and 0 changed contact records")


def test_progress_bar_only_when_stderr_is_a_terminal(make_ws, tmp_path) -> None:
    """A large import shows a progress bar on a terminal, and nothing at all in a pipe or log."""
    import pty

    ws = make_ws()
    big = tmp_path / "many.csv"
    big.write_text("name;email\n" + "".join(f"Person {i};p{i}@example.se\n" for i in range(300)), encoding="utf-8")
    cmd = [sys.executable, "-m", "crmkit", "-w", str(ws), "--no-commit", "import", "csv", str(big), "--kind", "contact"]
    piped = subprocess.run(cmd, capture_output=True, text=True)
    assert piped.returncode == 0, piped.stderr
    assert "importing" not in piped.stderr and "300 created" in piped.stderr
    for p in (ws / "contacts").glob("*.yaml"):
        p.unlink()
    leader, follower = pty.openpty()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=follower, text=True)
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert proc.returncode == 0
    assert b"importing" in seen and b"300 created" in seen
