"""The workspace: where it is, its configuration, reading records fast and writing them faithfully."""

from __future__ import annotations

import bisect
import datetime as dt
import operator
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crmkit.errors import CrmkitError, NotFound, Problem, UsageError, WorkspaceBusy
from crmkit.store import cache, paths, yamlio
from crmkit.store.filereads import RecordFiles
from crmkit.store.journal import JOURNAL
from crmkit.store.lock import hold
from crmkit.store.records import FOLDERS, KINDS, REF_FIELDS, Record, check_id, parse_ref
from crmkit.store.recovery import recover
from crmkit.store.sharing import long_lived, shared
from crmkit.store.transaction import Transaction

CONFIG_FILE = "crmkit.yaml"


def parse_now(text: str, tz: dt.tzinfo) -> dt.datetime:
    """`--now` / CRMKIT_NOW: an ISO date or timestamp; without a zone, the workspace's zone."""
    try:
        if len(text) == 10:
            d = dt.date.fromisoformat(text)
            return dt.datetime(d.year, d.month, d.day, tzinfo=tz)
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--now {text!r}: expected an ISO date or timestamp such as 2026-11-22T09:30") from None
    return value if value.tzinfo else value.replace(tzinfo=tz)




class Workspace(RecordFiles):
    """A crmkit workspace rooted at the folder holding crmkit.yaml."""

    #: How resolve() hands out a referenced record (set by crmkit.conditions.views): its
    #: data, or a view that adds computed fields. None: the stored data.
    reference_view: Callable[[Any, Record], Mapping[str, Any]] | None = None

    def __init__(self, root: Path, *, now: dt.datetime | str | None = None, commit: bool = True,
                 include_edits: bool = False) -> None:
        self.root = root.resolve()
        paths.register_root(self.root)
        # .crmkit/ holds pickled caches: a .crmkit committed as a link (to files a pull
        # request brought) would have crmkit unpickle them. Refused before anything is read.
        paths.guard(self.root / ".crmkit" / "cache", final=False)
        self.config_path = self.root / CONFIG_FILE
        self.config: dict[str, Any] = self._load_config()
        self.warnings: list[Problem] = []
        self._unsafe_said: set[Problem] = set()
        self.commit_enabled = commit
        #: --include-edits: a file crmkit changes may carry uncommitted edits of the user's
        self.include_edits = include_edits
        self._records: dict[str, list[Record]] = {}
        #: Figures computed from many records (customer values, sentiment signals), kept
        #: until the next write: invalidate() clears it.
        self.memo: dict[str, Any] = {}
        #: What a domain's reader keeps for the workspace's whole life (rules, scoring,
        #: calendars, SLA policies), by the reader's name; each checks its own file stamp
        #: where the file can change. invalidate() leaves it.
        self.readers: dict[str, Any] = {}
        self._index: dict[str, dict[str, Record]] = {}
        #: (size, mtime) of the record files read, when old enough to trust (not racy)
        self._stats: dict[str, dict[str, tuple[int, int]]] = {}
        #: Records merged into others leave a tombstone: id -> the id they live on as.
        self._tombstones: dict[str, dict[str, str]] = {}
        try:
            self.tz = ZoneInfo(str(self.config.get("timezone", "UTC")))
        except (ZoneInfoNotFoundError, ValueError):
            raise CrmkitError(
                f"unknown time zone {self.config.get('timezone')!r}", path=str(self.config_path)
            ) from None
        now = now if now is not None else os.environ.get("CRMKIT_NOW") or None
        self._now = parse_now(now, self.tz) if isinstance(now, str) else now
        self._recover_on_open()

    # -- finding -------------------------------------------------------------

    @classmethod
    def find(cls, explicit: str | os.PathLike[str] | None = None, **kwargs: Any) -> Workspace:
        """-w DIR, else $CRMKIT_WORKSPACE, else the nearest folder upwards holding crmkit.yaml."""
        chosen = explicit or os.environ.get("CRMKIT_WORKSPACE")
        if chosen:
            root = Path(chosen)
            if not (root / CONFIG_FILE).is_file():
                raise CrmkitError(f"{root}: not a crmkit workspace (no {CONFIG_FILE}); run `crmkit init {root}`")
            return cls(root, **kwargs)
        here = Path.cwd()
        for candidate in [here, *here.parents]:
            if (candidate / CONFIG_FILE).is_file():
                return cls(candidate, **kwargs)
        raise CrmkitError(
            f"not in a crmkit workspace (no {CONFIG_FILE} here or above); "
            "run `crmkit init` or pass -w DIR"
        )

    def _load_config(self) -> dict[str, Any]:
        # Served from the parse cache like records: a warm listing then never imports ruamel.
        path = cache.cache_path(self.root, "config")
        try:
            st = self.config_path.stat()
            key: tuple[Any, ...] | None = (cache.CACHE_VERSION, st.st_size, st.st_mtime_ns)
        except OSError:
            key = None
        if key is not None and st.st_mtime_ns < cache.racy_after():
            cached = cache.load(path, (key,))
            if cached is not None:
                return cast("dict[str, Any]", cached)
        data = yamlio.load_fast(self.config_path)
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise CrmkitError("configuration must be a mapping", path=str(self.config_path), line=1)
        from crmkit.store.configschema import shape_error

        error = shape_error(data, CONFIG_FILE)
        if error is not None:  # e.g. pipeline: {stages: 5}: one line now, not a TypeError later
            error.line = yamlio.key_lines(self.config_path).get(error.message.split(" ")[0].split("[")[0])
            raise error
        if key is not None:
            cache.save(self.root, path, (key,), data)
        return data

    # -- time ----------------------------------------------------------------

    def now(self) -> dt.datetime:
        """The clock every command uses: --now / CRMKIT_NOW, else the real time, in the workspace zone."""
        if self._now is not None:
            return self._now.astimezone(self.tz)
        return dt.datetime.now(self.tz).replace(microsecond=0)

    def today(self) -> dt.date:
        return self.now().date()

    # -- configuration helpers -------------------------------------------------

    @property
    def users(self) -> dict[str, dict[str, Any]]:
        users = self.config.get("users") or {}
        return users if isinstance(users, dict) else {}

    def rel(self, path: Path) -> str:
        """A path relative to the workspace, for messages."""
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def path_for(self, kind: str, record_id: str) -> Path:
        return self.root / FOLDERS[kind] / f"{check_id(record_id)}.yaml"

    # -- reading ----------------------------------------------------------------

    def records(self, kind: str) -> list[Record]:
        """Every readable record of a kind, sorted by id. Broken files become warnings."""
        if kind not in self._records:
            with long_lived():
                self._records[kind] = self._read_kind(kind)
                self._index[kind] = {r.id: r for r in self._records[kind]}
        return self._records[kind]

    def index(self, kind: str) -> dict[str, Record]:
        self.records(kind)
        return self._index[kind]

    def tombstones(self, kind: str) -> dict[str, str]:
        """Ids of records merged into others, and the id each now lives on as."""
        self.records(kind)
        return self._tombstones.get(kind, {})

    def taken_ids(self, kind: str) -> set[str]:
        """Ids a new record may not take: the records' and the tombstones' (a merged id stays taken)."""
        return set(self.index(kind)) | set(self.tombstones(kind))

    def all_records(self) -> Iterator[Record]:
        for kind in KINDS:
            yield from self.records(kind)

    def get(self, ref: str, kind: str | None = None) -> Record:
        """A record by `id` or `kind/id`; an id found in several kinds must be qualified."""
        ref_kind, rid = parse_ref(ref)
        if kind and ref_kind and kind != ref_kind:
            raise UsageError(f"{ref!r} is not a {kind}")
        chosen = ref_kind or kind
        kinds = [chosen] if chosen else list(KINDS)
        found: list[Record] = []
        for k in kinds:
            path = self.path_for(k, rid)
            rec = self.index(k).get(rid)
            if rec is None and path.exists():
                # present but unreadable: say why instead of "not found"
                yamlio.load_fast(path)
            if rec is not None:
                found.append(rec)
        if not found:
            for k in kinds:
                target = self._tombstones.get(k, {}).get(rid)
                if target:
                    raise NotFound(f"{k}/{rid} was merged into {k}/{target}")
            what = kinds[0] if len(kinds) == 1 else "record"
            raise NotFound(f"no {what} with id {rid!r}")
        if len(found) > 1:
            raise UsageError(f"{rid!r} is ambiguous: " + ", ".join(r.ref for r in found) + "; write kind/id")
        return found[0]

    def resolve(self, field: str, value: Any) -> Mapping[str, Any] | None:
        """Follow a reference field (company: acme-ab) to the record's data, for dotted conditions."""
        kind = REF_FIELDS.get(field)
        if kind is None or not isinstance(value, str):
            if field == "owner" and isinstance(value, str):
                return self.users.get(value)
            return None
        rec = self.index(kind).get(value)
        if rec is None:
            return None
        # crmkit.conditions.views sets reference_view, so `company.tier` sees computed fields
        return self.reference_view(self, rec) if self.reference_view is not None else rec.data

    def referrers(self, target: Record) -> list[tuple[Record, str]]:
        """Records whose reference fields point at `target` (for `rm` and `show`)."""
        hits: list[tuple[Record, str]] = []
        for rec in self.all_records():
            for field, kind in REF_FIELDS.items():
                if kind != target.kind:
                    continue
                value = rec.data.get(field)
                if value == target.id or (isinstance(value, list) and target.id in value):
                    hits.append((rec, field))
        return hits

    def patch(self, kind: str, record_id: str, data: dict[str, Any] | None, path: Path | str = "") -> None:
        """After a write of one record: replace its entry in what was read (`data` None: the
        file is gone), instead of forgetting the whole kind. Forgetting made a tick or a
        route over N records read the folder again per record written: N x N."""
        self.memo.clear()
        records = self._records.get(kind)
        if records is None:
            return  # not read yet: the next read sees the file as written
        index = self._index[kind]
        tombstones = self._tombstones.setdefault(kind, {})
        old = index.pop(record_id, None)
        tombstones.pop(record_id, None)
        stats = self._stats.get(kind)
        if stats is not None:
            stats.pop(record_id, None)
            if data is not None and path:
                # written just now by this command, under the lock: what it says is known,
                # so a second change in the same run need not read it again
                try:
                    st = os.stat(path)
                    stats[record_id] = (st.st_size, st.st_mtime_ns)
                except OSError:
                    pass
        new: Record | None = None
        if data is not None:
            if "merged_into" in data:
                tombstones[record_id] = str(data["merged_into"])
            else:
                with long_lived():
                    new = Record(kind, record_id, shared(data), str(path or self.path_for(kind, record_id)))
                index[record_id] = new
        at = bisect.bisect_left(records, record_id, key=operator.attrgetter("id"))
        if old is not None and at < len(records) and records[at].id == record_id:
            if new is None:
                del records[at]
            else:
                records[at] = new
        elif new is not None:
            records.insert(at, new)

    def unchanged(self, kind: str, record_id: str, path: Path) -> dict[str, Any] | None:
        """The record's data as read, if its file still has the size and mtime it had then
        (and was old enough then to trust them, as the parse cache does); else None."""
        seen = self._stats.get(kind, {}).get(record_id)
        rec = self._index.get(kind, {}).get(record_id)
        if seen is None or rec is None:
            return None
        try:
            st = path.stat()
        except OSError:
            return None
        return rec.data if (st.st_size, st.st_mtime_ns) == seen else None

    def invalidate(self, kind: str | None = None) -> None:
        """Forget what was read, after a write."""
        self.memo.clear()
        for k in [kind] if kind else list(self._records):
            self._records.pop(k, None)
            self._index.pop(k, None)
            self._tombstones.pop(k, None)
            self._stats.pop(k, None)

    # -- writing -----------------------------------------------------------------

    def lock(self, timeout: float | None = None) -> AbstractContextManager[None]:
        """The workspace lock for writers; a second writer waits briefly, then fails as busy."""
        return hold(self.root, timeout)

    @contextmanager
    def transaction(self, message: str, command: str) -> Iterator[Transaction]:
        """Lock, pre-flight, let the caller write, commit exactly the touched files; on any
        error or SIGTERM/SIGHUP/SIGINT before the commit, put every file back (store/transaction.py)."""
        with self.lock():
            self.recover()
            tx = Transaction(self, message, command)
            tx.guard.install()
            try:
                try:
                    tx.begin()
                    yield tx
                    tx.commit_now()
                except BaseException as exc:
                    instead = tx.fail(exc)
                    if instead is not None:
                        raise instead from exc
                    raise
            finally:
                tx.guard.restore()

    def recover(self) -> str | None:
        """Finish or undo a transaction a killed command left (the lock must be held)."""
        if not (self.root / JOURNAL).exists():
            return None
        return recover(self)

    def _recover_on_open(self) -> None:
        # Every command, reading or writing, first deals with what a killed one left; a
        # journal whose writer is alive (it holds the lock) is its own business.
        if not (self.root / JOURNAL).exists():
            return
        try:
            with self.lock(timeout=0):
                self.recover()
        except WorkspaceBusy:
            pass
        except OSError:
            pass  # a read-only workspace: reading still works
