"""The condition language shared by `list --where`, segments and every rule file.

A hand-written tokenizer and recursive-descent parser build a small tree; nothing
is ever evaluated as Python. Grammar (lowest precedence first):

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
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Mapping

from crmkit.errors import ConditionError

Resolver = Callable[[str, Any], "Mapping[str, Any] | None"]

KEYWORDS = {"and", "or", "not", "in", "contains", "matches", "exists", "true", "false", "null"}
COMPARISONS = ("==", "!=", "<=", ">=", "<", ">")
#: Parentheses and `not` nest at most this deep; evaluation recurses as deep as parsing.
MAX_DEPTH = 100

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<ts>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:\d{2})?)
  | (?P<date>\d{4}-\d{2}-\d{2}(?![\w-]))
  | (?P<num>-?\d+(?:\.\d+)?(?![\w.-]))
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<op>==|!=|<=|>=|=>|=<|<>|[<>=!]=?|[()\[\],])
  | (?P<word>[A-Za-z_\u00c0-\uffff][\w\u00c0-\uffff-]*(?:\.[A-Za-z_\u00c0-\uffff][\w\u00c0-\uffff-]*)*)
    """,
    re.VERBOSE,
)


@dataclass
class Token:
    kind: str
    text: str
    col: int  # 1-based


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise ConditionError(f"unexpected character {text[pos]!r} at column {pos + 1}", column=pos + 1)
        kind = m.lastgroup or ""
        if kind != "ws":
            tok_text = m.group()
            if kind == "op" and tok_text in ("=>", "=<", "<>", "=", "!"):
                raise ConditionError(f"unknown operator {tok_text!r} at column {pos + 1}", column=pos + 1)
            tokens.append(Token(kind, tok_text, pos + 1))
        pos = m.end()
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


# -- the tree -------------------------------------------------------------------------

MISSING = object()


@dataclass
class Literal:
    value: Any

    def render(self) -> str:
        return _render_value(self.value)


@dataclass
class Path:
    name: str

    def render(self) -> str:
        return self.name


@dataclass
class ListLit:
    items: list[Any]

    def render(self) -> str:
        return "[" + ", ".join(i.render() for i in self.items) + "]"


@dataclass
class Compare:
    left: Any
    op: str  # ==, !=, <, <=, >, >=, in, not in, contains, matches
    right: Any
    regex: Any = None  # a compiled RE2 pattern (conditions/regex.py)

    def render(self) -> str:
        return f"{self.left.render()} {self.op} {self.right.render()}"


@dataclass
class Exists:
    path: Path

    def render(self) -> str:
        return f"exists({self.path.name})"


@dataclass
class Not:
    inner: Any

    def render(self) -> str:
        return f"not ({self.inner.render()})"


@dataclass
class BoolOp:
    op: str  # and, or
    items: list[Any]

    def render(self) -> str:
        return "(" + f" {self.op} ".join(i.render() for i in self.items) + ")"


def _render_value(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (Decimal, int)):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


