"""What `--map` and `--value` add to the column titles: joined columns and mapped values.

    --map "First Name+Last Name=name"     the cells joined with a space (empty ones left out)
    --map "Mobil=phone"                   a column to a field (as before); "-" ignores it
    --value "stage:Closed Won=won"        a cell value read as another, for one field (case ignored)
    --mapping file.yaml                   the same in a file: {columns: {...}, values: {stage: {...}}}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crmkit.errors import UsageError
from crmkit.exchange.titles import key


def apply_mapping(rows: list[Any], given: dict[str, str]) -> tuple[list[Any], dict[str, str]]:
    """Rows with a cell for every joined column (`A+B`) that `given` maps; the header's own columns win."""
    from crmkit.io.csvfmt import Row

    header = set(rows[0].values) if rows else set()
    joins = {spec: [c.strip() for c in spec.split("+")] for spec in given
             if "+" in spec and spec not in header}
    for spec, parts in joins.items():
        missing = [p for p in parts if p not in header]
        if missing and rows:
            raise UsageError(f"--map {spec!r}: no column {missing[0]!r} in the header")
    if not joins:
        return rows, given
    given = dict(given)
    for parts in joins.values():
        for part in parts:
            given.setdefault(part, "-")      # read into the joined field, not a custom field of its own
    out = []
    for row in rows:
        values = dict(row.values)
        for spec, parts in joins.items():
            values[spec] = " ".join(values.get(p, "").strip() for p in parts if values.get(p, "").strip())
        out.append(Row(row.line, values))
    return out, given


def parse_values(specs: list[str], mapping_file: Path | None = None) -> dict[str, dict[str, str]]:
    """`--value FIELD:FROM=TO` flags, over a mapping file's `values:`, as {field: {folded FROM: TO}}."""
    out: dict[str, dict[str, str]] = {}
    if mapping_file is not None:
        from crmkit.exchange.columns import mapping_file as read_mapping_file

        for target, pairs in read_mapping_file(mapping_file)[1].items():
            for old, new in pairs.items():
                out.setdefault(target.strip(), {})[key(old)] = new.strip()
    for spec in specs:
        target, colon, pair = spec.partition(":")
        old, eq, new = pair.partition("=")
        if not colon or not eq or not target.strip() or not old.strip():
            raise UsageError(f"--value {spec!r}: expected FIELD:FROM=TO, e.g. 'stage:Closed Won=won'")
        out.setdefault(target.strip(), {})[key(old)] = new.strip()
    return out
