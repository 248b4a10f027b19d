"""A partner's slice: `crmkit partner export P DIR` and `crmkit partner import P DIR`.

The slice is a workspace of its own, a git repository the partner clones:

    crmkit.yaml            the partner's: our name, currency, pipeline; no users
    slice.yaml             what it is: partner, exported_at, and the records it holds
    companies/P.yaml       the partner itself, and contacts/ its own people
    leads/, activities/, deals/
                           the leads handed to P, the activities on them, and the deals
                           (quotes, orders) made from them or naming `partner: P`; a lead
                           holds only what partner.share and consent.partners allow
    shared/                the brochures and campaign material of `partners/shared/`
    campaigns/             the running campaigns (what, when, channel; not budget or lessons),
                           with the segments/ and templates/mail/ files they name, read-only

`partner import` takes back what the partner committed there since the export,
through the merge driver of team use (store/merge_driver.py): changes to a lead's
status and partner fields (LEAD_FIELDS), new and changed activities on its leads,
new and changed deals from its leads. Anything else — a record outside the slice,
a lead field such as its owner, a deleted record, a campaign or its segment or template,
crmkit.yaml — refuses the whole import (exit 1, nothing changed), as does a merge that conflicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmkit.errors import CrmkitError
from crmkit.sales.partners import partners
from crmkit.store.records import ID_RE

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace

SHARED = "partners/shared"
MANIFEST = "slice.yaml"
#: Lead fields a partner may change.
LEAD_FIELDS = frozenset({"status", "partner_status", "disqualified_reason", "notes", "tags", "users",
                         "interest", "industry"})
#: Record folders a partner may add to or change, and the kind in each.
FOLDERS = {"leads": "lead", "activities": "activity", "deals": "deal"}
#: Campaign fields a partner sees: what the campaign is and when, not our budget, owner or lessons.
CAMPAIGN_FIELDS = ("name", "goal", "channel", "segment", "template", "variants", "holdout", "start", "end",
                   "status", "attribution_days")
#: Folders the slice carries read-only (the running campaigns and what they name), and what they hold.
READ_ONLY = {"campaigns": "a campaign", "segments": "a campaign's segment", "templates": "a campaign's template"}


def _partner(ws: Workspace, pid: str) -> Any:
    found = partners(ws)
    if pid not in found:
        if pid in ws.index("company"):
            raise CrmkitError(f"company {pid} has no partner: settings; it is not a partner")
        raise CrmkitError(f"no partner company {pid!r} (a company with partner: settings)")
    return found[pid]


def slice_records(ws: Workspace, pid: str) -> dict[str, Any]:
    """rel path -> record of every record in P's slice."""
    partner = _partner(ws, pid)
    leads = {r.id: r for r in ws.records("lead") if r.get("partner") == pid}
    chosen = {ws.rel(partner.path): partner}
    chosen.update({ws.rel(c.path): c for c in ws.records("contact") if c.get("company") == pid})
    chosen.update({ws.rel(r.path): r for r in leads.values()})
    for act in ws.records("activity"):
        if act.get("lead") in leads:
            chosen[ws.rel(act.path)] = act
    for deal in ws.records("deal"):
        if deal.get("lead") in leads or deal.get("partner") == pid:
            chosen[ws.rel(deal.path)] = deal
    return chosen


def running(rec: Any, today: Any) -> bool:
    """Whether a campaign is active: `status: running`, or no status and today within start..end."""
    from crmkit.values import to_date

    status = rec.get("status")
    if status is not None:
        return status == "running"
    start, end = to_date(rec.get("start")), to_date(rec.get("end"))
    return start is not None and start <= today and (end is None or today <= end)


