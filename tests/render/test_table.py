"""The one table renderer: aligned text for terminals, pipe tables for Markdown."""

from __future__ import annotations

from crmkit.render.table import listing_md, listing_text, md_table, text_table


def test_text_table_aligns_numbers_right_and_puts_the_total_after_a_rule() -> None:
    lines = text_table(["stage", "deals"], [["lead", "3"], ["proposal", "12"]], [False, True], total=["total", "15"])
    assert lines == [
        "stage     deals",
        "--------  -----",
        "lead          3",
        "proposal     12",
        "--------  -----",
        "total        15",
    ]


def test_a_narrow_terminal_squeezes_the_widest_column_with_an_ellipsis() -> None:
    rows = [{"name": "Karin Lind", "notes": "x" * 60}]
    text = listing_text(rows, ["name", "notes"], room=40)
    header, rule, row = text.splitlines()
    assert header.startswith("NAME        NOTES")
    assert len(rule) <= 40 and row.endswith("…") and len(row) == len(rule)
    assert listing_text(rows, ["name", "notes"]).splitlines()[2].endswith("x" * 60)  # a pipe: whole


def test_md_table_escapes_pipes_and_bolds_the_total() -> None:
    assert md_table(["a|b", "n"], [["x|y", "1"]], [False, True], total=["total", "1"]) == [
        "| a\\|b | n |", "|---|---:|", "| x\\|y | 1 |", "| **total** | **1** |"]
    assert listing_md([{"name": "A\nB"}], ["name"]) == "| name |\n|---|\n| A B |"
