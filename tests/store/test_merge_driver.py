"""The record merge driver on its own: three texts in, one text (or conflict markers) out."""

from __future__ import annotations

from crmkit.store import yamlio
from crmkit.store.merge_driver import merge_message, merge_texts

TICKET = """\
# A customer on the gold agreement: answer within the hour.
subject: Invoice export fails
status: open
owner: nora
priority: normal
tags:
  - erp
events:
  - type: created
    at: 2026-11-20T09:00:00+01:00
    by: hakon-lie
"""


def load(text: str) -> dict:
    return yamlio.to_plain(yamlio.loads_roundtrip(text))


def test_both_append_events_union_in_time_order_comments_kept() -> None:
    ours = TICKET + """\
  - type: replied
    at: 2026-11-20T10:00:00+01:00
    by: nora
"""
    theirs = TICKET + """\
  - type: customer_replied
    at: 2026-11-20T09:30:00+01:00
    by: hakon-lie
"""
    result = merge_texts(TICKET, ours, theirs, "tickets/tk.yaml")
    assert result.clean, result.conflicts
    assert result.text.startswith("# A customer on the gold agreement")
    events = load(result.text)["events"]
    assert [e["type"] for e in events] == ["created", "customer_replied", "replied"]


def test_the_same_event_on_both_sides_is_kept_once() -> None:
    extra = """\
  - type: replied
    at: 2026-11-20T10:00:00+01:00
    by: nora
"""
    result = merge_texts(TICKET, TICKET + extra, TICKET.replace("priority: normal", "priority: high") + extra)
    assert result.clean
    data = load(result.text)
    assert len(data["events"]) == 2 and data["priority"] == "high"


def test_automated_events_differing_only_in_time_are_one_with_the_earlier_time() -> None:
    def breach(at: str) -> str:
        return f"""\
  - type: breached
    at: {at}
    by: crmkit
    target: first_response
    due: 2026-11-20T10:00:00+01:00
"""
    result = merge_texts(TICKET, TICKET + breach("2026-11-20T11:05:00+01:00"),
                         TICKET + breach("2026-11-20T10:35:00+01:00"))
    assert result.clean
    events = load(result.text)["events"]
    assert [e["type"] for e in events] == ["created", "breached"]
    assert events[1]["at"].isoformat() == "2026-11-20T10:35:00+01:00"


def test_a_field_both_changed_differently_conflicts_with_markers_around_it_only() -> None:
    ours = TICKET.replace("subject: Invoice export fails", "subject: Invoice export fails (SIE)")
    theirs = TICKET.replace("subject: Invoice export fails", "subject: Export of invoices fails")
    result = merge_texts(TICKET, ours, theirs, labels=("ours", "theirs"))
    assert result.conflicts == ["subject"]
    lines = result.text.splitlines()
    start, mid, end = lines.index("<<<<<<< ours"), lines.index("======="), lines.index(">>>>>>> theirs")
    assert lines[start + 1:mid] == ["subject: Invoice export fails (SIE)"]
    assert lines[mid + 1:end] == ["subject: Export of invoices fails"]
    assert "status: open" in lines and lines.count("<<<<<<< ours") == 1


def test_ticket_status_and_owner_follow_the_newest_event() -> None:
    ours = TICKET.replace("status: open", "status: pending") + """\
  - type: status
    at: 2026-11-20T10:00:00+01:00
    by: nora
    from: open
    to: pending
"""
    theirs = TICKET.replace("status: open", "status: solved") + """\
  - type: status
    at: 2026-11-20T11:00:00+01:00
    by: mikael
    from: open
    to: solved
"""
    result = merge_texts(TICKET, ours, theirs)
    assert result.clean, result.conflicts
    assert load(result.text)["status"] == "solved"


def test_plain_lists_take_both_sides_additions_and_removals() -> None:
    ours = TICKET.replace("  - erp\n", "  - erp\n  - vip\n")
    theirs = TICKET.replace("  - erp\n", "  - invoicing\n")
    result = merge_texts(TICKET, ours, theirs)
    assert result.clean
    assert load(result.text)["tags"] == ["vip", "invoicing"]


def test_removed_on_one_side_changed_on_the_other_conflicts() -> None:
    ours = TICKET.replace("priority: normal\n", "")
    theirs = TICKET.replace("priority: normal", "priority: urgent")
    assert merge_texts(TICKET, ours, theirs).conflicts == ["priority"]


