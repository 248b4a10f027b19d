"""The one module that reads and writes YAML.

Two paths, on purpose:

* the *fast* path (`load_fast`) parses with ruamel.yaml's C parser and the safe
  constructor under the YAML 1.2 resolver. Bulk reads (list, report, check) use it.
* the *faithful* path (`load_roundtrip`/`dumps`) keeps comments, key order and
  quoting. Every write loads the one touched file this way, changes it and writes
  it back atomically, so an edit changes only the lines it must.

A differential test keeps the values of both paths equal.
"""

from __future__ import annotations

import datetime as _dt
import io
import os
import re
import tempfile
from pathlib import Path
from typing import Any, NamedTuple

from crmkit.errors import CrmkitError
from crmkit.store.faults import fault

# ruamel.yaml is imported on first use: a warm listing is served from the parse
# cache and never needs it.

#: Files larger than this are refused: a record is a few kilobytes, never megabytes.
MAX_FILE_BYTES = 1_000_000

_ANCHOR_HINT = re.compile(r"[&*]")

#: How many files were read (`read_text`), documents parsed (fast and round trip) and
#: record files visited by a folder read (stat, then the parse cache or a parse), since
#: the process started. Cheap enough to keep always: the test that proves tick, route
#: and check linear in the records they touch counts them instead of timing.
COUNTS: dict[str, int] = {"read": 0, "parse": 0, "visit": 0}
_TOO_DEEP = "invalid YAML: nested too deeply (a record is a few levels of mappings and lists)"


class YamlFileError(CrmkitError):
    """A YAML file that cannot be read as a record."""


def _fast_loader_class() -> type | None:
    from ruamel.yaml.constructor import SafeConstructor
    from ruamel.yaml.resolver import VersionedResolver

    try:  # the C parser; ruamel.yaml 0.19 no longer wires it into YAML(typ="safe")
        from ruamel.yaml.cyaml import CParser as _CParser
    except ImportError:  # pragma: no cover - pure fallback on exotic platforms
        return None

    class _FastLoader(_CParser, SafeConstructor, VersionedResolver):  # type: ignore[misc,valid-type,unused-ignore]
        # Records are YAML 1.2, always: a fixed version spares the resolver looking it up
        # for every scalar (a third of the time of a cold read).
        processing_version = (1, 2)

        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            self._parser = self._composer = self
            SafeConstructor.__init__(self, loader=self)
            VersionedResolver.__init__(self, None, loader=self)

    return _FastLoader


_FAST: Any = False  # not looked up yet; None when there is no C parser
_SAFE_PURE: Any = None


def _fast_loader() -> Any:
    global _FAST
    if _FAST is False:
        _FAST = _fast_loader_class()
    return _FAST


def _pure_safe() -> Any:
    global _SAFE_PURE
    if _SAFE_PURE is None:
        from ruamel.yaml import YAML

        _SAFE_PURE = YAML(typ="safe", pure=True)
    return _SAFE_PURE


def roundtrip_yaml() -> Any:
    """The fixed round-trip settings: YAML 1.2, wide lines, preserved quotes, fixed indentation."""
    from ruamel.yaml import YAML

    y = YAML()
    y.preserve_quotes = True
    y.width = 4096
    y.indent(mapping=2, sequence=4, offset=2)
    y.allow_unicode = True
    y.representer.add_representer(_dt.datetime, _represent_datetime)
    y.representer.add_representer(str, _represent_str)
    # The same object used twice (created and at both "now") must be written out twice,
    # never as an anchor and alias: records refuse those.
    y.representer.ignore_aliases = lambda data: True
    return y


#: Words YAML 1.1 reads as booleans, in any case (some 1.1 readers ignore case).
_YAML11_BOOLS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false"})
_RESOLVER_11: Any = None


