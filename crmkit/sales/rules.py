"""Routing and triage rule files: loading them with line numbers, and checking them.

A rule file (`rules/routing.yaml`, and `rules/triage.yaml` for tickets) is an
ordered list of rules; for each record the first rule whose `when` matches wins.
The list may be the whole document or sit under a `rules:` key::

    - id: prospects-large
      when: status == prospect and users > 50
      assign: karin
      tags: [big]
      notify: new-lead
    - id: fallback          # no `when` (or `when: true`): a catch-all
      pool: marketing

The model is kind-agnostic: `kind:` says which records a rule is for (default:
`lead` in routing.yaml, `ticket` in triage.yaml). Every kind that has rules must
end with a catch-all, so nothing is ever left unrouted silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmkit.conditions.language import Condition, parse
from crmkit.conditions.rulefile import column_of, parse_condition
from crmkit.errors import CrmkitError, Problem, RuleError
from crmkit.store import yamlio
from crmkit.store.records import KINDS

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace

#: Rule files in the order their rules are considered; the default kind of each.
RULE_FILES: tuple[tuple[str, str], ...] = (("rules/routing.yaml", "lead"), ("rules/triage.yaml", "ticket"))

ACTION_KEYS = ("assign", "pool", "set", "tags", "notify", "partner")
RULE_KEYS = ("id", "kind", "when", "description") + ACTION_KEYS

#: Fields a rule may not `set`: they are routing's own bookkeeping or have their own action.
RESERVED_SET = {"owner": "use `assign:` or `pool:` to choose the owner",
                "routing": "routing is written by `crmkit route` itself",
                "converted": "written by `crmkit lead convert`", "id": "the id is the file name",
                "partner": "use `partner:` to hand a lead to a partner"}

#: Problem codes that `crmkit route` and `crmkit check` both report as warnings: the
#: rules still run (a record no rule routes is left without an owner, exit 4 in route).
WARNING_CODES = {"rule-fallback", "rule-unreachable",
                 "config-key"}   # an unknown key in crmkit.yaml: a likely typo, never a reason to stop
#: Problem codes that stop `crmkit route` (the others are reported as warnings).
FATAL_CODES = {"rule-syntax", "rule-field", "rule-owner", "rule-pool", "rule-kind", "rule-id", "pool-config"}


@dataclass
class Rule:
    """One rule as written in a rule file."""

    id: str
    kind: str
    when: Condition | None  # None: a catch-all
    path: str  # workspace-relative file
    line: int | None
    assign: str | None = None
    pool: str | None = None
    set: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    notify: str | None = None
    partner: str | None = None     # a partner company, or auto (crmkit.sales.partners)
    description: str | None = None

    @property
    def catch_all(self) -> bool:
        return self.when is None

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line or 1}"

    @property
    def when_text(self) -> str:
        return self.when.text if self.when is not None else "true"

    def matches(self, mapping: Any, resolve: Any = None) -> bool:
        return True if self.when is None else self.when.evaluate(mapping, resolve)

    def actions(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ACTION_KEYS:
            value = getattr(self, key)
            if value:
                out[key] = value
        return out


@dataclass
class RuleSet:
    """Every rule of every rule file, in order, and the problems found while reading them."""

    rules: list[Rule]
    problems: list[Problem]

    def for_kind(self, kind: str) -> list[Rule]:
        return [r for r in self.rules if r.kind == kind]

    def kinds(self) -> list[str]:
        return [k for k in KINDS if any(r.kind == k for r in self.rules)]

    def fatal(self) -> list[Problem]:
        return [p for p in self.problems if p.code in FATAL_CODES]

    def raise_if_broken(self) -> None:
        """Stop a run before anything changes when a rule file is broken."""
        fatal = self.fatal()
        if fatal:
            first = fatal[0]
            more = f" (and {len(fatal) - 1} more problem{'s' if len(fatal) > 2 else ''}; run `crmkit check`)" \
                if len(fatal) > 1 else ""
            raise RuleError(f"{first.message}{more}; nothing was changed", path=first.path, line=first.line,
                            column=column_of(first))


def _file_problem(exc: CrmkitError, rel: str) -> Problem:
    return Problem(rel, exc.line, "rule-syntax", exc.message)


def _line(node: Any, key: Any) -> int | None:
    return yamlio.line_of(node, key)


def load_rules(ws: Workspace) -> RuleSet:
    """Read every rule file there is. Never raises for a broken file: its problems are returned."""
    cached = ws.readers.get("rules")
    stamp = _stamp(ws)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    rules: list[Rule] = []
    problems: list[Problem] = []
    seen_ids: dict[tuple[str, str], str] = {}
    for rel, default_kind in RULE_FILES:
        path = ws.root / rel
        if not path.is_file():
            continue
        try:
            doc = yamlio.load_roundtrip(path)
        except CrmkitError as exc:
            problems.append(_file_problem(exc, rel))
            continue
        items = doc
        if isinstance(doc, dict):
            extra = [k for k in doc if k != "rules"]
            if extra:
                problems.append(Problem(rel, _line(doc, extra[0]), "rule-field",
                                        f"unknown top-level key {extra[0]!r} (expected a list of rules, or `rules:`)"))
            items = doc.get("rules")
        if items is None:
            continue
        if not isinstance(items, list):
            problems.append(Problem(rel, 1, "rule-syntax", "a rule file is a list of rules (or `rules:` with a list)"))
            continue
        for i, item in enumerate(items):
            line = yamlio.item_line(items, i)
            rule, found = _read_rule(ws, item, rel, line, default_kind, i)
            problems.extend(found)
            if rule is None:
                continue
            key = (rule.kind, rule.id)
            if key in seen_ids:
                problems.append(Problem(rel, line, "rule-id",
                                        f"rule id {rule.id!r} is used twice for {rule.kind} rules (also at {seen_ids[key]})"))
            seen_ids[key] = rule.where
            rules.append(rule)
    result = RuleSet(rules, problems)
    ws.readers["rules"] = (stamp, result)
    return result


def _stamp(ws: Workspace) -> tuple[Any, ...]:
    out: list[tuple[int, int] | None] = []
    for rel, _ in RULE_FILES:
        try:
            st = (ws.root / rel).stat()
            out.append((st.st_size, st.st_mtime_ns))
        except OSError:
            out.append(None)
    return tuple(out)


def _read_rule(ws: Workspace, item: Any, rel: str, line: int | None, default_kind: str,
               index: int) -> tuple[Rule | None, list[Problem]]:
    problems: list[Problem] = []
    if not isinstance(item, dict):
        return None, [Problem(rel, line, "rule-syntax", f"rule {index + 1}: expected a mapping with id, when and actions")]
    rid = item.get("id")
    what = f"rule {rid}" if rid else f"rule {index + 1}"
    if not isinstance(rid, str) or not rid.strip():
        problems.append(Problem(rel, line, "rule-id", f"{what}: every rule needs an `id` (text)"))
        rid = f"rule-{index + 1}"
    for key in item:
        if key not in RULE_KEYS:
            hint = _closest(str(key), RULE_KEYS)
            problems.append(Problem(rel, _line(item, key) or line, "rule-field",
                                    f"{what}: unknown field {key!r}" + (f" (did you mean {hint!r}?)" if hint else "")
                                    + f"; a rule has {', '.join(RULE_KEYS)}"))
    kind = item.get("kind", default_kind)
    if kind not in KINDS:
        problems.append(Problem(rel, _line(item, "kind") or line, "rule-kind",
                                f"{what}: unknown kind {kind!r} (kinds: {', '.join(KINDS)})"))
        kind = default_kind
    when, p = parse_condition(item.get("when"), rel, _line(item, "when") or line, what)
    if p:
        problems.append(p)
    rule = Rule(id=str(rid), kind=str(kind), when=when, path=rel, line=line)
    if "when" in item and p is not None:
        # A broken condition must never turn the rule into a catch-all.
        rule.when = parse("exists(__never__)")
    desc = item.get("description")
    rule.description = str(desc) if desc is not None else None
    for key in ("assign", "pool", "notify", "partner"):
        value = item.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            problems.append(Problem(rel, _line(item, key) or line, "rule-field", f"{what}: `{key}` takes a name"))
            continue
        setattr(rule, key, value.strip())
    if rule.assign and rule.pool:
        problems.append(Problem(rel, _line(item, "pool") or line, "rule-field",
                                f"{what}: give either `assign` or `pool`, not both"))
    sets = item.get("set")
    if sets is not None:
        if not isinstance(sets, dict):
            problems.append(Problem(rel, _line(item, "set") or line, "rule-field",
                                    f"{what}: `set` takes a mapping of field: value"))
        else:
            rule.set = {str(k): yamlio.to_plain(v) for k, v in sets.items()}
            problems.extend(_set_problems(ws, rule, sets, rel, line, what))
    tags = item.get("tags")
    if tags is not None:
        if isinstance(tags, str):
            tags = [tags]
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            problems.append(Problem(rel, _line(item, "tags") or line, "rule-field", f"{what}: `tags` takes a list of text"))
        else:
            rule.tags = [str(t) for t in tags]
    return rule, problems


def _set_problems(ws: Workspace, rule: Rule, sets: Any, rel: str, line: int | None, what: str) -> list[Problem]:
    from crmkit.store.schema import FIELDS, type_problem

    found: list[Problem] = []
    fields = FIELDS[rule.kind]
    for key, value in sets.items():
        where = _line(sets, key) or line
        if key in RESERVED_SET:
            found.append(Problem(rel, where, "rule-field", f"{what}: cannot set {key!r}: {RESERVED_SET[key]}"))
            continue
        t = fields.get(key)
        if t is None:
            if not _custom_field_in_use(ws, rule.kind, key):
                hint = _closest(key, list(fields))
                found.append(Problem(rel, where, "rule-field",
                                     f"{what}: set: unknown {rule.kind} field {key!r}"
                                     + (f" (did you mean {hint!r}?)" if hint else "")
                                     + "; custom fields must already appear on some record"))
            continue
        why = type_problem(yamlio.to_plain(value), t)
        if why:
            found.append(Problem(rel, where, "rule-field", f"{what}: set: {key}: {why}"))
    return found


def _custom_field_in_use(ws: Workspace, kind: str, key: str) -> bool:
    return any(key in r.data for r in ws.records(kind))


def _closest(word: str, choices: Any) -> str | None:
    import difflib

    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.75)
    return found[0] if found else None


# -- checking ---------------------------------------------------------------------------


def check_rules(ws: Workspace) -> list[Problem]:
    """Everything wrong with the rule files and pools, for `crmkit check` (and `route`)."""
    ruleset = load_rules(ws)
    problems = list(ruleset.problems)
    problems.extend(semantic_problems(ws, ruleset))
    from crmkit.sales import pools, scoring

    problems.extend(pools.check_pools(ws))
    problems.extend(scoring.check_scoring(ws))
    return problems


def semantic_problems(ws: Workspace, ruleset: RuleSet) -> list[Problem]:
    """Owners, pools, unreachable rules, missing fallbacks, conditions naming unknown fields."""
    from crmkit.conditions.listing import known_fields
    from crmkit.sales import pools

    found: list[Problem] = []
    users = ws.users
    pool_names = set(pools.pool_config(ws))
    for kind in ruleset.kinds():
        rules = ruleset.for_kind(kind)
        known: set[str] | None = None
        catch_all: Rule | None = None
        for rule in rules:
            if catch_all is not None:
                found.append(Problem(rule.path, rule.line, "rule-unreachable",
                                     f"rule {rule.id} can never match: the catch-all {catch_all.id} "
                                     f"({catch_all.where}) comes before it"))
            if rule.assign and users and rule.assign not in users:
                found.append(Problem(rule.path, rule.line, "rule-owner",
                                     f"rule {rule.id}: assign: {rule.assign!r} is not a user in crmkit.yaml"))
            if rule.pool and rule.pool not in pool_names:
                found.append(Problem(rule.path, rule.line, "rule-pool",
                                     f"rule {rule.id}: pool: {rule.pool!r} is not a pool in crmkit.yaml"
                                     + (f" (pools: {', '.join(sorted(pool_names))})" if pool_names else "")))
            if rule.when is not None and "__never__" not in rule.when.text:
                if known is None:
                    known = known_fields(ws, kind, ws.records(kind))
                for path in sorted(rule.when.paths()):
                    head = path.split(".")[0]
                    if head not in known:
                        found.append(Problem(rule.path, rule.line, "rule-unknown-field",
                                             f"rule {rule.id}: when: no {kind} has a field {head!r}, "
                                             "so this comparison is always false"))
            if rule.notify:
                why = _template_problem(ws, rule.notify)
                if why:
                    found.append(Problem(rule.path, rule.line, "rule-notify", f"rule {rule.id}: notify: {why}"))
            if rule.catch_all and catch_all is None:
                catch_all = rule
        if catch_all is None:
            last = rules[-1]
            found.append(Problem(last.path, last.line, "rule-fallback",
                                 f"{kind} rules have no fallback: end them with a rule without `when` "
                                 "(or `when: true`) so no record is left unrouted"))
    return found


def _template_problem(ws: Workspace, name: str) -> str | None:
    """Why `notify: name` cannot be rendered, or None."""
    from crmkit.marketing.mailtemplate import load_template

    try:
        load_template(ws, name)
    except CrmkitError as exc:
        return exc.message
    return None


def load_checked(ws: Workspace) -> RuleSet:
    """The rules for a run: refuses broken files (syntax, unknown owners or pools) before anything changes."""
    ruleset = load_rules(ws)
    problems = list(ruleset.problems) + semantic_problems(ws, ruleset)
    from crmkit.sales import pools

    problems += [p for p in pools.check_pools(ws) if p.code in FATAL_CODES]
    if any(path.split(".")[0] in ("score", "band") for r in ruleset.rules if r.when is not None
           for path in r.when.paths()):
        # Rules that compare the score must not run on a broken scoring file (the score
        # would be missing and every such comparison silently false).
        from crmkit.sales import scoring

        problems += scoring.broken(ws)
    checked = RuleSet(ruleset.rules, problems)
    checked.raise_if_broken()
    return checked


def rule_file_paths(ws: Workspace) -> list[Path]:
    return [ws.root / rel for rel, _ in RULE_FILES if (ws.root / rel).is_file()]
