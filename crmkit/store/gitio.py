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

from crmkit.errors import EXIT_NOT_READY, CrmkitError


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


def commit_paths(root: Path, paths: Iterable[Path], message: str, config: dict[str, Any] | None = None) -> str | None:
    """Commit exactly `paths` (added, changed or deleted, as they are on disk); the sha or None.

    Nothing else in the index is committed or changed: the commit is built in a separate
    index, and the user's index is then updated for these paths only.
    """
    top = find_worktree(root.resolve())
    if top is None:
        raise GitError("not a git repository", path=str(root))
    rels = sorted({os.path.relpath(p, top) for p in paths})
    if not rels:
        return None
    parent = head(top)
    with tempfile.TemporaryDirectory(prefix="crmkit-index-") as tmp:
        sha = build_commit(top, rels, message, identity(top, config or {}), Path(tmp) / "index", parent)
    if sha is not None:
        move_head(top, sha, parent, message.splitlines()[0] if message else "crmkit")
    sync_index(top, rels)
    return sha


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


# -- transactions: pre-flight, identity, a commit through a separate index ---------------------
#
# These talk to git through plain subprocesses: they run on every write, and a commit of a
# few thousand paths is a handful of git processes fed on stdin, not one per file.


class RepoNotReady(CrmkitError):
    """The repository is in a state a commit must not be made in (nothing was written)."""

    exit_code = EXIT_NOT_READY


class RepoBusy(CrmkitError):
    """A git process is working in the repository right now (nothing was written)."""

    exit_code = 3


@dataclass
class Identity:
    name: str
    email: str
    source: str  # "git config", "crmkit.yaml" or "fallback"

    def env(self) -> dict[str, str]:
        return {"GIT_AUTHOR_NAME": self.name, "GIT_AUTHOR_EMAIL": self.email,
                "GIT_COMMITTER_NAME": self.name, "GIT_COMMITTER_EMAIL": self.email}


def git(top: Path, *args: str, env: dict[str, str] | None = None, input: bytes | None = None,
        check: bool = True) -> str:
    """Run git in `top`; a GitError naming the subcommand and git's last line when it fails."""
    import subprocess

    full_env = {**os.environ, **(env or {})}
    # crmkit's own commands must not be slowed or changed by a user's pager or editor
    full_env.setdefault("GIT_TERMINAL_PROMPT", "0")
    try:
        proc = subprocess.run(["git", *args], cwd=top, env=full_env, input=input, capture_output=True)
    except OSError as exc:
        raise GitError(f"cannot run git: {exc}") from None
    if check and proc.returncode != 0:
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {args[0]} failed: {lines[-1] if lines else f'exit code {proc.returncode}'}")
    return proc.stdout.decode("utf-8", "surrogateescape")


def git_dir(top: Path) -> Path:
    """The repository's .git folder (a worktree's .git file is followed)."""
    dot = top / ".git"
    if dot.is_file():
        text = dot.read_text(encoding="utf-8").strip()
        if text.startswith("gitdir:"):
            found = Path(text[7:].strip())
            return found if found.is_absolute() else (top / found).resolve()
    return dot


