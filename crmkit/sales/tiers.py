"""Value tiers: rules/value.yaml read, checked and cached, and the tier rules' thresholds.

`crmkit.sales.value` computes the figures these rules read; `check_value_rules` is
`crmkit check`'s look at every rule file's tiers and sentiments.
"""

from __future__ import annotations

import pickle
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmkit.conditions.language import Condition
from crmkit.errors import ConditionError, CrmkitError, Problem
from crmkit.store import yamlio

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace


VALUE_FILE = "rules/value.yaml"


#: The fields crmkit.sales.value computes for companies and contacts (all usable in conditions).
VALUE_FIELDS = ("lifetime_value", "won_deals", "first_purchase", "last_purchase", "open_pipeline",
                "average_deal", "recency_days", "recency", "frequency", "monetary", "rfm", "rfm_score", "tier")


#: The tier of everyone when the workspace has no rules/value.yaml.
DEFAULT_TIER = "standard"


class ValueRuleError(CrmkitError):
    """rules/value.yaml is broken: a bad condition, an unknown field or tier."""


@dataclass(frozen=True)
class Tiering:
    """rules/value.yaml: tiers best first, each with its condition; the default last."""

    tiers: tuple[tuple[str, Condition, int | None], ...]
    default: str

    @property
    def names(self) -> list[str]:
        """Every tier, best first, the default last."""
        out = [t for t, _, _ in self.tiers]
        return out + ([self.default] if self.default not in out else [])

    def rank(self, tier: str | None) -> int:
        """0 for the best tier; larger is lower; an unknown tier ranks below all."""
        names = self.names
        return names.index(tier) if tier in names else len(names)


def _known_field(ws: Workspace, name: str) -> bool:
    from crmkit.store.schema import COMMON, FIELDS

    top = name.split(".")[0]
    if top in VALUE_FIELDS or top == "id" or top in COMMON:
        return True
    for kind in ("company", "contact"):
        if top in FIELDS[kind] or any(top in r.data for r in ws.records(kind)):
            return True
    return False


def _closest(word: str, choices: Iterable[str]) -> str | None:
    import difflib

    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.7)
    return found[0] if found else None


def read_tiering(ws: Workspace) -> tuple[Tiering, list[Problem]]:
    """rules/value.yaml as a Tiering and every problem in it (never raises for a bad file).

    The file::

        tiers:                     # best first; the first whose condition holds wins
          platinum: lifetime_value >= 1000000
          gold: lifetime_value >= 250000 or rfm_score >= 12
          silver: won_deals >= 1
        default: standard          # everyone else
    """
    path: Path = ws.root / VALUE_FILE
    if not path.is_file():
        return Tiering((), DEFAULT_TIER), []
    from crmkit.store import cache

    where = cache.cache_path(ws.root, "rules.value")
    st = path.stat()
    key = (cache.CACHE_VERSION, "tiering-1", st.st_size, st.st_mtime_ns)
    fresh = st.st_mtime_ns < cache.racy_after()  # else too recent to trust its mtime
    if fresh:
        stored = cache.load(where, (key,))
        if isinstance(stored, Tiering):
            return stored, []
    try:
        text = yamlio.read_text(path)
        doc = yamlio.loads_fast(text, VALUE_FILE)  # a round trip (pure Python) costs ~45 ms
    except CrmkitError as exc:
        return Tiering((), DEFAULT_TIER), [Problem(VALUE_FILE, exc.line, "value-syntax", exc.message)]
    tiering, problems = _tiering_from(ws, doc, lambda _node, _key: None)
    if problems:  # rare: read again keeping line numbers for the messages
        try:
            return _tiering_from(ws, yamlio.loads_roundtrip(text, VALUE_FILE), yamlio.line_of)
        except CrmkitError:
            return tiering, problems
    if fresh and _record_free(tiering):
        # The parsed tiers, kept while the file's size and mtime stay (as crmkit.yaml is): a
        # warm report then neither imports ruamel.yaml nor tokenizes, which together cost
        # more than computing every customer's figures. Not when a tier reads a custom
        # field: whether that field exists depends on the records.
        try:
            cache.save(ws.root, where, (key,), tiering)
        except (TypeError, AttributeError, pickle.PicklingError):
            pass  # a `matches` holds a compiled pattern: parsed again next time
    return tiering, problems


