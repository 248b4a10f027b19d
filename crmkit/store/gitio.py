"""The one adapter that talks to git (through GitPython, imported only when needed).

crmkit commits exactly the files a command touched, never a user's own staged
work: paths are staged and committed with `git commit --only`, which leaves the
rest of the index as it was.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

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
        return repo.git.execute(["git", *args], **kwargs)
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


def is_tracked_clean(root: Path) -> bool:
    """True when the work tree has no changes git knows of (used by tests and `check`)."""
    repo = _repo(root)
    return not _run(repo, "status", "--porcelain").strip()


def head_sha(root: Path) -> str | None:
    """The commit HEAD points at, or None in a repository without commits."""
    repo = _repo(root)
    try:
        return str(repo.head.commit.hexsha)
    except ValueError:
        return None


def commits_since(root: Path, before: str | None) -> list[tuple[str, str]]:
    """(sha, subject) of the commits after `before` up to HEAD, oldest first."""
    repo = _repo(root)
    if head_sha(root) in (None, before):
        return []
    spec = f"{before}..HEAD" if before else "HEAD"
    out = _run(repo, "log", "--reverse", "--format=%H %s", spec)
    return [tuple(line.split(" ", 1)) for line in out.splitlines() if " " in line]  # type: ignore[misc]
