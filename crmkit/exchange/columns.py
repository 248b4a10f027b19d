"""Spreadsheet columns and cells into record fields: the column mapping and the conversion of
one cell's text into a field's value, as Nordic, Hungarian and English spreadsheets write it."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from crmkit.errors import CrmkitError, UsageError
from crmkit.exchange.titles import title_field
from crmkit.render.jsontext import revive
from crmkit.store import yamlio
from crmkit.store.fieldcheck import reserved_fields
from crmkit.store.records import fold
from crmkit.store.schema import FIELDS, coerce
from crmkit.values import parse_decimal

#: Column titles people use, folded (lowercase, no diacritics), mapped to fields.
ALIASES: dict[str, str] = {
    # English
    "name": "name", "full name": "name", "e-mail": "email", "email address": "email", "mail": "email",
    "telephone": "phone", "phone number": "phone", "mobile": "phone", "organisation": "company",
    "organization": "company", "job title": "title", "street": "address.street", "address": "address.street",
    "zip": "address.zip", "postal code": "address.zip", "postcode": "address.zip", "city": "address.city",
    "website": "domain", "web": "domain",
    # Swedish
    "namn": "name", "e-post": "email", "epost": "email", "telefon": "phone", "mobil": "phone",
    "foretag": "company", "titel": "title", "befattning": "title", "gatuadress": "address.street",
    "adress": "address.street", "postnummer": "address.zip", "postnr": "address.zip", "ort": "address.city",
    "postort": "address.city", "land": "country", "anteckningar": "notes", "bransch": "industry",
    "anstallda": "employees", "webbplats": "domain", "doman": "domain", "kund": "customer",
    # Norwegian
    "navn": "name", "firma": "company", "stilling": "title", "poststed": "address.city",
    "ansatte": "employees",
    # Hungarian
    "nev": "name", "telefonszam": "phone", "ceg": "company", "beosztas": "title", "iranyitoszam": "address.zip",
    "varos": "address.city", "cim": "address.street", "orszag": "country", "megjegyzes": "notes",
}


def mapping_file(path: Path) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """A --mapping YAML file: its column -> field pairs and its value maps.

    Either flat, ``{E-post: email, "First Name+Last Name": name}``, or in two parts,
    ``{columns: {...}, values: {stage: {Closed Won: won}}}``.
    """
    data = yamlio.load_fast(path)
    values: Any = {}
    if isinstance(data, dict) and data and set(data) <= {"columns", "values"} \
            and all(isinstance(v, dict) or v is None for v in data.values()):
        data, values = data.get("columns") or {}, data.get("values") or {}
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise CrmkitError("a mapping file is a YAML mapping of column title to field "
                          "(or of `columns:` and `values:`)", path=str(path))
    if not all(isinstance(f, str) and isinstance(m, dict) and all(isinstance(a, str) and isinstance(b, (str, int, float))
                                                                  for a, b in m.items())
               for f, m in values.items()):
        raise CrmkitError("`values:` in a mapping file maps a field to {cell text: value}, "
                          "e.g. {stage: {Closed Won: won}}", path=str(path))
    return data, {f: {a: str(b) for a, b in m.items()} for f, m in values.items()}


def load_mapping(pairs: list[str], mapping_file_path: Path | None) -> dict[str, str]:
    """--map "E-post=email" pairs and/or a YAML mapping file's columns (the flags win)."""
    mapping: dict[str, str] = {}
    if mapping_file_path is not None:
        mapping.update(mapping_file(mapping_file_path)[0])
    for pair in pairs:
        column, sep, target = pair.partition("=")
        if not sep or not column.strip() or not target.strip():
            raise UsageError(f"--map {pair!r}: expected COLUMN=FIELD")
        mapping[column.strip()] = target.strip()
    return mapping


def resolve_columns(kind: str, header: list[str], mapping: dict[str, str]) -> dict[str, str]:
    """Column title -> field path; `-` or empty in the mapping ignores a column."""
    fields = FIELDS[kind]
    out: dict[str, str] = {}
    for column in header:
        if not column:
            continue
        if column in mapping:
            target = mapping[column]
        else:
            key = fold(column).strip()
            target = key if key in fields else (title_field(kind, column)
                                                or ALIASES.get(key, re.sub(r"[^a-z0-9_.]+", "_", key).strip("_")))
            if kind == "deal" and target == "name":
                target = "title"
            if kind == "company" and target == "company":
                target = "name"   # "Företag", "Company" in a sheet of companies is the name
            if kind == "ticket" and target == "name":
                target = "subject"
        if target in ("", "-"):
            continue
        if target.split(".")[0] in reserved_fields(kind) - {"id"}:
            raise UsageError(f"column {column!r}: {target.split('.')[0]} is kept by crmkit and cannot be "
                             "imported; map it to '-' to ignore it")
        out[column] = target
    return out


