"""The condition language's syntax: tokens, the tree, and the recursive-descent parser.

The grammar is in crmkit.conditions.language, which evaluates the tree this
module builds; nothing is ever evaluated as Python.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from crmkit.errors import ConditionError

Resolver = Callable[[str, Any], "Mapping[str, Any] | None"]

KEYWORDS = {"and", "or", "not", "in", "contains", "matches", "exists", "true", "false", "null"}
#: Parentheses and `not` nest at most this deep; evaluation recurses as deep as parsing.
MAX_DEPTH = 100
COMPARISONS = ("==", "!=", "<=", ">=", "<", ">")

_TOKEN_PATTERN = (
    r"""
    (?P<ws>\s+)
  | (?P<ts>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:\d{2})?)
  | (?P<date>\d{4}-\d{2}-\d{2}(?![\w-]))
  | (?P<num>-?\d+(?:\.\d+)?(?![\w.-]))
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<op>==|!=|<=|>=|=>|=<|<>|[<>=!]=?|[()\[\],])
  | (?P<word>[A-Za-z_\u00c0-\uffff][\w\u00c0-\uffff-]*(?:\.[A-Za-z_\u00c0-\uffff][\w\u00c0-\uffff-]*)*)
    """
)


@functools.cache
def _token_re() -> re.Pattern[str]:
    # compiled on first use, not at import: the wide letter classes make compiling cost a
    # command ~15 ms, and a warm report that only unpickles parsed rules never tokenizes
    return re.compile(_TOKEN_PATTERN, re.VERBOSE)


@dataclass
class Token:
    kind: str
    text: str
    col: int  # 1-based


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _token_re().match(text, pos)
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


class Parser:
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
        if isinstance(left, Path) and self.word("exists"):  # `social.linkedin exists`, as exists(...)
            self.take()
            return Exists(left)
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
