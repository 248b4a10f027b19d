"""Writing many records' new fields fast and faithfully (routing's bulk write).

Appending a record's new top-level fields to its text keeps every byte people
wrote; the result is parsed again and must equal the record plus the additions,
or the faithful round-trip edit (:func:`field_edit`) is used instead. Many files
are written at once through a small thread pool, inside the caller's transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crmkit.errors import CrmkitError
from crmkit.store import yamlio

if TYPE_CHECKING:
    from crmkit.store.transaction import Transaction


def field_edit(additions: dict[str, Any]) -> Any:
    """The faithful edit: load the file round trip, change these fields in place."""
    def change(doc: Any) -> None:
        from ruamel.yaml.comments import CommentedMap

        for key, value in additions.items():
            if key == "routing":
                value = CommentedMap(value)
            elif key == "tags" and isinstance(doc.get("tags"), list):
                doc["tags"].extend(t for t in value if t not in doc["tags"])
                continue
            if doc.get(key) != value or key not in doc:
                doc[key] = value

    return change


class Appender:
    """Writing 10,000 routed records through a round-trip load each would take minutes.

    A new record routed for the first time only gains fields at its end. Then the new
    lines are appended to the file's text as they are (comments and all stay byte for
    byte), the lines themselves serialised by yamlio once per distinct value; the
    result is parsed again and must equal the record plus the additions, or the
    faithful round-trip edit is used instead.
    """

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}

    def lines(self, additions: dict[str, Any]) -> str:
        key = repr(sorted(additions.items(), key=lambda kv: kv[0]))
        text = self.texts.get(key)
        if text is None:
            from ruamel.yaml.comments import CommentedMap

            doc = CommentedMap()
            for k, v in additions.items():
                if k == "routing":
                    v = CommentedMap(v)
                doc[k] = v
            text = self.texts[key] = yamlio.dumps(doc)
        return text

    def new_text(self, path: Any, data: dict[str, Any], additions: dict[str, Any]) -> str | None:
        if any(k in data for k in additions):
            return None
        try:
            old = yamlio.read_text(path)
        except CrmkitError:
            return None
        if not old.endswith("\n") or old.rstrip().endswith(("---", "...")):
            return None
        new = old + self.lines(additions)
        if plainly_appendable(old, additions):
            return new
        try:
            parsed = yamlio.loads_fast(new)
        except CrmkitError:
            return None
        expected = dict(data)
        expected.update(yamlio.to_plain(additions))
        return new if parsed == expected else None


def plainly_appendable(text: str, keys: Any) -> bool:
    """Whether top-level `key: value` lines can go after this record's text as they are.

    True for a single block mapping starting at the left margin (what crmkit and
    people write), without document markers, that has none of the keys yet, not
    even added by someone else since it was read. Anything else is parsed to make sure.
    """
    first = next((ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")), "")
    if not first or first[0] in " \t-?{[&*!|>%@`\"'":
        return False
    if text.startswith(("---", "...")) or "\n---" in text or "\n..." in text:
        return False
    for key in keys:
        for form in (f"{key}:", f'"{key}":', f"'{key}':"):
            if text.startswith(form) or f"\n{form}" in text:
                return False
    return True


def write_all(tx: Transaction, files: list[tuple[str, str]]) -> None:
    """Write many record files at once.

    Every write is fsynced; on ordinary disks that wait, not the CPU, dominates a
    run over thousands of records, and it overlaps well across threads. Each path
    is distinct, so the transaction's bookkeeping (a dict and a list, changed
    under the GIL) sees no conflicting updates; the pool is drained before any
    error reaches the transaction, whose rollback then restores every file.
    """
    if len(files) < 16:
        for rel, text in files:
            tx.write_file(rel, text)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(tx.write_file, rel, text) for rel, text in files]
    for future in futures:
        future.result()
