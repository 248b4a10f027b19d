"""Fault injection on real git repositories: every command ends whole.

crmkit runs as a real subprocess and is killed with SIGKILL at named points of the
transaction (CRMKIT_FAULT_POINT=name:n, see crmkit/store/transaction.py) or at a random
moment. After each kill the next crmkit command recovers, and then: no record is lost or
truncated, `git status` shows only the user's own work, HEAD has all of the command's
changes or none, and the user's staged and unstaged work is exactly as before.

The full set (`make test-faults`, marker `faults`) kills well over 50 times; plain
`make test` runs a small seeded sample of the same cases. CRMKIT_FAULT_SEED changes the seed.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import SAMPLE

from crmkit.store import yamlio

SEED = int(os.environ.get("CRMKIT_FAULT_SEED", "20261203"))
NOW = "2026-11-22T10:00:00+01:00"
RECORD_FOLDERS = ("contacts", "companies", "leads", "deals", "tickets", "activities")
IDENT = ["-c", "user.name=Test User", "-c", "user.email=test@example.com"]


def _git(cwd: Path, *args: str, check: bool = True) -> str:
    return subprocess.run(["git", *IDENT, *args], cwd=cwd, check=check, capture_output=True, text=True).stdout


def crmkit(ws: Path, *args: str, fault: str | None = None, env: dict[str, str] | None = None,
           timeout: float = 120) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "CRMKIT_NOW": NOW, **(env or {})}
    full.pop("CRMKIT_FAULT_POINT", None)
    if fault:
        full["CRMKIT_FAULT_POINT"] = fault
    return subprocess.run([sys.executable, "-m", "crmkit", "-w", str(ws), *args], env=full,
                          capture_output=True, text=True, timeout=timeout)


# -- the workspace a user has: crmkit's records and their own work in progress ------------------


CSV_ROWS = 30


def _build_base(root: Path) -> None:
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns(".crmkit", "__pycache__"))
    for n in range(12):  # unrouted prospects, so that route writes many files
        (root / "leads" / f"ld-20261120-fx{n:03d}.yaml").write_text(
            f"name: Prospect {n}\nemail: prospect{n}@example.org\nstatus: prospect\nusers: {20 + 10 * n}\n"
            "source: web\ncreated: 2026-11-20T09:00:00+01:00\n", encoding="utf-8")
    (root / "todo.txt").write_text("the user's notes\n")
    (root / "templates" / "mail").mkdir(parents=True, exist_ok=True)
    (root / "templates" / "mail" / "hello.md.j2").write_text(
        "---\nsubject: \"Hej {{ contact.name }}\"\nkind: transactional\n---\nHej {{ contact.name }}!\n")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "initial")
    rows = ["name,email,phone,city"] + [f"Import Person {i:03d},imp{i}@example.net,+46701{i:06d},Lund"
                                         for i in range(CSV_ROWS)]
    (root.parent / "people.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")


def _user_work(root: Path) -> None:
    """The user's own work in progress, which no crmkit command may touch or commit."""
    (root / "staged.txt").write_text("staged by the user\n")
    _git(root, "add", "staged.txt")
    (root / "todo.txt").write_text("the user's notes\nand an unstaged edit\n")
    (root / "scratch.txt").write_text("untracked\n")


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("faults") / "base"
    _build_base(root)
    return root


@dataclass
class UserState:
    porcelain: str
    staged: str
    unstaged: str
    files: dict[str, bytes]


def user_state(ws: Path) -> UserState:
    return UserState(
        _git(ws, "status", "--porcelain", "--untracked-files=all"),
        _git(ws, "diff", "--cached"), _git(ws, "diff"),
        {n: (ws / n).read_bytes() for n in ("staged.txt", "todo.txt", "scratch.txt")})


def copy_of(base: Path, dest: Path, *, user_work: bool = True) -> Path:
    shutil.copytree(base, dest, symlinks=True)
    if user_work:
        _user_work(dest)
    return dest


def record_texts(ws: Path) -> dict[str, bytes]:
    return {f"{d}/{p.name}": p.read_bytes() for d in RECORD_FOLDERS if (ws / d).is_dir()
            for p in (ws / d).iterdir() if p.is_file()}