def _record_free(tiering: Tiering) -> bool:
    """True when the tier rules read only value fields, `id` and schema fields."""
    from crmkit.store.schema import COMMON, FIELDS

    known = {*VALUE_FIELDS, "id", *COMMON, *FIELDS["company"], *FIELDS["contact"]}
    return all(p.split(".")[0] in known for _, cond, _ in tiering.tiers for p in cond.paths())


def _tiering_from(ws: Workspace, doc: Any, line_of: Any) -> tuple[Tiering, list[Problem]]:
    """read_tiering's checks on a parsed file; `line_of(mapping, key)` gives lines, or None."""
    problems: list[Problem] = []
    if doc is None:
        doc = {}
    if not isinstance(doc, Mapping):
        return Tiering((), DEFAULT_TIER), [Problem(VALUE_FILE, 1, "value-syntax",
                                                   "rules/value.yaml is a mapping with `tiers:` and `default:`")]
    for key in doc:
        if key not in ("tiers", "default"):
            problems.append(Problem(VALUE_FILE, line_of(doc, key), "value-key",
                                    f"unknown key {key!r} (the file has `tiers:` and `default:`)"))
    raw = doc.get("tiers") or {}
    tiers: list[tuple[str, Condition, int | None]] = []
    if not isinstance(raw, Mapping):
        problems.append(Problem(VALUE_FILE, line_of(doc, "tiers"), "value-syntax",
                                "tiers: is a mapping of tier name to condition, best first"))
        raw = {}
    from crmkit.conditions.language import parse

    for name, text in raw.items():
        line = line_of(raw, name)
        if not isinstance(text, str) or not text.strip():
            problems.append(Problem(VALUE_FILE, line, "value-syntax", f"tier {name}: the condition must be text"))
            continue
        try:
            cond = parse(text)
        except ConditionError as exc:
            problems.append(Problem(VALUE_FILE, line, "value-syntax", f"tier {name}: {exc.message}"))
            continue
        for p in sorted(cond.paths()):
            if p.split(".")[0] == "tier":
                problems.append(Problem(VALUE_FILE, line, "value-field",
                                        f"tier {name}: a tier cannot depend on the tier itself"))
            elif not _known_field(ws, p):
                hint = _closest(p.split(".")[0], VALUE_FIELDS)
                problems.append(Problem(VALUE_FILE, line, "value-field",
                                        f"tier {name}: unknown field {p!r}"
                                        + (f" (did you mean {hint!r}?)" if hint else
                                           f"; value fields are {', '.join(VALUE_FIELDS[:-1])}")))
        tiers.append((str(name), cond, line))
    default = doc.get("default", DEFAULT_TIER)
    if not isinstance(default, str) or not default:
        problems.append(Problem(VALUE_FILE, line_of(doc, "default"), "value-syntax",
                                "default: names the tier of everyone else"))
        default = DEFAULT_TIER
    return Tiering(tuple(tiers), str(default)), problems


def load_tiering(ws: Workspace) -> Tiering:
    """rules/value.yaml, refusing a broken file with its first problem (file and line)."""
    cached = ws.memo.get("tiering")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    tiering, problems = read_tiering(ws)
    if problems:
        p = problems[0]
        raise ValueRuleError(f"{p.code}: {p.message}", path=p.path, line=p.line)
    ws.memo["tiering"] = tiering
    return tiering


def tier_choices(ws: Workspace) -> list[str] | None:
    """Every tier (conditions/choices.py refuses others); None while rules/value.yaml is
    broken: the command then stops on the broken file itself."""
    if "tier_choices" not in ws.memo:
        tiering, problems = read_tiering(ws)
        ws.memo["tier_choices"] = None if problems else tiering.names
    return ws.memo["tier_choices"]  # type: ignore[no-any-return]


#: The records a rule file's conditions are about: a bare `tier` of a ticket is its own field,
#: `company.tier` the customer's. Files not named here are checked for any path ending in
#: `tier` or `sentiment`.
RULE_KINDS = {"rules/triage.yaml": "ticket", "rules/escalation.yaml": "ticket", "rules/scoring.yaml": "lead",
              "rules/routing.yaml": None}


