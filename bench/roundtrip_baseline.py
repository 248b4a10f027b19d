#!/usr/bin/env python3
"""Baseline for the read path: load every deal file with ruamel.yaml's round-trip YAML().

    python bench/roundtrip_baseline.py WORKSPACE [--kind deals]

This is what a naive reader would do (the loader that keeps comments and quoting,
pure Python). crmkit's cold read must be at least 4 times faster than this.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ruamel.yaml import YAML


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    root = Path(argv[0])
    folder = argv[2] if len(argv) > 2 and argv[1] == "--kind" else "deals"
    yaml = YAML()  # round-trip, the default
    count = 0
    for path in sorted((root / folder).glob("*.yaml")):
        with open(path, encoding="utf-8") as fh:
            yaml.load(fh)
        count += 1
    print(count)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