def campaign_files(ws: Workspace) -> dict[str, bytes]:
    """rel path -> content of the running campaigns (partner fields only) and of the segment
    and workspace mail templates each names, so that `crmkit check` holds in the partner's clone."""
    from crmkit.store import paths, yamlio

    files: dict[str, bytes] = {}
    today = ws.today()
    mail = ws.root / "templates" / "mail"
    for rec in ws.records("campaign"):
        if not running(rec, today):
            continue
        files[ws.rel(rec.path)] = yamlio.dumps({k: rec.data[k] for k in CAMPAIGN_FIELDS
                                                if k in rec.data}).encode("utf-8")
        named: list[Path] = []
        if ID_RE.match(str(rec.get("segment") or "")):
            named.append(ws.root / "segments" / f"{rec.get('segment')}.yaml")
        variants = rec.get("variants") if isinstance(rec.get("variants"), list) else []
        templates = {str(t) for t in [v.get("template") for v in variants if isinstance(v, dict)]
                     + [rec.get("template")] if t}
        # NAME.md.j2 and every language's NAME.LANG.md.j2; crmkit's own defaults ship with crmkit
        named += [p for p in sorted(mail.iterdir() if mail.is_dir() else []) if p.name.endswith(".j2")
                  and any(p.name.startswith(f"{t}.") or p.name == t for t in templates)]
        for path in named:
            if path.is_file() and not path.is_symlink():
                files[ws.rel(path)] = paths.read_bytes(path)
    return files


def _consented(ws: Workspace, act: Any) -> bool:
    lead = ws.index("lead").get(str(act.get("lead")))
    consent = lead.get("consent") if lead is not None else None
    return isinstance(consent, dict) and consent.get("partners") is True


def export(ws: Workspace, pid: str, dest: Path, command: str) -> tuple[str, dict[str, int]]:
    """Write P's slice as a new git repository at `dest`; (its commit, counts per folder)."""
    from crmkit.sales.partners import shared_fields
    from crmkit.store import paths, yamlio
    from crmkit.store.gitio import commit_message

    partner = _partner(ws, pid)
    records = slice_records(ws, pid)
    files: dict[str, bytes] = {}
    for rel, rec in list(records.items()):
        if rec.kind == "lead":
            # what the partner may see of it (partner.share, consent.partners) and what it may change
            seen, _withheld = shared_fields(partner, rec.data)
            keep = {k: rec.data[k] for k in rec.data if k in LEAD_FIELDS or k in ("partner", "created", "source")}
            # a lead needs a name: where the person's is withheld, the company's or the id stands in
            name = seen.get("name") or rec.get("company_name") or f"Lead {rec.id}"
            files[rel] = yamlio.dumps({"name": name, **seen, **keep}).encode("utf-8")
        elif rec.kind == "activity" and rec.get("direction") == "in" and not _consented(ws, rec):
            del records[rel]  # the person's own words go only where they agreed to it
        else:
            files[rel] = paths.read_bytes(rec.path)
    shared = ws.root / SHARED
    if shared.is_dir():
        for path in sorted(shared.rglob("*")):
            if path.is_file() and not path.is_symlink():
                files["shared/" + path.relative_to(shared).as_posix()] = paths.read_bytes(path)
    campaigns = campaign_files(ws)
    files.update(campaigns)
    cfg = ws.config
    config: dict[str, Any] = {"name": f"{cfg.get('name', 'crmkit')}: slice for {partner.get('name')}",
              **{k: cfg[k] for k in ("timezone", "locale", "currency", "pipeline") if k in cfg}}
    files["crmkit.yaml"] = yamlio.dumps(config).encode("utf-8")
    manifest = {"partner": pid, "exported_at": ws.now(), "of": str(cfg.get("name", "")),
                "records": sorted(records), "read_only": sorted(campaigns)}
    files[MANIFEST] = yamlio.dumps(manifest).encode("utf-8")
    files[".gitignore"] = b".crmkit/\n"
    from crmkit.store.team import GITATTRIBUTES

    files[".gitattributes"] = GITATTRIBUTES.encode("utf-8")  # the partner's clone merges as a team's does
    from crmkit.store.slices import write_repository

    sha = write_repository(dest, files, commit_message(f"slice of {cfg.get('name', 'crmkit')} for partner {pid}",
                                                       [], command), cfg)
    counts: dict[str, int] = {}
    for rel in files:
        top = rel.split("/", 1)[0] if "/" in rel else "(top)"
        counts[top] = counts.get(top, 0) + 1
    return sha, counts