def _condition_problems(ws: Workspace, rel: str, line: int | None, text: str, what: str, kind: str | None,
                        code: str) -> list[Problem]:
    from crmkit.conditions.choices import unknown_values
    from crmkit.conditions.language import parse

    try:
        cond = parse(text)
    except ConditionError:
        return []  # syntax is reported by the rule file's own check
    return [Problem(rel, line, code, f"{what}: {m}") for m in unknown_values(ws, cond, kind)]


def _conditions_in(node: Any) -> Iterable[tuple[Any, str, str]]:
    """(mapping, key, text) of every `when:` and `where:` text in a round-trip document."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key in ("when", "where") and isinstance(value, str):
                yield node, str(key), value
            else:
                yield from _conditions_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from _conditions_in(item)


def check_value_rules(ws: Workspace) -> list[Problem]:
    """For `crmkit check`: rules/value.yaml, and unknown tiers and sentiments named in the other
    rule files and the SLA policies (`rules/triage.yaml:7: value-tier: when: unknown tier
    'platnum' (did you mean 'platinum'?)`). Segments are checked by their own checker, which
    runs their `where:` as --where does."""
    problems = list(read_tiering(ws)[1])
    folder = ws.root / "rules"
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        rel = f"rules/{path.name}"
        if rel == VALUE_FILE:
            continue
        try:
            doc = yamlio.loads_roundtrip(yamlio.read_text(path), rel)
        except CrmkitError:
            continue  # the file's own checker reports what is wrong with it
        kind = RULE_KINDS.get(rel)
        for mapping, key, text in _conditions_in(doc):
            problems += _condition_problems(ws, rel, yamlio.line_of(mapping, key), text, key, kind, "value-tier")
    try:
        config = yamlio.loads_roundtrip(yamlio.read_text(ws.config_path), "crmkit.yaml")
    except CrmkitError:
        config = None
    sla = config.get("sla") if isinstance(config, Mapping) else None
    policies = sla.get("policies") if isinstance(sla, Mapping) else None
    for i, policy in enumerate(policies if isinstance(policies, list) else []):
        if isinstance(policy, Mapping) and isinstance(policy.get("when"), str):
            problems += _condition_problems(ws, "crmkit.yaml", yamlio.line_of(policy, "when"), policy["when"],
                                            f"sla.policies[{i}] ({policy.get('id')})", "ticket", "value-tier")
    return problems


_ORDER = ("<", "<=", ">", ">=", "==", "!=")


def _thresholds(tiering: Tiering) -> dict[str, tuple[list[Decimal], frozenset[Decimal]]]:
    """Fields the tier rules compare with numbers only (`lifetime_value >= 1500000`), with
    those numbers sorted. Such a comparison's outcome depends only on where a value lies
    among the numbers, so customers whose figures lie alike share one evaluation: a
    handful of evaluations instead of one per distinct lifetime value."""
    from crmkit.conditions.syntax import BoolOp, Compare, Exists, Literal, Not
    from crmkit.conditions.syntax import Path as PathNode
    from crmkit.values import parse_decimal

    numbers: dict[str, list[Decimal]] = {}
    exact: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, BoolOp):
            for item in node.items:
                walk(item)
        elif isinstance(node, Not):
            walk(node.inner)
        elif isinstance(node, Compare) and isinstance(node.left, PathNode) and node.op in _ORDER \
                and isinstance(node.right, Literal) and isinstance(node.right.value, (int, Decimal)) \
                and not isinstance(node.right.value, bool) and parse_decimal(node.right.value) is not None:
            numbers.setdefault(node.left.name, []).append(parse_decimal(node.right.value))  # type: ignore[arg-type]
        elif isinstance(node, Exists):
            exact.add(node.path.name)
        else:  # anything else: the value itself decides
            for side in (getattr(node, "left", None), getattr(node, "right", None)):
                if isinstance(side, PathNode):
                    exact.add(side.name)

    for _, cond, _ in tiering.tiers:
        walk(cond.tree)
    return {p: (sorted(ns), frozenset(ns)) for p, ns in numbers.items() if p not in exact}


def _bucket(value: Any, numbers: tuple[list[Decimal], frozenset[Decimal]] | None) -> Any:
    """The part of a figure a tier rule can see (see _thresholds); the figure itself otherwise."""
    if numbers is None or value is None or isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        return value
    return ("<", bisect_left(numbers[0], value), value in numbers[1])
