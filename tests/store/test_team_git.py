"""Team use over real git: clones of one workspace, merged by git with crmkit's driver."""

from __future__ import annotations

from pathlib import Path

from team_helpers import clone, crm, git, make_origin, pull

from crmkit.store import yamlio

DEAL = "deals/akerberg-support-agreement.yaml"


def test_init_writes_gitattributes_and_registers_the_driver_quietly(tmp_path: Path) -> None:
    origin = make_origin(tmp_path)
    seed = tmp_path / "seed"
    attrs = (seed / ".gitattributes").read_text()
    for folder in ("contacts", "companies", "leads", "deals", "tickets", "activities"):
        assert f"{folder}/*.yaml merge=crmkit\n" in attrs
    assert "outbox/*.eml merge=crmkit" in attrs
    assert git(seed, "ls-files", ".gitattributes").stdout.strip() == ".gitattributes"
    assert "-m crmkit.store.merge_driver" in git(seed, "config", "merge.crmkit.driver").stdout
    assert origin.is_dir()


def test_a_clone_registers_the_driver_on_its_first_command_and_says_so_once(tmp_path: Path) -> None:
    a = clone(make_origin(tmp_path), tmp_path / "a")
    assert git(a, "config", "merge.crmkit.driver", check=False).returncode != 0
    first = crm(a, "deal", "list", "--limit", "1")
    assert first.exit_code == 0
    assert first.stderr.count("registered the crmkit merge driver") == 1
    assert git(a, "config", "merge.crmkit.driver").stdout.strip().endswith("%O %A %B %P")
    again = crm(a, "deal", "list", "--limit", "1")
    assert "registered" not in again.stderr


def _two_clones(tmp_path: Path, extra_config: str = "") -> tuple[Path, Path]:
    origin = make_origin(tmp_path, extra_config)
    a, b = clone(origin, tmp_path / "a"), clone(origin, tmp_path / "b")
    for ws in (a, b):
        assert crm(ws, "check").exit_code == 0
    return a, b


def test_deal_value_on_one_clone_activity_and_stage_move_on_the_other(tmp_path: Path) -> None:
    a, b = _two_clones(tmp_path)
    text = (a / DEAL).read_text()
    assert text.startswith("# Offer discount agreed")
    # value and stage are neighbouring lines: a line merge conflicts on them
    assert "stage: proposal\nvalue: 120000\n" in text
    (a / DEAL).write_text(text.replace("value: 120000", "value: 108000"))
    git(a, "commit", "-qam", "value after the change request")
    git(a, "push", "-q")
    assert crm(b, "deal", "move", "akerberg-support-agreement", "negotiation", now="2026-11-24T10:00").exit_code == 0
    act = crm(b, "activity", "add", "Call about phase 2", "type=call", "deal=akerberg-support-agreement",
              "company=akerberg-ab", now="2026-11-24T10:05")
    assert act.exit_code == 0, act.stderr
    merged = pull(b)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    data = yamlio.to_plain(yamlio.loads_roundtrip((b / DEAL).read_text()))
    assert data["value"] == 108000 and data["stage"] == "negotiation"
    assert data["stage_history"][-1]["stage"] == "negotiation"
    assert (b / DEAL).read_text().startswith("# Offer discount agreed")
    assert crm(b, "check").exit_code == 0
    # Without the driver git's line merge conflicts on exactly this: the driver did the work.
    git(b, "reset", "-q", "--hard", "HEAD^1")
    git(b, "config", "--unset", "merge.crmkit.driver")
    plain = git(b, "-c", "merge.crmkit.driver=false", "pull", "-q", "--no-rebase", "--no-edit", check=False)
    assert plain.returncode != 0
    git(b, "merge", "--abort")


def test_the_same_field_changed_differently_is_a_real_conflict(tmp_path: Path) -> None:
    a, b = _two_clones(tmp_path)
    assert crm(a, "set", "nordvik-as", "industry=utilities").exit_code == 0
    git(a, "push", "-q")
    assert crm(b, "set", "nordvik-as", "industry=power").exit_code == 0
    merged = pull(b)
    assert merged.returncode != 0
    text = (b / "companies/nordvik-as.yaml").read_text()
    assert "<<<<<<< ours\nindustry: power\n=======\nindustry: utilities\n>>>>>>>" in text
    assert git(b, "diff", "--name-only", "--diff-filter=U").stdout.split() == ["companies/nordvik-as.yaml"]


