"""The condition language shared by `list --where`, segments and every rule file.

A hand-written tokenizer and recursive-descent parser (crmkit.conditions.syntax)
build a small tree, which this module evaluates; nothing is ever evaluated as Python. Grammar (lowest precedence first):

    expr     := or
    or       := and ("or" and)*
    and      := not ("and" not)*
    not      := "not" not | primary
    primary  := "(" expr ")" | "exists" "(" path ")" | comparison
    comparison := operand [op operand | "in" list-or-path | "not" "in" ... | "matches" string]
    operand  := path | literal       (a bare word right of == != < <= > >= contains is text)
    literal  := number | string | date | timestamp | true | false | null | list | bare word

Semantics: a missing field makes every comparison false (only `exists` sees it);
text that is not a number never compares with a number; dotted paths follow
references through a resolver.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from crmkit.conditions.syntax import (
    MISSING,
    BoolOp,
    Compare,
    Exists,
    ListLit,
    Literal,
    Not,
    Parser,
    Path,
    Resolver,
)
from crmkit.errors import ConditionError
from crmkit.values import parse_decimal

# -- evaluation ---------------------------------------------------------------------------


def _number(value: Any) -> Decimal | None:
    # Conditions compare numbers as the rest of crmkit reads them ("12 345,50" is a number).
    return parse_decimal(value)


def _as_date(value: Any) -> dt.date | dt.datetime | None:
    if isinstance(value, (dt.date, dt.datetime)):
        return value
    if isinstance(value, str):
        try:
            if len(value) == 10:
                return dt.date.fromisoformat(value)
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def _coerce_pair(a: Any, b: Any) -> tuple[Any, Any] | None:
    """Make two values comparable, or None when they are not (text vs number)."""
    if isinstance(a, (dt.date, dt.datetime)) or isinstance(b, (dt.date, dt.datetime)):
        da, db = _as_date(a), _as_date(b)
        if da is None or db is None:
            return None
        if isinstance(da, dt.datetime) != isinstance(db, dt.datetime):
            # a date against a timestamp: compare the timestamp's calendar date
            da = da.date() if isinstance(da, dt.datetime) else da
            db = db.date() if isinstance(db, dt.datetime) else db
        elif isinstance(da, dt.datetime) and isinstance(db, dt.datetime) and (da.tzinfo is None) != (db.tzinfo is None):
            return None
        return da, db
    if isinstance(a, bool) or isinstance(b, bool):
        return (a, b) if isinstance(a, bool) and isinstance(b, bool) else None
    if isinstance(a, (int, float, Decimal)) or isinstance(b, (int, float, Decimal)):
        na, nb = _number(a), _number(b)
        if na is None or nb is None:
            return None
        return na, nb
    if isinstance(a, str) and isinstance(b, str):
        return a, b
    return None


def _equal(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    pair = _coerce_pair(a, b)
    if pair is None:
        return False
    return bool(pair[0] == pair[1])


def _why_not_comparable(a: Any, b: Any) -> str:
    return f"{_describe(a)} cannot be compared with {_describe(b)}"


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return f"{value!r} (text)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (yes/no)"
    if isinstance(value, (int, float, Decimal)):
        return f"{value} (number)"
    if isinstance(value, dt.datetime):
        return f"{value.isoformat()} (timestamp)"
    if isinstance(value, dt.date):
        return f"{value.isoformat()} (date)"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    return repr(value)


class Condition:
    """A parsed condition; evaluate it against any mapping (a record's fields)."""

    def __init__(self, text: str, tree: Any) -> None:
        self.text = text
        self.tree = tree

    def __repr__(self) -> str:
        return f"Condition({self.text!r})"

    def render(self) -> str:
        return self.tree.render()

    # paths --------------------------------------------------------------------

    def paths(self) -> set[str]:
        found: set[str] = set()

        def walk(node: Any) -> None:
            if isinstance(node, Path):
                found.add(node.name)
            elif isinstance(node, Exists):
                found.add(node.path.name)
            elif isinstance(node, Compare):
                walk(node.left)
                walk(node.right)
            elif isinstance(node, Not):
                walk(node.inner)
            elif isinstance(node, BoolOp):
                for item in node.items:
                    walk(item)
            elif isinstance(node, ListLit):
                for item in node.items:
                    walk(item)

        walk(self.tree)
        return found

    # evaluation ---------------------------------------------------------------

    def evaluate(self, record: Mapping[str, Any], resolve: Resolver | None = None) -> bool:
        return bool(self._eval(self.tree, record, resolve, None))

    def explain(self, record: Mapping[str, Any], resolve: Resolver | None = None) -> list[str]:
        """Every comparison with its values and result, for --explain."""
        notes: list[str] = []
        result = self._eval(self.tree, record, resolve, notes)
        notes.append(f"=> {'true' if result else 'false'}")
        return notes

    def _lookup(self, record: Mapping[str, Any], name: str, resolve: Resolver | None) -> Any:
        node: Any = record
        parts = name.split(".")
        for i, part in enumerate(parts):
            if isinstance(node, Mapping):
                try:
                    value = node[part]
                except KeyError:
                    return MISSING
            elif isinstance(node, list):
                # a typed list ({type, value} items: social, emails, phones) is indexed by its
                # type: `social.linkedin`, `phones.cell`
                value = next((item.get("value") for item in node if isinstance(item, Mapping)
                              and str(item.get("type", "")).lower() == part.lower()), None)
            else:
                return MISSING
            if value is None:
                return MISSING
            if i < len(parts) - 1 and not isinstance(value, (Mapping, list)):
                if resolve is None:
                    return MISSING
                value = resolve(part, value)
                if value is None:
                    return MISSING
            node = value
        return node

    def _value(self, node: Any, record: Mapping[str, Any], resolve: Resolver | None) -> Any:
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, ListLit):
            return [i.value for i in node.items]
        if isinstance(node, Path):
            return self._lookup(record, node.name, resolve)
        raise TypeError(node)

    def _eval(self, node: Any, record: Mapping[str, Any], resolve: Resolver | None, notes: list[str] | None) -> bool:
        if isinstance(node, BoolOp):
            if node.op == "and":
                for item in node.items:
                    if not self._eval(item, record, resolve, notes):
                        return False
                return True
            for item in node.items:
                if self._eval(item, record, resolve, notes):
                    return True
            return False
        if isinstance(node, Not):
            return not self._eval(node.inner, record, resolve, notes)
        if isinstance(node, Exists):
            ok = self._lookup(record, node.path.name, resolve) is not MISSING
            if notes is not None:
                notes.append(f"exists({node.path.name}): {'yes' if ok else 'no'} -> {str(ok).lower()}")
            return ok
        if isinstance(node, Compare):
            return self._compare(node, record, resolve, notes)
        raise TypeError(node)

    def _compare(self, node: Compare, record: Mapping[str, Any], resolve: Resolver | None,
                 notes: list[str] | None) -> bool:
        left = self._value(node.left, record, resolve)
        right = self._value(node.right, record, resolve)
        why = ""
        if left is MISSING or right is MISSING:
            missing = node.left if left is MISSING else node.right
            result, why = False, f"{missing.render()} is missing"
        else:
            result, why = _apply(node, left, right)
        if notes is not None:
            shown = [f"{n.render()} is {_describe(v)}" for n, v in ((node.left, left), (node.right, right))
                     if isinstance(n, Path) and v is not MISSING]
            detail = "; ".join(shown + ([why] if why else []))
            notes.append(f"{node.render()}: {detail + ' ' if detail else ''}-> {str(result).lower()}")
        return result