def yaml11_special(value: str) -> bool:
    """Whether a YAML 1.1 reader would take this plain text for something else than text:
    `NO` (false), `on`, `1:20` (sexagesimal 80), `1_000`, `0x1f`, `012`, `=`, `<<`..."""
    global _RESOLVER_11
    if value.lower() in _YAML11_BOOLS:
        return True
    if not value or len(value) > 40 or value[0] not in "0123456789+-.:=<~_NnTtFfYyOo":
        return False  # the quick answer for almost every value
    if _RESOLVER_11 is None:
        from ruamel.yaml.resolver import VersionedResolver

        _RESOLVER_11 = (VersionedResolver(version=(1, 1)), VersionedResolver(version=(1, 2)))
    from ruamel.yaml.nodes import ScalarNode

    text_tag = "tag:yaml.org,2002:str"
    v11, v12 = _RESOLVER_11
    # Text YAML 1.2 would misread too ("01234") is quoted by ruamel itself, its own way.
    return bool(v11.resolve(ScalarNode, value, (True, False)) != text_tag
                and v12.resolve(ScalarNode, value, (True, False)) == text_tag)


def _represent_str(representer: Any, value: str) -> Any:
    # Records are YAML 1.2, where `country: NO` is Norway; other tools reading the same
    # files may be YAML 1.1 (PyYAML, many CI linters), where it is false. Such text is
    # written quoted so that every reader agrees. Text that was quoted keeps its quotes
    # (preserve_quotes); this only decides for plain text.
    if yaml11_special(value):
        return representer.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    return type(representer).represent_str(representer, value)


def _represent_datetime(representer: Any, value: _dt.datetime) -> Any:
    # ISO 8601 with a "T" (ruamel's default writes a space), seconds kept, zone kept.
    text = value.isoformat(timespec="seconds" if not value.microsecond else "microseconds")
    return representer.represent_scalar("tag:yaml.org,2002:timestamp", text)


def _error_from(exc: Exception, path: str | None) -> YamlFileError:
    from ruamel.yaml.error import MarkedYAMLError

    line = column = None
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        line, column = mark.line + 1, mark.column + 1
    if isinstance(exc, MarkedYAMLError):
        problem = exc.problem or exc.context or "invalid YAML"
        if "duplicate key" in (exc.problem or ""):
            problem = exc.problem.split(" with value")[0]
    else:
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return YamlFileError(f"invalid YAML: {problem}", path=path, line=line, column=column)


def _check_no_anchors(text: str, path: str | None) -> None:
    """Reject anchors and aliases: a record must say what it means on its own lines."""
    if not _ANCHOR_HINT.search(text):
        return
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    y = YAML(typ="safe", pure=True)
    try:
        for event in y.parse(text):
            anchor = getattr(event, "anchor", None)
            if anchor is not None:
                kind = "alias" if type(event).__name__ == "AliasEvent" else "anchor"
                line = event.start_mark.line + 1 if event.start_mark else None
                raise YamlFileError(
                    f"{kind} '{anchor}' is not allowed in a record; write the value out",
                    path=path,
                    line=line,
                )
    except YAMLError as exc:
        raise _error_from(exc, path) from None


#: Nesting a record may have. Deeper documents are refused before parsing: the C
#: parser overflows its stack (a crash, not an error) on 100,000 nested "[", and every
#: walk over the values (cache, JSON, templates) recurses.
MAX_DEPTH = 64
_DEEP_INDENT = re.compile(rf"^[ \t-]{{{2 * MAX_DEPTH},}}", re.M)


