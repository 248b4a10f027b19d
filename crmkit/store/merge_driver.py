"""Three-way merge of one record file, field by field (git's `merge=crmkit` driver).

Git hands the driver three versions of a file that both sides changed: the common
ancestor (O), ours (A, also where the result goes) and theirs (B). A line merge
of YAML conflicts whenever both sides append to the same list (ticket events,
stage history) or touch neighbouring lines; `merge=union` writes invalid YAML.
This merge works on the round-trip documents instead, starting from ours so that
its comments, key order and quoting stay as they were:

* a field changed on one side only takes that side's value;
* a field both sides changed to the same value is that value;
* append-only histories (lists of mappings that carry an `at`: ticket `events`,
  `stage_history`, SLA `breaches`...) are the union of both sides, ordered by
  time and deduplicated by content; an event written by crmkit itself (`by:
  crmkit`, from `tick` or `route`) that both sides wrote and that differs only in
  its time and circumstances (`from`, `changes`) is kept once: the earlier;
* lists of plain values (tags, contacts, products) get both sides' additions and
  removals;
* a few fields follow documented policies (POLICIES below): timestamps of the
  last change take the later value, `created` and `done` the earlier one, a
  ticket's status, owner and priority follow the newest event that set them, a
  deal's stage follows its merged stage history, and a `routing` block written
  by both sides keeps the earlier one (when the other side gave the record to a
  different owner, its block is kept under `routing_conflicts`, which `crmkit
  check` reports);
* anything else both sides changed differently is a real conflict: the file is
  written with ordinary conflict markers around just those lines and the merge
  fails, as git's own merge would.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from crmkit.errors import CrmkitError
from crmkit.store import yamlio
from crmkit.store.merge_fields import _copy_plain, _far, _Merger, _time

#: The name of the driver in .gitattributes and .git/config.
DRIVER = "crmkit"


POLICIES: dict[str, str] = {
    "history lists": "union of both sides, ordered by `at`, duplicates dropped",
    "automated events": "the same event written by crmkit on both sides (same type, rule, target, to) is kept once: the earlier",
    "plain lists": "both sides' additions and removals",
    "updated_at": "the later time",
    "created, done, closed": "the earlier time",
    "ticket status, owner, priority": "the value set by the newest event in the merged history",
    "deal stage": "the stage of the newest entry in the merged stage history",
    "routing": "the earlier of two decisions; the other kept under routing_conflicts (reported by check)",
}


@dataclass
class MergeResult:
    """The merged text, and the fields that conflicted (empty when the merge is clean)."""

    text: str
    conflicts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.conflicts


def _markers(ours_text: str, theirs_text: str, labels: tuple[str, str], size: int) -> str:
    """Ordinary conflict markers around the lines where the two resolutions differ."""
    a, b = ours_text.splitlines(keepends=True), theirs_text.splitlines(keepends=True)
    out: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            out.extend(a[i1:i2])
            continue
        out.append("<" * size + f" {labels[0]}\n")
        out.extend(_nl(a[i1:i2]))
        out.append("=" * size + "\n")
        out.extend(_nl(b[j1:j2]))
        out.append(">" * size + f" {labels[1]}\n")
    return "".join(out)


def _nl(lines: list[str]) -> list[str]:
    return [ln if ln.endswith("\n") else ln + "\n" for ln in lines]


def _changes(base: list[str], other: list[str], side: int) -> list[tuple[int, int, int, list[str]]]:
    # The lines both share at the start and at the end are not diffed: a record's change is
    # a few lines (an appended event), and SequenceMatcher over the whole file was a sixth of
    # a merge's time. Any alignment will do: a candidate is kept only if it parses right.
    n = min(len(base), len(other))
    lo = 0
    while lo < n and base[lo] == other[lo]:
        lo += 1
    hi = 0
    while hi < n - lo and base[-1 - hi] == other[-1 - hi]:
        hi += 1
    a, b = base[lo:len(base) - hi], other[lo:len(other) - hi]
    ops = difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes()
    return [(lo + i1, lo + i2, side, b[j1:j2]) for tag, i1, i2, j1, j2 in ops if tag != "equal"]


def _line_candidates(base: str, ours: str, theirs: str) -> list[str]:
    """Texts made of both sides' own changed lines applied to the ancestor, where they do not
    overlap: comments and formatting then stay exactly as each side wrote them. Two
    insertions at one place (both appended events) give two candidates, one per order;
    the caller keeps a candidate only if it parses to the merged record."""
    b = base.splitlines(keepends=True)
    if b and not b[-1].endswith("\n"):
        return []
    hunks = sorted(_changes(b, ours.splitlines(keepends=True), 0) + _changes(b, theirs.splitlines(keepends=True), 1),
                   key=lambda h: (h[0], h[1], h[2]))
    for first, second in zip(hunks, hunks[1:]):
        if first[1] > second[0] or (first[0] < first[1] and first[0] == second[0] and second[0] < second[1]):
            return []  # both sides changed the same lines: a line merge cannot say
    out: list[str] = []
    # Histories are kept in time order: try first the order in which the earlier entries come first.
    first_order = [False, True] if _first_at(hunks, 0) <= _first_at(hunks, 1) else [True, False]
    for theirs_first in first_order:
        order = sorted(hunks, key=lambda h: (h[0], h[1], h[2] if not theirs_first else -h[2]))
        lines: list[str] = []
        at = 0
        for i1, i2, _side, new in order:
            lines.extend(b[at:i1])
            lines.extend(new)
            at = max(at, i2)
        lines.extend(b[at:])
        text = "".join(lines)
        if text not in out:
            out.append(text)
    return out


_AT = re.compile(r"^\s*(?:- )?at: *['\"]?([0-9T:+.\- ]+?)['\"]?\s*$", re.MULTILINE)


def _first_at(hunks: list[tuple[int, int, int, list[str]]], side: int) -> dt.datetime:
    """The earliest `at:` among one side's new lines (a guess at the order; parsing decides)."""
    found = [_time(_iso(m)) for h in hunks if h[2] == side for m in _AT.findall("".join(h[3]))]
    times = [f for f in found if f is not None]
    return min(times) if times else _far()


