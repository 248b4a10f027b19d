"""The Jinja2 sandbox with limits, and a template loader that follows no links.

Workspace templates are untrusted (they come in pull requests). Jinja2's sandbox
already stops attribute tricks (`__class__`, `__subclasses__`); it does not stop a
template from hanging or from asking for gigabytes. Each render here has a budget:

* time: MAX_SECONDS of wall clock, checked at every call, operator, loop step and
  output chunk, and (in the main thread) by a SIGALRM timer that also stops an
  empty loop;
* loop iterations: `range()` steps, MAX_LOOP in all per render (nested
  `range(100000)` loops stop at once instead of running 10^10 times);
* sizes: `*`, `+`, `%`, `**`, string methods and filters that make long text
  (`center`, `indent`, `format`, `replace`, `batch`, `slice`, `ljust`, ...) may not
  build a value longer than MAX_ITEMS, nor a number of more than MAX_INT_BITS bits;
* output: MAX_OUTPUT characters of rendered text.

Past a limit the render stops with one clear TemplateError naming the limit.

`SafeFileSystemLoader` refuses a template (or an include, import or extends) that
is a symbolic link or sits in a linked folder below a workspace (store/paths.py).
"""

from __future__ import annotations

import contextvars
import functools
import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

MAX_SECONDS = 5.0
MAX_LOOP = 1_000_000
#: Steps of one range(), as Jinja2's own sandbox allows.
MAX_RANGE = 100_000
MAX_ITEMS = 1_000_000
MAX_OUTPUT = 10_000_000
MAX_INT_BITS = 100_000
#: Widths and precisions in format strings ('%9999999d', '{:>9999999}').
MAX_WIDTH = 10_000


class LimitExceeded(BaseException):
    """A render went past its budget. A BaseException on purpose: template code and
    Jinja2 internals catch Exception, and must not swallow this."""


class Budget:
    """What one render may still spend."""

    def __init__(self) -> None:
        self.deadline = time.monotonic() + MAX_SECONDS
        self.loop_left = MAX_LOOP
        self.output_left = MAX_OUTPUT

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise LimitExceeded(f"took longer than {MAX_SECONDS:g} seconds")


_BUDGET: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("crmkit_template_budget", default=None)


def _tick() -> None:
    budget = _BUDGET.get()
    if budget is not None:
        budget.tick()


def _size(value: Any) -> int:
    return len(value) if isinstance(value, (str, bytes, list, tuple)) else 0


def _refuse_size(n: int) -> None:
    if n > MAX_ITEMS:
        raise LimitExceeded(f"would build a value of {n:,} items (at most {MAX_ITEMS:,})")