def _check_depth(text: str, path: str | None) -> None:
    """Refuse flow collections nested deeper than MAX_DEPTH and block nesting indented
    more than 2 * MAX_DEPTH columns; cheap unless the text has many brackets."""
    line = None
    if text.count("[") + text.count("{") > MAX_DEPTH:
        depth, quote, escaped = 0, "", False
        for i, c in enumerate(text):
            if quote:
                if escaped:
                    escaped = False
                elif c == "\\" and quote == '"':
                    escaped = True
                elif c == quote:
                    quote = ""
                elif c == "\n" and (quote == "#" or not depth):
                    quote = ""  # a comment ends here; at the top level, so does a scalar for this count
            elif c in "\"'" and (i == 0 or text[i - 1] in " \t\n[{,:"):
                quote = c
            elif c in "[{":
                depth += 1
                if depth > MAX_DEPTH:
                    line = text.count("\n", 0, i) + 1
                    break
            elif c in "]}":
                depth = max(0, depth - 1)
            elif c == "#" and (i == 0 or text[i - 1] in " \t\n"):
                quote = "#"  # a comment runs to the end of the line
            elif c == "\n" and i + 1 < len(text) and text[i + 1] not in " \t]},\n":
                depth = 0  # a new top-level key: brackets in plain text above were no collection
    if line is None:
        m = _DEEP_INDENT.search(text)
        if m is not None:
            line = text.count("\n", 0, m.start()) + 1
    if line is not None:
        raise YamlFileError(f"nested more than {MAX_DEPTH} levels deep; a record is a few levels "
                            "of mappings and lists", path=path, line=line)


def loads_fast(text: str, path: str | None = None) -> Any:
    """Parse YAML text on the fast path (C parser when available, YAML 1.2 semantics)."""
    from ruamel.yaml.error import YAMLError

    COUNTS["parse"] += 1
    _check_depth(text, path)
    _check_no_anchors(text, path)
    fast = _fast_loader()
    try:
        if fast is not None:
            try:
                loader = fast(text)
                try:
                    return loader.get_single_data()
                finally:
                    loader.dispose()
            except YAMLError as exc:
                # The C parser rejects a few documents the pure one accepts; decide with the pure one.
                if "duplicate key" in str(exc):
                    raise
        return _pure_safe().load(text)
    except YAMLError as exc:
        raise _error_from(exc, path) from None
    except ValueError as exc:  # e.g. an impossible date such as 2026-02-30
        raise YamlFileError(f"invalid value: {exc}", path=path) from None
    except RecursionError:
        raise YamlFileError(_TOO_DEEP, path=path) from None


#: First characters of a plain scalar that YAML 1.2 may read as something other than a
#: string (bool tTfF, null ~nN and empty, int/float -+0-9., merge <, value =): only these
#: go through the resolver; every other plain scalar is a string as it stands.
_MAYBE_TYPED = frozenset("-+0123456789.~nNtTfF<=")
_SIMPLE_TAGS = frozenset({"tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool",
                          "tag:yaml.org,2002:null", "tag:yaml.org,2002:timestamp"})
_STR_TAG = "tag:yaml.org,2002:str"
_EVENTS: Any = None  # (CParser, resolve, construct) once looked up; False when there is no C parser


class _Unusual(Exception):
    """Something the event reader leaves to loads_fast (tags, anchors, duplicates, errors)."""


def _event_tools() -> Any:
    global _EVENTS
    if _EVENTS is None:
        fast = _fast_loader()
        if fast is None:  # pragma: no cover - no C parser
            _EVENTS = False
        else:
            from ruamel.yaml.cyaml import CParser
            from ruamel.yaml.nodes import ScalarNode

            helper = fast("")  # its resolver and constructor decide typed scalars, as in loads_fast
            cache: dict[str, Any] = {}

            def scalar(value: str) -> Any:
                try:
                    return cache[value]
                except KeyError:
                    pass
                tag = str(helper.resolve(ScalarNode, value, (True, False)))
                if tag == _STR_TAG:
                    out = value
                elif tag in _SIMPLE_TAGS:
                    out = helper.yaml_constructors[tag](helper, ScalarNode(tag, value))
                else:
                    raise _Unusual(tag)  # a merge key `<<`, a value key `=`
                if len(cache) < 4096:
                    cache[value] = out
                return out

            _EVENTS = (CParser, scalar)
    return _EVENTS