def _iso(text: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None


def _load_plain(text: str, path: str) -> Any:
    data = yamlio.loads_events(text, path) if text.strip() else None
    return {} if data is None else data


def merge_texts(base: str, ours: str, theirs: str, path: str = "", *,
                labels: tuple[str, str] = ("ours", "theirs"), marker_size: int = 7) -> MergeResult:
    """Merge three versions of one record file; see the module docstring for the rules.

    The merge is decided on the plain values (the fast parser); the text is then, in
    order of preference, one side's text as it is, both sides' changed lines applied to
    the ancestor (checked to parse to the merged record), or ours loaded round trip with
    the merge applied in place and written out."""
    if ours == theirs:
        return MergeResult(ours)
    if base == ours:
        return MergeResult(theirs)
    if base == theirs:
        return MergeResult(ours)
    try:
        b, o, t = _load_plain(base, path), _load_plain(ours, path), _load_plain(theirs, path)
    except CrmkitError as exc:
        # Not a record we can read (conflict markers from an earlier merge, broken YAML):
        # the whole file conflicts, as a line merge would show it.
        return MergeResult(_markers(ours, theirs, labels, marker_size), [f"(the whole file: {exc.message})"])
    if not (isinstance(b, dict) and isinstance(o, dict) and isinstance(t, dict)):
        return MergeResult(_markers(ours, theirs, labels, marker_size), ["(the whole file: not a mapping)"])
    merger = _Merger(ours_before=_copy_plain(o))
    merged = merger.mapping([], b, o, t)
    if not merger.conflicts:
        if merged == merger.ours_before:
            return MergeResult(ours, notes=merger.notes)  # nothing of theirs to add: ours' bytes as they are
        if merged == t:
            return MergeResult(theirs, notes=merger.notes)
        for candidate in _line_candidates(base, ours, theirs):
            try:
                if _load_plain(candidate, path) == merged:
                    return MergeResult(candidate, notes=merger.notes)
            except CrmkitError:
                continue
    return _merge_roundtrip(base, ours, theirs, path, labels, marker_size)


def _merge_roundtrip(base: str, ours: str, theirs: str, path: str, labels: tuple[str, str],
                     marker_size: int) -> MergeResult:
    """The merge on round-trip documents: ours' comments, order and quoting kept."""
    def docs() -> tuple[Any, Any, Any]:
        loaded = [yamlio.loads_roundtrip(x, path) if x.strip() else None for x in (base, ours, theirs)]
        b, o, t = ({} if d is None else d for d in loaded)
        return b, o, t

    before = _load_plain(ours, path)
    merger = _Merger(ours_before=before)
    merged = merger.mapping([], *docs())
    text = yamlio.dumps(merged)
    if merger.conflicts:
        other = _Merger(prefer_theirs=True, ours_before=before)
        theirs_doc = other.mapping([], *docs())
        text = _markers(text, yamlio.dumps(theirs_doc), labels, marker_size)
    return MergeResult(text, merger.conflicts, merger.notes)


# -- outbox messages ------------------------------------------------------------------------


def _header(text: str, name: str) -> str | None:
    head = text.replace("\r\n", "\n").split("\n\n", 1)[0]
    prefix = name.lower() + ":"
    for line in head.split("\n"):
        if line.lower().startswith(prefix):
            return line[len(prefix):].strip()
    return None


def merge_message(base: str, ours: str, theirs: str, *, labels: tuple[str, str] = ("ours", "theirs"),
                  marker_size: int = 7) -> MergeResult:
    """Two versions of one outbox message: the same notification (same Message-ID) written on
    both sides is one message, and the earlier one is kept; anything else conflicts."""
    if ours == theirs or base == theirs:
        return MergeResult(ours)
    if base == ours:
        return MergeResult(theirs)
    mid_o, mid_t = _header(ours, "Message-ID"), _header(theirs, "Message-ID")
    if mid_o and mid_o == mid_t:
        from email.utils import parsedate_to_datetime

        try:
            d_o = parsedate_to_datetime(_header(ours, "Date") or "")
            d_t = parsedate_to_datetime(_header(theirs, "Date") or "")
            keep_theirs = d_t < d_o
        except (TypeError, ValueError):
            keep_theirs = False
        return MergeResult(theirs if keep_theirs else ours, notes=[f"the same message {mid_o} on both sides"])
    return MergeResult(_markers(ours, theirs, labels, marker_size), ["(two different messages)"])


# -- the driver -------------------------------------------------------------------------------


def _read(path: str) -> str:
    with open(path, "rb") as fh:
        data = fh.read()
    # surrogateescape: bytes that are not UTF-8 come out exactly as they went in
    return data.decode("utf-8", errors="surrogateescape")


def merge_file(base_path: str, ours_path: str, theirs_path: str, name: str = "",
               marker_size: int = 7) -> MergeResult:
    """git's driver: merge the three files and leave the result in `ours_path` (written atomically)."""
    from pathlib import Path

    base, ours, theirs = _read(base_path), _read(ours_path), _read(theirs_path)
    labels = ("ours", f"theirs ({name})" if name else "theirs")
    if name.endswith(".eml"):
        result = merge_message(base, ours, theirs, labels=labels, marker_size=marker_size)
    else:
        result = merge_texts(base, ours, theirs, name, labels=labels, marker_size=marker_size)
    if result.text != ours:
        yamlio.atomic_write_bytes(Path(ours_path), result.text.encode("utf-8", errors="surrogateescape"))
    return result


# -- as git runs it --------------------------------------------------------------------------
# `python -m crmkit.store.merge_driver --marker-size %L %O %A %B %P`: the same as
# `crmkit merge-file`, without click and the command registry. git starts one process
# per file both sides changed, so start-up is most of a merge's time (this starts in
# about half the time of `crmkit merge-file`).


def main(argv: list[str] | None = None) -> int:
    """Merge the files git names; exit 0 when clean, 1 when conflicts are left in OURS."""
    import argparse
    import sys

    ap = argparse.ArgumentParser(prog="crmkit merge-file", description="crmkit's merge driver for record files")
    ap.add_argument("--marker-size", default="7")
    ap.add_argument("--debug", action="store_true")
    ap.add_argument("base")
    ap.add_argument("ours")
    ap.add_argument("theirs")
    ap.add_argument("name", nargs="?", default="")
    args = ap.parse_args(argv)
    size = int(args.marker_size) if str(args.marker_size).isdigit() else 7
    where = args.name or args.ours
    try:
        result = merge_file(args.base, args.ours, args.theirs, args.name, size)
    except (CrmkitError, OSError) as exc:
        # git then leaves the file conflicted with its own markers: nothing is lost
        print(f"crmkit merge-file: {where}: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - git shows our stderr; one line, ours left as it was
        if args.debug:
            raise
        print(f"crmkit merge-file: {where}: internal error: {type(exc).__name__}: {exc}; "
              "the file is left as a conflict", file=sys.stderr)
        return 1
    if args.debug:
        for note in result.notes:
            print(f"crmkit merge-file: {where}: {note}", file=sys.stderr)
    if result.conflicts:
        print(f"crmkit merge-file: {where}: conflict in {', '.join(result.conflicts)} "
              "(both sides changed it differently)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
