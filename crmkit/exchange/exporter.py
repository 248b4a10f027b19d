"""Taking records out again: CSV (formula-safe, importable again), JSON and vCard.

Pure functions of the selected records: the CLI chooses them (--kind, --where,
--segment) and writes the text to stdout or a file.

CSV shape: one row per record, `id` first, then the kind's usual columns, then
every other field any of the records has. Mappings are flattened to dotted
columns (`address.city`), which `crmkit import csv` maps back; lists of plain
values are comma-joined (`tags`); lists of mappings (`emails`, `stage_history`)
are JSON text in their cell. Dates and timestamps are ISO 8601.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from crmkit.errors import UsageError
from crmkit.render.jsontext import jsonable
from crmkit.store.records import Record

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace

#: Usual first columns per kind (after `id`).
LEAD_COLUMNS: dict[str, list[str]] = {
    "contact": ["name", "email", "phone", "company", "title", "country"],
    "company": ["name", "domain", "country", "industry", "employees"],
    "lead": ["name", "email", "company_name", "status", "source", "owner"],
    "deal": ["title", "company", "stage", "value", "currency", "owner", "expected_close"],
    "ticket": ["subject", "status", "priority", "line", "owner"],
    "activity": ["type", "subject", "at", "due", "done", "owner"],
}


def select_records(ws: Workspace, kind: str | None, where: str | None, segment: str | None) -> tuple[str, list[Record]]:
    """The records to export: a segment's members, or a kind's records matching `where`."""
    from crmkit.conditions.listing import select

    if segment:
        if where:
            raise UsageError("give --where or --segment, not both")
        from crmkit.marketing.segments import get_segment, members

        seg = get_segment(ws, segment)
        if kind and kind != seg.kind:
            raise UsageError(f"segment {segment!r} holds {seg.kind} records, not {kind}")
        return seg.kind, [getattr(m, "record", m) for m in members(ws, seg)]
    kind = kind or "contact"
    return kind, [v.record for v in select(ws, kind, where=where)]


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return str(value)



def _open_object(kind: str | None, key: str) -> bool:
    """A mapping field whose keys crmkit does not fix (a deal's `offer`, a custom mapping)."""
    if kind is None:
        return False
    from crmkit.store.schema import FIELDS

    t = FIELDS.get(kind, {}).get(key)
    return not (isinstance(t, tuple) and t[0] == "object" and t[1])


def flatten(data: dict[str, Any], prefix: str = "", kind: str | None = None,
            scalar: Callable[[str, Any], str] | None = None) -> dict[str, str]:
    """A record as CSV cells: known mappings (address) to dotted keys, open ones
    (a deal's offer) and lists of mappings as JSON, plain lists comma-joined.
    `scalar(column, value)`, when given, writes single values (the --excel cells)."""
    out: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value and not prefix and _open_object(kind, key):
            out[name] = json.dumps(jsonable(value), ensure_ascii=False)
        elif isinstance(value, dict) and value:
            out.update(flatten(value, f"{name}.", scalar=scalar))
        elif isinstance(value, list):
            if all(not isinstance(v, (dict, list)) for v in value) and not any("," in _scalar(v) for v in value):
                out[name] = ", ".join(_scalar(v) for v in value)
            else:
                out[name] = json.dumps(jsonable(value), ensure_ascii=False)
        elif isinstance(value, dict):
            out[name] = ""
        else:
            out[name] = scalar(name, value) if scalar else _scalar(value)
    return out


def _excel_scalar(kind: str, locale: str) -> Callable[[str, Any], str]:
    """Single values as `export csv --excel` writes them for `locale` (see io/excel.py)."""
    from crmkit.io.excel import decimal_mark, excel_cell
    from crmkit.store.schema import FIELDS

    decimal = decimal_mark(locale)
    fields = FIELDS.get(kind, {})

    def write(column: str, value: Any) -> str:
        head, _, rest = column.partition(".")
        t = fields.get(head, "text")
        if rest:
            t = t[1].get(rest, "text") if isinstance(t, tuple) and t[0] == "object" else "text"
        return excel_cell(value, t, decimal, _scalar(value))

    return write


def company_names(ws: Workspace) -> dict[str, str]:
    """Company id -> its name, for the names no other company shares (those can stand for the id)."""
    names: dict[str, str] = {}
    seen: dict[str, int] = {}
    for rec in ws.records("company"):
        name = rec.get("name")
        if isinstance(name, str) and name.strip():
            names[rec.id] = name
            seen[name.strip().casefold()] = seen.get(name.strip().casefold(), 0) + 1
    return {cid: name for cid, name in names.items() if seen[name.strip().casefold()] == 1}


def csv_table(kind: str, records: Sequence[Record], fields: Sequence[str] | None = None,
              companies: dict[str, str] | None = None, *,
              excel_locale: str | None = None) -> tuple[list[str], list[dict[str, str]]]:
    """Columns and rows for a CSV export (cells for a spreadsheet on `excel_locale` when given).

    With `companies` (id -> name), a `company` cell holds the company's name, as a
    person and another program read it ("Nike", not `nike`); `import csv` finds the
    company by that name again.
    """
    scalar = _excel_scalar(kind, excel_locale) if excel_locale else None
    rows = [{"id": r.id, **flatten(r.data, kind=kind, scalar=scalar)} for r in records]
    if companies:
        for row in rows:
            if row.get("company") in companies:
                row["company"] = companies[row["company"]]
    if fields:
        columns = list(fields)
    else:
        columns = ["id"] + LEAD_COLUMNS.get(kind, [])
        present = {c for row in rows for c in row}
        columns = [c for c in columns if c == "id" or c in present]
        for row in rows:
            columns += [c for c in row if c not in columns]
    return columns, rows


def export_csv(kind: str, records: Sequence[Record], fields: Sequence[str] | None = None, *,
               delimiter: str = ",", bom: bool = False, companies: dict[str, str] | None = None,
               excel_locale: str | None = None) -> str:
    """CSV text (CRLF line ends, as RFC 4180 and Excel expect); cells a spreadsheet would
    run as a formula are defused. With `excel_locale` numbers take that locale's decimal
    mark and digits that must stay text are written `="0150"` (io/excel.py); with
    `companies`, company cells hold names."""
    from crmkit.io.csvfmt import write_csv

    columns, rows = csv_table(kind, records, fields, companies, excel_locale=excel_locale)
    text = write_csv(rows, columns, delimiter=delimiter)
    return ("\ufeff" + text) if bom else text


def export_json(records: Sequence[Record], *, indent: int | None = 2) -> str:
    """A JSON list of {"id": ..., fields...}: the shape of `list --json` (dates ISO, amounts as text)."""
    return json.dumps([jsonable({"id": r.id, **r.data}) for r in records], ensure_ascii=False, indent=indent) + "\n"


def export_vcard(ws: Workspace, records: Sequence[Record]) -> str:
    """vCard 3.0 cards for contacts (what phones and address books import best)."""
    from crmkit.io.vcard import to_vcard

    companies = ws.index("company")
    cards = []
    for rec in records:
        if rec.kind != "contact":
            raise UsageError(f"vCard export is for contacts, not {rec.kind} records")
        company = companies.get(rec.get("company") or "") if isinstance(rec.get("company"), str) else None
        name = company.title if company else (rec.get("company") if isinstance(rec.get("company"), str) else None)
        cards.append(to_vcard(rec.data, name, uid=f"crmkit:contact/{rec.id}"))
    return "".join(cards)


def vcard_uncarried(records: Sequence[Record]) -> list[str]:
    """One line per contact field that a vCard cannot carry (reported by `export vcard`)."""
    from crmkit.io.vcard_write import uncarried

    return [f"contact/{rec.id}: field {name!r} cannot be carried in a vCard; not exported"
            for rec in records for name in uncarried(rec.data)]