_YES = {"true", "yes", "y", "1", "x", "ja", "j", "igen", "i", "sant"}
_NO = {"false", "no", "n", "0", "nej", "nei", "nem", "falskt", ""}
_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%Y.%m.%d", "%Y. %m. %d", "%Y/%m/%d")


def _field_type(kind: str, target: str) -> Any:
    top = FIELDS.get(kind, {}).get(target.split(".")[0])
    if "." in target:
        if isinstance(top, tuple) and top[0] == "object":
            return top[1].get(target.split(".", 1)[1], "text")
        return "text"
    return top or "text"





def convert(kind: str, target: str, text: str, locale: str | None = None) -> Any:
    """A cell's text as the value of field `target`, reading what spreadsheets write.

    Text fields stay text exactly (a zip code "01234" or a phone number never
    becomes a number). Numbers accept spaces and NBSP as thousands separators and a
    decimal comma; amounts are stored as an int when whole, else as exact text
    ("120000.50"), never a float. Booleans read yes/no in English, Swedish,
    Norwegian and Hungarian (ja/nej/nei/igen/nem) and x. Dates read ISO, 23.11.2026
    and the Hungarian 2026.11.23. Lists read JSON (`[...]`, as export writes lists of
    mappings) or comma-separated text. Raises UsageError naming the field and text.

    A bare "1,234" is read by `locale` (the workspace's): 1.234 with sv_SE, nb_NO,
    hu_HU or de_DE, 1234 with en; without a locale it is refused as ambiguous.
    """
    t = _field_type(kind, target)
    text = text.strip()
    try:
        if isinstance(t, tuple) and t[0] == "list":
            if text.startswith("["):
                value = json.loads(text)
                if not isinstance(value, list):
                    raise ValueError(text)
                return revive(value)
            items = [item.strip() for item in text.split(",") if item.strip()]
            item_type = t[1]
            if isinstance(item_type, tuple) and item_type[0] == "object" and "value" in item_type[1]:
                # a plain cell in a typed list (--map "Mail 2=emails"): one entry of type other each
                return [{"type": "other", "value": item} for item in items]
            return items
        if t in ("int", "number", "amount"):
            # A spreadsheet's "1,234" may be 1234 or 1.234: the workspace's locale says which,
            # and without one it is refused rather than guessed.
            d = parse_decimal(text, locale, refuse_ambiguous=True)
            if d is None:
                raise ValueError(text)
            whole = d.as_tuple().exponent >= 0  # type: ignore[operator]  # finite: an int exponent
            if t == "int":
                if d != d.to_integral_value():
                    raise ValueError(text)
                return int(d)
            if d == d.to_integral_value() and whole:
                return int(d)
            return float(d) if t == "number" else str(d)
        if (t == "any" or (isinstance(t, tuple) and t[0] == "object")) and text.startswith("{"):
            value = json.loads(text)        # a mapping exported as JSON (a deal's offer)
            if not isinstance(value, dict):
                raise ValueError(text)
            return revive(value)
        if t == "any":
            return revive(text)      # a birthday 1980-04-12 is a date again; "--04-12" stays text
        if t == "bool":
            low = text.casefold()
            if low in _YES:
                return True
            if low in _NO:
                return False
            raise ValueError(text)
        if t == "date":
            for fmt in _DATE_FORMATS:
                try:
                    return dt.datetime.strptime(text.rstrip("."), fmt).date()
                except ValueError:
                    continue
            raise ValueError(text)
    except (ValueError, ArithmeticError, json.JSONDecodeError, RecursionError):  # [[[... nested too deep
        from crmkit.store.schema import describe

        raise UsageError(f"{target}={text!r}: expected {describe(t)}") from None
    if target in ("country", "address.country") or (target.startswith("addresses") and target.endswith("country")):
        from crmkit.io.countries import country_code

        return country_code(text)     # "Sverige", "Norway", "USA": one spelling, the ISO code
    return coerce(kind, target, text)
