#!/usr/bin/env python3
"""The floor for cold reads: one process parsing every deal file with ruamel.yaml's C
parser and its safe constructor (YAML 1.2), nothing else.

    python bench/c_safe_baseline.py WORKSPACE [--kind deals]

Issue 14's target: a cold `report pipeline` in at most half this time.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ruamel.yaml.constructor import SafeConstructor
from ruamel.yaml.cyaml import CParser
from ruamel.yaml.resolver import VersionedResolver


class Loader(CParser, SafeConstructor, VersionedResolver):  # type: ignore[misc]
    def __init__(self, stream: str) -> None:
        CParser.__init__(self, stream)
        self._parser = self._composer = self
        SafeConstructor.__init__(self, loader=self)
        VersionedResolver.__init__(self, (1, 2), loader=self)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    root = Path(argv[0])
    folder = argv[2] if len(argv) > 2 and argv[1] == "--kind" else "deals"
    count = 0
    for path in sorted((root / folder).glob("*.yaml")):
        loader = Loader(path.read_text(encoding="utf-8"))
        try:
            loader.get_single_data()
        finally:
            loader.dispose()
        count += 1
    print(count)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
