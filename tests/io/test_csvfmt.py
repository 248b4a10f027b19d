"""CSV as spreadsheets write it, and CSV that spreadsheets open safely."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit.errors import CrmkitError
from crmkit.io.csvfmt import decode, parse_rows, read_rows, sniff_delimiter, unescape_cell, write_csv
from crmkit.render.cells import runs_as_formula

DATA = Path(__file__).resolve().parents[1] / "data"


def test_nordic_excel_export_with_bom_crlf_and_quoted_line_breaks() -> None:
    header, rows = read_rows(DATA / "excel_contacts_sv.csv")
    assert header[0] == "Namn" and "Telefon" in header          # the BOM is not part of the first title
    assert [r.line for r in rows] == [2, 4, 6, 7, 8]            # row 2 spans lines 2-3; line 5 is empty
    first = rows[0].values
    assert first["Namn"] == "Åsa Öberg" and first["Postnummer"] == "01234"
    assert first["Anteckningar"] == "Träffades på mässan;\nvill ha offert"   # CRLF inside the cell -> \n
    assert rows[2].values["Namn"] == "Szőke Zsófia" and rows[2].values["Anteckningar"] == "Árvíztűrő tükörfúrógép"
    assert "\0extra" in rows[4].values                          # more cells than columns: flagged, not dropped


def test_windows_1252_and_utf16_are_decoded() -> None:
    header, rows = read_rows(DATA / "excel_companies_cp1252.csv")
    assert header[:4] == ["Företag", "Webbplats", "Bransch", "Anställda"]
    assert [r.values["Företag"] for r in rows] == ["Åkerberg AB", "Nordvik AS", "Möbelhuset Ängby"]
    assert [r.line for r in rows] == [2, 3, 5]
    text = "Namn\tE-post\r\nÅsa Öberg\tasa@example.se\r\n"
    assert decode(text.encode("utf-16"), "x.csv") == text        # Excel's "Unicode text"
    assert decode(b"\xff", "x.csv") == "ÿ"                       # Latin-1 as a last resort, never a crash


def test_excel_sep_line_names_the_delimiter_and_keeps_line_numbers() -> None:
    header, rows = read_rows(DATA / "excel_deals_sv.csv")
    assert header[0] == "Affär"
    assert [r.line for r in rows] == [3, 4, 5]
    assert rows[0].values["Värde"] == "120 000,50"


@pytest.mark.parametrize("line, expected", [
    ("Namn;E-post;Telefon", ";"),
    ("name,email,phone", ","),
    ("name\temail\tphone", "\t"),
    ('"Efternamn, förnamn";E-post', ";"),      # a comma inside a quoted title does not count
    ("just-one-column", ","),
])
def test_sniff_delimiter(line: str, expected: str) -> None:
    assert sniff_delimiter(line + "\r\nx\r\n") == expected


def test_broken_files_name_the_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(CrmkitError, match="the file is empty"):
        parse_rows("\r\n\r\n", "empty.csv")
    with pytest.raises(CrmkitError) as err:
        parse_rows("a,b,a\n1,2,3\n", "dup.csv")
    assert err.value.line == 1 and "appears twice" in err.value.message
    with pytest.raises(CrmkitError, match="cannot read"):
        read_rows(tmp_path / "missing.csv")


def test_formula_cells_are_defused_on_write() -> None:
    rows = [{"a": "=1+1", "b": "+46 70 123 45 67", "c": "-2", "d": "@SUM(A1)", "e": "\tx", "f": "plain", "g": "a;b"}]
    text = write_csv(rows, list("abcdefg"), delimiter=";")
    assert text.endswith("\r\n")
    cells = next(iter(list(csv.reader(io.StringIO(text), delimiter=";"))[1:]))
    assert cells == ["'=1+1", "+46 70 123 45 67", "-2", "'@SUM(A1)", "'\tx", "plain", "a;b"]
    assert unescape_cell("'=1+1") == "=1+1" and unescape_cell("'plain") == "'plain"
    _, back = parse_rows(write_csv([{"a": "'=x"}], ["a"]), "t.csv")
    assert back[0].values["a"] == "'=x"          # a text that starts with the quote itself survives


_CELL = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)


@given(st.lists(st.one_of(_CELL, st.builds(lambda a, b: a + b, st.sampled_from(["'", "'=", "=", "-", "''+", "+46 ", "-1", "=\"0"]), _CELL)),
                min_size=1, max_size=4))
def test_written_cells_never_start_a_formula_and_read_back_unchanged(values: list[str]) -> None:
    values = [v.replace("\r", "").strip() for v in values]   # reading strips cells and normalises line ends
    columns = [f"c{i}" for i in range(len(values))]
    text = write_csv([dict(zip(columns, values))], columns)
    raw = list(csv.reader(io.StringIO(text, newline="")))[1]
    assert not any(runs_as_formula(cell) for cell in raw)
    if any(values):
        _, rows = parse_rows(text, "t.csv", ",")
        assert [rows[0].values[c] for c in columns] == values
