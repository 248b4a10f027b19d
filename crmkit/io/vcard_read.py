"""Reading vCard files property by property, keeping every value whole.

Our own small reader rather than vobject: vobject 0.9.9 splits text values at
unescaped commas (`FN:Mr. John Richter, James Doe Sr.` becomes "Mr. John
Richter"), turns `ORG:Company, The;Dept` into a list of lists, does not join
vCard 2.1 quoted-printable soft line breaks, and rejects a whole card over one
property it cannot decode (an odd PHOTO, a Latin-1 LABEL, `PROFILE:VCard`). A
vCard is a line format (RFC 6350 §3.3, vCard 2.1 §2.1): unfolding, parameters
and the per-property escapes are a page of code, and owning it lets a bad
property be skipped and reported with its name and line while the card is kept.

What is read:

- 2.1, 3.0 and 4.0 content lines, `group.NAME;PARAM=a,b;BARE:value`; parameter
  names and 2.1's bare parameters (`TEL;CELL;PREF`, `note;quoted-printable`) in
  any case;
- folded lines (a leading space or tab), quoted-printable soft line breaks (a line
  ending in `=`), base64 blocks of 2.1 that continue on unindented lines;
- quoted-printable in the CHARSET named (UTF-8 when none is, then Windows-1252);
- line ends `\\r\\n`, `\\n`, `\\r` and Outlook's `\\r\\r\\n`, each one line end, so
  line numbers are those an editor shows;
- files in UTF-8 (with or without BOM), UTF-16 with or without a BOM (Apple),
  else Windows-1252 (a line whose property names a CHARSET, such as macOS's MACINTOSH, in that).
"""

from __future__ import annotations

import codecs
import quopri
import re
from dataclasses import dataclass, field

from crmkit.errors import CrmkitError

_NAME = re.compile(r"^(?:([A-Za-z0-9-]+)\.)?([A-Za-z0-9-]+)$")


@dataclass
class Prop:
    """One property of a card: its name (upper case), group, parameters and decoded value."""

    name: str
    value: str                       # escapes still in place (see `text`, `parts`, `items`)
    line: int                        # the file's line the property starts on
    group: str = ""                  # Apple's `item1.` (lower case), else ""
    params: dict[str, list[str]] = field(default_factory=dict)   # upper-case names
    binary: bool = False             # base64 data (PHOTO, LOGO, SOUND, KEY)

    @property
    def types(self) -> list[str]:
        """TYPE values, including 2.1's bare ones, upper case, in order."""
        found: list[str] = []
        for value in self.params.get("TYPE", []):
            found.extend(v.strip().strip('"').upper() for v in value.split(",") if v.strip())
        return found

    @property
    def preferred(self) -> bool:
        return "PREF" in self.types or any(p.strip() == "1" for p in self.params.get("PREF", []))

    @property
    def text(self) -> str:
        """The value as one text, unescaped; commas and semicolons kept."""
        return unescape(self.value)

    @property
    def parts(self) -> list[str]:
        """A structured value (N, ADR, ORG) split at unescaped semicolons, each part unescaped."""
        return [unescape(p) for p in split_unescaped(self.value, ";")]

    @property
    def items(self) -> list[str]:
        """A list value (CATEGORIES, NICKNAME) split at unescaped commas."""
        return [t for t in (unescape(p).strip() for p in split_unescaped(self.value, ",")) if t]


@dataclass
class RawCard:
    line: int                                             # line of BEGIN:VCARD
    props: list[Prop] = field(default_factory=list)
    problems: list[tuple[int, str, str]] = field(default_factory=list)   # (line, property, message)
    ended: bool = True


def decode_bytes(data: bytes, path: str = "<vcf>") -> str:
    """The text of a .vcf file: UTF-8, UTF-16/32 with a BOM, UTF-16 without one, else Windows-1252."""
    for bom, enc in ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
                     (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                     (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(enc)
            except UnicodeDecodeError as exc:
                raise CrmkitError(f"cannot decode as {enc.upper()}: {exc.reason}", path=path) from None
    head = data[:200]
    if len(head) >= 4 and head.count(0) * 3 >= len(head):
        # UTF-16 without a BOM (Apple Contacts on older macOS): every other byte of ASCII is 0.
        enc = "utf-16-le" if head[1] == 0 else "utf-16-be"
        try:
            return data.decode(enc)
        except UnicodeDecodeError as exc:
            raise CrmkitError(f"cannot decode as {enc.upper()}: {exc.reason}", path=path) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return "\n".join(_decode_8bit_line(line) for line in data.split(b"\n"))


_CHARSET = re.compile(rb"(?i);\s*CHARSET=\"?([A-Za-z0-9_.-]+)")


def _decode_8bit_line(line: bytes) -> str:
    """One line of an 8-bit file: in the CHARSET its property names (macOS writes
    `FN;CHARSET=MACINTOSH:`, Outlook `CHARSET=Windows-1252`), else Windows-1252."""
    m = _CHARSET.search(line.split(b":", 1)[0])
    if m:
        try:
            text = line.decode(m.group(1).decode("ascii"))
            if text.isprintable() or text.rstrip("\r").isprintable():
                return text
        except (LookupError, UnicodeDecodeError):
            pass   # an unknown or wrong label: Windows-1252, as for a line without one
    return line.decode("cp1252", errors="replace")


def split_unescaped(value: str, sep: str) -> list[str]:
    """`value` split at `sep` where no backslash escapes it."""
    out, cur, i = [], [], 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            cur.append(value[i:i + 2])
            i += 2
            continue
        if ch == sep:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    out.append("".join(cur))
    return out


_ESCAPES = {"n": "\n", "N": "\n", ",": ",", ";": ";", "\\": "\\", ":": ":"}


def unescape(value: str) -> str:
    """vCard text escapes undone; a backslash before anything else is kept as written."""
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), value, flags=re.S)


