"""Adding a record of any kind from KEY=VALUE fields, with the one rule about people:
a contact whose email is known already is refused, or with ``merge`` folded into it.

The rule sits with the people because it is theirs (crmkit.people.dedupe says
when two addresses are the same person); every other kind is added as it comes.
"""

from __future__ import annotations

from typing import Any

from crmkit.errors import CrmkitError
from crmkit.people.dedupe import find_by_email
from crmkit.store.editing import new_record, parse_assignments
from crmkit.store.records import Record, check_id
from crmkit.store.validate import validate_data
from crmkit.store.workspace import Workspace


def split_title(title: str | None, assignments: list[str]) -> tuple[str | None, list[str]]:
    """The first argument is the title unless it is itself a KEY=VALUE field."""
    if title is not None and "=" in title and not title.startswith("="):
        return None, [title, *assignments]
    return title, assignments


def add_record(ws: Workspace, kind: str, title: str | None, assignments: list[str], record_id: str | None,
               command_line: str, merge: bool = False, force: bool = False) -> Record:
    """Create one record in its own transaction and commit (the generic `add`, and `lead add`)."""
    title, assignments = split_title(title, assignments)
    pairs = parse_assignments(kind, assignments)
    data = new_record(ws, kind, title, pairs)
    if record_id is not None:
        check_id(record_id)
    with ws.transaction(f"add {kind}", command_line) as tx:
        if kind == "contact" and isinstance(data.get("email"), str):
            existing = find_by_email(ws, data["email"])
            if existing is not None:
                if not merge:
                    raise CrmkitError(
                        f"a contact with email {data['email']} exists already: {existing.id} "
                        "(use --merge to add these fields to it)"
                    )
                tx.message = f"merge into contact/{existing.id}"
                tx.update("contact", existing.id, fill_empty(data))
                return ws.index("contact")[existing.id]
        if kind == "contact" and not force:
            from crmkit.people.likely import likely_duplicate

            found = likely_duplicate(ws, data)
            if found is not None:
                other, why = found
                raise CrmkitError(f"{other.ref} ({other.title}) has {why}: probably the same person; "
                                  "use --force to add another contact anyway (or --merge with an email)")
        from crmkit.store.team import new_record_id  # ids from who it is, in a team workspace

        rid = record_id or new_record_id(ws, kind, data)
        validate_data(ws, kind, rid, data, ws.path_for(kind, rid))
        tx.message = f"add {kind}/{rid}"
        return tx.create(kind, data, rid)


def fill_empty(data: dict[str, Any]) -> Any:
    """`contact add --merge`: an edit that fills the existing contact's empty fields and keeps
    what it has; lists gain the values they lack."""
    def fill(doc: Any) -> None:
        for key, value in data.items():
            if key == "created":
                continue
            if doc.get(key) in (None, "", []):
                doc[key] = value
            elif isinstance(doc.get(key), list) and isinstance(value, list):
                doc[key].extend(v for v in value if v not in doc[key])

    return fill
