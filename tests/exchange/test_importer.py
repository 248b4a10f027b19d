"""Import planning: cells read as spreadsheets write them, row-by-row decisions, idempotence."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from crmkit.exchange.columns import load_mapping, resolve_columns
from crmkit.exchange.importer import plan_import
from crmkit.io.csvfmt import read_rows
from crmkit.store.workspace import Workspace

DATA = Path(__file__).resolve().parents[1] / "data"


def test_plan_deals_from_a_nordic_sheet(make_ws) -> None:
    ws = Workspace.find(make_ws({"companies/akerberg-ab.yaml": "name: Åkerberg AB\n"}))
    header, rows = read_rows(DATA / "excel_deals_sv.csv")
    columns = resolve_columns("deal", header, load_mapping(
        ["Affär=title", "Företag=company", "Steg=stage", "Värde=value", "Valuta=currency",
         "Förväntat avslut=expected_close"], None))
    plan = plan_import(ws, "deal", rows, columns, "deals.csv")
    by_line = {r.line: r for r in plan.rows}
    erp = by_line[3]
    assert (erp.action, erp.id) == ("create", "erp-utrullning")
    assert erp.data["company"] == "akerberg-ab" and erp.data["value"] == "120000.50"   # matched by name, folded
    assert by_line[4].data["value"] == 4500000 and by_line[4].data["expected_close"] == dt.date(2027, 1, 31)
    assert by_line[5].action == "reject" and "value='mycket'" in by_line[5].reason
    assert sorted(plan.companies) == ["dunaipar-kft"]      # named, not known; the rejected row adds none


def test_a_new_record_never_takes_a_tombstones_id(make_ws, tmp_path: Path) -> None:
    ws = Workspace.find(make_ws({"contacts/anna-berg.yaml": "merged_into: anna-berg-2\nwas: Anna Berg\n",
                                 "contacts/anna-berg-2.yaml": "name: Anna Berg\nemail: anna@example.se\n"}))
    f = tmp_path / "c.csv"
    f.write_text("name;email\nAnna Berg;anna.b@other.se\nAnna Berg;ANNA@example.se\n", encoding="utf-8")
    header, rows = read_rows(f)
    plan = plan_import(ws, "contact", rows, resolve_columns("contact", header, {}), str(f))
    assert [(r.action, r.id) for r in plan.rows] == [("create", "anna-berg-3"), ("skip", "anna-berg-2")]


def test_a_company_named_by_a_merged_id_is_found_where_it_went(make_ws, tmp_path: Path) -> None:
    ws = Workspace.find(make_ws({"companies/nordvik.yaml": "merged_into: nordvik-as\nwas: Nordvik\n",
                                 "companies/nordvik-as.yaml": "name: Nordvik AS\ndomain: nordvik.no\n"}))
    f = tmp_path / "c.csv"
    f.write_text("Namn,E-post,Företag\nBjørn Ødegård,bjorn@nordvik.no,Nordvik\nKari,kari@x.no,nordvik as\n",
                 encoding="utf-8")
    header, rows = read_rows(f)
    plan = plan_import(ws, "contact", rows, resolve_columns("contact", header, {}), str(f))
    assert [r.data["company"] for r in plan.rows] == ["nordvik-as", "nordvik-as"] and not plan.companies


def test_rows_that_check_would_refuse_are_rejected(make_ws, tmp_path: Path) -> None:
    ws = Workspace.find(make_ws({"deals/old.yaml": "title: Old\nstage: lead\n"}))
    f = tmp_path / "d.csv"
    f.write_text("title;stage;owner;contacts\nA;lead;daniel;\nB;someday;daniel;\nC;lead;nobody;\nD;lead;;ghost\n"
                 "Old;pending;;\n", encoding="utf-8")
    header, rows = read_rows(f)
    plan = plan_import(ws, "deal", rows, resolve_columns("deal", header, {}), str(f))
    assert [(r.line, r.action, r.reason) for r in plan.rows] == [
        (2, "create", "new"),
        (3, "reject", "stage 'someday' is not a pipeline stage in crmkit.yaml"),
        (4, "reject", "owner 'nobody' is not a user in crmkit.yaml"),
        (5, "reject", "contacts: no contact with id 'ghost'"),
        (6, "reject", "stage 'pending' is not a pipeline stage in crmkit.yaml"),   # an update is checked too
    ]


def test_a_plan_overtaken_by_another_writer_writes_nothing(make_ws, tmp_path: Path) -> None:
    import subprocess

    from crmkit.errors import CrmkitError
    from crmkit.exchange.importer import apply_import

    root = make_ws()
    ws = Workspace.find(root)
    f = tmp_path / "c.csv"
    f.write_text("name,email\nPer Holm,per@holm.se\n", encoding="utf-8")
    header, rows = read_rows(f)
    columns = resolve_columns("contact", header, {})
    plan = plan_import(ws, "contact", rows, columns, str(f))
    (root / "contacts").mkdir()
    (root / "contacts/per.yaml").write_text("name: Per\nemail: PER@holm.se\n", encoding="utf-8")  # meanwhile
    with pytest.raises(CrmkitError, match="changed while the import was planned"):
        apply_import(ws, plan, "test", replan=lambda: plan_import(ws, "contact", rows, columns, str(f)))
    assert sorted(p.name for p in (root / "contacts").iterdir()) == ["per.yaml"]
    assert subprocess.run(["git", "rev-list", "--count", "HEAD"], cwd=root, capture_output=True,
                          text=True).stdout.strip() == "1"
