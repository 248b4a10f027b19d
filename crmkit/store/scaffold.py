"""`crmkit init`: a new workspace with sensible defaults, or a copy of the sample."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from crmkit.errors import CrmkitError
from crmkit.resources import sample_workspace_dir
from crmkit.store import gitio, yamlio
from crmkit.store.records import FOLDERS

DEFAULT_CONFIG = """\
# crmkit configuration. Every record kind lives in its own folder next to this file.
name: My Company
timezone: Europe/Stockholm
locale: sv_SE
currency: SEK

# Owners and agents. Records name them by id (owner: me).
users:
  me:
    name: Me
    email: me@example.com

pipeline:
  stages:
    - {name: lead, probability: 10, category: pipeline}
    - {name: qualified, probability: 25, category: pipeline}
    - {name: proposal, probability: 50, category: best_case}
    - {name: negotiation, probability: 75, category: commit}
    - {name: won, probability: 100, category: closed, won: true}
    - {name: lost, probability: 0, category: closed, lost: true}
  # Exchange rates into the workspace currency, for reports over several currencies.
  rates: {}

# Team use over git (README: Working as a team). A new contact's id ends in four
# characters from its email (a company's from its domain): the same person added in
# two clones is one file, two people with one name are two.
team:
  stable_ids: true
"""

GITIGNORE = ".crmkit/\n"


def create_workspace(target: Path, *, sample: bool = False) -> list[Path]:
    """Make `target` a workspace; returns the files written. Refuses to overwrite one."""
    target = target.resolve()
    if (target / "crmkit.yaml").exists():
        raise CrmkitError(f"{target} is already a crmkit workspace")
    target.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if sample:
        src = sample_workspace_dir()
        for path in sorted(src.rglob("*")):
            rel = path.relative_to(src)
            if path.is_dir() or "__pycache__" in rel.parts or rel.parts[0] == ".crmkit":
                continue
            dest = target / rel
            if dest.exists():
                raise CrmkitError(f"{dest} exists; init into an empty folder")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)
            written.append(dest)
    else:
        yamlio.atomic_write_text(target / "crmkit.yaml", DEFAULT_CONFIG)
        written.append(target / "crmkit.yaml")
    for folder in [*FOLDERS.values(), "rules", "segments", "templates", "outbox"]:
        (target / folder).mkdir(exist_ok=True)
        keep = target / folder / ".gitkeep"
        if not any((target / folder).iterdir()):
            keep.write_text("")
            written.append(keep)
    gitignore = target / ".gitignore"
    if not gitignore.exists() or ".crmkit" not in gitignore.read_text():
        with open(gitignore, "a", encoding="utf-8") as fh:
            fh.write(GITIGNORE)
        written.append(gitignore)
    from crmkit.store import team

    attributes = team.write_gitattributes(target)
    if attributes is not None:
        written.append(attributes)
    if gitio.find_worktree(target) is None:
        gitio.init(target)
    team.ensure_driver(target)
    return written


def initialise(target: Path, *, sample: bool, commit: bool, command_line: str,
               extra_files: Callable[[Path, dict[str, Any]], list[Path]] | None = None,
               ) -> tuple[Path, list[Path], str | None]:
    """`crmkit init`: create the workspace and commit it, or refuse before writing anything.

    Inside an existing git repository (a workspace in a folder of a bigger project) the files
    are committed in that repository, with paths relative to its top; no repository is nested.
    If the commit fails, the files written are removed again.
    """
    message = gitio.commit_message("init workspace" + (" from the sample" if sample else ""), [], command_line)
    root = target.resolve()
    if (root / "crmkit.yaml").exists():
        raise CrmkitError(f"{root} is already a crmkit workspace")
    existed = root.exists()
    top = gitio.find_worktree(root)
    if top is not None and commit:
        for warning in gitio.preflight(top):
            from crmkit.store.transaction import say

            say(f"warning: {warning}")
    written = create_workspace(target, sample=sample)
    if extra_files is not None:
        # files a higher layer adds to a new workspace (editor schemas), committed with it
        config = yamlio.load_fast(root / "crmkit.yaml") or {}
        written += [p for p in extra_files(root, config if isinstance(config, dict) else {}) if p not in written]
    sha = None
    if commit:
        try:
            from crmkit.store.transaction import commit_identity

            top = gitio.find_worktree(root)
            assert top is not None
            try:
                config = yamlio.load_fast(root / "crmkit.yaml") or {}
            except CrmkitError:
                config = {}
            ident = commit_identity(config if isinstance(config, dict) else {}, top)
            rels = sorted({str(p.relative_to(top)) for p in written})
            parent = gitio.head(top)
            sha = gitio.build_commit(top, rels, message, ident, root / ".crmkit" / "init-index", parent)
            if sha is not None:
                gitio.move_head(top, sha, parent, message.splitlines()[0])
            gitio.sync_index(top, rels)
        except BaseException:
            for path in written:
                path.unlink(missing_ok=True)
            if not existed:
                shutil.rmtree(root, ignore_errors=True)
            raise
    return root, written, sha