def changes(ws: Path, since: str) -> dict[str, bytes | None]:
    """What the commits after `since` changed in record files: path -> new bytes (None: deleted)."""
    names = _git(ws, "diff", "--name-only", "--no-renames", since, "HEAD").split()
    return {n: (ws / n).read_bytes() if (ws / n).exists() else None
            for n in names if n.split("/")[0] in RECORD_FOLDERS}


# -- the scenarios -------------------------------------------------------------------------------------


SCENARIOS = {
    "import": lambda base: ("import", "csv", str(base.parent / "people.csv"), "--kind", "contact"),
    "route": lambda base: ("route",),
    "set": lambda base: ("set", "nordvik-as", "industry=shipping", "employees=120"),
}


@pytest.fixture(scope="module")
def references(base: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, bytes | None]]:
    """What each command changes when nothing goes wrong (on an identical copy)."""
    out = {}
    for name, args in SCENARIOS.items():
        ws = copy_of(base, tmp_path_factory.mktemp(f"ref-{name}") / "ws")
        head = _git(ws, "rev-parse", "HEAD").strip()
        r = crmkit(ws, *args(base))
        assert r.returncode in (0, 4), r.stderr
        out[name] = changes(ws, head)
        assert out[name], f"{name} changed nothing: a useless scenario"
    return out


def assert_whole(ws: Path, head: str, reference: dict[str, bytes | None], before: UserState,
                 records_before: dict[str, bytes]) -> str:
    """The next crmkit command recovers; then every promise holds. Returns its stderr."""
    nxt = crmkit(ws, "contact", "list", "--limit", "1")
    assert nxt.returncode == 0, nxt.stderr
    assert "Traceback" not in nxt.stderr
    assert not (ws / ".crmkit" / "tx" / "journal").exists()
    after = user_state(ws)
    assert after == before, "the user's work or git status changed"
    commits = _git(ws, "rev-list", f"{head}..HEAD").split()
    assert len(commits) <= 1
    if commits:
        assert changes(ws, head) == reference, "HEAD has part of the command's changes"
    else:
        assert record_texts(ws) == records_before, "files changed although nothing was committed"
    for folder in RECORD_FOLDERS:
        for path in (ws / folder).iterdir() if (ws / folder).is_dir() else []:
            assert not path.name.endswith(".tmp"), f"temp file left: {path}"
            if path.suffix == ".yaml":
                data = yamlio.load_fast(path)
                assert isinstance(data, dict) and data, f"{path} is empty or truncated"
    return nxt.stderr


def _cases(name: str, writes: int, full: int, sample: int) -> list[object]:
    """Kill points for one scenario: named points of the transaction, the n-th file write, a
    kill inside an atomic write, and kills at a random moment; the first `sample` are plain
    tests, the rest are marked `faults`."""
    rng = random.Random(f"{SEED}-{name}")
    named = ["before-commit:1", "before-ref:1", "after-ref:1", "atomic-write:1", "write:1"]
    points = named + [f"write:{rng.randint(1, writes)}" for _ in range(max(0, full - len(named) - 4))]
    points += [f"atomic-write:{rng.randint(1, writes)}" for _ in range(2)] + ["random", "random"]
    rng.shuffle(points)
    return [pytest.param(name, p, i, id=f"{name}-{i}-{p}",
                         marks=() if i < sample else (pytest.mark.faults,)) for i, p in enumerate(points)]


# 44 kills here, at least 10 more in the 40-message mail run: well over 50 in a full run
CASES = (_cases("import", CSV_ROWS, 18, 1) + _cases("route", 12, 16, 1) + _cases("set", 1, 10, 1))


