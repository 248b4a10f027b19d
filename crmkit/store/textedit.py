"""Small edits made on a record's text instead of through a round-trip load and dump.

A tick over 1,000 tickets spent 60 ms per ticket loading it round trip and dumping it
again, to add an event or two. The edits a tick makes (a list that only grows at the
end of the file, a one-line top-level value changed, new fields) can be made on the
text itself: the new lines are serialised by yamlio (the same lines a whole dump
would write), the rest of the file stays byte for byte. The caller parses the result
and compares it with the record it meant to write; anything else, or any doubt
(comments on the line, multi-line values, CRLF, a byte order mark), is None, and the
faithful round-trip edit is made instead.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from crmkit.store import yamlio

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
_SCALARS = (str, int, float, bool, type(None))


#: Text a dump writes as it is (no quotes): starts with a letter, no `: `, ` #` or
#: characters YAML gives a meaning; words YAML reads as booleans or null are quoted.
_PLAIN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9_./@+-]*(?: [A-Za-z0-9_./@+-]+)*\Z")
_NOT_TEXT = frozenset({"null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE"})


def _scalar(value: Any) -> str | None:
    """How a dump writes this value after `key: `, for the common cases; None: ask the dumper."""
    if type(value) is str:
        if _PLAIN_TEXT.match(value) and value not in _NOT_TEXT and not yamlio.yaml11_special(value):
            return value
        return None
    if type(value) is int:
        return str(value)
    if type(value) is dt.datetime and value.tzinfo is not None:
        return value.isoformat(timespec="seconds" if not value.microsecond else "microseconds")
    if type(value) is dt.date:
        return value.isoformat()
    return None


def _one_line(key: str, value: Any) -> str | None:
    quick = _scalar(value)
    if quick is not None:
        return f"{key}: {quick}\n"
    text: str = yamlio.dumps({key: value})
    return text if text.count("\n") == 1 and text.startswith(f"{key}: ") else None


def _items(key: str, items: list[Any]) -> str | None:
    """The lines of new list items under `key` (`  - a: 1` / `    b: 2`), as a dump writes them."""
    out: list[str] = []
    for item in items:
        if not isinstance(item, dict) or not item:
            break
        lines = []
        for k, v in item.items():
            text = _scalar(v) if type(k) is str and _PLAIN_KEY.match(k) else None
            if text is None:
                break
            lines.append(f"{k}: {text}\n")
        else:
            out.append("  - " + "    ".join(lines))
            continue
        break
    else:
        return "".join(out)
    dumped = yamlio.dumps({key: items})
    return dumped[len(key) + 2:] if dumped.startswith(f"{key}:\n  - ") else None


def edited(raw: str, before: dict[str, Any], after: dict[str, Any]) -> str | None:
    """`raw` (the text of `before`) changed to say `after`, or None when that is not a
    plain edit of the kinds above. The result must still be parsed and compared."""
    if not raw.endswith("\n") or "\r" in raw or raw.startswith("\ufeff") or not before:
        return None
    keys = list(before)
    if list(after)[:len(keys)] != keys or not all(isinstance(k, str) and _PLAIN_KEY.match(k) for k in after):
        return None  # a field removed or moved: the round trip decides
    lines = raw.split("\n")
    starts = {}  # key -> index of its line: top-level keys begin at column 0
    for i, line in enumerate(lines):
        head, sep, _ = line.partition(":")
        if sep and head in before and not line.startswith((" ", "\t", "-", "#")):
            if head in starts:
                return None
            starts[head] = i
    if set(starts) != set(keys) or sorted(starts.values()) != [starts[k] for k in keys]:
        return None  # not one block mapping laid out key after key
    ends = [starts[k] for k in keys[1:]] + [len(lines) - 1]  # where each key's lines stop
    inserts: dict[int, str] = {}  # line index -> text to put before it
    for key, end in zip(keys, ends, strict=True):
        old, new = before[key], after[key]
        if old == new and type(old) is type(new):
            continue
        at = starts[key]
        if isinstance(old, list) and isinstance(new, list) and len(new) > len(old) and new[:len(old)] == old and old:
            if not lines[at] == f"{key}:" or not all(ln.startswith("  - ") or ln.startswith("    ")
                                                     for ln in lines[at + 1:end]):
                return None  # a block list, indented as crmkit writes it, up to the next key
            items = _items(key, new[len(old):])
            if items is None:
                return None
            inserts[end] = items
            continue
        if type(old) in _SCALARS and type(new) in _SCALARS:
            following = lines[at + 1] if at + 1 < len(lines) else ""
            if "#" in lines[at] or following.startswith((" ", "\t")):
                return None  # a comment to keep, or a value over several lines
            if _one_line(key, old) != lines[at] + "\n":
                return None  # not written the way a dump writes it: the round trip decides
            new_line = _one_line(key, new)
            if new_line is None:
                return None
            lines[at] = new_line[:-1]
            continue
        return None
    added = {k: after[k] for k in after if k not in before}
    text = "".join(inserts.get(i, "") + line + "\n" for i, line in enumerate(lines[:-1]))
    text += inserts.get(len(lines) - 1, "")
    if added:
        extra = yamlio.dumps(added)
        if extra.startswith((" ", "-")):
            return None
        text += extra
    return text
