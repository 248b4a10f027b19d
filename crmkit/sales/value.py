"""Customer value: lifetime value, purchases, open pipeline, RFM scores and the value tier.

A *customer* is a company, or a contact who buys as a private person (a deal with no
`company` counts for its first contact). A contact who works for a company shows its
company's figures, so `contact.tier` and `company.tier` agree.

Every figure is a pure function of the deal files, the pipeline configuration
(stages, currency, rates) and a date (*as of*):

* ``lifetime_value``  won value in the workspace currency (through `pipeline.rates`)
* ``won_deals``       how many deals were won
* ``first_purchase``, ``last_purchase``  dates of the first and last win
* ``open_pipeline``   the value of open deals (not weighted)
* ``average_deal``    lifetime value / won deals
* ``recency_days``    days from the last purchase to the as-of date
* ``recency``, ``frequency``, ``monetary``  quintile scores 1-5 over the workspace's buying
  customers; ``rfm`` is the three digits ("545"), ``rfm_score`` their sum (3-15)
* ``tier``            the first tier in `rules/value.yaml` whose condition holds, else its default

As of a past date, a deal counts as won if its stage history says it was won by then
(:func:`crmkit.sales.pipeline.deal_as_of`); values are today's (deal values have no
history outside git).

Quintile score: ``1 + floor(5 * worse / n)`` where ``n`` is the number of buying
customers and ``worse`` how many of them do strictly worse on the measure (fewer
recent, fewer deals, less money). Ties share a score; the best customer scores 5
once there are at least two. Customers who never bought have no RFM.
"""

from __future__ import annotations

import datetime as dt
import pickle
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmkit.conditions.language import Condition
from crmkit.errors import ConditionError, CrmkitError, Problem
from crmkit.sales.facts import amount_of
from crmkit.sales.pipeline import PipelineConfig
from crmkit.store import yamlio
from crmkit.store.records import Record
from crmkit.values import to_date

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace

VALUE_FILE = "rules/value.yaml"

#: The fields this module computes for companies and contacts (all usable in conditions).
VALUE_FIELDS = ("lifetime_value", "won_deals", "first_purchase", "last_purchase", "open_pipeline",
                "average_deal", "recency_days", "recency", "frequency", "monetary", "rfm", "rfm_score", "tier")

#: The tier of everyone when the workspace has no rules/value.yaml.
DEFAULT_TIER = "standard"

ZERO = Decimal(0)
CENT = Decimal("0.01")


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


@dataclass
class CustomerValue:
    """The value figures of one customer as of a date."""

    kind: str
    id: str
    name: str
    lifetime_value: Decimal = ZERO
    won_deals: int = 0
    first_purchase: dt.date | None = None
    last_purchase: dt.date | None = None
    open_pipeline: Decimal = ZERO
    recency_days: int | None = None
    recency: int | None = None
    frequency: int | None = None
    monetary: int | None = None
    tier: str = DEFAULT_TIER
    won: list[str] = field(default_factory=list)  # deal ids, for explaining a figure

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.id}"

    @property
    def average_deal(self) -> Decimal | None:
        return (self.lifetime_value / self.won_deals).quantize(Decimal("0.01")) if self.won_deals else None

    @property
    def rfm(self) -> str | None:
        if self.recency is None or self.frequency is None or self.monetary is None:
            return None
        return f"{self.recency}{self.frequency}{self.monetary}"

    @property
    def rfm_score(self) -> int | None:
        if self.recency is None or self.frequency is None or self.monetary is None:
            return None
        return self.recency + self.frequency + self.monetary

    def fields(self) -> dict[str, Any]:
        """The computed fields, as conditions and `show` see them (None: not applicable)."""
        return {"lifetime_value": self.lifetime_value, "won_deals": self.won_deals,
                "first_purchase": self.first_purchase, "last_purchase": self.last_purchase,
                "open_pipeline": self.open_pipeline, "average_deal": self.average_deal,
                "recency_days": self.recency_days, "recency": self.recency, "frequency": self.frequency,
                "monetary": self.monetary, "rfm": self.rfm, "rfm_score": self.rfm_score, "tier": self.tier}


# --------------------------------------------------------------------------- rules/value.yaml


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


def _tiering_from(ws: Any, doc: Any, line_of: Any) -> tuple[Tiering, list[Problem]]:
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


