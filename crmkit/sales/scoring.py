"""Lead scoring from `rules/scoring.yaml`, computed when a lead is read and never stored::

    cap: 100                 # the total never exceeds this (optional)
    floor: 0                 # nor falls below this (optional)
    groups:
      - name: fit
        cap: 50              # this group adds at most 50 (floor: likewise, for negatives)
        rules:
          - {when: "users >= 100", points: 30}
          - {when: "users >= 50 and users < 100", points: 15}
      - name: risk
        rules:
          - {when: 'email matches "@(gmail|hotmail)\\\\."', points: -10}
    bands:                   # the first band whose minimum the score reaches; one band may have none
      hot: 70
      warm: 40
      cold: null

Within a group every matching rule adds its points; the group's sum is held
within its cap and floor, then the groups' sums are added and held within the
total cap and floor. `score` and `band` are computed fields of leads, so
`crmkit lead list --where "score >= 70" --sort -score` works.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crmkit.conditions.language import Condition
from crmkit.errors import CrmkitError, Problem, RuleError
from crmkit.store import yamlio
from crmkit.store.records import Record

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace

SCORING_FILE = "rules/scoring.yaml"
TOP_KEYS = ("cap", "floor", "groups", "bands", "kind", "description")
GROUP_KEYS = ("name", "cap", "floor", "rules", "description")
RULE_KEYS = ("when", "points", "id", "description")


@dataclass
class ScoreRule:
    when: Condition | None
    points: int
    line: int | None
    label: str


@dataclass
class Group:
    name: str
    rules: list[ScoreRule]
    cap: int | None = None
    floor: int | None = None
    line: int | None = None


@dataclass
class Scoring:
    kind: str = "lead"
    groups: list[Group] = field(default_factory=list)
    cap: int | None = None
    floor: int | None = None
    bands: list[tuple[str, int | None]] = field(default_factory=list)  # highest minimum first
    problems: list[Problem] = field(default_factory=list)
    _last: tuple[Any, int] | None = None  # the last record scored: band follows score for the same lead

    def band(self, score: int) -> str | None:
        bottom = None
        for name, minimum in self.bands:
            if minimum is None:
                bottom = name
            elif score >= minimum:
                return name
        return bottom


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _clamp(value: int, floor: int | None, cap: int | None) -> int:
    if cap is not None and value > cap:
        value = cap
    if floor is not None and value < floor:
        value = floor
    return value


def _read_limits(raw: Any, target: Any, rel: str, what: str, found: list[Problem]) -> None:
    """`cap` and `floor` of the model or of a group: whole numbers, or a problem each."""
    for key in ("cap", "floor"):
        if raw.get(key) is not None:
            value = _int(raw.get(key))
            if value is None:
                found.append(Problem(rel, yamlio.line_of(raw, key), "rule-field", f"{what}{key} must be a whole number"))
            setattr(target, key, value)


def parse_scoring(ws: Workspace, doc: Any, rel: str = SCORING_FILE) -> Scoring:
    """Build the scoring model from a round-trip document; problems are collected, not raised."""
    from crmkit.conditions.rulefile import parse_condition
    from crmkit.store.records import KINDS

    s = Scoring()
    found = s.problems

    def line(node: Any, key: Any) -> int | None:
        return yamlio.line_of(node, key)

    if doc is None:
        return s
    if not isinstance(doc, dict):
        found.append(Problem(rel, 1, "rule-syntax", "the scoring file is a mapping with groups and bands"))
        return s
    for key in doc:
        if key not in TOP_KEYS:
            found.append(Problem(rel, line(doc, key), "rule-field",
                                 f"unknown field {key!r} (the scoring file has {', '.join(TOP_KEYS)})"))
    kind = doc.get("kind", "lead")
    if kind not in KINDS:
        found.append(Problem(rel, line(doc, "kind"), "rule-kind", f"unknown kind {kind!r}"))
    else:
        s.kind = kind
    _read_limits(doc, s, rel, "", found)
    groups = doc.get("groups") or []
    if not isinstance(groups, list):
        found.append(Problem(rel, line(doc, "groups"), "rule-syntax", "groups must be a list"))
        groups = []
    for gi, graw in enumerate(groups):
        gline = yamlio.item_line(groups, gi)
        if not isinstance(graw, dict):
            found.append(Problem(rel, gline, "rule-syntax", f"group {gi + 1}: expected a mapping with name and rules"))
            continue
        name = str(graw.get("name") or f"group-{gi + 1}")
        for key in graw:
            if key not in GROUP_KEYS:
                found.append(Problem(rel, line(graw, key), "rule-field",
                                     f"group {name}: unknown field {key!r} (a group has {', '.join(GROUP_KEYS)})"))
        group = Group(name, [], line=gline)
        _read_limits(graw, group, rel, f"group {name}: ", found)
        rules = graw.get("rules") or []
        if not isinstance(rules, list):
            found.append(Problem(rel, line(graw, "rules"), "rule-syntax", f"group {name}: rules must be a list"))
            rules = []
        for ri, rraw in enumerate(rules):
            rline = yamlio.item_line(rules, ri) or gline
            what = f"group {name} rule {ri + 1}"
            if not isinstance(rraw, dict):
                found.append(Problem(rel, rline, "rule-syntax", f"{what}: expected {{when, points}}"))
                continue
            for key in rraw:
                if key not in RULE_KEYS:
                    found.append(Problem(rel, line(rraw, key) or rline, "rule-field",
                                         f"{what}: unknown field {key!r} (a scoring rule has {', '.join(RULE_KEYS)})"))
            points = _int(rraw.get("points"))
            if points is None:
                found.append(Problem(rel, line(rraw, "points") or rline, "rule-field",
                                     f"{what}: points must be a whole number (negative allowed)"))
                points = 0
            when, p = parse_condition(rraw.get("when"), rel, line(rraw, "when") or rline, what)
            if p is not None:
                found.append(p)
                continue
            label = str(rraw.get("id") or (when.text if when is not None else "always"))
            group.rules.append(ScoreRule(when, points, rline, label))
        s.groups.append(group)
    bands = doc.get("bands")
    if bands is not None:
        items: list[tuple[Any, Any, int | None]] = []
        if isinstance(bands, dict):
            items = [(k, v, line(bands, k)) for k, v in bands.items()]
        elif isinstance(bands, list):
            for bi, b in enumerate(bands):
                if isinstance(b, dict) and "name" in b:
                    items.append((b.get("name"), b.get("min"), line(b, "name")))
                else:
                    found.append(Problem(rel, line(doc, "bands"), "rule-syntax",
                                         f"band {bi + 1}: expected {{name, min}}"))
        else:
            found.append(Problem(rel, line(doc, "bands"), "rule-syntax",
                                 "bands must be a mapping of band name to minimum score"))
        bottoms = 0
        for name, minimum, bline in items:
            if minimum is None:
                bottoms += 1
                s.bands.append((str(name), None))
                continue
            value = _int(minimum)
            if value is None:
                found.append(Problem(rel, bline, "rule-field", f"band {name}: the minimum must be a whole number"))
                continue
            s.bands.append((str(name), value))
        if bottoms > 1:
            found.append(Problem(rel, line(doc, "bands"), "rule-field", "only one band may be without a minimum"))
        s.bands.sort(key=lambda b: (b[1] is None, -(b[1] or 0)))
    return s


def _stamp(path: Any) -> Any:
    try:
        st = path.stat()
        return (st.st_size, st.st_mtime_ns)
    except OSError:
        return None


def load_scoring(ws: Workspace) -> Scoring | None:
    """The workspace's scoring rules, read once per workspace object (and again if the file changes)."""
    path = ws.root / SCORING_FILE
    stamp = _stamp(path)
    cached = ws.readers.get("scoring")
    if cached is not None and cached[0] == stamp:
        return cached[1]
    if stamp is None:
        result: Scoring | None = None
    else:
        try:
            result = parse_scoring(ws, yamlio.load_roundtrip(path))
        except CrmkitError as exc:
            result = Scoring(problems=[Problem(SCORING_FILE, exc.line, "rule-syntax", exc.message)])
    ws.readers["scoring"] = (stamp, result)
    return result