def _physical_lines(text: str) -> list[str]:
    # `\r\r\n` (Outlook, some iPhone exports) is one line end, not two: an editor shows one.
    text = text.replace("\r\r\n", "\n").replace("\r\n", "\n").replace("\r", "\n")
    return text.split("\n")


def _split_header(line: str) -> tuple[str, str] | None:
    """`NAME;PARAMS` and the value, split at the first colon outside double quotes."""
    quoted = False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == ":" and not quoted:
            return line[:i], line[i + 1:]
    return None


def _params(parts: list[str]) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for part in parts:
        if not part.strip():
            continue
        key, eq, value = part.partition("=")
        if eq:
            params.setdefault(key.strip().upper(), []).append(value.strip().strip('"'))
            continue
        bare = key.strip().upper()
        # vCard 2.1 writes parameter values without names: QUOTED-PRINTABLE, BASE64, 8BIT are
        # encodings, everything else (CELL, HOME, PREF, JPEG) is a TYPE.
        if bare in ("QUOTED-PRINTABLE", "BASE64", "B", "8BIT", "7BIT"):
            params.setdefault("ENCODING", []).append(bare)
        else:
            params.setdefault("TYPE", []).append(bare)
    return params


def _encoding(params: dict[str, list[str]]) -> str:
    return (params.get("ENCODING") or [""])[0].upper()


def _decode_qp(value: str, params: dict[str, list[str]]) -> str:
    """Quoted-printable in the named CHARSET; without one UTF-8, else Windows-1252."""
    raw = quopri.decodestring(value.encode("utf-8"))
    charset = (params.get("CHARSET") or [""])[0]
    if charset:
        try:
            return raw.decode(charset)
        except LookupError:
            raise ValueError(f"unknown CHARSET {charset!r}") from None
        except UnicodeDecodeError:
            pass   # a wrong CHARSET label is common; try what phones really write
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def read_cards(text: str) -> list[RawCard]:
    """Every card of a file with its properties; a property that cannot be read is a problem of its card."""
    if "BEGIN:VCARD" not in text.upper():
        raise CrmkitError("no vCard found (no BEGIN:VCARD line)")
    cards: list[RawCard] = []
    card: RawCard | None = None
    logical: list[tuple[int, str]] = []          # (start line, unfolded text)
    lines = _physical_lines(text.lstrip("\ufeff"))
    qp_open = False                              # the last logical line is QP and ends in a soft break
    b64_open = False                             # the last logical line is 2.1 base64 data
    for number, line in enumerate(lines, start=1):
        if qp_open and logical:
            # A soft line break: the `=` ends the line and is not part of the value.
            start, prev = logical[-1]
            logical[-1] = (start, prev[:-1] + line.lstrip(" \t"))
        elif line[:1] in (" ", "\t") and logical:
            start, prev = logical[-1]
            logical[-1] = (start, prev + line[1:])
        elif b64_open and logical and line.strip() and ":" not in line:
            start, prev = logical[-1]
            logical[-1] = (start, prev + line.strip())
        else:
            if not line.strip():
                b64_open = qp_open = False
                continue
            logical.append((number, line))
        head = _split_header(logical[-1][1]) if logical else None
        if head is not None:
            header = head[0].upper()
            is_qp = "QUOTED-PRINTABLE" in header
            qp_open = is_qp and head[1].endswith("=")
            b64_open = ("BASE64" in header or "ENCODING=B" in header) and not qp_open
        else:
            qp_open = b64_open = False
    for number, content in logical:
        upper = content.strip().upper()
        if upper == "BEGIN:VCARD":
            if card is not None:
                card.ended = False
                cards.append(card)
            card = RawCard(number)
            continue
        if upper == "END:VCARD":
            if card is not None:
                cards.append(card)
            card = None
            continue
        if card is None:
            continue                              # text between cards says nothing
        prop = _read_prop(number, content, card)
        if prop is not None:
            card.props.append(prop)
    if card is not None:
        card.ended = False
        cards.append(card)
    return cards


def _read_prop(number: int, content: str, card: RawCard) -> Prop | None:
    split = _split_header(content)
    if split is None:
        card.problems.append((number, content.strip()[:30], "not a property (no ':'); skipped"))
        return None
    header, value = split
    pieces = split_unescaped(header, ";") if "\\" in header else _quoted_split(header)
    m = _NAME.match(pieces[0].strip())
    if not m:
        card.problems.append((number, pieces[0].strip()[:30], "not a property name; skipped"))
        return None
    group, name = (m.group(1) or "").lower(), m.group(2).upper()
    params = _params(pieces[1:])
    encoding = _encoding(params)
    prop = Prop(name, value, number, group, params)
    if encoding == "QUOTED-PRINTABLE":
        try:
            prop.value = _decode_qp(value, params)
        except ValueError as exc:
            card.problems.append((number, name, f"{exc}; skipped"))
            return None
    elif encoding in ("BASE64", "B") or value.startswith("data:"):
        prop.binary = True
    return prop


def _quoted_split(header: str) -> list[str]:
    """The header split at semicolons outside double quotes (LABEL="a;b" stays one parameter)."""
    cur: list[str]
    out, cur, quoted = [], [], False
    for ch in header:
        if ch == '"':
            quoted = not quoted
        if ch == ";" and not quoted:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return out
