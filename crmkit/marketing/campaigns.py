"""Campaigns (`campaigns/<id>.yaml`): a segment, one or more template variants, a holdout, a budget.

    name: BI for ERP customers, autumn 2026
    goal: BI pilots with ERP customers
    channel: email
    segment: newsletter-sv          # segments/<name>.yaml, of contacts or leads
    variants:                       # or `template: NAME` for a single one
      - {id: a, template: bi-invite-a, share: 45}
      - {id: b, template: bi-invite-b, share: 45}
    holdout: 10                     # percent who get nothing: the control group
    start: 2026-10-05
    end: 2026-11-30
    budget: 30000                   # in the workspace currency (or `currency:`)
    attribution_days: 30            # README: how results are attributed

**The split** is a pure function of campaign id and record id: the first 8 bytes of
SHA-256 of `"<campaign>|<record id>"`, as a number from 0 up to 1, fall into the
variants' shares in the order written, the holdout last. A contact stays in its
variant however the segment grows, and two clones split alike.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from crmkit.errors import CrmkitError, Problem
from crmkit.store import yamlio
from crmkit.store.records import Record

if TYPE_CHECKING:
    from crmkit.store.transaction import Transaction
    from crmkit.store.workspace import Workspace

HOLDOUT = "holdout"
CAMPAIGN_HEADER = "X-Crmkit-Campaign"
VARIANT_HEADER = "X-Crmkit-Variant"
DEFAULT_ATTRIBUTION_DAYS = 30


@dataclass
class Variant:
    id: str
    template: str
    share: Decimal       # percent


@dataclass
class Campaign:
    record: Record
    segment: str | None
    variants: list[Variant] = field(default_factory=list)
    holdout: Decimal = Decimal(0)
    attribution_days: int = DEFAULT_ATTRIBUTION_DAYS

    @property
    def id(self) -> str:
        return self.record.id

    def variant_of(self, record_id: str) -> str:
        """The variant id (or `holdout`) this record gets: the documented split."""
        digest = hashlib.sha256(f"{self.id}|{record_id}".encode()).digest()
        point = Decimal(int.from_bytes(digest[:8], "big")) / Decimal(2 ** 64) * 100
        edge = Decimal(0)
        for v in self.variants:
            edge += v.share
            if point < edge:
                return v.id
        return HOLDOUT if self.holdout else self.variants[-1].id


def _percent(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        d = Decimal(str(value).strip().rstrip("%").strip())
    except InvalidOperation:
        return None
    return d if d.is_finite() and d >= 0 else None


def read(ws: Workspace, rec: Record) -> tuple[Campaign, list[Problem]]:
    """The campaign and everything wrong with it (file and line), for `check` and `campaign send`."""
    from crmkit.marketing.mailtemplate import load_template
    from crmkit.marketing.segments import get_segment

    rel = ws.rel(rec.path)
    try:
        doc = yamlio.load_roundtrip(rec.path)
    except CrmkitError:
        doc = None
    lines = yamlio.key_lines(rec.path) if doc is not None else {}
    listed = doc.get("variants") if isinstance(doc, dict) else None
    problems: list[Problem] = []

    def bad(key: str, message: str, code: str = "campaign", item: int | None = None) -> None:
        line = yamlio.item_line(listed, item) if item is not None and isinstance(listed, list) else None
        problems.append(Problem(rel, line or lines.get(key) or 1, code, message))

    data = rec.data
    seg = data.get("segment")
    camp = Campaign(rec, str(seg) if seg else None)
    if not seg:
        bad("name", "a campaign needs a `segment` (segments/<name>.yaml)")
    else:
        try:
            s = get_segment(ws, str(seg))
            if s.kind not in ("contact", "lead"):
                bad("segment", f"segment {seg!r} holds {s.kind} records; a campaign mails contacts or leads")
        except CrmkitError as exc:
            bad("segment", f"segment: {exc.message}")
    raw = data.get("variants")
    if raw is None and data.get("template"):
        raw = [{"id": "a", "template": data.get("template")}]
    if not isinstance(raw, list) or not raw:
        bad("variants" if "variants" in data else "name",
            "a campaign needs `template: NAME` or `variants: [{id, template, share}, ...]`")
        raw = []
    holdout = _percent(data.get("holdout", 0))
    if holdout is None or holdout >= 100:
        bad("holdout", f"holdout is a percentage from 0 up to 100, not {data.get('holdout')!r}")
        holdout = Decimal(0)
    camp.holdout = holdout
    seen: set[str] = set()
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not item.get("template"):
            bad("variants", f"variants[{i + 1}]: a variant is {{id, template, share}}", item=i)
            continue
        vid = str(item.get("id") or chr(ord("a") + i))
        if vid in seen or vid == HOLDOUT:
            bad("variants", f"variants[{i + 1}]: the id {vid!r} is taken", item=i)
        seen.add(vid)
        share = _percent(item["share"]) if "share" in item else None
        if "share" in item and share is None:
            bad("variants", f"variant {vid}: share is a percentage, not {item['share']!r}", item=i)
        try:
            load_template(ws, str(item["template"]))
        except CrmkitError as exc:
            bad("variants" if "variants" in data else "template", f"variant {vid}: {exc.message}", item=i)
        camp.variants.append(Variant(vid, str(item["template"]), share if share is not None else Decimal(-1)))
    unset = [v for v in camp.variants if v.share < 0]
    if unset:
        if len(unset) != len(camp.variants):
            bad("variants", "give every variant a share, or none (then they split what the holdout leaves evenly)")
        for v in unset:
            v.share = (Decimal(100) - holdout) / len(camp.variants)
    total = sum((v.share for v in camp.variants), Decimal(0)) + holdout
    if camp.variants and abs(total - 100) > Decimal("0.000001"):
        bad("variants", f"the variants' shares and the holdout add up to {total.normalize():f} %, not 100 %",
            "campaign-split")
    days = data.get("attribution_days", DEFAULT_ATTRIBUTION_DAYS)
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        bad("attribution_days", f"attribution_days is a whole number of days, not {days!r}")
    else:
        camp.attribution_days = days
    budget = data.get("budget")
    if budget is not None:
        from crmkit.values import parse_decimal

        if parse_decimal(budget) is None:
            bad("budget", f"budget is an amount, not {budget!r}")
    return camp, problems


def check_campaigns(ws: Workspace) -> list[Problem]:
    """`crmkit check`: every campaign's segment and templates exist and its split adds up."""
    out: list[Problem] = []
    for rec in ws.records("campaign"):
        out.extend(read(ws, rec)[1])
    return out