TEAM = "\nteam:\n  stable_ids: true\n"


def test_the_same_new_person_on_both_clones_is_one_record_different_people_two(tmp_path: Path) -> None:
    a, b = _two_clones(tmp_path, TEAM)
    ra = crm(a, "--json", "contact", "add", "Anna Berg", "email=anna.berg@nordvik.no", now="2026-11-24T09:00")
    rb = crm(b, "--json", "contact", "add", "Anna Berg", "email=anna.berg@nordvik.no", "phone=+47 22 55 40 10",
             now="2026-11-24T11:00")
    assert ra.exit_code == rb.exit_code == 0, ra.stderr + rb.stderr
    other_a = crm(a, "contact", "add", "Erik Lund", "email=erik@vastkust.se", now="2026-11-24T09:10")
    other_b = crm(b, "contact", "add", "Erik Lund", "email=erik.lund@lindholmen.se", now="2026-11-24T11:10")
    assert other_a.exit_code == other_b.exit_code == 0
    git(a, "push", "-q")
    merged = pull(b)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    annas = sorted(p.name for p in (b / "contacts").glob("anna-berg*.yaml"))
    eriks = sorted(p.name for p in (b / "contacts").glob("erik-lund*.yaml"))
    assert len(annas) == 1 and len(eriks) == 2
    anna = yamlio.to_plain(yamlio.loads_roundtrip((b / "contacts" / annas[0]).read_text()))
    assert anna["phone"] == "+47 22 55 40 10" and anna["created"].hour == 9
    assert crm(b, "check").exit_code == 0


def test_route_and_tick_refuse_off_the_router_branch(tmp_path: Path) -> None:
    a, _ = _two_clones(tmp_path, "\nteam:\n  router_branch: main\n")
    git(a, "switch", "-q", "-c", "karins-edits")
    head = git(a, "rev-parse", "HEAD").stdout
    for cmd in (["route"], ["tick"], ["mail", "send"]):
        res = crm(a, *cmd, now="2026-11-24T10:00")
        assert res.exit_code == 1
        assert "runs only on branch main" in res.stderr and "karins-edits" in res.stderr
    assert git(a, "rev-parse", "HEAD").stdout == head and not git(a, "status", "--porcelain").stdout
    assert crm(a, "route", "--dry-run").exit_code in (0, 4)
    git(a, "switch", "-q", "main")
    assert crm(a, "route", now="2026-11-24T10:00").exit_code in (0, 4)
    assert git(a, "rev-parse", "HEAD").stdout != head


def test_only_if_branch_on_the_command_line(tmp_path: Path) -> None:
    a, _ = _two_clones(tmp_path)
    git(a, "switch", "-q", "-c", "other")
    res = crm(a, "route", "--only-if-branch", "main")
    assert res.exit_code == 1 and "--only-if-branch" in res.stderr


def test_route_and_tick_on_the_same_input_write_the_same_bytes(tmp_path: Path) -> None:
    a, b = _two_clones(tmp_path)
    for ws in (a, b):
        assert crm(ws, "route", now="2026-11-24T10:00").exit_code in (0, 4)
        assert crm(ws, "tick", now="2026-11-24T16:00").exit_code == 0
    tree_a, tree_b = (git(ws, "rev-parse", "HEAD^{tree}").stdout for ws in (a, b))
    assert list((a / "outbox").glob("notify-*.eml"))
    assert tree_a == tree_b


def test_sync_pulls_checks_pushes_and_refuses_a_real_conflict(tmp_path: Path) -> None:
    a, b = _two_clones(tmp_path)
    assert crm(a, "set", "nordvik-as", "industry=utilities").exit_code == 0
    done = crm(a, "sync")
    assert done.exit_code == 0, done.stderr
    assert "pushed" in done.stderr
    assert crm(b, "ticket", "reply", "tk-20261122-9f2pe", "-m", "Looking at it", now="2026-11-24T09:00").exit_code == 0
    synced = crm(b, "sync")
    assert synced.exit_code == 0, synced.stderr
    assert "industry: utilities" in (b / "companies/nordvik-as.yaml").read_text()
    assert pull(a).returncode == 0 and "Looking at it" in (a / "tickets/tk-20261122-9f2pe.yaml").read_text()
    # a real conflict: sync undoes the merge, says where, pushes nothing
    assert crm(a, "set", "nordvik-as", "industry=power").exit_code == 0
    assert crm(a, "sync").exit_code == 0
    assert crm(b, "set", "nordvik-as", "industry=oil").exit_code == 0
    head = git(b, "rev-parse", "HEAD").stdout
    refused = crm(b, "sync")
    assert refused.exit_code == 1
    assert "real conflict" in refused.stderr and "companies/nordvik-as.yaml" in refused.stderr
    assert git(b, "rev-parse", "HEAD").stdout == head and not git(b, "status", "--porcelain").stdout
    dirty = b / "companies/nordvik-as.yaml"
    dirty.write_text(dirty.read_text() + "note: x\n")
    assert "not committed" in crm(b, "sync").stderr