def head(top: Path) -> str | None:
    """The commit HEAD points at, or None in a repository without commits."""
    out = git(top, "rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False).strip()
    return out or None


def _lock_holder(lock: Path) -> str | None:
    """A running git process that has `lock` open, found through /proc (Linux), if any."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    target = str(lock)
    for pid_dir in proc.iterdir():
        if not pid_dir.name.isdigit():
            continue
        try:
            for fd in (pid_dir / "fd").iterdir():
                if os.readlink(fd) == target:
                    cmd = (pid_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
                    return f"pid {pid_dir.name} ({cmd})"
        except OSError:
            continue
    return None


def preflight(top: Path) -> list[str]:
    """Refuse a commit the repository cannot take, before anything is written; return warnings.

    Refused (RepoNotReady, exit code 5): a stale `.git/index.lock` left by a killed git,
    a merge, rebase, cherry-pick, revert or bisect in progress. A lock some git process
    holds right now is RepoBusy (exit code 3). A detached HEAD is only a warning.
    """
    gd = git_dir(top)
    lock = gd / "index.lock"
    if lock.exists():
        holder = _lock_holder(lock)
        if holder:
            raise RepoBusy(f"{lock} exists and {holder} holds it: git is working in this repository; "
                           "try again when it is done")
        raise RepoNotReady(f"{lock} exists and no git process holds it: a git command was killed "
                           f"and left it behind; remove it (rm {lock}) once you are sure no git runs")
    for marker, what, way_out in (
        ("MERGE_HEAD", "a merge", "git merge --continue or git merge --abort"),
        ("rebase-merge", "a rebase", "git rebase --continue or git rebase --abort"),
        ("rebase-apply", "a rebase or git am", "git rebase --continue/--abort or git am --continue/--abort"),
        ("CHERRY_PICK_HEAD", "a cherry-pick", "git cherry-pick --continue or --abort"),
        ("REVERT_HEAD", "a revert", "git revert --continue or --abort"),
    ):
        if (gd / marker).exists():
            raise RepoNotReady(f"{what} is in progress in {top}; crmkit does not commit into it: "
                               f"finish it first ({way_out})")
    warnings = []
    try:
        head_text = (gd / "HEAD").read_text(encoding="utf-8").strip()
    except OSError:
        head_text = "ref:"
    if not head_text.startswith("ref:"):
        warnings.append(f"HEAD is detached at {head_text[:12]} in {top}: crmkit commits on it, "
                        "and the commits belong to no branch until you make one (git switch -c NAME)")
    return warnings


def identity(top: Path, config: dict[str, Any]) -> Identity:
    """Who crmkit commits as: git's own identity (environment or git config), else crmkit.yaml's
    `git: {name:, email:}`, else `crmkit <crmkit@HOSTNAME>`."""
    import socket

    name, email = os.environ.get("GIT_AUTHOR_NAME", ""), os.environ.get("GIT_AUTHOR_EMAIL", "")
    if not (name and email):
        configured = dict(line.partition(" ")[::2] for line in git(
            top, "config", "--get-regexp", r"^user\.(name|email)$", check=False).splitlines())
        name, email = name or configured.get("user.name", ""), email or configured.get("user.email", "")
    if name and email:
        return Identity(name, email, "git config")
    section = found if isinstance(found := config.get("git"), dict) else {}
    if section.get("name") and section.get("email"):
        return Identity(str(section["name"]), str(section["email"]), "crmkit.yaml")
    host = socket.gethostname() or "localhost"
    return Identity(name or "crmkit", email or f"crmkit@{host}", "fallback")


def status_paths(top: Path, under: Path) -> dict[str, str]:
    """Paths (relative to `top`) under `under` that differ from HEAD in the index or the work
    tree, or are untracked, with their two-letter porcelain status."""
    rel = os.path.relpath(under, top)
    out = git(top, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames", "--", rel)
    found: dict[str, str] = {}
    for entry in out.split("\0"):
        if len(entry) > 3:
            found[entry[3:]] = entry[:2]
    return found


def tracked(top: Path, rels: list[str]) -> set[str]:
    if not rels:
        return set()
    out = git(top, "ls-files", "-z", "--", *rels)
    return {p for p in out.split("\0") if p}


def build_commit(top: Path, rels: list[str], message: str, ident: Identity, index_file: Path,
                 parent: str | None) -> str | None:
    """A commit object holding exactly `rels` (relative to `top`, as they are on disk) on top
    of `parent`, made through a separate index built from it: the user's index is never read
    or changed. None when the paths are as `parent` has them. HEAD does not move yet."""
    env = {"GIT_INDEX_FILE": str(index_file), **ident.env()}
    index_file.parent.mkdir(parents=True, exist_ok=True)
    try:
        if parent:
            git(top, "read-tree", parent, env=env)
        else:
            git(top, "read-tree", "--empty", env=env)
        listing = ("\0".join(rels) + "\0").encode("utf-8", "surrogateescape")
        # --add for new files, --remove for those gone from disk; a path neither on disk nor
        # in HEAD (created and removed again) is simply not there
        git(top, "update-index", "--add", "--remove", "-z", "--stdin", env=env, input=listing)
        tree = git(top, "write-tree", env=env).strip()
    finally:
        for leftover in (index_file, index_file.with_name(index_file.name + ".lock")):
            try:
                leftover.unlink()
            except FileNotFoundError:
                pass
    if parent:
        if git(top, "rev-parse", f"{parent}^{{tree}}").strip() == tree:
            return None
        parents = ["-p", parent]
    else:
        parents = []
    return git(top, "commit-tree", tree, *parents, "-F", "-", env=env, input=message.encode("utf-8")).strip()


def move_head(top: Path, sha: str, expected: str | None, subject: str) -> None:
    """Point HEAD (its branch) at `sha`, only if it is still `expected`: a commit someone made
    meanwhile is never lost (git refuses, and the caller rolls back)."""
    git(top, "update-ref", "-m", f"commit: {subject}", "HEAD", sha, expected or "0" * 40)


def is_ancestor(top: Path, ancestor: str, descendant: str) -> bool:
    import subprocess

    return subprocess.run(["git", "merge-base", "--is-ancestor", ancestor, descendant], cwd=top,
                          capture_output=True).returncode == 0


def blobs(top: Path, rev: str, rels: list[str]) -> dict[str, bytes]:
    """The content of each path in `rev` (those it has), in one git process."""
    found = cat_file_batch(top, [f"{rev}:{r}" for r in rels])
    return {rel: found[f"{rev}:{rel}"] for rel in rels if f"{rev}:{rel}" in found}


def cat_file_batch(top: Path, names: list[str]) -> dict[str, bytes]:
    """The content of each blob named (an object id, or `REV:PATH`) that the repository has,
    in one `git cat-file --batch`; a name that is missing or not a blob is left out."""
    import subprocess

    if not names:
        return {}
    query = "".join(f"{name}\n" for name in names).encode("utf-8", "surrogateescape")
    proc = subprocess.run(["git", "cat-file", "--batch"], cwd=top, input=query, capture_output=True)
    if proc.returncode != 0:
        raise GitError(f"git cat-file failed: {proc.stderr.decode('utf-8', 'replace').strip()}")
    out = proc.stdout
    found: dict[str, bytes] = {}
    pos = 0
    for name in names:
        end = out.index(b"\n", pos)
        head_line = out[pos:end].split()
        pos = end + 1
        if len(head_line) == 3 and head_line[1] == b"blob":
            size = int(head_line[2])
            found[name] = out[pos:pos + size]
            pos += size + 1
    return found


def sync_index(top: Path, rels: list[str]) -> None:
    """Make the user's index agree with what crmkit committed for its own paths (and only
    those), so `git status` is clean for them after a commit made through a separate index.
    The files on disk are what was committed; update-index also records their stat data."""
    if not rels:
        return
    listing = ("\0".join(rels) + "\0").encode("utf-8", "surrogateescape")
    git(top, "update-index", "--add", "--remove", "-z", "--stdin", input=listing)


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
