"""Exports: CSV that imports back field by field, JSON in the `list --json` shape, vCards."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from crmkit.exchange.exporter import csv_table, export_csv, export_json, export_vcard, flatten, select_records
from crmkit.io import vcard
from crmkit.store import yamlio
from crmkit.store.workspace import Workspace

DATA = Path(__file__).resolve().parents[1] / "data"


def records(root: Path, folder: str) -> dict[str, dict]:
    return {p.stem: yamlio.load_fast(p) for p in sorted((root / folder).glob("*.yaml"))}


def test_flatten_makes_cells() -> None:
    assert flatten({"address": {"city": "Oslo", "zip": "0150"}, "tags": ["vip", "nordic"], "ok": True,
                    "emails": [{"type": "home", "value": "a@b.se"}], "n": 3}) == {
        "address.city": "Oslo", "address.zip": "0150", "tags": "vip, nordic", "ok": "true",
        "emails": '[{"type": "home", "value": "a@b.se"}]', "n": "3"}


def test_csv_round_trip_field_by_field(run, make_ws, tmp_path: Path) -> None:
    src = make_ws()
    r = run(["import", "csv", str(DATA / "excel_contacts_sv.csv"), "--kind", "contact"], src)
    assert r.exit_code == 4                          # one bad row in the fixture, the rest imported
    run(["import", "vcard", str(DATA / "android_contacts.vcf")], src)   # adds emails/phones lists
    companies, contacts = tmp_path / "companies.csv", tmp_path / "contacts.csv"
    assert run(["export", "csv", "--kind", "company", "-o", str(companies)], src).exit_code == 0
    assert run(["export", "csv", "--excel", "-o", str(contacts)], src).exit_code == 0
    assert contacts.read_bytes().startswith(b"\xef\xbb\xbfid;name;email;")

    dst = make_ws()
    for f, kind in ((companies, "company"), (contacts, "contact")):
        r = run(["import", "csv", str(f), "--kind", kind], dst)
        assert r.exit_code == 0, r.stdout + r.stderr
    assert records(dst, "companies") == records(src, "companies")
    assert records(dst, "contacts") == records(src, "contacts")
    # and once more changes nothing
    again = run(["import", "csv", str(contacts), "--kind", "contact"], dst)
    assert "0 created, 0 updated" in again.stderr


def test_select_export_json_and_vcard(make_ws) -> None:
    root = make_ws({
        "companies/nordvik-as.yaml": "name: Nordvik AS\n",
        "contacts/bjorn.yaml": "name: Bjørn Ødegård\nemail: b@nordvik.no\ncompany: nordvik-as\ncountry: NO\n",
        "contacts/eve.yaml": "name: Eve\nnotes: \"=1+1\"\ncountry: SE\nvalue_note: 12.50\n",
        "deals/big.yaml": "title: Big\nvalue: \"120000.50\"\nstage: lead\nexpected_close: 2026-12-01\n",
    })
    ws = Workspace.find(root)
    kind, recs = select_records(ws, None, "country == NO", None)
    assert kind == "contact" and [r.id for r in recs] == ["bjorn"]
    _, deals = select_records(ws, "deal", None, None)
    assert json.loads(export_json(deals)) == [{"id": "big", "title": "Big", "value": "120000.50", "stage": "lead",
                                               "expected_close": "2026-12-01"}]
    _, everyone = select_records(ws, "contact", None, None)
    columns, _ = csv_table("contact", everyone)
    assert columns[:3] == ["id", "name", "email"] and "value_note" in columns
    rows = list(csv.DictReader(io.StringIO(export_csv("contact", everyone))))
    assert {r["id"]: r["notes"] for r in rows} == {"bjorn": "", "eve": "'=1+1"}
    cards = vcard.parse(export_vcard(ws, recs))
    assert cards[0].company == "Nordvik AS" and cards[0].contact["email"] == "b@nordvik.no"


def test_sample_workspace_round_trips_through_csv(run, sample_ws: Path, make_ws, tmp_path: Path) -> None:
    """Every importable kind of the sample: export csv, import into an empty workspace, same files' values."""
    dst = make_ws({"crmkit.yaml": (sample_ws / "crmkit.yaml").read_text(encoding="utf-8")})
    for kind, folder in (("company", "companies"), ("contact", "contacts"), ("lead", "leads"), ("deal", "deals")):
        out = tmp_path / f"{folder}.csv"
        assert run(["export", "csv", "--kind", kind, "-o", str(out)], sample_ws).exit_code == 0
        r = run(["import", "csv", str(out), "--kind", kind], dst)
        assert r.exit_code == 0, r.stdout + r.stderr
        assert records(dst, folder) == records(sample_ws, folder), kind
