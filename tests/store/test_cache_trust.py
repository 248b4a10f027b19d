"""The pickled caches are only loaded when this machine wrote them: a pickle a hostile
repository force-added under .crmkit/cache is ignored, never executed."""

from __future__ import annotations

import os
import pickle
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from crmkit.store import cache, yamlio
from crmkit.store.workspace import Workspace


class Payload:
    """Unpickling this makes a folder: proof that the pickle ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.mkdir, (str(self.marker),)


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_a_committed_pickle_in_a_clone_is_ignored(make_ws: Callable[..., Path], tmp_path: Path,
                                                  run: Callable[..., object]) -> None:
    root = make_ws({"contacts/anna.yaml": "name: Anna\n", "companies/acme.yaml": "name: Acme\n"})
    marker = tmp_path / "pwned"
    evil = (cache.CACHE_VERSION, {"anna.yaml": (11, 0, Payload(marker))})
    folder = root / ".crmkit" / "cache"
    folder.mkdir(parents=True)
    (folder / "contacts.pickle").write_bytes(pickle.dumps(evil))  # a bare pickle
    # the format crmkit writes, with a digest made under some other machine's key
    (folder / "companies.pickle").write_bytes(cache.MAGIC + os.urandom(cache.DIGEST_SIZE) + pickle.dumps(evil))
    git(root, "add", "-f", ".crmkit/cache")
    git(root, "commit", "-q", "-m", "a pull request with a present")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(root), str(clone))
    assert (clone / ".crmkit" / "cache" / "contacts.pickle").exists()

    for kind in ("contact", "company"):
        result = run([kind, "list", "--json"], clone)
        assert result.exit_code == 0, result.stderr  # type: ignore[attr-defined]
        assert '"name": "A' in result.stdout  # type: ignore[attr-defined]
    assert not marker.exists()

    # the clone's own caches, written and signed here, are used
    old = time.time() - 3600
    for path in [clone / "crmkit.yaml", *(clone / "contacts").iterdir(), *(clone / "companies").iterdir()]:
        os.utime(path, (old, old))
    Workspace(clone).records("contact")
    before = yamlio.COUNTS["parse"]
    assert [r.id for r in Workspace(clone).records("contact")] == ["anna"]
    assert yamlio.COUNTS["parse"] == before
    assert not marker.exists()


def test_a_cache_signed_elsewhere_is_a_miss(make_ws: Callable[..., Path]) -> None:
    root = make_ws({"contacts/anna.yaml": "name: Anna\n"})
    path = cache.cache_path(root, "probe")
    cache.save(root, path, ("v",), {"x": 1})
    assert cache.load(path, ("v",)) == {"x": 1}
    assert (root / ".git" / cache.KEY_NAME).stat().st_mode & 0o777 == 0o600
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 1  # one bit of the payload changed
    path.write_bytes(bytes(raw))
    assert cache.load(path, ("v",)) is None