DEAL = """\
title: Nordvik ERP rollout   # the big one
stage: proposal
value: 100000
created: 2026-03-09T10:00:00+01:00
stage_history:
  - stage: lead
    at: 2026-03-09T10:00:00+01:00
    by: lars
  - stage: proposal
    at: 2026-06-17T16:05:00+02:00
    by: lars
    from: lead
"""


def test_value_on_one_side_stage_move_on_the_other() -> None:
    ours = DEAL.replace("value: 100000", "value: 120000")
    theirs = DEAL.replace("stage: proposal\n", "stage: negotiation\n", 1) + """\
  - stage: negotiation
    at: 2026-11-20T10:00:00+01:00
    by: sofia
    from: proposal
"""
    result = merge_texts(DEAL, ours, theirs)
    assert result.clean
    data = load(result.text)
    assert (data["value"], data["stage"]) == (120000, "negotiation")
    assert [h["stage"] for h in data["stage_history"]] == ["lead", "proposal", "negotiation"]
    assert "# the big one" in result.text


def test_both_moved_the_stage_the_later_move_wins() -> None:
    def move(stage: str, at: str) -> str:
        return DEAL.replace("stage: proposal\n", f"stage: {stage}\n", 1) + (
            f"  - stage: {stage}\n    at: {at}\n    by: sofia\n    from: proposal\n")
    result = merge_texts(DEAL, move("negotiation", "2026-11-20T10:00:00+01:00"),
                         move("lost", "2026-11-21T10:00:00+01:00"))
    assert result.clean
    data = load(result.text)
    assert data["stage"] == "lost" and data["stage_history"][-1]["stage"] == "lost"


def test_add_add_of_the_same_person_keeps_the_earlier_created() -> None:
    a = "name: Anna Berg\nemail: anna@nordvik.no\ncreated: 2026-11-23T10:00:00+01:00\n"
    b = "name: Anna Berg\nemail: anna@nordvik.no\ncreated: 2026-11-23T09:00:00+01:00\n"
    result = merge_texts("", a, b)
    assert result.clean
    assert load(result.text)["created"].isoformat() == "2026-11-23T09:00:00+01:00"


def test_updated_at_takes_the_later() -> None:
    base = "name: X\nupdated_at: 2026-11-20T09:00:00+01:00\n"
    result = merge_texts(base, base.replace("09:00", "10:00") + "a: 1\n", base.replace("09:00", "11:00") + "b: 2\n")
    assert result.clean
    assert load(result.text) == load("name: X\nupdated_at: 2026-11-20T11:00:00+01:00\na: 1\nb: 2\n")


LEAD = "name: Eva Holm\nstatus: prospect\ncreated: 2026-11-20T09:00:00+01:00\n"


def routed(owner: str, at: str, rule: str = "prospect-small") -> str:
    return LEAD + f"owner: {owner}\nrouting:\n  rule: {rule}\n  at: {at}\n  status: prospect\n  owner: {owner}\n"


def test_the_same_routing_on_both_sides_keeps_the_earlier_time() -> None:
    result = merge_texts(LEAD, routed("alan", "2026-11-20T11:00:00+01:00"), routed("alan", "2026-11-20T10:00:00+01:00"))
    assert result.clean
    data = load(result.text)
    assert data["routing"]["at"].hour == 10 and "routing_conflicts" not in data


def test_different_routing_on_both_sides_keeps_the_earlier_and_records_the_other() -> None:
    result = merge_texts(LEAD, routed("alan", "2026-11-20T11:00:00+01:00"),
                         routed("karin", "2026-11-20T10:00:00+01:00", "prospect-large"))
    assert result.clean, result.conflicts
    data = load(result.text)
    assert data["owner"] == "karin" and data["routing"]["owner"] == "karin"
    assert [c["owner"] for c in data["routing_conflicts"]] == ["alan"]


def test_unreadable_side_conflicts_as_a_whole() -> None:
    result = merge_texts(LEAD, LEAD + "x: [\n", LEAD + "y: 1\n")
    assert not result.clean and "<<<<<<<" in result.text


def test_one_notification_written_on_both_sides_keeps_the_earlier() -> None:
    def msg(date: str) -> str:
        return f"From: a@b.se\r\nDate: {date}\r\nMessage-ID: <crmkit.notify.x@b.se>\r\n\r\nHej\r\n"
    early, late = msg("Fri, 20 Nov 2026 10:00:00 +0100"), msg("Fri, 20 Nov 2026 11:00:00 +0100")
    assert merge_message("", late, early).text == early
    other = early.replace("crmkit.notify.x", "other")
    assert not merge_message("", late, other).clean


