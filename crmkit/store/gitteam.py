"""git for working as a team: the merge driver in .git/config and the attributes file that
overrides .gitattributes, remotes, pull and push, a merge's conflicts (store/team.py,
store/sync.py). Config is read as a file where a git process per command would cost.
"""

from __future__ import annotations

from pathlib import Path

from crmkit.store.gitio import GitError, _repo, _run, find_worktree

#: The git config section of crmkit's merge driver (`merge=crmkit` in .gitattributes).
MERGE_DRIVER_KEY = "merge.crmkit.driver"


def merge_driver_command() -> str:
    """The driver command line git runs: this very Python, so the installed crmkit merges
    (through the lean entry point: git starts it once per file)."""
    import shlex
    import sys

    return f"{shlex.quote(sys.executable)} -m crmkit.store.merge_driver --marker-size %L %O %A %B %P"


def _git_common_dir(top: Path) -> Path | None:
    """The folder holding the repository's config, found without starting git."""
    dotgit = top / ".git"
    if dotgit.is_dir():
        return dotgit
    try:
        text = dotgit.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    if not text.startswith("gitdir:"):
        return None
    gitdir = (top / text[len("gitdir:"):].strip()).resolve()
    try:
        common = (gitdir / "commondir").read_text(encoding="utf-8").strip()
        return (gitdir / common).resolve()
    except OSError:
        return gitdir


def _local_config_text(top: Path) -> str:
    common = _git_common_dir(top)
    if common is None:
        return ""
    try:
        return (common / "config").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def config_get(root: Path, key: str) -> str | None:
    """A git config value as git sees it (local, global and system), or None."""
    import git

    repo = _repo(root)
    try:
        return str(repo.git.execute(["git", "config", "--get", key])).strip() or None
    except git.GitCommandError:
        return None


def merge_driver_registered(root: Path) -> str | None:
    """The configured crmkit merge driver command, or None when git has none."""
    top = find_worktree(root)
    if top is None:
        return None
    if '[merge "crmkit"]' in _local_config_text(top):
        return "(in .git/config)"  # a file read, no git process: this runs on every command
    return config_get(top, MERGE_DRIVER_KEY)


def register_merge_driver(root: Path) -> bool:
    """Write the crmkit merge driver into the repository's .git/config when git has none.

    .git/config is not carried by a clone, so every crmkit command calls this; the
    cheap text check keeps that to a file read once the driver is there. Returns
    True when it was written now."""
    top = find_worktree(root)
    if top is None or merge_driver_registered(top) is not None:
        return False
    repo = _repo(top)
    _run(repo, "config", "--local", "merge.crmkit.name", "crmkit: record files merged field by field")
    _run(repo, "config", "--local", MERGE_DRIVER_KEY, merge_driver_command())
    return True


def has_remote(root: Path) -> bool:
    """Whether the repository is shared with another (has a remote): team checks apply then."""
    top = find_worktree(root)
    return top is not None and '[remote "' in _local_config_text(top)


def current_branch(root: Path) -> str | None:
    """The checked-out branch, or None on a detached HEAD."""
    repo = _repo(root)
    try:
        name = _run(repo, "symbolic-ref", "--quiet", "--short", "HEAD").strip()
    except GitError:
        return None
    return name or None


def pull(root: Path, remote: str | None = None) -> tuple[bool, str]:
    """`git pull --no-rebase` (a merge, so the driver runs); (ok, git's output)."""
    import git

    repo = _repo(root)
    args = ["git", "pull", "--no-rebase", "--no-edit"] + ([remote] if remote else [])
    try:
        out = repo.git.execute(args, with_extended_output=True)
        return True, (out[1] + "\n" + out[2]).strip()
    except git.GitCommandError as exc:
        return False, ((exc.stdout or "") + "\n" + (exc.stderr or "")).replace("stdout: ", "").replace(
            "stderr: ", "").strip("'\n ")


def push(root: Path, remote: str | None = None) -> None:
    repo = _repo(root)
    _run(repo, "push", "--quiet", *([remote] if remote else []))


def unmerged_paths(root: Path) -> list[str]:
    """Files left in conflict by a merge."""
    repo = _repo(root)
    out = _run(repo, "diff", "--name-only", "--diff-filter=U", "-z")
    return sorted(p for p in out.split("\0") if p)


def merge_abort(root: Path) -> None:
    repo = _repo(root)
    _run(repo, "merge", "--abort")


def info_attributes(top: Path) -> Path | None:
    """The repository's own attributes file (.git/info/attributes: it overrides .gitattributes)."""
    common = _git_common_dir(top)
    return None if common is None else common / "info" / "attributes"

