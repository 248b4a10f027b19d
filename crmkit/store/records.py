"""Record kinds, ids and the in-memory record."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from crmkit.errors import CrmkitError, UsageError

KINDS: tuple[str, ...] = ("contact", "company", "lead", "deal", "ticket", "activity", "campaign", "event")

FOLDERS: dict[str, str] = {
    "contact": "contacts",
    "company": "companies",
    "lead": "leads",
    "deal": "deals",
    "ticket": "tickets",
    "activity": "activities",
    "campaign": "campaigns",
    "event": "events",
}
KIND_OF_FOLDER: dict[str, str] = {folder: kind for kind, folder in FOLDERS.items()}

#: Fields that hold the id of another record, and the kind they point at.
REF_FIELDS: dict[str, str] = {
    "company": "company",
    "contact": "contact",
    "contacts": "contact",
    "deal": "deal",
    "lead": "lead",
    "ticket": "ticket",
    "campaign": "campaign",
}

#: The field that names a record in listings and messages.
TITLE_FIELD: dict[str, str] = {
    "contact": "name",
    "company": "name",
    "lead": "name",
    "deal": "title",
    "ticket": "subject",
    "activity": "subject",
    "campaign": "name",
    "event": "name",
}

#: High-volume kinds get date-plus-random ids; people, companies and deals get slugs.
ID_PREFIX: dict[str, str] = {"lead": "ld", "ticket": "tk", "activity": "act"}

# \Z, not $: "$" also matches before a trailing newline, and "acme\n" is no id.
ID_RE = re.compile(r"\A[a-z0-9][a-z0-9-]{0,99}\Z")
_RANDOM_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: ids are typed by people

# Letters that NFKD does not decompose into ASCII.
_TRANSLIT = str.maketrans(
    {"ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "ß": "ss", "đ": "d", "Đ": "d", "ł": "l", "Ł": "l",
     "þ": "th", "Þ": "th", "ð": "d", "Ð": "d", "œ": "oe", "Œ": "oe"}
)


def fold(text: str) -> str:
    """Text without diacritics, lowercased: 'Bjørn Ødegård' -> 'bjorn odegard'."""
    text = text.translate(_TRANSLIT)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def slugify(text: str, max_len: int = 60) -> str:
    """A typable id from a name: 'Szőke Zsófia' -> 'szoke-zsofia'."""
    folded = fold(text)
    if not folded.isascii():
        # Other scripts (최유림, 黄世勇, Иван) are transliterated, so an id is never just `record`.
        from anyascii import anyascii

        folded = anyascii(folded).lower()
    slug = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")
    return slug[:max_len].rstrip("-") or "record"


def check_id(record_id: str) -> str:
    """Refuse ids that could leave their folder or that no one could type."""
    if not isinstance(record_id, str) or not ID_RE.match(record_id):
        raise UsageError(
            f"invalid id {record_id!r}: ids are lowercase letters, digits and '-' "
            "(no '/', '..' or spaces)"
        )
    return record_id


def identity_suffix(identity: str) -> str:
    """Four typable characters that follow from `identity` (an email, say), the same everywhere."""
    import hashlib

    digest = hashlib.sha256(fold(identity.strip()).encode("utf-8")).digest()
    return "".join(_RANDOM_ALPHABET[b % len(_RANDOM_ALPHABET)] for b in digest[:4])


def new_id(kind: str, data: dict[str, Any], taken: set[str], now: datetime,
           identity: str | None = None) -> str:
    """An id that needs no central counter: a slug, or the date plus a random part.

    With `identity` (a team workspace: the contact's email) the slug gets a suffix made
    from it, so two clones adding the same person make the same id and two different
    Anna Bergs get different ones: 'anna-berg-k3f9'."""
    prefix = ID_PREFIX.get(kind)
    if prefix:
        import secrets  # only when making ids: it pulls in hmac and friends

        while True:
            rand = "".join(secrets.choice(_RANDOM_ALPHABET) for _ in range(5))
            candidate = f"{prefix}-{now:%Y%m%d}-{rand}"
            if candidate not in taken:
                return candidate
    title = data.get(TITLE_FIELD[kind])
    if not title:
        raise CrmkitError(f"a {kind} needs a {TITLE_FIELD[kind]} to make its id")
    base = slugify(str(title))
    if identity:
        base = f"{slugify(str(title), 55)}-{identity_suffix(identity)}"
    candidate, n = base, 2
    while candidate in taken:
        candidate = f"{base}-{n}"
        n += 1
    return candidate


class Record:
    """One record as read on the fast path: plain values, its kind, id and file."""

    __slots__ = ("kind", "id", "data", "_path")

    def __init__(self, kind: str, id: str, data: dict[str, Any], path: Path | str = "") -> None:
        self.kind = kind
        self.id = id
        self.data = data
        self._path = path  # kept as given: building 100,000 Path objects costs more than reading

    def __repr__(self) -> str:
        return f"Record({self.kind!r}, {self.id!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Record) and (self.kind, self.id, self.data) == (other.kind, other.id, other.data)

    __hash__ = None  # type: ignore[assignment]

    @property
    def path(self) -> Path:
        return self._path if isinstance(self._path, Path) else Path(self._path)

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.id}"

    @property
    def title(self) -> str:
        return str(self.data.get(TITLE_FIELD[self.kind], self.id))

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __contains__(self, key: object) -> bool:
        return key in self.data

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)


def parse_ref(ref: str) -> tuple[str | None, str]:
    """'deal/acme-erp' -> ('deal', 'acme-erp'); 'acme-erp' -> (None, 'acme-erp')."""
    if "/" in ref:
        kind, _, rid = ref.partition("/")
        if kind in FOLDERS:
            return kind, check_id(rid)
        if kind in KIND_OF_FOLDER:
            return KIND_OF_FOLDER[kind], check_id(rid)
        raise UsageError(f"unknown record kind {kind!r} in {ref!r} (kinds: {', '.join(KINDS)})")
    return None, check_id(ref)


def get_path(row: Any, path: str) -> Any:
    """The value at a dotted path (``address.city``) in a record's data or view; None where
    any step is missing or is not a mapping. The one dotted-path reader of plain data."""
    value: Any = row
    for part in path.split("."):
        if isinstance(value, Mapping) or hasattr(value, "__getitem__") and not isinstance(value, (str, list)):
            try:
                value = value[part]
            except (KeyError, TypeError):
                return None
        else:
            return None
    return value
