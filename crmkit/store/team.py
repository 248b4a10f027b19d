"""Team use over git: the attributes and config that send record files to crmkit's merge
driver, and the "one router" setting.

    # crmkit.yaml
    team:
      router_branch: main    # route, tick and notifications run only on this branch
      stable_ids: true       # contact and company ids carry 4 characters from the email
                             # or domain: the same person added on two clones is one file

.gitattributes travels with the repository; the driver itself lives in .git/config,
which a clone does not carry, so every crmkit command registers it when it is missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmkit.errors import CrmkitError, Problem
from crmkit.store import gitio, gitteam
from crmkit.store.records import FOLDERS

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace

ATTRIBUTES_FILE = ".gitattributes"
MARK = "merge=crmkit"

GITATTRIBUTES = "".join(
    ["# crmkit: record files merge field by field with `crmkit merge-file` (README: Working as a team).\n"]
    + [f"{folder}/*.yaml {MARK}\n" for folder in FOLDERS.values()]
    + [
        "# The same notification written on two clones is one message: the earlier is kept.\n",
        f"outbox/*.eml {MARK} -text\n",
    ]
)


def attributes_text_missing(root: Path) -> list[str]:
    """The lines of GITATTRIBUTES that the workspace's .gitattributes lacks."""
    try:
        have = {ln.strip() for ln in (root / ATTRIBUTES_FILE).read_text(encoding="utf-8").splitlines()}
    except OSError:
        have = set()
    return [ln for ln in GITATTRIBUTES.splitlines() if ln and not ln.startswith("#") and ln not in have]


def write_gitattributes(root: Path) -> Path | None:
    """Add crmkit's lines to the workspace's .gitattributes (kept as it is otherwise)."""
    from crmkit.store import yamlio

    path = root / ATTRIBUTES_FILE
    missing = attributes_text_missing(root)
    if not missing:
        return None
    try:
        old = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        old = ""
    if old and not old.endswith("\n"):
        old += "\n"
    add = GITATTRIBUTES if not old else "".join(ln + "\n" for ln in missing)
    yamlio.atomic_write_text(path, old + add)
    return path


def wants_driver(root: Path) -> bool:
    """Whether the workspace's .gitattributes sends files to the crmkit driver."""
    try:
        return MARK in (root / ATTRIBUTES_FILE).read_text(encoding="utf-8")
    except OSError:
        return False


#: Brackets the lines a one-process merge (store/merge_batch.py) puts in .git/info/attributes
#: for its length; a leftover (the merge was killed) is taken out by the next command.
OVERRIDE_BEGIN = "# crmkit merge-batch: record files stay unmerged for one process (removed after the merge)\n"
OVERRIDE_END = "# crmkit merge-batch end\n"


def without_override(text: str) -> str:
    while OVERRIDE_BEGIN in text:
        start = text.index(OVERRIDE_BEGIN)
        end = text.find(OVERRIDE_END, start)
        text = text[:start] + (text[end + len(OVERRIDE_END):] if end >= 0 else "")
    return text


def remove_leftover_override(root: Path) -> bool:
    """Take a killed merge's override out of .git/info/attributes (not while a merge runs)."""
    top = gitio.find_worktree(root)
    path = gitteam.info_attributes(top) if top is not None else None
    try:
        text = path.read_text(encoding="utf-8") if path is not None else ""
    except OSError:
        return False
    if path is None or top is None or OVERRIDE_BEGIN not in text or (gitio.git_dir(top) / "index.lock").exists():
        return False
    from crmkit.store import yamlio

    yamlio.atomic_write_text(path, without_override(text))
    return True


def ensure_driver(root: Path) -> bool:
    """Register the merge driver in .git/config when the attributes want it and git lacks it.

    Returns True when it was registered now (the caller says so once). Never fails a
    command: a read-only .git/config is reported by `check` instead."""
    if not wants_driver(root):
        return False
    remove_leftover_override(root)
    try:
        return gitteam.register_merge_driver(root)
    except CrmkitError:
        return False


def wiring_problems(ws: Workspace) -> list[Problem]:
    """`check`: a shared workspace whose merges would not go through the driver."""
    root = ws.root
    if gitio.find_worktree(root) is None or not gitteam.has_remote(root):
        return []
    problems: list[Problem] = []
    missing = attributes_text_missing(root)
    if missing:
        problems.append(Problem(ATTRIBUTES_FILE, None, "merge-driver",
                                f"record files are not merged by crmkit's driver; add these lines: "
                                f"{'; '.join(missing[:3])}{' ...' if len(missing) > 3 else ''}"))
    try:
        registered = gitteam.merge_driver_registered(root)
    except CrmkitError:
        registered = None
    if registered is None:
        problems.append(Problem(".git/config", None, "merge-driver",
                                f"the crmkit merge driver is not set in this clone; run any crmkit command "
                                f"or: git config {gitteam.MERGE_DRIVER_KEY} '{gitteam.merge_driver_command()}'"))
    return problems


# -- one router ------------------------------------------------------------------------------


def router_branch(ws: Workspace) -> str | None:
    team = ws.config.get("team")
    if isinstance(team, dict) and isinstance(team.get("router_branch"), str):
        return str(team["router_branch"])
    return None


def require_router(ws: Workspace, what: str, only_if_branch: str | None = None) -> None:
    """Refuse automated routing and notifications off the router branch.

    `--only-if-branch B` on the command, else `team.router_branch` in crmkit.yaml; with
    neither, every clone may route (a solo user)."""
    wanted = only_if_branch or router_branch(ws)
    if not wanted:
        return
    if gitio.find_worktree(ws.root) is None:
        raise CrmkitError(f"{what} runs only on branch {wanted}, and {ws.root} is not a git repository")
    branch = gitteam.current_branch(ws.root)
    if branch != wanted:
        source = "--only-if-branch" if only_if_branch else "team.router_branch in crmkit.yaml"
        raise RouterElsewhere(
            f"{what} runs only on branch {wanted} ({source}); this clone is on "
            f"{branch or 'a detached HEAD'}: nothing was changed. Let the router (CI on {wanted}) do it"
        )


class RouterElsewhere(CrmkitError):
    """Routing or tick asked for on a branch that is not the router's."""


# -- ids that two clones agree on ---------------------------------------------------------------

#: The field whose value makes a record the same one on two clones, by kind.
IDENTITY_FIELDS = {"contact": ("email", "phone"), "company": ("domain", "website")}


def stable_ids(ws: Workspace) -> bool:
    team = ws.config.get("team")
    return isinstance(team, dict) and team.get("stable_ids") is True


def new_record_id(ws: Workspace, kind: str, data: dict[str, Any]) -> str:
    """The id for a new record; in a team workspace a person's id follows from who it is."""
    from crmkit.store.records import new_id

    identity = None
    if stable_ids(ws):
        for key in IDENTITY_FIELDS.get(kind, ()):
            value = data.get(key)
            if isinstance(value, str) and value.strip():
                identity = value.strip().lower()
                break
    return new_id(kind, data, ws.taken_ids(kind), ws.now(), identity=identity)