def loads_events(text: str, path: str | None = None) -> Any:
    """The values `loads_fast` gives, built straight from the C parser's events.

    Three to five times quicker than the composer and constructor (the merge driver
    parses four versions of every file it merges). Only plain scalars that may be typed
    go through the YAML 1.2 resolver; anything unusual (a tag, an anchor, a duplicate or
    complex key, a `%YAML` directive, an error) is handed to `loads_fast`, so the values
    and the errors are the same. tests/store/test_yamlio_events.py keeps them equal."""
    tools = _event_tools()
    if not tools:  # pragma: no cover - no C parser
        return loads_fast(text, path)
    _check_depth(text, path)
    parser_class, scalar = tools
    parser = parser_class(text)
    try:
        return _from_events(parser, scalar)
    except Exception:  # noqa: BLE001 - the slow path decides, and raises the one proper error
        return loads_fast(text, path)
    finally:
        parser.dispose()


def _from_events(parser: Any, scalar: Any) -> Any:
    get = parser.get_event
    stack: list[Any] = []  # open collections; a mapping's entry is [dict, pending key or _NO_KEY]
    root: Any = None
    documents = 0
    while True:
        event = get()
        kind = type(event).__name__
        if kind == "ScalarEvent":
            if event.anchor is not None or (event.tag is not None and event.tag != "!"):
                raise _Unusual("tag or anchor")
            value = scalar(event.value) if (event.style in ("", None) and event.tag is None and event.implicit[0]
                                            and (not event.value or event.value[0] in _MAYBE_TYPED)) \
                else event.value
        elif kind == "MappingStartEvent" or kind == "SequenceStartEvent":
            if event.anchor is not None or (event.tag is not None and event.tag != "!"):
                raise _Unusual("tag or anchor")
            container: Any = {} if kind == "MappingStartEvent" else []
            stack.append([container, _NO_KEY])
            continue
        elif kind == "MappingEndEvent" or kind == "SequenceEndEvent":
            value = stack.pop()[0]
        elif kind == "DocumentStartEvent":
            documents += 1
            if documents > 1 or event.version is not None or event.tags:
                raise _Unusual("directive or second document")
            continue
        elif kind == "StreamEndEvent":
            return root
        elif kind in ("StreamStartEvent", "DocumentEndEvent"):
            continue
        else:
            raise _Unusual(kind)  # an alias
        if not stack:
            root = value
            continue
        top = stack[-1]
        into = top[0]
        if type(into) is list:
            into.append(value)
        elif top[1] is _NO_KEY:
            if isinstance(value, (dict, list)) or value in into:
                raise _Unusual("complex or duplicate key")
            top[1] = value
        else:
            into[top[1]] = value
            top[1] = _NO_KEY


_NO_KEY = object()


def read_text(path: Path, keep_style: bool = False) -> str:
    """Read a YAML file as UTF-8 text, refusing oversized and undecodable files.

    The byte order mark is dropped unless `keep_style` (then `split_style` takes it,
    with the line ends, so that a rewrite can put both back).
    """
    from crmkit.store import paths

    COUNTS["read"] += 1
    try:
        # No link is followed below a workspace root (store/paths.py), and an oversized
        # file is never read whole: at most one byte past the limit.
        data = paths.read_bytes(path, MAX_FILE_BYTES)
        if len(data) > MAX_FILE_BYTES:
            size = os.stat(path).st_size
            raise YamlFileError(
                f"file is {size} bytes, larger than the {MAX_FILE_BYTES} a record may be",
                path=str(path),
            )
    except OSError as exc:
        raise YamlFileError(f"cannot read: {exc.strerror}", path=str(path)) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise YamlFileError("not UTF-8 text", path=str(path), line=line) from None
    return text if keep_style else text.lstrip("\ufeff")


class Style(NamedTuple):
    """How a file spells what YAML does not care about: a byte order mark, CRLF line ends."""

    bom: bool = False
    crlf: bool = False


def split_style(raw: str) -> tuple[str, Style]:
    """Text with LF line ends and no BOM, and the style to put back on rewrite.

    A file written on Windows keeps its CRLF and its BOM when `set` changes one line:
    otherwise every line would change and the diff would hide the edit.
    """
    bom = raw.startswith("\ufeff")
    text = raw[1:] if bom else raw
    crlf = "\r\n" in text and text.count("\r\n") * 2 >= text.count("\n")
    if crlf:
        text = text.replace("\r\n", "\n")
    return text, Style(bom, crlf)