def _apply(node: Compare, left: Any, right: Any) -> tuple[bool, str]:
    op = node.op
    if op == "==":
        return _equal(left, right), ""
    if op == "!=":
        return (not _equal(left, right)), ""
    if op in ("<", "<=", ">", ">="):
        pair = _coerce_pair(left, right)
        if pair is None or any(isinstance(v, (list, dict)) for v in (left, right)):
            return False, _why_not_comparable(left, right) + ", not a number" * (
                isinstance(left, str) or isinstance(right, str))
        a, b = pair
        try:
            return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op], ""
        except TypeError:
            return False, _why_not_comparable(left, right)
    if op in ("in", "not in"):
        if isinstance(right, list):
            found = any(_equal(left, item) for item in right) if not isinstance(left, list) else \
                any(_equal(x, item) for x in left for item in right)
        elif isinstance(right, str) and isinstance(left, str):
            found = left in right
        else:
            return False, f"{_describe(right)} is not a list"
        return (found if op == "in" else not found), ""
    if op == "contains":
        if isinstance(left, list):
            return any(_equal(item, right) for item in left), ""
        if isinstance(left, str) and isinstance(right, str):
            return right.casefold() in left.casefold(), ""
        return False, f"{_describe(left)} is neither a list nor text"
    if op == "matches":
        if not isinstance(left, str):
            return False, f"{_describe(left)} is not text"
        assert node.regex is not None
        return node.regex.search(left) is not None, ""
    raise ConditionError(f"unknown operator {op!r}")


def parse(text: str) -> Condition:
    """Parse a condition; errors say what is wrong and at which column."""
    if not isinstance(text, str):
        raise ConditionError(f"a condition must be text, not {type(text).__name__}")
    return Condition(text, Parser(text).parse())


def check_syntax(text: str) -> None:
    parse(text)
