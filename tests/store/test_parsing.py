"""Cold reads on every CPU give exactly what the one-process read gives: values, time
zones, broken files and their lines, tombstones."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from crmkit.store import parsing
from crmkit.store.records import KINDS
from crmkit.store.workspace import Workspace

REPO = Path(__file__).resolve().parents[2]
#: The most processes any kind's read used in the last `everything`.
MOST_WORKERS = 1


def everything(root: Path) -> tuple[list[tuple[str, str, str]], list[str]]:
    shutil.rmtree(root / ".crmkit" / "cache", ignore_errors=True)
    ws = Workspace(root)
    rows = []
    global MOST_WORKERS
    MOST_WORKERS = 1
    for kind in KINDS:
        rows += [(kind, r.id, repr(r.data)) for r in ws.records(kind)]
        MOST_WORKERS = max(MOST_WORKERS, parsing.LAST_WORKERS)
    rows += [(kind, rid, f"tombstone -> {target}") for kind in KINDS for rid, target in ws.tombstones(kind).items()]
    return rows, [str(w) for w in ws.warnings]


def test_parallel_and_sequential_cold_reads_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "ws"
    subprocess.run([sys.executable, str(REPO / "bench" / "generate.py"), str(root), "--deals", "60",
                    "--no-git"], check=True, capture_output=True)
    for rel in ("deals", "contacts", "companies", "tickets"):
        for path in sorted((REPO / "sample_workspace" / rel).glob("*.yaml")):
            shutil.copy(path, root / rel / path.name)
    (root / "contacts" / "broken.yaml").write_text("name: Anna\n  email: [unclosed\n")
    (root / "contacts" / "alias.yaml").write_text("name: &a Anna\nnick: *a\n")
    (root / "contacts" / "list.yaml").write_text("- not a mapping\n")
    (root / "companies" / "merged.yaml").write_text("name: Old\nmerged_into: acme\n")
    (root / "deals" / "traps.yaml").write_text(
        'title: Traps\ncountry: NO\nzip: "01234"\nphone: 0767101055\nwhen: 2026-11-22T09:30:00+01:00\n'
        'day: 2026-11-22\nquoted: "2026-11-22"\nbig: 123456789012345678901234567890\nempty:\nnull_text: ""\n')

    monkeypatch.setattr(parsing, "PARALLEL_MIN", 10**9)
    sequential = everything(root)
    monkeypatch.setattr(parsing, "PARALLEL_MIN", 1)
    monkeypatch.setattr(parsing, "_cpus", lambda: 2)
    parallel = everything(root)
    assert MOST_WORKERS == 2  # the big kinds were parsed in two processes
    assert parallel == sequential
    rows, warnings = parallel
    assert len(rows) > 300 and len(warnings) == 3
    assert any("broken.yaml:2" in w for w in warnings) and any("alias" in w for w in warnings)
    traps = next(eval_row for kind, rid, eval_row in rows if rid == "traps")
    assert "'country': 'NO'" in traps and "'zip': '01234'" in traps and "'phone': 767101055" in traps