@dataclass
class TakeBack:
    changed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def take_back(ws: Workspace, pid: str, src: Path, command: str) -> TakeBack:
    """Merge what the partner committed in their slice at `src` into the workspace, or refuse
    all of it (CrmkitError naming every refused change)."""
    from crmkit.store import yamlio
    from crmkit.store.merge_driver import merge_texts
    from crmkit.store.slices import read_changes, record_path

    _partner(ws, pid)
    _first, status, then, now = read_changes(src)
    manifest_text = (then.get(MANIFEST) or now.get(MANIFEST))
    if manifest_text is None:
        from crmkit.store.slices import read_file_at

        manifest_text = read_file_at(src, _first, MANIFEST)
    manifest = yamlio.loads_fast(manifest_text.decode("utf-8"), MANIFEST) if manifest_text else None
    if not isinstance(manifest, dict) or "partner" not in manifest:
        raise CrmkitError(f"{src} has no {MANIFEST}: not a slice made by `crmkit partner export`")
    if manifest["partner"] != pid:
        raise CrmkitError(f"{src} is the slice of partner {manifest['partner']}, not of {pid}")
    exported = set(manifest.get("records") or [])
    leads = {r.id for r in ws.records("lead") if r.get("partner") == pid}
    refused: list[str] = []
    plan: list[tuple[str, str, str, str | None, str]] = []   # (rel, kind, id, base text, theirs text)
    for rel, code in sorted(status.items()):
        where = record_path(rel)
        kind = FOLDERS.get(where[0]) if where else None
        if rel.startswith("shared/"):
            continue  # material we publish: their copy is theirs
        if rel.split("/", 1)[0] in READ_ONLY:
            refused.append(f"{rel}: {READ_ONLY[rel.split('/', 1)[0]]} is ours; the slice carries it read-only")
            continue
        if where is None or kind is None:
            refused.append(f"{rel}: outside the partner's slice (a partner changes leads, activities and deals)")
            continue
        if code == "D":
            refused.append(f"{rel}: a partner does not delete records")
            continue
        theirs_text = now[rel].decode("utf-8")
        data = yamlio.loads_fast(theirs_text, rel)
        if not isinstance(data, dict):
            refused.append(f"{rel}: not a record (a YAML mapping)")
            continue
        if code == "A" and kind == "lead":
            refused.append(f"{rel}: a partner does not add leads")
            continue
        if code == "M" and rel not in exported:
            refused.append(f"{rel}: outside the partner's slice")
            continue
        if kind in ("activity", "deal") and data.get("lead") not in leads and data.get("partner") != pid:
            refused.append(f"{rel}: names lead {data.get('lead')!r}, not one of partner {pid}'s leads")
            continue
        base_text = then[rel].decode("utf-8") if rel in then else None
        if kind == "lead" and base_text is not None:
            before = yamlio.loads_fast(base_text, rel) or {}
            changed = sorted(k for k in set(before) | set(data) if before.get(k) != data.get(k) and k not in LEAD_FIELDS)
            if changed:
                refused.append(f"{rel}: a partner may change {', '.join(sorted(LEAD_FIELDS))} of a lead, "
                               f"not {', '.join(changed)}")
                continue
        plan.append((rel, kind, where[1], base_text, theirs_text))
    if refused:
        more = f" (and {len(refused) - 1} more: {'; '.join(refused[1:4])})" if len(refused) > 1 else ""
        raise CrmkitError(f"partner {pid}'s changes refused, nothing taken back: {refused[0]}{more}")
    result = TakeBack()
    merged: list[tuple[str, str, str, str]] = []
    for rel, kind, rid, base_text, theirs_text in plan:
        from crmkit.store import paths

        rec = ws.index(kind).get(rid)
        ours_text = paths.read_text(rec.path) if rec is not None else None
        if ours_text is None:
            if base_text is not None:
                raise CrmkitError(f"{rel}: removed here since the export; nothing taken back")
            text = theirs_text
        else:
            res = merge_texts(base_text if base_text is not None else ours_text, ours_text, theirs_text, rel,
                              labels=("ours", f"partner {pid}"))
            if not res.clean:
                raise CrmkitError(f"{rel}: the partner's change conflicts with ours ({', '.join(res.conflicts)}); "
                                  "nothing taken back")
            text = res.text
        if text != ours_text:
            merged.append((rel, kind, rid, text))
    if not merged:
        result.notes.append("nothing new to take back")
        return result
    from crmkit.store.validate import validate_data

    with ws.transaction(f"take back partner {pid}'s changes", command) as tx:
        for rel, kind, rid, text in merged:
            data = yamlio.loads_fast(text, rel)
            validate_data(ws, kind, rid, data, ws.root / rel)
            tx.write_file(rel, text)
            result.changed.append(rel)
            tx.note(rel)
        ws.invalidate()
    return result
