"""Spreadsheet columns and cells into fields, as Nordic, Hungarian and English sheets write them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from crmkit.errors import UsageError
from crmkit.exchange.columns import convert, load_mapping, resolve_columns


@pytest.mark.parametrize("kind, field, text, value", [
    ("deal", "value", "120 000,50", "120000.50"),
    ("deal", "value", "4\u00a0500\u00a0000", 4500000),
    ("deal", "value", "1,234.50", "1234.50"),
    ("company", "employees", "1 200", 1200),
    ("company", "customer", "Ja", True),
    ("company", "customer", "nem", False),
    ("contact", "opted_out", "x", True),
    ("deal", "expected_close", "2027.01.31.", dt.date(2027, 1, 31)),
    ("deal", "expected_close", "31.12.2026", dt.date(2026, 12, 31)),
    ("contact", "address.zip", "01234", "01234"),                  # text stays text
    ("contact", "phone", "0767101055", "0767101055"),
    ("contact", "tags", "vip, nordic", ["vip", "nordic"]),
    ("contact", "phones", '[{"type": "work", "value": "08-12"}]', [{"type": "work", "value": "08-12"}]),
])
def test_convert_reads_what_spreadsheets_write(kind: str, field: str, text: str, value: object) -> None:
    assert convert(kind, field, text) == value


@pytest.mark.parametrize("kind, field, text", [
    ("company", "employees", "many"), ("company", "employees", "12,5"), ("deal", "value", "1,234"),
    ("company", "customer", "maybe"), ("deal", "expected_close", "12/11/2026"),
])
def test_convert_refuses_what_it_cannot_read_exactly(kind: str, field: str, text: str) -> None:
    with pytest.raises(UsageError, match=field):
        convert(kind, field, text)


def test_mapping_flags_and_file(tmp_path: Path) -> None:
    f = tmp_path / "map.yaml"
    f.write_text("E-post: email\nOrt: address.city\nIntern kod: '-'\n", encoding="utf-8")
    mapping = load_mapping(["Mobil=phones", "Ort=address.zip"], f)      # flags win over the file
    assert mapping == {"E-post": "email", "Ort": "address.zip", "Intern kod": "-", "Mobil": "phones"}
    columns = resolve_columns("contact", ["Namn", "E-post", "Ort", "Intern kod", "Telefonszám", "Beosztás", ""],
                              mapping)
    assert columns == {"Namn": "name", "E-post": "email", "Ort": "address.zip", "Telefonszám": "phone",
                       "Beosztás": "title"}
    with pytest.raises(UsageError):
        load_mapping(["no-equals-sign"], None)


@pytest.mark.parametrize("locale, text, value", [
    ("sv_SE", "1,234", "1.234"), ("nb_NO", "1,234", "1.234"), ("hu_HU", "1,234", "1.234"),
    ("en", "1,234", 1234), ("en_US", "12,345,678", 12345678),
    ("sv_SE", "1,234.50", "1234.50"), ("en", "120 000,50", "120000.50"),    # unambiguous whatever the locale
])
def test_a_bare_comma_group_is_read_by_the_workspace_locale(locale: str, text: str, value: object) -> None:
    assert convert("deal", "value", text, locale) == value


def test_the_workspace_locale_reads_an_imported_amount(run, make_ws, tmp_path: Path) -> None:
    from conftest import MINIMAL_CONFIG

    from crmkit.store import yamlio

    f = tmp_path / "deals.csv"
    f.write_text("title,value\nLicenser,\"1,234\"\n", encoding="utf-8")
    values = {}
    for locale in ("sv_SE", "en_US"):
        ws = make_ws({"crmkit.yaml": MINIMAL_CONFIG.replace("locale: sv_SE", f"locale: {locale}")})
        r = run(["import", "csv", str(f), "--kind", "deal"], ws)
        assert r.exit_code == 0, r.stdout + r.stderr
        (deal,) = [yamlio.load_fast(p) for p in (ws / "deals").glob("*.yaml")]
        values[locale] = deal["value"]
    assert values == {"sv_SE": "1.234", "en_US": 1234}


def test_the_readme_lists_every_known_layout_with_its_signature() -> None:
    from crmkit.exchange.layouts import LAYOUTS

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    rows = [line for line in readme.splitlines() if line.startswith("| ") and ("(contact" in line or "(deal" in line)]
    for layout in LAYOUTS:
        row = [r for r in rows if r.startswith(f"| {layout.name} (")]
        assert row, f"README has no row for the {layout.name} layout"
        assert any(all(f"`{title}`" in r for title in layout.signature) for r in row), (layout.name, layout.signature)