_WIDTH_PERCENT = re.compile(r"%[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_WIDTH_BRACE = re.compile(r"\{[^{}]*?:[^{}]*?(\d+)(?:\.(\d+))?[^{}]*\}")


def _check_format_string(text: str) -> None:
    for m in _WIDTH_PERCENT.finditer(text):
        for part in m.groups():
            if part == "*" or (part and int(part) > MAX_WIDTH):
                raise LimitExceeded(f"format width {part!r} is too large (at most {MAX_WIDTH})")
    for m in _WIDTH_BRACE.finditer(text):
        for part in m.groups():
            if part and int(part) > MAX_WIDTH:
                raise LimitExceeded(f"format width {part} is too large (at most {MAX_WIDTH})")


class LimitedRange:
    """`range()` in templates: at most MAX_LOOP steps per render, all loops together."""

    def __init__(self, *args: int) -> None:
        self.range = range(*args)
        if len(self.range) > MAX_RANGE:
            raise LimitExceeded(f"asked for a range of {len(self.range):,} steps (at most {MAX_RANGE:,} per range)")

    def __len__(self) -> int:
        return len(self.range)

    def __iter__(self) -> Iterator[int]:
        budget = _BUDGET.get()
        for i in self.range:
            if budget is not None:
                budget.loop_left -= 1
                if budget.loop_left < 0:
                    raise LimitExceeded(f"loops ran more than {MAX_LOOP:,} steps")
                if not budget.loop_left % 4096:
                    budget.tick()
            yield i

    def __getitem__(self, index: Any) -> Any:
        return self.range[index]

    def __repr__(self) -> str:
        return repr(self.range)


#: Filters whose integer arguments say how long the result is.
_SIZE_FILTERS = ("center", "indent", "batch", "slice", "wordwrap", "truncate")
_GROWING_METHODS = {"ljust", "rjust", "center", "zfill", "expandtabs"}


def _limit_filter(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)  # keeps jinja_pass_arg, so context-taking filters still get it
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _tick()
        for value in list(args[1:]) + list(kwargs.values()):
            if isinstance(value, int) and not isinstance(value, bool):
                _refuse_size(abs(value))
        if name == "format":
            fmt = next((a for a in args if isinstance(a, str)), None)
            if fmt is not None:
                _check_format_string(fmt)
        if name == "replace":
            strs = [a for a in args if isinstance(a, str)]
            if len(strs) >= 3:
                s, old, new = strs[-3:]
                _refuse_size(len(s) + (s.count(old) if old else len(s) + 1) * len(new))
        result = fn(*args, **kwargs)
        _refuse_size(_size(result))
        return result

    return wrapper


def limited_environment_class() -> type:
    """The SandboxedEnvironment subclass with budgets (built on first use: jinja2 is lazy)."""
    from jinja2.sandbox import SandboxedEnvironment

    class LimitedSandbox(SandboxedEnvironment):  # type: ignore[misc]
        # Intercepted, these are also never folded into constants at compile time.
        intercepted_binops = frozenset({"*", "**", "%", "+", "//"})

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.globals["range"] = LimitedRange
            self.globals.pop("lipsum", None)  # lipsum(n) makes n paragraphs; no offer needs it
            for name in _SIZE_FILTERS + ("format", "replace"):
                if name in self.filters:
                    self.filters[name] = _limit_filter(name, self.filters[name])

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            _tick()
            if operator == "**" and isinstance(left, int) and isinstance(right, int):
                if right > 0 and abs(left) > 1 and abs(left).bit_length() * right > MAX_INT_BITS:
                    raise LimitExceeded(f"{left} ** {right} is too large a number")
            elif operator == "*":
                for seq, n in ((left, right), (right, left)):
                    if _size(seq) and isinstance(n, int):
                        _refuse_size(_size(seq) * n)
                if isinstance(left, int) and isinstance(right, int) and \
                        left.bit_length() + right.bit_length() > MAX_INT_BITS:
                    raise LimitExceeded("the product is too large a number")
            elif operator == "+" and _size(left) and _size(right):
                _refuse_size(_size(left) + _size(right))
            elif operator == "%" and isinstance(left, str):
                _check_format_string(left)
            return super().call_binop(context, operator, left, right)

        def getattr(self, obj: Any, attribute: str) -> Any:
            if isinstance(obj, str) and attribute in ("format", "format_map"):
                _check_format_string(obj)
            return super().getattr(obj, attribute)

        def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
            _tick()
            owner = getattr(__obj, "__self__", None)
            if isinstance(owner, (str, list, tuple)):
                name = getattr(__obj, "__name__", "")
                for value in list(args) + list(kwargs.values()):
                    if isinstance(value, int) and not isinstance(value, bool) and name in _GROWING_METHODS:
                        _refuse_size(abs(value) * (8 if name == "expandtabs" else 1))
                if name == "replace" and isinstance(owner, str) and len(args) >= 2 \
                        and all(isinstance(a, str) for a in args[:2]):
                    old, new = args[0], args[1]
                    _refuse_size(len(owner) + (owner.count(old) if old else len(owner) + 1) * len(new))
                if name == "join" and args and isinstance(args[0], (list, tuple)):
                    _refuse_size(len(owner) * len(args[0]) + sum(map(_size, args[0])))
            result = super().call(__context, __obj, *args, **kwargs)
            _refuse_size(_size(result))
            return result

    return LimitedSandbox


def render_limited(template: Any, context: dict[str, Any]) -> str:
    """template.render(**context) within the budget; LimitExceeded past it."""
    budget = Budget()
    token = _BUDGET.set(budget)
    alarm = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
    previous: Any = None
    if alarm:
        def on_alarm(signum: int, frame: Any) -> None:
            raise LimitExceeded(f"took longer than {MAX_SECONDS:g} seconds")

        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, MAX_SECONDS + 0.5)
    try:
        chunks: list[str] = []
        for chunk in template.generate(**context):
            budget.output_left -= len(chunk)
            if budget.output_left < 0:
                raise LimitExceeded(f"wrote more than {MAX_OUTPUT:,} characters")
            chunks.append(chunk)
        return "".join(chunks)
    except MemoryError:
        raise LimitExceeded("ran out of memory") from None
    finally:
        if alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)
        _BUDGET.reset(token)


def safe_loader_class() -> type:
    """A FileSystemLoader that reads no template through a symbolic link."""
    import jinja2
    from jinja2.loaders import split_template_path

    from crmkit.store import paths

    class SafeFileSystemLoader(jinja2.FileSystemLoader):  # type: ignore[misc]
        def get_source(self, environment: Any, template: str) -> tuple[str, str, Callable[[], bool]]:
            pieces = split_template_path(template)  # refuses '..'
            for searchpath in self.searchpath:
                filename = os.path.join(searchpath, *pieces)
                if os.path.lexists(filename):
                    break
            else:
                raise jinja2.TemplateNotFound(template)
            try:
                data = paths.read_bytes(filename)
            except paths.UnsafePath as exc:
                from crmkit.errors import TemplateError

                raise TemplateError(f"template {template}: {exc.message}", path=exc.path) from None
            contents = data.decode(self.encoding)
            mtime = os.path.getmtime(filename)

            def uptodate() -> bool:
                try:
                    return os.path.getmtime(filename) == mtime
                except OSError:
                    return False

            return contents, os.path.normpath(filename), uptodate

    return SafeFileSystemLoader