def load(ws: Workspace, ref: str) -> Campaign:
    """The campaign for a command; refuses (file:line) a broken one before anything is written."""
    rec = ws.get(ref if "/" in ref else f"campaign/{ref}")
    camp, problems = read(ws, rec)
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more; run `crmkit check`)" if len(problems) > 1 else ""
        raise CrmkitError(f"{first.message}{more}; nothing was written", path=first.path, line=first.line)
    return camp


# -- sending ---------------------------------------------------------------------------------


@dataclass
class SendPlan:
    campaign: Campaign
    rendered: dict[str, list[Any]] = field(default_factory=dict)     # variant -> mail.Rendered
    templates: dict[str, Any] = field(default_factory=dict)          # variant -> mailtemplate.MailTemplate
    holdout: list[str] = field(default_factory=list)
    skipped: list[Any] = field(default_factory=list)                 # mail.Skipped
    failed: list[Any] = field(default_factory=list)                  # mail.Failure

    def to_dict(self) -> dict[str, Any]:
        return {"campaign": self.campaign.id,
                "variants": {v: [r.record.id for r in rs] for v, rs in self.rendered.items()},
                "holdout": self.holdout, "skipped": [s.to_dict() for s in self.skipped],
                "failed": [f.to_dict() for f in self.failed]}


def already_sent(ws: Workspace, campaign_id: str) -> set[str]:
    """Refs of the records this campaign's mail was logged on (sent, or being sent)."""
    out = set()
    for a in ws.records("activity"):
        if a.get("campaign") == campaign_id and a.get("type") == "email":
            for kind in ("contact", "lead"):
                if isinstance(a.get(kind), str):
                    out.add(f"{kind}/{a.get(kind)}")
                    break
    return out


def plan_send(ws: Workspace, camp: Campaign) -> SendPlan:
    """Who gets which variant, who is held out or left out and why, rendered (nothing written).

    Consent is checked here for marketing templates and again, per message, by `mail send`."""
    from crmkit.marketing.mail import Skipped, choose_recipients, drop_pending, render_all
    from crmkit.marketing.mailtemplate import load_template
    from crmkit.marketing.segments import get_segment, members

    plan = SendPlan(camp)
    records = [v.record for v in members(ws, get_segment(ws, str(camp.segment)))]
    plan.templates = {v.id: load_template(ws, v.template) for v in camp.variants}
    marketing = any(t.kind == "marketing" for t in plan.templates.values())
    sent = already_sent(ws, camp.id)
    todo = []
    for rec in sorted(records, key=lambda r: r.id):
        group = camp.variant_of(rec.id)
        if group == HOLDOUT:
            plan.holdout.append(rec.id)
        elif rec.ref in sent:
            plan.skipped.append(Skipped(rec.id, "already sent in this campaign"))
        else:
            todo.append(rec)
    chosen, skipped = choose_recipients(ws, todo, marketing)
    plan.skipped += skipped
    for v in camp.variants:
        mine = [r for r in chosen if camp.variant_of(r.id) == v.id]
        mine, waiting = drop_pending(ws, plan.templates[v.id], mine)
        plan.skipped += waiting
        rendered, failed = render_all(ws, plan.templates[v.id], mine)
        plan.rendered[v.id] = rendered
        plan.failed += failed
    return plan


def write_send(ws: Workspace, tx: Transaction, plan: SendPlan) -> list[str]:
    """Every variant's messages into the outbox, stamped with campaign and variant."""
    from crmkit.marketing.mail import write_outbox

    paths = []
    for vid, rendered in plan.rendered.items():
        if rendered:
            paths += write_outbox(ws, tx, plan.templates[vid], rendered,
                                  headers={CAMPAIGN_HEADER: plan.campaign.id, VARIANT_HEADER: vid})
    return paths