def test_check_reports_a_clone_whose_merges_bypass_the_driver(tmp_path: Path) -> None:
    from crmkit.store.team import wiring_problems
    from crmkit.store.workspace import Workspace

    a, _ = _two_clones(tmp_path)
    (a / ".gitattributes").write_text("")
    git(a, "commit", "-qam", "no attributes")
    res = crm(a, "check")
    assert res.exit_code == 1 and res.stdout.startswith(".gitattributes:") and "merge-driver: record files" in res.stdout
    git(a, "config", "--unset", "merge.crmkit.driver")
    git(a, "config", "--remove-section", "merge.crmkit")
    codes = [(p.path, p.code) for p in wiring_problems(Workspace(a))]
    assert (".git/config", "merge-driver") in codes


def test_route_and_tick_at_different_times_on_the_same_input_write_the_same_bytes(tmp_path: Path) -> None:
    # Two clones whose clocks (here --now) differ: the stamps come from the records
    # (a lead's created time, a breach's due time), so the trees are equal.
    a, b = _two_clones(tmp_path)
    runs = {a: ("2026-11-24T10:00", "2026-11-24T16:00"), b: ("2026-11-24T10:25", "2026-11-24T16:50")}
    for ws, (route_at, tick_at) in runs.items():
        assert crm(ws, "route", now=route_at).exit_code in (0, 4)
        assert crm(ws, "tick", now=tick_at).exit_code == 0
    assert git(a, "rev-parse", "HEAD^{tree}").stdout == git(b, "rev-parse", "HEAD^{tree}").stdout
    changed = git(a, "diff", "--name-only", "HEAD~2", "HEAD").stdout.split()
    assert any(p.startswith("leads/") for p in changed) and any(p.startswith("tickets/") for p in changed)
    assert any(p.startswith("outbox/") for p in changed)
    for rel in changed:
        text = (a / rel).read_text(errors="replace")
        assert "2026-11-24T10:00" not in text and "2026-11-24T16:00" not in text, rel
        assert "24 Nov 2026 10:00" not in text and "24 Nov 2026 16:00" not in text, rel


def test_a_new_workspace_has_stable_ids_and_an_existing_one_keeps_its_ids(tmp_path: Path) -> None:
    from conftest import invoke

    seed = tmp_path / "seed"
    assert invoke(["init", str(seed)]).exit_code == 0
    assert "stable_ids: true" in (seed / "crmkit.yaml").read_text()
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(seed), str(origin))
    a, b = clone(origin, tmp_path / "a"), clone(origin, tmp_path / "b")
    for ws, when in ((a, "2026-11-24T09:00"), (b, "2026-11-24T11:00")):
        assert crm(ws, "contact", "add", "Anna Berg", "email=anna.berg@nordvik.no", now=when).exit_code == 0
    assert crm(a, "contact", "add", "Erik Lund", "email=erik@vastkust.se").exit_code == 0
    assert crm(b, "contact", "add", "Erik Lund", "email=erik.lund@lindholmen.se").exit_code == 0
    git(a, "push", "-q")
    merged = pull(b)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert len(list((b / "contacts").glob("anna-berg-*.yaml"))) == 1
    assert len(list((b / "contacts").glob("erik-lund-*.yaml"))) == 2
    assert crm(b, "check").exit_code == 0
    # the sample (a workspace from before) has no team section: its new ids stay plain slugs
    old = clone(make_origin(tmp_path / "old"), tmp_path / "old-clone")
    assert crm(old, "contact", "add", "Anna Berg", "email=anna.berg@nordvik.no").exit_code == 0
    assert (old / "contacts" / "anna-berg.yaml").is_file()