def _condition_problems(ws: Any, rel: str, line: int | None, text: str, what: str, kind: str | None,
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


# --------------------------------------------------------------------------- figures


def _as_of_datetime(ws: Workspace, as_of: dt.date | dt.datetime | None) -> dt.datetime:
    if as_of is None:
        return ws.now()  # type: ignore[no-any-return]
    if isinstance(as_of, dt.datetime):
        return as_of if as_of.tzinfo else as_of.replace(tzinfo=ws.tz)
    # the end of that day: a deal won on the as-of date counts
    return dt.datetime.combine(as_of, dt.time(23, 59, 59), tzinfo=ws.tz)


#: What value figures (and sentiment signals) read of one deal, cached per file by
#: Workspace.derived: a plain tuple (company, first contact, stage, value, currency,
#: closed as a date ordinal, created as a POSIX timestamp, history of (timestamp, stage,
#: from) sorted, contacts, title, tags). Tuples of numbers unpickle several times faster
#: than objects and datetimes, and a warm report reads 10,000 of them.
DealRow = tuple[str | None, str | None, str, Any, str | None, int | None, float | None,
                tuple[tuple[float, str, str | None], ...], tuple[str, ...], str, tuple[str, ...]]


def deal_row(deal: Mapping[str, Any], tz: Any) -> DealRow:
    from crmkit.sales.facts import stage_of
    from crmkit.sales.history import history_of
    from crmkit.values import to_datetime

    company = deal.get("company")
    people = deal.get("contacts")
    first = people[0] if isinstance(people, list) and people and isinstance(people[0], str) else None
    currency = deal.get("currency")
    return (company if isinstance(company, str) and company else None, first, stage_of(deal) or "",
            deal.get("value"), str(currency) if currency else None,
            closed.toordinal() if (closed := to_date(deal.get("closed"))) is not None else None,
            created.timestamp() if (created := to_datetime(deal.get("created"), tz)) is not None else None,
            tuple((h.at.timestamp(), h.stage, h.from_stage) for h in history_of(deal, tz)),
            tuple(c for c in people if isinstance(c, str)) if isinstance(people, list) else (),
            str(deal.get("title") or ""),
            tuple(str(t) for t in tags) if isinstance(tags := deal.get("tags"), list) else ())


def company_names(ws: Workspace) -> list[tuple[str, str]]:
    """(id, name) of every company; from the derived cache when it is warm."""
    memo = ws.memo.get("company_names")
    if memo is not None:
        return memo  # type: ignore[no-any-return]
    rows = ws.derived("company", "name", lambda rid, d: str(d.get("name") or rid), key="name-1")
    if rows is None:
        rows = [(c.id, str(c.get("name") or c.id)) for c in ws.records("company")]
    ws.memo["company_names"] = rows
    return rows


def deal_rows(ws: Workspace, cfg: PipelineConfig) -> list[tuple[str, DealRow]]:
    """(id, DealRow) of every deal; from the derived cache when it is warm."""
    memo = ws.memo.get("deal_rows")
    if memo is not None:
        return memo  # type: ignore[no-any-return]
    rows = ws.derived("deal", "value", lambda _rid, d: deal_row(d, cfg.tz), key="value-4|" + str(cfg.tz))
    if rows is None:
        rows = [(d.id, deal_row(d.data, cfg.tz)) for d in ws.records("deal")]
    ws.memo["deal_rows"] = rows
    return rows


def _stage_then(row: DealRow, at: float, today: int, cfg: PipelineConfig,
                won: str) -> tuple[str | None, dt.date | None]:
    """(stage, won date) of a deal as of `at` (a timestamp; `today` its date ordinal), as
    crmkit.sales.pipeline.stage_as_of tells it.

    None as the stage: not created yet, or closed after `at` with no history to say where
    it stood (not guessed)."""
    now_stage, closed, created, history = row[2], row[5], row[6], row[7]
    if created is None and history:
        created = history[0][0]
    if created is not None and created > at:
        return None, None
    if not history:
        st = cfg.get(now_stage)
        if st is not None and st.is_closed and closed is not None and closed > today:
            return None, None
        return now_stage, dt.date.fromordinal(closed) if now_stage == won and closed is not None else None
    if history[-1][0] <= at and history[-1][1] != won:
        return history[-1][1], None  # the common case: the whole history lies before the date
    stage: str | None = None
    entered: float | None = None
    for h_at, h_stage, _ in history:
        if h_at > at:
            break
        if h_stage != stage:
            entered = h_at
        stage = h_stage
    if stage is None:
        return history[0][2] or history[0][1], None
    if stage != won:
        return stage, None
    if stage == now_stage and closed is not None and closed <= today:
        return stage, dt.date.fromordinal(closed)
    if entered is not None:
        return stage, dt.datetime.fromtimestamp(entered, cfg.tz).date()
    return stage, dt.date.fromordinal(closed) if closed is not None else None


def _quintiles(values: list[Any]) -> list[int]:
    """Score 1-5 per value: 1 + floor(5 * strictly-worse / n); higher values are better."""
    ordered = sorted(values)
    n = len(ordered)
    return [1 + (5 * bisect_left(ordered, v)) // n for v in values]


def _prepared(ws: Any, rows: list[tuple[str, DealRow]]) -> list[tuple[str, tuple[str, str], Any, str | None,
                                                                       DealRow]]:
    """(id, customer key, amount in the deal's currency, currency, row) of every deal that
    belongs to a customer: what does not depend on the date, once for the dates of a command."""
    memo = ws.memo.get("value_prepared")
    if memo is not None and memo[0] is rows:
        return memo[1]  # type: ignore[no-any-return]
    out = []
    for rid, row in rows:
        company, contact = row[0], row[1]
        if company is not None:
            key = ("company", company)
        elif contact is not None:
            key = ("contact", contact)
        else:
            continue
        currency = row[4]
        out.append((rid, key, amount_of(row[3]), currency.upper() if currency else None, row))
    ws.memo["value_prepared"] = (rows, out)
    return out


def customer_key(ws: Workspace, rec: Record) -> tuple[str, str] | None:
    """Whose figures a record shows: a company its own; a contact its company's, or its own if private."""
    if rec.kind == "company":
        return ("company", rec.id)
    if rec.kind == "contact":
        company = rec.get("company")
        if isinstance(company, str) and company:
            return ("company", company)
        return ("contact", rec.id)
    return None


def compute(ws: Workspace, as_of: dt.date | dt.datetime | None = None, tiering: Tiering | None = None,
            rows: list[tuple[str, DealRow]] | None = None) -> dict[tuple[str, str], CustomerValue]:
    """Every customer's figures as of a date (default: now), keyed by (kind, id).

    Companies are always present (with zero figures when they never bought); private
    contacts only when they bought or have an open deal. ``rows`` (from :func:`deal_rows`)
    saves reading the deals again when several dates are computed.
    """
    at = _as_of_datetime(ws, as_of)
    today = at.astimezone(ws.tz).date()
    cfg = PipelineConfig.from_config(ws.config, ws.tz)
    rates = cfg.rates_to()
    if tiering is None:
        tiering = load_tiering(ws)
    out: dict[tuple[str, str], CustomerValue] = {}
    for cid, name in company_names(ws):
        out[("company", cid)] = CustomerValue("company", cid, name)
    names: dict[str, str] = {}
    won = cfg.won_stage.name
    at_ts, today_ord = at.timestamp(), today.toordinal()
    # 10,000 deals go through this loop twice for `report value`: lookups bound once
    stage_named = {st.name: st for st in cfg.stages}.get
    lost = {st.name for st in cfg.stages if st.lost}
    target = rates.target
    for rid, key, amount, currency, row in _prepared(ws, rows if rows is not None else deal_rows(ws, cfg)):
        created, history = row[6], row[7]
        stage: str | None
        if history and history[-1][0] <= at_ts and history[-1][1] != won and (created is None or created <= at_ts):
            stage, won_on = history[-1][1], None  # _stage_then's common case, without the call
        else:
            stage, won_on = _stage_then(row, at_ts, today_ord, cfg, won)
        if stage is None:
            continue
        if stage in lost:
            continue
        st = stage_named(stage)
        if amount is not None and currency and currency != target:
            try:
                amount = rates.convert(amount, currency, f"deals/{rid}.yaml")
            except CrmkitError:
                # no exchange rate: the deal adds no money (never kronor plus forints), and
                # tiers, SLA policies on `company.tier` and every listing still work;
                # `report value` names such deals and exits 4
                amount = None
        cv = out.get(key)
        if cv is None:
            if not names and key[0] == "contact":
                names = {c.id: str(c.get("name") or c.id) for c in ws.records("contact")}
            cv = out[key] = CustomerValue(key[0], key[1], names.get(key[1], key[1]))
        if st is not None and st.won:
            cv.won_deals += 1
            cv.won.append(rid)
            cv.lifetime_value += amount or ZERO
            when = won_on or (dt.datetime.fromtimestamp(created, cfg.tz).date() if created is not None else None)
            if when is not None:
                cv.first_purchase = when if cv.first_purchase is None else min(cv.first_purchase, when)
                cv.last_purchase = when if cv.last_purchase is None else max(cv.last_purchase, when)
        else:  # open, or a stage crmkit.yaml does not know (counted as open, as the pipeline does)
            cv.open_pipeline += amount or ZERO
    for cv in out.values():
        cv.lifetime_value = cv.lifetime_value.quantize(CENT)
        cv.open_pipeline = cv.open_pipeline.quantize(CENT)
    buyers = [cv for cv in out.values() if cv.won_deals]
    for cv in buyers:
        if cv.last_purchase is not None:
            cv.recency_days = max(0, (today - cv.last_purchase).days)
    if buyers:
        # fewer days since the last purchase is better: score the negated days
        rec = _quintiles([-(cv.recency_days if cv.recency_days is not None else 10**9) for cv in buyers])
        freq = _quintiles([cv.won_deals for cv in buyers])
        mon = _quintiles([cv.lifetime_value for cv in buyers])
        for cv, r, f, m in zip(buyers, rec, freq, mon, strict=True):
            cv.recency, cv.frequency, cv.monetary = r, f, m
    # Customers with the same figures get the same tier when the rules read figures only:
    # most customers share a handful of figures (never bought), so evaluate each once.
    paths = {p.split(".")[0] for _, cond, _ in tiering.tiers for p in cond.paths()}
    memo: dict[tuple[Any, ...], str] | None = {} if paths <= set(VALUE_FIELDS) else None
    read = sorted(paths)
    thresholds = _thresholds(tiering)
    for key, cv in out.items():
        if memo is not None:
            # every value field is an attribute of CustomerValue: no fields() dict per customer
            k = tuple([_bucket(getattr(cv, p), thresholds.get(p)) for p in read])
            tier_ = memo.get(k)
            if tier_ is None:
                tier_ = memo[k] = tier_of(ws, tiering, cv, None)
            cv.tier = tier_
        else:  # the rules read the record's own fields too
            rec_ = ws.index(key[0]).get(key[1])
            cv.tier = tier_of(ws, tiering, cv, rec_)
    return out


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


def tier_of(ws: Workspace, tiering: Tiering, cv: CustomerValue, rec: Record | None) -> str:
    """The first tier whose condition holds over the figures (and the record's own fields)."""
    mapping: dict[str, Any] = dict(rec.data) if rec is not None else {}
    mapping.update({k: v for k, v in cv.fields().items() if v is not None and k != "tier"})
    mapping["id"] = cv.id
    for name, cond, _ in tiering.tiers:
        if cond.evaluate(mapping, ws.resolve):
            return name
    return tiering.default


def values_now(ws: Workspace) -> dict[tuple[str, str], CustomerValue]:
    """:func:`compute` as of now, once per read of the records (computed fields ask per record)."""
    # one "now" per command: a long listing must not recompute as the clock ticks
    memo = ws.memo.get("values")
    if memo is not None:
        return memo  # type: ignore[no-any-return]
    values = ws.memo["values"] = compute(ws)
    return values


def customer_value(ws: Workspace, rec: Record) -> CustomerValue | None:
    key = customer_key(ws, rec)
    if key is None:
        return None
    values = values_now(ws)
    cv = values.get(key)
    if cv is None and key[0] == "contact":
        # a private contact who never bought: zero figures, the default tier
        cv = CustomerValue("contact", rec.id, str(rec.get("name") or rec.id))
        cv.tier = tier_of(ws, load_tiering(ws), cv, rec)
    return cv


def _field(name: str) -> Any:
    def get(ws: Workspace, rec: Record) -> Any:
        cv = customer_value(ws, rec)
        return None if cv is None else cv.fields()[name]

    get.__name__ = name
    get.__doc__ = f"The customer's `{name}` (crmkit.sales.value)."
    return get


# The computed fields, one function each: conditions/views.py COMPUTED names them.
lifetime_value = _field("lifetime_value")
won_deals = _field("won_deals")
first_purchase = _field("first_purchase")
last_purchase = _field("last_purchase")
open_pipeline = _field("open_pipeline")
average_deal = _field("average_deal")
recency_days = _field("recency_days")
recency = _field("recency")
frequency = _field("frequency")
monetary = _field("monetary")
rfm = _field("rfm")
rfm_score = _field("rfm_score")
tier = _field("tier")
