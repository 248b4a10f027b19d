"""The one adapter that talks to git (through GitPython, imported only when needed).

crmkit commits exactly the files a command touched, never a user's own staged
work: paths are staged and committed with `git commit --only`, which leaves the
rest of the index as it was.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crmkit.errors import CrmkitError


class GitError(CrmkitError):
    """git refused to do something crmkit asked of it."""


def find_worktree(path: Path) -> Path | None:
    """The top of the git work tree containing `path`, found without starting git."""
    for candidate in [path, *path.parents]:
        if (candidate / ".git").exists():
            return candidate
    return None


def _repo(root: Path) -> Any:
    import git  # lazy: plain reads never pay for GitPython

    try:
        return git.Repo(root)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
        raise GitError(f"not a git repository: {exc}", path=str(root)) from None


def init(path: Path) -> None:
    """Make `path` a git repository with `main` as its first branch."""
    import git

    try:
        git.Repo.init(path, initial_branch="main")
    except TypeError:  # pragma: no cover - older git without --initial-branch
        git.Repo.init(path)


def _run(repo: Any, *args: str, **kwargs: Any) -> str:
    import git

    try:
        return str(repo.git.execute(["git", *args], **kwargs))
    except git.GitCommandError as exc:
        stderr = (exc.stderr or "").strip().replace("stderr: ", "").strip("'\n ")
        first = stderr.splitlines()[-1] if stderr else str(exc)
        raise GitError(f"git {args[0]} failed: {first}") from None


def commit_paths(root: Path, paths: Iterable[Path], message: str) -> str | None:
    """Stage and commit exactly `paths` (added, changed or deleted); return the sha or None.

    Nothing else in the index is committed or changed.
    """
    repo = _repo(root)
    top = Path(repo.working_tree_dir)
    rels = sorted({os.path.relpath(p, top) for p in paths})
    if not rels:
        return None
    # A file created and removed again within one command is neither on disk nor known
    # to git; naming it would make `git add` fail ("pathspec did not match").
    # Only those gone from disk need asking about, and only they are asked about.
    gone = [r for r in rels if not (top / r).exists()]
    if gone:
        tracked = set(_run(repo, "ls-files", "-z", "--", *gone).split("\0"))
        rels = [r for r in rels if r not in gone or r in tracked]
    if not rels:
        return None
    with tempfile.NamedTemporaryFile("w", delete=False, encoding="utf-8", suffix=".paths") as fh:
        fh.write("\0".join(rels) + "\0")
        listing = fh.name
    try:
        spec = [f"--pathspec-from-file={listing}", "--pathspec-file-nul"]
        _run(repo, "add", "--all", "--ignore-errors", *spec)
        staged = set(_run(repo, "diff", "--cached", "--name-only", "--no-renames", "-z").split("\0"))
        if not staged.intersection(rels):
            return None
        with tempfile.NamedTemporaryFile("w", delete=False, encoding="utf-8", suffix=".msg") as mf:
            mf.write(message)
            msgfile = mf.name
        try:
            _run(repo, "commit", "--quiet", "--no-verify", "--only", f"--file={msgfile}", *spec)
        finally:
            os.unlink(msgfile)
    finally:
        os.unlink(listing)
    return _run(repo, "rev-parse", "HEAD").strip()


def commit_message(summary: str, notes: list[str], command: str) -> str:
    """`crmkit: <summary>`, a body of notes, and a trailer naming the command."""
    parts = [summary if summary.startswith("crmkit:") else f"crmkit: {summary}"]
    if notes:
        parts.append("\n".join(notes))
    parts.append(f"Crmkit-Command: {command}")
    return "\n\n".join(parts) + "\n"


@dataclass
class Change:
    """One commit that touched a record."""

    sha: str
    author: str
    email: str
    date: str
    message: str
    path: str
    patch: str = ""
    status: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


_RS, _US = "\x1e", "\x1f"


def history(root: Path, path: Path, limit: int | None = None) -> list[Change]:
    """Commits that touched `path`, newest first, following renames, with their patches."""
    repo = _repo(root)
    top = Path(repo.working_tree_dir)
    rel = os.path.relpath(path, top)
    args = ["log", "--follow", "-p", "--no-color",
            f"--format={_RS}%H{_US}%an{_US}%ae{_US}%aI{_US}%B{_US}"]
    if limit:
        args.append(f"-n{limit}")
    out = _run(repo, *args, "--", rel, strip_newline_in_stdout=False)
    changes: list[Change] = []
    for chunk in out.split(_RS)[1:]:
        sha, author, email, date, message, rest = chunk.split(_US, 5)
        patch_at = rest.find("diff --git")
        patch = rest[patch_at:] if patch_at >= 0 else ""
        status, file_path = "M", rel
        for line in patch.splitlines():
            if line.startswith("new file mode"):
                status = "A"
            elif line.startswith("deleted file mode"):
                status = "D"
            elif line.startswith("rename from"):
                status = "R"
            elif line.startswith("+++ b/"):
                file_path = line[6:]
            elif line.startswith("@@"):
                break
        changes.append(Change(sha, author, email, date, message.strip(), file_path, patch.rstrip(), status))
    return changes


def checkout_index(root: Path, folder: Path, dest: Path) -> Path:
    """Write the index's (staged) version of every file under `folder` into `dest`.

    Files are laid out as in the work tree (`dest/<path from the top>`); deleted and
    unstaged changes are what the next commit would hold, not what is on disk.
    Returns where `folder` is inside `dest`.
    """
    repo = _repo(root)
    top = Path(repo.working_tree_dir).resolve()
    rel = os.path.relpath(folder.resolve(), top)
    if rel.startswith(".."):
        raise GitError(f"{folder} is not inside the git work tree {top}")
    listed = _run(repo, "ls-files", "-z", "--cached", "--", "." if rel == "." else rel,
                  strip_newline_in_stdout=False)
    names = [n for n in listed.split("\0") if n]
    if names:
        with tempfile.NamedTemporaryFile("w", delete=False, encoding="utf-8", suffix=".paths") as fh:
            fh.write("\0".join(names) + "\0")
            listing = fh.name
        try:
            with open(listing, "rb") as stdin:
                _run(repo, "checkout-index", f"--prefix={dest}/", "-z", "--stdin", istream=stdin)
        finally:
            os.unlink(listing)
    return dest / rel


def is_tracked_clean(root: Path) -> bool:
    """True when the work tree has no changes git knows of (used by tests and `check`)."""
    repo = _repo(root)
    return not _run(repo, "status", "--porcelain").strip()


# -- team wiring: the merge driver in .git/config, the attributes that use it ------------

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