#: Problems that make scores impossible to compute.
BROKEN_CODES = ("rule-syntax", "rule-field", "rule-kind")


def broken(ws: Workspace) -> list[Problem]:
    """What makes rules/scoring.yaml unusable (empty when it is fine or absent)."""
    s = load_scoring(ws)
    return [] if s is None else [p for p in s.problems if p.code in BROKEN_CODES]


def _usable(ws: Workspace, record: Record, *, strict: bool = False) -> Scoring | None:
    """The scoring model for this record, or None.

    A broken scoring file must not stop a listing or report (DESIGN: broken files are
    warnings there): the computed fields are then absent and one warning names the
    file and line. `strict` (lead score) raises instead; `route` refuses to run
    rules that use the score while the file is broken (rules.load_checked).
    """
    s = load_scoring(ws)
    if s is None or record.kind != s.kind:
        return None
    fatal = [p for p in s.problems if p.code in BROKEN_CODES]
    if fatal:
        first = fatal[0]
        if strict:
            raise RuleError(f"{first.message} (scores cannot be computed; run `crmkit check`)",
                            path=first.path, line=first.line, column=getattr(first, "column", None))
        if not getattr(s, "_warned", False):
            s._warned = True  # type: ignore[attr-defined]
            warnings = getattr(ws, "warnings", None)
            if isinstance(warnings, list):
                warnings.append(Problem(first.path, first.line, first.code,
                                        f"{first.message}; scores are left out until it is fixed"))
        return None
    return s


