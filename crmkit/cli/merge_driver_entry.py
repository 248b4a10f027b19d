"""The merge driver as git runs it: `python -m crmkit.cli.merge_driver_entry --marker-size %L %O %A %B %P`.

The same as `crmkit merge-file`, without click and the command registry: git starts
one process per file that both sides changed, so start-up time is most of a merge's
time (about half of `crmkit merge-file`'s).
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="crmkit merge-file", description=__doc__)
    ap.add_argument("--marker-size", default="7")
    ap.add_argument("--debug", action="store_true")
    ap.add_argument("base")
    ap.add_argument("ours")
    ap.add_argument("theirs")
    ap.add_argument("name", nargs="?", default="")
    args = ap.parse_args(argv)
    from crmkit.errors import CrmkitError
    from crmkit.store.merge_driver import merge_file

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
    sys.exit(main())
