"""The workspace as the next commit would hold it: the files in git's index, not on disk.

`crmkit check --staged` (the pre-commit hook) validates this copy, so a `git rm` of
a company that contacts still name is caught even though the deleted file is in
no list of changed files, and a broken file that is not staged cannot fail or pass
someone's commit.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from crmkit.errors import CrmkitError
from crmkit.store import gitio
from crmkit.store.workspace import CONFIG_FILE


@contextmanager
def staged_copy(root: Path) -> Iterator[Path]:
    """A temporary folder holding the staged version of the workspace at `root`; its root."""
    top = gitio.find_worktree(root.resolve())
    if top is None:
        raise CrmkitError(f"{root}: --staged needs a git repository (the workspace is not in one)")
    tmp = Path(tempfile.mkdtemp(prefix="crmkit-staged-"))
    try:
        copy = gitio.checkout_index(top, root, tmp)
        if not (copy / CONFIG_FILE).is_file():
            raise CrmkitError(f"{CONFIG_FILE} is not in git's index; `git add {CONFIG_FILE}` first",
                              path=CONFIG_FILE)
        yield copy
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