def compute(ws: Workspace, s: Scoring, record: Record, notes: list[dict[str, Any]] | None = None) -> int:
    data = record.data
    total = 0
    for group in s.groups:
        raw = 0
        hits: list[dict[str, Any]] = []
        for rule in group.rules:
            if rule.when is None:
                ok, why = True, ["always"]
            elif notes is not None:
                why = rule.when.explain(data, ws.resolve)
                ok = why[-1] == "=> true"
                why = why[:-1]
            else:
                ok, why = rule.when.evaluate(data, ws.resolve), []
            if ok:
                raw += rule.points
            if notes is not None:
                hits.append({"rule": rule.label, "when": rule.when.text if rule.when else "true",
                             "points": rule.points, "matched": ok, "notes": why, "line": rule.line})
        value = _clamp(raw, group.floor, group.cap)
        total += value
        if notes is not None:
            notes.append({"group": group.name, "raw": raw, "points": value, "cap": group.cap,
                          "floor": group.floor, "capped": value != raw, "rules": hits})
    return _clamp(total, s.floor, s.cap)


def score_value(ws: Workspace, record: Record) -> int | None:
    """A lead's score (None when the workspace has no rules/scoring.yaml)."""
    s = _usable(ws, record)
    if s is None:
        return None
    if s._last is not None and s._last[0] is record:
        return s._last[1]
    value = compute(ws, s, record)
    s._last = (record, value)
    return value


def band_value(ws: Workspace, record: Record) -> str | None:
    """A lead's band (hot, warm, cold...) from its score, or None without bands."""
    s = _usable(ws, record)
    if s is None or not s.bands:
        return None
    score = score_value(ws, record)
    return None if score is None else s.band(score)


def explain_score(ws: Workspace, record: Record) -> dict[str, Any]:
    """How a lead's score was built: every rule of every group, the caps, the total and the band."""
    s = _usable(ws, record, strict=True)
    if s is None:
        raise CrmkitError(f"no scoring rules: write {SCORING_FILE} (see `crmkit lead score --help`)")
    groups: list[dict[str, Any]] = []
    total = compute(ws, s, record, groups)
    raw_total = sum(g["points"] for g in groups)
    return {"kind": record.kind, "id": record.id, "title": record.title, "score": total,
            "band": s.band(total) if s.bands else None, "sum": raw_total, "cap": s.cap, "floor": s.floor,
            "capped": raw_total != total, "groups": groups}


def explain_text(info: dict[str, Any]) -> list[str]:
    lines = [f"{info['kind']}/{info['id']}  {info['title']}: score {info['score']}"
             + (f" ({info['band']})" if info["band"] else "")]
    for g in info["groups"]:
        limit = []
        if g["cap"] is not None:
            limit.append(f"cap {g['cap']}")
        if g["floor"] is not None:
            limit.append(f"floor {g['floor']}")
        capped = f" -> {g['points']} ({', '.join(limit)})" if g["capped"] else ""
        lines.append(f"  {g['group']}: {g['raw']:+d}{capped}" + (f"   [{', '.join(limit)}]" if limit and not capped else ""))
        for r in g["rules"]:
            mark = f"{r['points']:+d}" if r["matched"] else "  0"
            lines.append(f"    {mark:>4}  {r['when']}" + ("" if r["matched"] else f"   (no: {'; '.join(r['notes'])})"))
    if info["capped"]:
        bounds = ", ".join(x for x in (f"cap {info['cap']}" if info["cap"] is not None else "",
                                       f"floor {info['floor']}" if info["floor"] is not None else "") if x)
        lines.append(f"  total: {info['sum']:+d} -> {info['score']} ({bounds})")
    else:
        lines.append(f"  total: {info['score']}")
    return lines


def check_scoring(ws: Workspace) -> list[Problem]:
    """Problems of rules/scoring.yaml for `crmkit check`."""
    s = load_scoring(ws)
    if s is None:
        return []
    found = list(s.problems)
    from crmkit.conditions.listing import known_fields

    known = None
    for group in s.groups:
        for rule in group.rules:
            if rule.when is None:
                continue
            if known is None:
                known = known_fields(ws, s.kind, ws.records(s.kind)) - {"score", "band"}
            for path in sorted(rule.when.paths()):
                head = path.split(".")[0]
                if head in ("score", "band"):
                    found.append(Problem(SCORING_FILE, rule.line, "rule-field",
                                         f"group {group.name}: a scoring rule cannot use the score itself ({head})"))
                elif head not in known:
                    found.append(Problem(SCORING_FILE, rule.line, "rule-unknown-field",
                                         f"group {group.name}: no {s.kind} has a field {head!r}, "
                                         "so this rule never adds points"))
    return found