# -- parsing ----------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0  # nesting of ( and not: bounded so that no input exhausts the stack

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def word(self, *words: str) -> bool:
        t = self.tok
        return t.kind == "word" and t.text.lower() in words

    def take(self) -> Token:
        t = self.tokens[self.i]
        self.i += 1
        return t

    def fail(self, message: str, tok: Token | None = None) -> ConditionError:
        tok = tok or self.tok
        return ConditionError(f"{message} at column {tok.col}", column=tok.col)

    def expect_op(self, op: str) -> Token:
        if self.tok.kind == "op" and self.tok.text == op:
            return self.take()
        found = f"{self.tok.text!r}" if self.tok.kind != "end" else "the end"
        raise self.fail(f"expected {op!r} but found {found}")

    def parse(self) -> Any:
        if self.tok.kind == "end":
            raise self.fail("empty condition")
        node = self.or_()
        if self.tok.kind != "end":
            raise self.fail(f"unexpected {self.tok.text!r}")
        return node

    def or_(self) -> Any:
        items = [self.and_()]
        while self.word("or"):
            self.take()
            items.append(self.and_())
        return items[0] if len(items) == 1 else BoolOp("or", items)

    def and_(self) -> Any:
        items = [self.not_()]
        while self.word("and"):
            self.take()
            items.append(self.not_())
        return items[0] if len(items) == 1 else BoolOp("and", items)

    def _deeper(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"the condition is nested more than {MAX_DEPTH} levels deep")

    def not_(self) -> Any:
        if self.word("not"):
            self._deeper()
            self.take()
            node = Not(self.not_())
            self.depth -= 1
            return node
        return self.primary()

    def primary(self) -> Any:
        t = self.tok
        if t.kind == "op" and t.text == "(":
            self._deeper()
            self.take()
            node = self.or_()
            self.expect_op(")")
            self.depth -= 1
            return node
        if self.word("exists"):
            self.take()
            self.expect_op("(")
            p = self.tok
            if p.kind != "word" or p.text.lower() in KEYWORDS:
                raise self.fail("exists() takes a field name")
            self.take()
            self.expect_op(")")
            return Exists(Path(p.text))
        left = self.operand()
        return self.comparison(left)

    def comparison(self, left: Any) -> Any:
        t = self.tok
        if t.kind == "op" and t.text in COMPARISONS:
            self.take()
            return Compare(left, t.text, self.operand(bare_is_text=True))
        if self.word("in"):
            self.take()
            return Compare(left, "in", self.operand())
        if self.word("not"):
            nxt = self.tokens[self.i + 1]
            if nxt.kind == "word" and nxt.text.lower() == "in":
                self.take()
                self.take()
                return Compare(left, "not in", self.operand())
        if self.word("contains"):
            self.take()
            return Compare(left, "contains", self.operand(bare_is_text=True))
        if self.word("matches"):
            self.take()
            pat = self.tok
            if pat.kind != "str":
                raise self.fail("matches takes a quoted regular expression")
            self.take()
            source = _unquote(pat.text)
            from crmkit.conditions.regex import UnsafePattern, compile_safe

            try:
                regex = compile_safe(source)  # RE2: linear time, whoever wrote the pattern
            except UnsafePattern as exc:
                raise self.fail(f"invalid regular expression ({exc})", pat) from None
            return Compare(left, "matches", Literal(source), regex)
        if t.kind == "end":
            raise self.fail("expected an operator after " + repr(left.render()) + " but found the end")
        if t.kind == "op":
            raise self.fail(f"unknown operator {t.text!r}")
        raise self.fail(f"expected an operator but found {t.text!r}")

    def operand(self, bare_is_text: bool = False) -> Any:
        """A field path or a value. After a comparison a bare word is text (`country == NO`);
        on the left, and as the list of `in`, it names a field (`"vip" in tags`)."""
        t = self.tok
        if t.kind == "op" and t.text == "[":
            self.take()
            items: list[Any] = []
            if not (self.tok.kind == "op" and self.tok.text == "]"):
                while True:
                    items.append(self.literal_only())
                    if self.tok.kind == "op" and self.tok.text == ",":
                        self.take()
                        continue
                    break
            self.expect_op("]")
            return ListLit(items)
        if t.kind in ("num", "str", "date", "ts"):
            return self.literal_only()
        if t.kind == "word":
            low = t.text.lower()
            if low in ("true", "false", "null"):
                return self.literal_only()
            if low in KEYWORDS:
                raise self.fail(f"unexpected keyword {t.text!r}")
            self.take()
            return Literal(t.text) if bare_is_text else Path(t.text)
        if t.kind == "end":
            raise self.fail("the condition ends too early")
        raise self.fail(f"unexpected {t.text!r}")

    def literal_only(self) -> Literal:
        t = self.take()
        if t.kind == "num":
            return Literal(Decimal(t.text))
        if t.kind == "str":
            return Literal(_unquote(t.text))
        if t.kind == "date":
            try:
                return Literal(dt.date.fromisoformat(t.text))
            except ValueError:
                raise self.fail(f"invalid date {t.text!r}", t) from None
        if t.kind == "ts":
            try:
                return Literal(dt.datetime.fromisoformat(t.text.replace("Z", "+00:00")))
            except ValueError:
                raise self.fail(f"invalid timestamp {t.text!r}", t) from None
        if t.kind == "word":
            low = t.text.lower()
            if low == "true":
                return Literal(True)
            if low == "false":
                return Literal(False)
            if low == "null":
                return Literal(None)
            return Literal(t.text)  # a bare word in a list or after an operator is text: SE, proposal
        self.i -= 1
        raise self.fail(f"expected a value but found {t.text!r}" if t.kind != "end" else "expected a value")


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


# -- evaluation ---------------------------------------------------------------------------


def _number(value: Any) -> Decimal | None:
    # NaN and infinity are no numbers to compare (Decimal NaN even raises on <): a record
    # or a form saying `users: .nan` or "Infinity" matches no comparison.
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        number = Decimal(repr(value))
        return number if number.is_finite() else None
    if isinstance(value, str):
        try:
            number = Decimal(value.strip().replace(" ", "").replace("\u00a0", ""))
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


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
        elif isinstance(da, dt.datetime) and (da.tzinfo is None) != (db.tzinfo is None):
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
            else:
                return MISSING
            if value is None:
                return MISSING
            if i < len(parts) - 1 and not isinstance(value, Mapping):
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
    return Condition(text, _Parser(text).parse())


def check_syntax(text: str) -> None:
    parse(text)