def apply_style(text: str, style: Style) -> str:
    """The inverse of `split_style`."""
    if style.crlf:
        text = text.replace("\n", "\r\n")
    return ("\ufeff" + text) if style.bom else text


def load_fast(path: Path) -> Any:
    """Load one file on the fast path."""
    return loads_fast(read_text(path), str(path))


def loads_roundtrip(text: str, path: str | None = None) -> Any:
    """Parse YAML text keeping comments, order and quoting."""
    from ruamel.yaml.error import YAMLError

    COUNTS["parse"] += 1
    _check_depth(text, path)
    _check_no_anchors(text, path)
    try:
        return roundtrip_yaml().load(text)
    except YAMLError as exc:
        raise _error_from(exc, path) from None
    except ValueError as exc:
        raise YamlFileError(f"invalid value: {exc}", path=path) from None
    except RecursionError:
        raise YamlFileError(_TOO_DEEP, path=path) from None


def load_roundtrip(path: Path) -> Any:
    """Load one file keeping comments, order and quoting (for a faithful write)."""
    return loads_roundtrip(read_text(path), str(path))


def depth(value: Any) -> int:
    """How deeply mappings and lists nest in `value` (a scalar is 0), without recursion."""
    return _measure(value)[0]


def _measure(value: Any) -> tuple[int, int]:
    """(nesting depth, characters of text at least) of a value, without recursion."""
    deepest, chars, stack = 0, 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, str):
            chars += len(node)
            continue
        if isinstance(node, dict):
            chars += sum(len(k) for k in node if isinstance(k, str))
            children = list(node.values())
        elif isinstance(node, (list, tuple)):
            children = list(node)
        else:
            continue
        deepest = max(deepest, level)
        if level > MAX_DEPTH:
            break
        stack.extend((child, level + 1) for child in children)
    return deepest, chars


def dumps(data: Any) -> str:
    """Serialise with the fixed round-trip settings.

    Values nested deeper than a record may be are refused: crmkit would not read the
    file back (MAX_DEPTH), and the dumper would exhaust the stack first.
    """
    deepest, chars = _measure(data)
    if deepest > MAX_DEPTH:
        raise YamlFileError(f"the value is nested more than {MAX_DEPTH} levels deep; nothing was written")
    if chars > MAX_FILE_BYTES:  # known too big before the (slow) emitter writes a megabyte
        raise YamlFileError(f"the record would be more than the {MAX_FILE_BYTES:,} bytes a record may be; "
                            "nothing was written")
    buf = io.StringIO()
    roundtrip_yaml().dump(data, buf)
    return buf.getvalue()


def line_of(node: Any, key: Any) -> int | None:
    """1-based line of `key` in a round-trip mapping, or None."""
    try:
        return int(node.lc.key(key)[0]) + 1
    except Exception:  # noqa: BLE001 - line info is a nicety, never a failure
        return None


def item_line(seq: Any, index: int) -> int | None:
    """1-based line of item `index` of a round-trip sequence, or None."""
    try:
        return int(seq.lc.item(index)[0]) + 1
    except Exception:  # noqa: BLE001 - line info is a nicety, never a failure
        return None


def key_lines(path: Path) -> dict[str, int]:
    """Line numbers of every top-level and nested key ("a.b") of a file, for messages."""
    try:
        doc = load_roundtrip(path)
    except CrmkitError:
        return {}
    lines: dict[str, int] = {}

    def walk(node: Any, prefix: str) -> None:
        if hasattr(node, "lc") and isinstance(node, dict):
            for key, value in node.items():
                dotted = f"{prefix}{key}"
                ln = line_of(node, key)
                if ln:
                    lines[dotted] = ln
                walk(value, dotted + ".")
        elif hasattr(node, "lc") and isinstance(node, list):
            seq: Any = node  # a CommentedSeq: a list with line info
            for i, value in enumerate(seq):
                try:
                    ln = seq.lc.item(i)[0] + 1
                    lines[f"{prefix}{i}"] = ln
                except Exception:  # noqa: BLE001
                    pass
                walk(value, f"{prefix}{i}.")

    walk(doc, "")
    return lines