def test_the_merge_file_command_writes_ours_and_exits_1_on_a_conflict(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from conftest import invoke

    from crmkit.store.merge_driver import main as entry

    base, ours, theirs = (tmp_path / n for n in ("o", "a", "b"))
    base.write_text(TICKET)
    theirs.write_text(TICKET.replace("priority: normal", "priority: high"))
    for run in (lambda: invoke(["merge-file", str(base), str(ours), str(theirs), "tickets/tk.yaml"]).exit_code,
                lambda: entry([str(base), str(ours), str(theirs), "tickets/tk.yaml"])):
        ours.write_text(TICKET + "  - type: replied\n    at: 2026-11-20T10:00:00+01:00\n    by: nora\n")
        assert run() == 0
        assert "priority: high" in ours.read_text() and "type: replied" in ours.read_text()
        ours.write_text(TICKET.replace("priority: normal", "priority: low"))
        assert run() == 1
        assert "<<<<<<< ours\npriority: low\n=======\npriority: high\n>>>>>>> theirs (tickets/tk.yaml)\n" in ours.read_text()


def test_status_changed_and_back_on_one_side_follows_the_newest_event() -> None:
    def status(frm: str, to: str, at: str) -> str:
        return f"  - type: status\n    at: {at}\n    by: nora\n    from: {frm}\n    to: {to}\n"
    ours = TICKET.replace("status: open", "status: pending") + status("open", "pending", "2026-11-20T11:00:00+01:00")
    theirs = TICKET + status("open", "pending", "2026-11-20T09:10:00+01:00") + status(
        "pending", "open", "2026-11-20T12:00:00+01:00")
    result = merge_texts(TICKET, ours, theirs)
    assert result.clean
    assert load(result.text)["status"] == "open"


def test_routing_to_the_same_owner_for_another_status_is_one_routing() -> None:
    early = routed("alan", "2026-11-20T10:00:00+01:00").replace("  status: prospect", "  status: new")
    result = merge_texts(LEAD, routed("alan", "2026-11-20T11:00:00+01:00"), early)
    assert result.clean
    data = load(result.text)
    assert data["routing"]["status"] == "new" and "routing_conflicts" not in data


def test_two_routings_at_one_time_keep_the_same_decision_whichever_way_round() -> None:
    base = "name: Big\nstatus: prospect\ncreated: 2026-11-22T08:47:00+01:00\n"
    block = "owner: {o}\nrouting:\n  rule: pool\n  at: 2026-11-22T08:47:00+01:00\n  status: prospect\n  owner: {o}\n"
    karin, daniel = base + block.format(o="karin"), base + block.format(o="daniel")
    one, other = merge_texts(base, karin, daniel), merge_texts(base, daniel, karin)
    assert one.clean and other.clean
    kept = [yamlio.loads_fast(r.text)["routing"] for r in (one, other)]
    assert kept[0] == kept[1] and kept[0]["owner"] == "daniel"
    assert [yamlio.loads_fast(r.text)["routing_conflicts"][0]["owner"] for r in (one, other)] == ["karin", "karin"]


def test_a_days_digest_written_in_both_clones_is_one_of_them_whichever_way_round() -> None:
    """Both clones tick and write the owner's digest of the day under one id, with their own
    counts (the team-day seeds 100, 103 and 126 conflicted on it)."""
    ours = ("type: note\nsubject: 'Follow-ups: 2 overdue, 0 today'\nat: 2026-11-24T08:00:00+01:00\n"
            "owner: karin\ndigest: 2026-11-24\nbody: two\n")
    theirs = ("type: note\nsubject: 'Follow-ups: 3 overdue, 1 today'\nat: 2026-11-24T08:00:00+01:00\n"
              "owner: karin\ndigest: 2026-11-24\nbody: three\n")
    one = merge_texts("", ours, theirs, "activities/act-20261124-s7jjg.yaml")
    other = merge_texts("", theirs, ours, "activities/act-20261124-s7jjg.yaml")
    assert one.clean and other.clean, (one.conflicts, other.conflicts)
    assert load(one.text) == load(other.text) in (load(ours), load(theirs))
    # an ordinary note written in both clones with different bodies still conflicts
    plain = merge_texts("", ours.replace("digest: 2026-11-24\n", ""), theirs.replace("digest: 2026-11-24\n", ""),
                        "activities/act-1.yaml")
    assert not plain.clean
