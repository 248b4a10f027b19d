"""`crmkit sync`: pull (merging with crmkit's driver), check, push.

For one person with two machines, or a small team without pull requests. It stops,
changing nothing more, wherever a person has to look: a dirty work tree, a real
conflict (the merge is undone and the files named), or problems found by `check`
after the merge (the merge stays committed locally, nothing is pushed).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crmkit.errors import CrmkitError, Problem
from crmkit.store import gitio, gitteam, merge_batch, team

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace


class SyncRefused(CrmkitError):
    """sync stopped where a person has to decide."""


@dataclass
class SyncResult:
    pulled: str = ""
    pushed: bool = False
    problems: list[Problem] = field(default_factory=list)
    registered_driver: bool = False


def sync(ws: Workspace, check: Callable[[Any], list[Problem]], *, remote: str | None = None,
         push: bool = True) -> SyncResult:
    """Pull, `check(ws)` (crmkit.check.check_workspace: the store cannot import the domains'
    checkers), push."""
    root = ws.root
    top = gitio.find_worktree(root)
    if top is None:
        raise SyncRefused(f"{root} is not a git repository: nothing to sync with")
    if not gitteam.has_remote(root):
        raise SyncRefused("this repository has no remote to sync with (git remote add origin URL)")
    result = SyncResult(registered_driver=team.ensure_driver(root))
    if not gitio.is_tracked_clean(root):
        raise SyncRefused("the work tree has changes that are not committed; commit or stash them first")
    # The merge resolves every record file in this one process (store/merge_batch.py), not
    # one driver process per file as a plain `git pull` does.
    outcome = merge_batch.merge(top, ["pull", "--no-rebase", *([remote] if remote else [])], ws.config,
                                [os.path.relpath(root, top)])
    output = outcome.output
    if not outcome.ok:
        if outcome.unmerged:
            gitteam.merge_abort(root)
            where = ", ".join(f"{rel} ({', '.join(fields)})" if fields else rel
                              for rel, fields in sorted(outcome.resolution.conflicts.items()))
            where = ", ".join(x for x in (where, ", ".join(outcome.resolution.other)) if x)
            raise SyncRefused(
                f"real conflict: both sides changed the same field differently in {where}; "
                "the merge was undone and nothing was pushed. Run `git pull`, resolve the marked lines, "
                "`crmkit check`, commit, then `crmkit sync` again"
            )
        last = output.splitlines()[-1] if output else "git pull failed"
        raise SyncRefused(f"git pull failed: {last}")
    result.pulled = output
    ws.invalidate()
    result.problems = check(ws)
    if result.problems:
        return result
    if push:
        gitteam.push(root, remote)
        result.pushed = True
    return result
