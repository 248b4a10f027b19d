"""CSV as spreadsheets really write it, and CSV that spreadsheets can open safely.

Reading copes with a UTF-8 byte-order mark, Windows-1252 from older Excel, the
semicolons Nordic Excel uses because the comma is the decimal separator, quoted
fields with line breaks, CRLF line ends and empty rows. Every row keeps the line
its record starts on, so errors can name it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crmkit.errors import CrmkitError
from crmkit.render.cells import FORMULA_START, TextFormula, cell, safe_cell


@dataclass
class Row:
    line: int                 # physical line where the row starts (1-based, header is line 1)
    values: dict[str, str]    # header -> cell text, stripped


def decode(data: bytes, path: str) -> str:
    """Text of a spreadsheet export.

    UTF-8 with or without a byte-order mark; UTF-16 with a BOM (Excel's "Unicode
    text"); else Windows-1252, what older Excel writes on Nordic machines (it covers
    å ä ö ø æ; Hungarian ő ű need UTF-8); Latin-1 as the last resort never fails.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise CrmkitError(f"cannot decode as UTF-16: {exc.reason}", path=path) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _count_outside_quotes(line: str, delimiter: str) -> int:
    count, quoted = 0, False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif ch == delimiter and not quoted:
            count += 1
    return count


def sniff_delimiter(text: str) -> str:
    """The delimiter of the header line: ';' (Nordic Excel), tab, or ','.

    The header is what names the columns, so it decides; delimiters inside quoted
    titles do not count. Ties go to ';' then tab, as a Nordic file is the likelier.
    """
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: _count_outside_quotes(first, d) for d in (";", "\t", ",")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


_SEP_LINE = re.compile(r"^\s*sep=(.)\s*$", re.IGNORECASE)


def read_rows(path: Path, delimiter: str | None = None) -> tuple[list[str], list[Row]]:
    """Header and rows of a CSV file; empty rows are skipped, line numbers kept.

    Excel's `sep=;` first line, when present, names the delimiter and is skipped.
    A row's line is the physical line it starts on, so a quoted cell with line
    breaks does not shift the numbers of the rows after it.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CrmkitError(f"cannot read: {exc.strerror}", path=str(path)) from None
    return parse_rows(decode(data, str(path)), str(path), delimiter)


def parse_rows(text: str, path: str = "<csv>", delimiter: str | None = None) -> tuple[list[str], list[Row]]:
    """`read_rows` on text already decoded."""
    offset = 0
    first_line, _, rest = text.partition("\n")
    sep = _SEP_LINE.match(first_line.rstrip("\r"))
    if sep:
        delimiter = delimiter or sep.group(1)
        text, offset = rest, 1
    delim = delimiter or sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    try:
        header = next(reader)
        while not any(h.strip() for h in header):   # blank lines above the header
            header = next(reader)
    except StopIteration:
        raise CrmkitError("the file is empty", path=path) from None
    except csv.Error as exc:
        raise CrmkitError(f"not readable as CSV: {exc}", path=path, line=reader.line_num + offset) from None
    header_line = reader.line_num + offset
    header = [h.strip() for h in header]
    dupes = sorted({h for h in header if h and header.count(h) > 1})
    if dupes:
        raise CrmkitError(f"column {dupes[0]!r} appears twice in the header", path=path, line=header_line)
    rows: list[Row] = []
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise CrmkitError(f"not readable as CSV: {exc}", path=path, line=start + offset) from None
        if any(c.strip() for c in cells):
            values = {h: (unescape_cell(cells[i].replace("\r\n", "\n").strip()) if i < len(cells) else "")
                      for i, h in enumerate(header) if h}
            extra = [c for c in cells[len(header):] if c.strip()]
            if extra:
                values["\0extra"] = ";".join(extra)
            rows.append(Row(start + offset, values))
        start = reader.line_num + 1
    return header, rows


def unescape_cell(text: str) -> str:
    """Undo `safe_cell`: "'=SUM(A1)" reads back as "=SUM(A1)", so export then import keeps the text.

    A quote before a formula character is also how people keep "+46 70..." as text in
    a spreadsheet; either way the quote is not part of the value. `="0150"`, the way
    Excel users (and `export csv --excel`) keep digits as text, reads as `0150`.
    """
    if text.startswith("'") and text.lstrip("'").startswith(FORMULA_START):
        return text[1:]
    text_formula = _TEXT_FORMULA.fullmatch(text)
    if text_formula:
        return text_formula.group(1)
    return text


_TEXT_FORMULA = re.compile(r'="([^"]*)"')


def _safe(text: str) -> str:
    """`safe_cell`, and a text that itself starts with ' and a formula character keeps its quote."""
    if isinstance(text, TextFormula):
        return text
    if text.startswith("'") and text.lstrip("'").startswith(FORMULA_START):
        return "'" + text
    return safe_cell(text)


def write_csv(rows: Iterable[dict[str, Any]], columns: Sequence[str], *, delimiter: str = ",",
              newline: str = "\r\n") -> str:
    """CSV text with a header; every cell made formula-safe (`render.cells.runs_as_formula`)."""
    buf = io.StringIO()
    # QUOTE_MINIMAL quotes cells holding the delimiter, quotes or line breaks.
    writer = csv.writer(buf, delimiter=delimiter, lineterminator=newline)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_safe(v if isinstance(v := row.get(c), TextFormula) else cell(v)) for c in columns])
    return buf.getvalue()
