"""CSV as spreadsheets really write it, and CSV that spreadsheets can open safely.

Reading copes with a UTF-8 byte-order mark, Windows-1252 from older Excel, the
semicolons Nordic Excel uses because the comma is the decimal separator, quoted
fields with line breaks, CRLF line ends and empty rows. Every row keeps the line
its record starts on, so errors can name it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from crmkit.core.errors import CrmkitError
from crmkit.formats.cells import cell, safe_cell


@dataclass
class Row:
    line: int                 # physical line where the row starts (1-based, header is line 1)
    values: dict[str, str]    # header -> cell text, stripped


def decode(data: bytes, path: str) -> str:
    """UTF-8 (with or without BOM), else Windows-1252: what Excel writes on Nordic machines."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise CrmkitError(f"cannot decode as UTF-8 or Windows-1252: {exc.reason}", path=path) from None


def sniff_delimiter(text: str) -> str:
    """The delimiter of the header line: ';' (Nordic Excel), tab, or ','."""
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (";", "\t", ",")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_rows(path: Path, delimiter: str | None = None) -> tuple[list[str], list[Row]]:
    """Header and rows of a CSV file; empty rows are skipped, line numbers kept."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CrmkitError(f"cannot read: {exc.strerror}", path=str(path)) from None
    text = decode(data, str(path))
    delim = delimiter or sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    try:
        header = next(reader)
    except StopIteration:
        raise CrmkitError("the file is empty", path=str(path)) from None
    except csv.Error as exc:
        raise CrmkitError(f"not readable as CSV: {exc}", path=str(path), line=1) from None
    header = [h.strip() for h in header]
    if not any(header):
        raise CrmkitError("the first line must name the columns", path=str(path), line=1)
    dupes = sorted({h for h in header if h and header.count(h) > 1})
    if dupes:
        raise CrmkitError(f"column {dupes[0]!r} appears twice in the header", path=str(path), line=1)
    rows: list[Row] = []
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise CrmkitError(f"not readable as CSV: {exc}", path=str(path), line=start) from None
        if any(c.strip() for c in cells):
            values = {h: (cells[i].replace("\r\n", "\n").strip() if i < len(cells) else "")
                      for i, h in enumerate(header) if h}
            extra = [c for c in cells[len(header):] if c.strip()]
            if extra:
                values["\0extra"] = ";".join(extra)
            rows.append(Row(start, values))
        start = reader.line_num + 1
    return header, rows


def write_csv(rows: Iterable[dict[str, Any]], columns: Sequence[str], *, delimiter: str = ",",
              newline: str = "\r\n") -> str:
    """CSV text with a header; every cell made formula-safe."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator=newline)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([safe_cell(cell(row.get(c))) for c in columns])
    return buf.getvalue()
