"""The shape of crmkit.yaml: which keys exist and what kind of value each holds.

Two uses:

* on load (`shape_error`), a section of the wrong kind (`pipeline: {stages: 5}`,
  `offers: [25]`) stops the command with one line naming crmkit.yaml and the line,
  instead of a TypeError deep inside a report (exit 70, "a bug");
* in `crmkit check` (`config_key_problems`), keys crmkit does not know are warned
  about with the nearest known key ("pipline: unknown key; did you mean pipeline?"),
  since a misspelt section is otherwise silently ignored.

Sections whose keys are ids chosen by the workspace (users, teams, pools, calendars)
are checked for their kind only. What the values mean (a stage's probability, a
calendar's hours) is checked by the module that uses them.
"""

from __future__ import annotations

from typing import Any

from crmkit.errors import CrmkitError, Problem

MAP, LIST, TEXT, NUMBER, ANY = "mapping", "list", "text", "number", "any"

#: key -> kind, or (kind, {subkey: kind}) for sections with known keys. The same keys as
#: store/config_keys.py (their descriptions, for the editor schema); a test keeps them so.
SCHEMA: dict[str, Any] = {
    "name": TEXT,
    "timezone": TEXT,
    "locale": TEXT,
    "currency": TEXT,
    "phone_region": TEXT,
    "users": MAP,          # its own shape is reported by check (users: [1]); writes refuse an owner
    "teams": MAP,
    "pools": MAP,
    "calendars": MAP,
    "pipeline": (MAP, {"stages": LIST, "rates": MAP}),
    "offers": (MAP, {"vat": NUMBER, "rounding": TEXT, "validity_days": NUMBER, "accepted_sets_value": ANY}),
    "smtp": (MAP, {"host": TEXT, "port": NUMBER, "security": TEXT, "user": TEXT, "password_env": TEXT,
                   "cafile": TEXT, "timeout": NUMBER, "from": TEXT, "password": ANY}),
    "mail": (MAP, {"from": TEXT, "unsubscribe": ANY, "unsubscribe_url": TEXT}),
    "sla": (MAP, {"at_risk": NUMBER, "policies": LIST}),
    "tickets": (MAP, {"reply_to_closed": TEXT}),
    "team": (MAP, {"router_branch": TEXT, "stable_ids": ANY}),
    "git": (MAP, {"name": TEXT, "email": TEXT}),
    "inbox": (MAP, {"maildir": TEXT, "support": ANY, "sales": ANY, "max_attachment_mb": NUMBER,
                    "create_contacts": TEXT, "imap": MAP}),
}

#: The items of lists of mappings: dotted list key -> {key: kind}. An item may also be
#: text where ITEM_TEXT_OK says so (`stages: [lead, won]`).
ITEMS: dict[str, dict[str, str]] = {
    "pipeline.stages": {"name": ANY, "probability": NUMBER, "category": TEXT},
    "sla.policies": {"id": ANY, "calendar": TEXT, "pause_on": "list|text", "targets": MAP},
}
ITEM_TEXT_OK = {"pipeline.stages"}

#: Sections that are read with .get() and iterated: the wrong kind would crash a command.
#: `users` is not among them: crmkit already reads a malformed users as "no users".
_FATAL = {"teams", "pools", "calendars", "pipeline", "offers", "smtp", "mail", "sla"}


def _kind_of(value: Any) -> str:
    if isinstance(value, dict):
        return MAP
    if isinstance(value, list):
        return LIST
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return NUMBER
    if isinstance(value, str):
        return TEXT
    return type(value).__name__


def _fits(value: Any, kind: str) -> bool:
    if value is None or kind == ANY:
        return True
    if "|" in kind:  # a union is strict: `pause_on: 5` is neither a list nor text
        return any(_kind_of(value) == k for k in kind.split("|"))
    if kind == NUMBER and isinstance(value, str):
        try:
            float(value)
            return True
        except ValueError:
            return False
    if kind == TEXT and isinstance(value, (int, float)) and not isinstance(value, bool):
        return True  # `currency: 978` is odd, but str() of it never crashes
    return _kind_of(value) == kind


def _walk(config: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(dotted key, message, fatal) for every value of the wrong kind."""
    found: list[tuple[str, str, bool]] = []
    for key, spec in SCHEMA.items():
        if key not in config:
            continue
        kind, subs = spec if isinstance(spec, tuple) else (spec, None)
        value = config[key]
        if not _fits(value, kind):
            found.append((key, f"{key} must be a {kind}, not {_kind_of(value)}", key in _FATAL))
            continue
        if subs and isinstance(value, dict):
            for sub, sub_kind in subs.items():
                if sub in value and not _fits(value[sub], sub_kind):
                    found.append((f"{key}.{sub}", f"{key}.{sub} must be a {sub_kind}, not {_kind_of(value[sub])}",
                                  key in _FATAL and sub_kind in (MAP, LIST)))
                elif f"{key}.{sub}" in ITEMS and isinstance(value.get(sub), list):
                    found.extend(_items(f"{key}.{sub}", value[sub]))
    return found


def _items(dotted: str, items: list[Any]) -> list[tuple[str, str, bool]]:
    """Items of the wrong kind in a list of mappings (`sla.policies[1].pause_on: 5`)."""
    found: list[tuple[str, str, bool]] = []
    for i, item in enumerate(items):
        where = f"{dotted}[{i + 1}]"
        if isinstance(item, str) and dotted in ITEM_TEXT_OK:
            continue
        if not isinstance(item, dict):
            found.append((dotted, f"{where} must be a mapping, not {_kind_of(item)}", True))
            continue
        for key, kind in ITEMS[dotted].items():
            if key in item and not _fits(item[key], kind):
                found.append((dotted, f"{where}.{key} must be a {kind.replace('|', ' or ')}, "
                                      f"not {_kind_of(item[key])}", True))
    return found


def shape_error(config: dict[str, Any], path: str, lines: dict[str, int] | None = None) -> CrmkitError | None:
    """The first section of the wrong kind that would crash a command, as an error to raise."""
    for key, message, fatal in _walk(config):
        if fatal:
            line = (lines or {}).get(key)
            return CrmkitError(f"{message} (see the Configuration section of the README)", path=path, line=line)
    return None


def _suggest(word: str, choices: list[str]) -> str:
    import difflib  # only check suggests; every command loads this module

    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


def config_key_problems(config: dict[str, Any], path: str, lines: dict[str, int]) -> list[Problem]:
    """`crmkit check`: unknown keys (with the nearest known one) and values of the wrong kind."""
    problems: list[Problem] = []
    known = sorted(SCHEMA)
    for key in config:
        if str(key) not in SCHEMA:
            problems.append(Problem(path, lines.get(str(key)), "config-key",
                                    f"unknown key {key!r}{_suggest(str(key), known)}"))
            continue
        spec = SCHEMA[str(key)]
        value = config[key]
        if isinstance(spec, tuple) and isinstance(value, dict):
            subs = sorted(spec[1])
            for sub in value:
                if str(sub) not in spec[1]:
                    dotted = f"{key}.{sub}"
                    problems.append(Problem(path, lines.get(dotted), "config-key",
                                            f"unknown key {dotted!r}{_suggest(str(sub), subs)}"))
    for dotted, message, _fatal in _walk(config):
        if dotted != "users":  # reported by validate.config_problems already
            problems.append(Problem(path, lines.get(dotted), "config", message))
    return problems
