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

import re
from typing import Any

from crmkit.store import yamlio

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
_SCALARS = (str, int, float, bool, type(None))


def _one_line(key: str, value: Any) -> str | None:
    text: str = yamlio.dumps({key: value})
    return text if text.count("\n") == 1 and text.startswith(f"{key}: ") else None


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
    tail: list[str] = []
    for key in keys:
        old, new = before[key], after[key]
        if old == new and type(old) is type(new):
            continue
        at = starts[key]
        if isinstance(old, list) and isinstance(new, list) and key == keys[-1] \
                and len(new) > len(old) and new[:len(old)] == old and old:
            items = yamlio.dumps({key: new[len(old):]})
            if not items.startswith(f"{key}:\n  - "):
                return None
            if not lines[at].rstrip() == f"{key}:" or not all(
                    ln.startswith("  ") or not ln for ln in lines[at + 1:]):
                return None  # the list must run to the end of the file, indented as crmkit writes it
            tail.append(items[len(key) + 2:])
            continue
        if type(old) in _SCALARS and type(new) in _SCALARS:
            following = lines[at + 1] if at + 1 < len(lines) else ""
            if "#" in lines[at] or following.startswith((" ", "\t")):
                return None  # a comment to keep, or a value over several lines
            if _one_line(key, old) != lines[at] + "\n":
                return None  # not written the way a dump writes it: the round trip decides
            line = _one_line(key, new)
            if line is None:
                return None
            lines[at] = line[:-1]
            continue
        return None
    added = {k: after[k] for k in after if k not in before}
    text = "\n".join(lines)
    if tail:
        text += "".join(tail)
    if added:
        extra = yamlio.dumps(added)
        if extra.startswith((" ", "-")):
            return None
        text += extra
    return text