def to_plain(obj: Any) -> Any:
    """Round-trip objects (CommentedMap, ScalarFloat, TimeStamp...) as plain Python values."""
    if isinstance(obj, dict):
        return {to_plain(k): to_plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [to_plain(v) for v in obj]
    if isinstance(obj, bool):
        return bool(obj)
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return float(obj)
    if isinstance(obj, str):
        return str(obj)
    if isinstance(obj, _dt.datetime):
        return _dt.datetime(
            obj.year, obj.month, obj.day, obj.hour, obj.minute, obj.second,
            obj.microsecond, tzinfo=obj.tzinfo,
        )
    return obj


_READ_AS_IS = (str, int, float, bool, type(None), _dt.date)


def as_read(plain: Any, text: str) -> Any:
    """What the fast path reads back from `text`, the YAML just written for `plain` (a
    `to_plain` value): `plain` itself, with every time zone as the fixed offset the parser
    gives (`+01:00`, not Europe/Stockholm), so a record patched in memory after a write is
    the record a fresh read gives. Values of other types (a Decimal, a tuple) are parsed back."""
    def same(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: same(v) for k, v in value.items()}
        if isinstance(value, list):
            return [same(v) for v in value]
        if isinstance(value, _dt.datetime) and value.tzinfo is not None:
            zone = _offset_zone(value.utcoffset())
            if type(value.tzinfo) is _dt.timezone and value.tzinfo.tzname(None) == zone.tzname(None):
                return value
            return value.replace(tzinfo=zone)
        if type(value) in _READ_AS_IS or isinstance(value, _dt.datetime):
            return value
        raise _NotPlain

    try:
        return same(plain)
    except _NotPlain:
        return loads_fast(text)


class _NotPlain(Exception):
    pass


_OFFSET_ZONES: dict[Any, _dt.timezone] = {}


def _offset_zone(offset: _dt.timedelta | None) -> _dt.timezone:
    """The zone the parser makes of `+01:00`, as `_represent_datetime` writes it: a fixed
    offset named by its text."""
    zone = _OFFSET_ZONES.get(offset)
    if zone is None:
        if offset is None or offset.microseconds or offset.seconds % 60:
            raise _NotPlain  # written as +01:00:30, which the parser reads otherwise
        minutes = int(offset.total_seconds()) // 60
        sign = "-" if minutes < 0 else "+"
        name = f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
        zone = _OFFSET_ZONES[offset] = _dt.timezone(offset, name)
    return zone


def atomic_write_text(path: Path, text: str) -> None:
    """Write a file so that a crash leaves either the old or the new content, never half."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: Path, data: bytes, durable: bool = True) -> None:
    """Temp file in the same folder, fsync, rename; the folder is fsynced too.

    Below a workspace root no component may be a symbolic link (store/paths.py).
    `durable=False` skips both fsyncs (the rename still makes it all or nothing): for the
    work-tree files of a merge in progress, which git itself does not fsync either and
    `git merge --abort` puts back.
    """
    from crmkit.store import paths

    paths.guard(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        try:
            mode = path.stat().st_mode & 0o777
        except FileNotFoundError:
            mode = 0o644
        os.chmod(tmp, mode)
        fault("atomic-write")  # the fault-injection suite kills here: a temp file is left behind
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError) and exc.filename is None:
            exc.filename = str(path)  # write() errors (disk full) do not say which file
        raise
    if durable:
        fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    """Make a rename or a new file in folder `path` durable (the folder's entry, not the file)."""
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:  # pragma: no cover - some filesystems refuse directory fsync
        pass