@pytest.mark.parametrize("scenario,point,index", CASES)
def test_a_kill_leaves_all_or_nothing(base: Path, tmp_path: Path, references, scenario: str,
                                      point: str, index: int) -> None:
    ws = copy_of(base, tmp_path / "ws")
    head = _git(ws, "rev-parse", "HEAD").strip()
    before, records_before = user_state(ws), record_texts(ws)
    args = SCENARIOS[scenario](base)
    if point == "random":
        killed = _kill_at_random(ws, args, random.Random(f"{SEED}-{scenario}-{index}"))
    else:
        r = crmkit(ws, *args, fault=point)
        killed = r.returncode == -signal.SIGKILL
        assert killed, f"{point} was never reached: {r.returncode} {r.stderr}"
    err = assert_whole(ws, head, references[scenario], before, records_before)
    if point.startswith("write"):
        assert "recovered: undone" in err
    if point in ("before-ref:1", "after-ref:1"):
        assert "recovered: completed" in err
        assert _git(ws, "rev-list", f"{head}..HEAD").split(), "a completed transaction left no commit"


def _kill_at_random(ws: Path, args: tuple[str, ...], rng: random.Random) -> bool:
    """Start the command and SIGKILL it once its journal exists, after a random delay."""
    env = {**os.environ, "CRMKIT_NOW": NOW}
    env.pop("CRMKIT_FAULT_POINT", None)
    proc = subprocess.Popen([sys.executable, "-m", "crmkit", "-w", str(ws), *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal = ws / ".crmkit" / "tx" / "journal"
    deadline = time.monotonic() + 60
    while not journal.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    time.sleep(rng.uniform(0, 0.3))
    proc.send_signal(signal.SIGKILL)
    return proc.wait() == -signal.SIGKILL


# -- SIGTERM and SIGHUP: rolled back in the process itself ------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_mid_import_roll_back(base: Path, tmp_path: Path, sig: int) -> None:
    ws = copy_of(base, tmp_path / "ws")
    big = tmp_path / "big.csv"
    big.write_text("name,email\n" + "".join(f"Signal Person {i:04d},sig{i}@example.net\n" for i in range(400)))
    head = _git(ws, "rev-parse", "HEAD").strip()
    before, records_before = user_state(ws), record_texts(ws)
    env = {**os.environ, "CRMKIT_NOW": NOW}
    proc = subprocess.Popen([sys.executable, "-m", "crmkit", "-w", str(ws), "import", "csv", str(big),
                             "--kind", "contact"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    journal = ws / ".crmkit" / "tx" / "journal"
    deadline = time.monotonic() + 60
    while not journal.exists() and time.monotonic() < deadline:
        time.sleep(0.002)
    time.sleep(0.05)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    if proc.returncode == 0:
        pytest.skip("the import finished before the signal arrived (a very fast machine)")
    assert proc.returncode == 128 + sig, err
    assert f"interrupted by {signal.Signals(sig).name}" in err and "Traceback" not in err
    assert not journal.exists(), "rolled back in the process itself: no journal left"
    assert _git(ws, "rev-parse", "HEAD").strip() == head
    assert user_state(ws) == before and record_texts(ws) == records_before


# -- git, the disk and the repository failing ------------------------------------------------------------


def _failing_git(tmp_path: Path, sub: str) -> dict[str, str]:
    real = shutil.which("git")
    bindir = tmp_path / f"bin-{sub}"
    bindir.mkdir()
    wrapper = bindir / "git"
    # git's global options (-c, -C) come before the subcommand: skip them to find it
    wrapper.write_text(f"""#!/bin/sh
for a in "$@"; do
  case "$a" in -c|-C) skip=1; continue;; esac
  if [ -n "$skip" ]; then skip=; continue; fi
  case "$a" in -*) continue;; esac
  if [ "$a" = "{sub}" ]; then echo "fatal: {sub} failed on purpose" >&2; exit 128; fi
  break
done
exec {real} "$@"
""")
    wrapper.chmod(0o755)
    return {"PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}


@pytest.mark.parametrize("sub", ["update-index", "commit-tree", *[
    pytest.param(s, marks=pytest.mark.faults) for s in ("add", "commit", "update-ref")]])
def test_a_git_that_fails_changes_nothing(base: Path, tmp_path: Path, sub: str) -> None:
    """crmkit stages with update-index into its own index and commits with commit-tree and
    update-ref; a failure in any git step (add and commit included) leaves all as it was."""
    ws = copy_of(base, tmp_path / "ws")
    head = _git(ws, "rev-parse", "HEAD").strip()
    before, records_before = user_state(ws), record_texts(ws)
    r = crmkit(ws, *SCENARIOS["route"](base), env=_failing_git(tmp_path, sub))
    if sub in ("add", "commit"):  # crmkit needs neither: the command simply works
        assert r.returncode in (0, 4), r.stderr
        assert _git(ws, "rev-list", f"{head}..HEAD").split()
        assert user_state(ws) == before
        return
    assert r.returncode == 1, r.stderr
    assert f"git {sub} failed" in r.stderr and "Traceback" not in r.stderr
    assert _git(ws, "rev-parse", "HEAD").strip() == head
    assert user_state(ws) == before and record_texts(ws) == records_before
    assert not (ws / ".crmkit" / "tx" / "journal").exists()


def test_a_full_disk_changes_nothing(base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run) -> None:
    """The disk fills up half way through an import (a patched write): every file is put back."""
    import errno

    from crmkit.store import yamlio as yio

    ws = copy_of(base, tmp_path / "ws")
    head = _git(ws, "rev-parse", "HEAD").strip()
    before, records_before = user_state(ws), record_texts(ws)
    real = yio.atomic_write_bytes
    calls = {"n": 0}

    def filling(path: Path, data: bytes) -> None:
        calls["n"] += 1
        if calls["n"] > 7 and path.parent.name == "contacts":
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, data)

    monkeypatch.setattr(yio, "atomic_write_bytes", filling)
    r = run(["--now", NOW, "import", "csv", str(base.parent / "people.csv"), "--kind", "contact"], ws)
    assert r.exit_code == 5, r.stderr
    assert "is full" in r.stderr and "nothing was changed" in r.stderr and "Traceback" not in r.stderr
    assert _git(ws, "rev-parse", "HEAD").strip() == head
    assert user_state(ws) == before and record_texts(ws) == records_before


def test_no_room_for_the_planned_writes_is_refused_before_writing(base: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch, run) -> None:
    from crmkit.store import transaction

    ws = copy_of(base, tmp_path / "ws")
    records_before = record_texts(ws)
    monkeypatch.setattr(transaction, "free_bytes", lambda path: 300 * 1024)
    r = run(["--now", NOW, "import", "csv", str(base.parent / "people.csv"), "--kind", "contact"], ws)
    assert r.exit_code == 5 and "not enough room" in r.stderr, r.stderr
    assert record_texts(ws) == records_before


def test_a_stale_index_lock_is_named_and_refused(base: Path, tmp_path: Path) -> None:
    ws = copy_of(base, tmp_path / "ws")
    before, records_before = user_state(ws), record_texts(ws)
    lock = ws / ".git" / "index.lock"
    lock.write_text("")
    r = crmkit(ws, "set", "nordvik-as", "industry=shipping")
    assert r.returncode == 5, r.stderr
    assert str(lock) in r.stderr and "no git process holds it" in r.stderr
    assert record_texts(ws) == records_before
    lock.unlink()
    assert user_state(ws) == before


def test_an_index_lock_a_git_process_holds_is_busy(base: Path, tmp_path: Path) -> None:
    ws = copy_of(base, tmp_path / "ws")
    records_before = record_texts(ws)
    lock = ws / ".git" / "index.lock"
    lock.write_text("")
    # a process named git holding the file open, as a long `git add` would
    holder = subprocess.Popen(["bash", "-c", f"exec -a git sleep 30 3<{lock}"])
    try:
        time.sleep(0.2)
        r = crmkit(ws, "set", "nordvik-as", "industry=shipping")
    finally:
        holder.kill()
        holder.wait()
    assert r.returncode == 3, r.stderr
    assert "holds it" in r.stderr and f"pid {holder.pid}" in r.stderr
    assert record_texts(ws) == records_before


def test_a_merge_in_progress_is_refused(base: Path, tmp_path: Path) -> None:
    ws = copy_of(base, tmp_path / "ws", user_work=False)
    _git(ws, "checkout", "-q", "-b", "other")
    (ws / "todo.txt").write_text("theirs\n")
    _git(ws, "commit", "-qam", "theirs")
    _git(ws, "checkout", "-q", "main")
    (ws / "todo.txt").write_text("ours\n")
    _git(ws, "commit", "-qam", "ours")
    _git(ws, "merge", "other", check=False)  # conflicts
    assert (ws / ".git" / "MERGE_HEAD").exists()
    head = _git(ws, "rev-parse", "HEAD").strip()
    records_before = record_texts(ws)
    r = crmkit(ws, "set", "nordvik-as", "industry=shipping")
    assert r.returncode == 5 and "a merge is in progress" in r.stderr, r.stderr
    assert record_texts(ws) == records_before and _git(ws, "rev-parse", "HEAD").strip() == head


def test_a_detached_head_is_a_warning(base: Path, tmp_path: Path) -> None:
    ws = copy_of(base, tmp_path / "ws", user_work=False)
    _git(ws, "checkout", "-q", "--detach")
    r = crmkit(ws, "set", "nordvik-as", "industry=shipping")
    assert r.returncode == 0, r.stderr
    assert "HEAD is detached" in r.stderr
    assert "industry" in _git(ws, "show", "HEAD")


def _no_identity_env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "empty-home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({"HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": str(home / "none"),
                "XDG_CONFIG_HOME": str(home / ".config")})
    return env


def test_no_identity_commits_as_the_documented_fallback(base: Path, tmp_path: Path) -> None:
    import socket

    ws = copy_of(base, tmp_path / "ws", user_work=False)
    env = _no_identity_env(tmp_path)
    r = subprocess.run([sys.executable, "-m", "crmkit", "-w", str(ws), "set", "nordvik-as", "industry=shipping"],
                       env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("no git identity configured") == 1
    assert _git(ws, "log", "-1", "--format=%an <%ae>").strip() == f"crmkit <crmkit@{socket.gethostname()}>"
    # crmkit.yaml's git: {name:, email:} comes next after git's own configuration
    with open(ws / "crmkit.yaml", "a", encoding="utf-8") as fh:
        fh.write("git: {name: Fjordlys CRM, email: crm@fjordlys.se}\n")
    _git(ws, "commit", "-qam", "identity")
    r = subprocess.run([sys.executable, "-m", "crmkit", "-w", str(ws), "set", "nordvik-as", "industry=ships"],
                       env=env, capture_output=True, text=True)
    assert r.returncode == 0 and "no git identity" not in r.stderr, r.stderr
    assert _git(ws, "log", "-1", "--format=%an <%ae>").strip() == "Fjordlys CRM <crm@fjordlys.se>"


# -- the user's work and crmkit's never mix ------------------------------------------------------


def test_uncommitted_edits_in_a_file_crmkit_must_change_are_refused(base: Path, tmp_path: Path) -> None:
    ws = copy_of(base, tmp_path / "ws")
    path = ws / "companies" / "nordvik-as.yaml"
    mine = path.read_text() + "# my own note, not committed\n"
    path.write_text(mine)
    r = crmkit(ws, "set", "nordvik-as", "industry=shipping")
    assert r.returncode == 1 and "companies/nordvik-as.yaml" in r.stderr and "--include-edits" in r.stderr
    assert path.read_text() == mine
    staged = _git(ws, "diff", "--cached")
    r = crmkit(ws, "--include-edits", "set", "nordvik-as", "industry=shipping")
    assert r.returncode == 0, r.stderr
    body = _git(ws, "log", "-1", "--format=%B")
    assert "includes uncommitted edits that were already in: companies/nordvik-as.yaml" in body
    assert "# my own note" in _git(ws, "show", "HEAD:companies/nordvik-as.yaml")
    assert _git(ws, "diff", "--cached") == staged             # staged.txt still staged, not committed
    assert "staged.txt" not in _git(ws, "show", "--name-only", "HEAD")
    assert _git(ws, "status", "--porcelain", "--", "companies").strip() == ""


def test_crmkit_commits_only_its_own_files(base: Path, tmp_path: Path) -> None:
    ws = copy_of(base, tmp_path / "ws")
    before = user_state(ws)
    r = crmkit(ws, "set", "nordvik-as", "industry=shipping")
    assert r.returncode == 0, r.stderr
    assert _git(ws, "show", "--name-only", "--format=", "HEAD").split() == ["companies/nordvik-as.yaml"]
    assert user_state(ws) == before


def test_check_reports_record_files_no_journal_explains(base: Path, tmp_path: Path) -> None:
    ws = copy_of(base, tmp_path / "ws")
    (ws / "contacts" / "by-hand.yaml").write_text("name: By Hand\n")
    path = ws / "companies" / "nordvik-as.yaml"
    path.write_text(path.read_text() + "note: x\n")
    (ws / "contacts" / ".karin-lind.yaml.abc123.tmp").write_text("half")
    r = crmkit(ws, "check")
    assert "contacts/by-hand.yaml: untracked" in r.stderr
    assert "companies/nordvik-as.yaml: changed and not committed" in r.stderr
    assert "contacts/.karin-lind.yaml.abc123.tmp: a temp file" in r.stderr
    assert "todo.txt" not in r.stderr and "scratch.txt" not in r.stderr


def test_route_keeps_an_owner_a_person_set_while_it_planned(base: Path, tmp_path: Path, monkeypatch, run) -> None:
    """The plan is made, then a person sets an owner (and commits), then route takes the lock:
    it plans again, and the manual owner wins."""
    from crmkit.sales import routing

    ws = copy_of(base, tmp_path / "ws", user_work=False)
    target = ws / "leads" / "ld-20261120-fx003.yaml"
    real_apply = routing.apply

    def person_edits_first(w, plan, command, replan=None):
        assert any(a.id == "ld-20261120-fx003" for a in plan.assignments)
        target.write_text(target.read_text() + "owner: sofia\n")
        _git(ws, "commit", "-qam", "Sofia takes this one")
        return real_apply(w, plan, command, replan=replan)

    monkeypatch.setattr(routing, "apply", person_edits_first)
    r = run(["--now", NOW, "route"], ws)
    assert r.exit_code in (0, 4), r.stderr
    assert yamlio.load_fast(target)["owner"] == "sofia"
    assert "ld-20261120-fx003" not in r.stdout
    assert "ld-20261120-fx003" not in _git(ws, "show", "--name-only", "HEAD")
    assert _git(ws, "status", "--porcelain").strip() == ""


# -- mail: exactly once ---------------------------------------------------------------------------------


def _mail_ws(base: Path, dest: Path, n: int, port: int) -> Path:
    ws = copy_of(base, dest, user_work=False)
    for i in range(n):
        (ws / "contacts" / f"mail-{i:02d}.yaml").write_text(f"name: Mail Person {i:02d}\nemail: m{i}@example.net\n")
    config = ws / "crmkit.yaml"
    config.write_text(config.read_text().replace("  host: localhost\n  port: 1025\n",
                                                 f"  host: 127.0.0.1\n  port: {port}\n"))
    _git(ws, "add", "-A")
    _git(ws, "commit", "-qm", "mail people")
    to = [a for i in range(n) for a in ("--to", f"mail-{i:02d}")]
    r = crmkit(ws, "mail", "render", "hello", *to)
    assert r.returncode == 0, r.stderr
    _user_work(ws)
    return ws


def _activities(ws: Path) -> dict[str, str]:
    out = {}
    for p in (ws / "activities").glob("*.yaml"):
        data = yamlio.load_fast(p)
        if data.get("message_id"):
            out[str(data["message_id"])] = str(data.get("delivery"))
    return out


def _outbox_states(ws: Path) -> list[str]:
    from crmkit.io import eml

    return [str(eml.read_headers(p).get("X-Crmkit-State") or "") for p in sorted((ws / "outbox").glob("*.eml"))]


class _Recorder:
    """A real SMTP server's handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[object] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        import email
        from email import policy

        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _mail_run(base: Path, tmp_path: Path, n: int, max_kills: int, min_kills: int) -> None:
    from aiosmtpd.controller import Controller

    handler, port = _Recorder(), _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        ws = _mail_ws(base, tmp_path / "ws", n, port)
        before = user_state(ws)
        sample_mail = set(_activities(ws))    # the sample's own logged mail (its finished campaign)
        rng = random.Random(f"{SEED}-mail-{n}")
        kills = 0
        for _ in range(4 * n):
            if not _outbox_states(ws) or all(s == "sending" for s in _outbox_states(ws)):
                break
            point = rng.choice(["mail-before-smtp", "mail-after-smtp", "write", "before-ref", "after-ref",
                                "before-commit", "random"]) if kills < max_kills else None
            if point == "random":
                kills += _kill_at_random(ws, ("mail", "send"), rng)
            else:
                r = crmkit(ws, "mail", "send", fault=f"{point}:{rng.randint(1, 4)}" if point else None)
                kills += r.returncode == -signal.SIGKILL
                assert r.returncode in (0, 4, -signal.SIGKILL), r.stderr
            nxt = crmkit(ws, "contact", "list", "--limit", "1")       # recovers
            assert nxt.returncode == 0 and "Traceback" not in nxt.stderr, nxt.stderr
            assert user_state(ws) == before
        assert kills >= min_kills
        delivered = [str(m["Message-ID"]) for m in handler.messages]
        assert len(delivered) == len(set(delivered)), "a message was delivered twice without --resend-unconfirmed"
        logged = _activities(ws)
        assert not [m for m in delivered if m not in logged], "a delivered message has no activity"
        unconfirmed = _outbox_states(ws).count("sending")
        r = crmkit(ws, "mail", "send")
        assert r.returncode in (0, 4) and len(handler.messages) == len(delivered)    # still no duplicate
        if unconfirmed:
            assert "unconfirmed" in r.stderr
        r = crmkit(ws, "mail", "send", "--resend-unconfirmed")
        assert r.returncode == 0, r.stderr
        assert not _outbox_states(ws)
        final = [str(m["Message-ID"]) for m in handler.messages]
        assert set(final) == set(_activities(ws)) - sample_mail and len(set(final)) == n
        assert all(state == "sent" for state in _activities(ws).values())
        assert len(final) - n <= unconfirmed           # duplicates only by the explicit option
        assert user_state(ws) == before
    finally:
        controller.stop()


def test_mail_killed_at_random_is_sent_exactly_once_sample(base: Path, tmp_path: Path) -> None:
    _mail_run(base, tmp_path, 5, 2, 1)


@pytest.mark.faults
def test_mail_40_messages_killed_at_random_until_the_outbox_is_empty(base: Path, tmp_path: Path) -> None:
    _mail_run(base, tmp_path, 40, 40, 10)


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 4 MB tmpfs, where this machine lets us mount one (root in a container usually can)."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)],
                                           capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (the patched-write test covers a full disk)")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_a_really_full_disk_changes_nothing(small_disk: Path, tmp_path: Path, make_ws) -> None:
    ws = small_disk / "ws"
    shutil.copytree(make_ws({"contacts/a.yaml": "name: A\n"}), ws)
    head = _git(ws, "rev-parse", "HEAD").strip()
    records_before = record_texts(ws)
    rng = random.Random(SEED)
    big = tmp_path / "big.csv"   # ~40 x 25 KB of incompressible notes: more than the disk has
    big.write_text("name,email,notes\n" + "".join(
        f"Disk Person {i:02d},disk{i}@example.net,{''.join(rng.choice('abcdefghij') for _ in range(25000))}\n"
        for i in range(40)))
    free = shutil.disk_usage(small_disk).free
    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * max(0, free - 1_500_000))   # 1.5 MB left: the pre-flight lets it start
    r = crmkit(ws, "import", "csv", str(big), "--kind", "contact")
    assert r.returncode == 5 and "is full" in r.stderr, r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
    filler.unlink()
    nxt = crmkit(ws, "contact", "list")
    assert nxt.returncode == 0, nxt.stderr
    assert _git(ws, "rev-parse", "HEAD").strip() == head
    assert record_texts(ws) == records_before
    assert _git(ws, "status", "--porcelain") == ""
    # with too little room for the planned writes, it is refused before anything is written
    filler.write_bytes(b"\0" * max(0, shutil.disk_usage(small_disk).free - 400_000))
    r = crmkit(ws, "import", "csv", str(big), "--kind", "contact")
    assert r.returncode == 5 and ("not enough room" in r.stderr or "no room left" in r.stderr), r.stderr
    assert record_texts(ws) == records_before
