"""`crmkit schema` and `crmkit check` say the same of every record's fields.

The corpus is the sample workspace plus edge records (a quoted timestamp, one with
a space, `NaN` as an amount...). Each file is judged by check's field rules and by
the generated JSON Schema in three readers:

* check-jsonschema, the real CLI (it reads YAML dates and timestamps as their text,
  as yaml-language-server does);
* the jsonschema package on the values crmkit itself reads, dates as ISO text;
* the jsonschema package on the values as js-yaml (ajv's YAML reader) hands them
  over: unquoted dates and timestamps as Date objects, which JSON Schema types see
  as objects without properties. A Date no longer tells whether the text had a
  zone, so for those the schema only promises not to refuse what check accepts.

References, owners and stages need the other records and crmkit.yaml, which a
schema cannot see; they are `check`'s alone and are left out of the comparison.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from crmkit.store import yamlio
from crmkit.store.fieldcheck import field_problems
from crmkit.store.records import FOLDERS, KINDS
from crmkit.store.schema import json_schema

SAMPLE = Path(__file__).resolve().parents[2] / "sample_workspace"

#: (kind, file text, what check should say: True = fine). Each is a record file of its own.
EDGES = {
    "quoted-timestamp": ("activity", 'type: call\nat: "2026-11-01T10:00:00+01:00"\n', True),
    "spaced-timestamp": ("activity", "type: call\nat: 2026-11-01 10:00:00+01:00\n", True),
    "spaced-zone": ("activity", "type: call\nat: 2026-11-01 10:00:00 +01:00\n", True),
    "utc-timestamp": ("activity", "type: call\nat: 2026-11-01T09:00:00Z\n", True),
    "quoted-spaced": ("activity", 'type: call\nat: "2026-11-01 10:00:00+01:00"\n', True),
    "no-zone": ("activity", "type: call\nat: 2026-11-01T10:00:00\n", False),
    "quoted-no-zone": ("activity", 'type: call\nat: "2026-11-01T10:00:00"\n', False),
    "date-due": ("activity", "type: task\ndue: 2026-11-25\n", True),
    "quoted-date-due": ("activity", 'type: task\ndue: "2026-11-25"\n', True),
    "not-a-date": ("activity", 'type: task\ndue: "next week"\n', False),
    "nan-amount": ("deal", "title: X\nvalue: NaN\n", False),
    "yaml-nan-amount": ("deal", "title: X\nvalue: .nan\n", None),   # JSON has no NaN: see below
    "nordic-amount": ("deal", 'title: X\nvalue: "1 234,50"\n', True),
    "text-amount": ("deal", 'title: X\nvalue: "120000.50"\n', True),
    "exponent-amount": ("deal", 'title: X\nvalue: "1e5"\n', False),
    "negative-amount": ("deal", "title: X\nvalue: -5000\n", True),
    "quoted-close": ("deal", 'title: X\nexpected_close: "2026-12-01"\n', True),
    "timestamp-close": ("deal", "title: X\nexpected_close: 2026-12-01T10:00:00+01:00\n", False),
    "phone-number": ("contact", "name: X\nphone: 0767101055\n", False),
    "bad-enum": ("ticket", "subject: X\nstatus: urgent\n", False),
    "no-name": ("company", "domain: x.example\n", False),
}


def corpus(dest: Path) -> dict[str, list[Path]]:
    """The sample workspace's records and the edge records, as files per kind."""
    files: dict[str, list[Path]] = {k: sorted((SAMPLE / FOLDERS[k]).glob("*.yaml")) for k in KINDS}
    for name, (kind, text, _ok) in EDGES.items():
        path = dest / FOLDERS[kind] / f"{name}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        files[kind].append(path)
    return files


def check_says(kind: str, path: Path) -> bool:
    return not field_problems(kind, yamlio.load_fast(path))


def _as_text(value):
    if isinstance(value, dict):
        return {k: _as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_text(v) for v in value]
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


# js-yaml's Date objects: `typeof` says object, with no own properties
_JS_TYPES = jsonschema.Draft7Validator.TYPE_CHECKER.redefine(
    "object", lambda _checker, v: isinstance(v, (dict, dt.date))
)
JsYamlValidator = jsonschema.validators.extend(jsonschema.Draft7Validator, type_checker=_JS_TYPES)


def _js_values(value):
    if isinstance(value, dict):
        return {k: _js_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_js_values(v) for v in value]
    return _DateObject(value) if isinstance(value, (dt.date, dt.datetime)) else value


class _DateObject(dt.date):
    """A parsed date as a JSON Schema validator of JavaScript values sees it: no properties."""

    def __new__(cls, value: dt.date) -> _DateObject:
        return super().__new__(cls, value.year, value.month, value.day)

    def __len__(self) -> int:           # maxProperties counts the object's properties
        return 0


def test_check_and_the_schemas_agree_on_every_record(tmp_path: Path) -> None:
    files = corpus(tmp_path)
    assert sum(len(v) for v in files.values()) > 140
    disagree = []
    for kind, paths in files.items():
        validator = jsonschema.Draft7Validator(json_schema(kind), format_checker=jsonschema.FormatChecker())
        js = JsYamlValidator(json_schema(kind))
        for path in paths:
            expected = EDGES.get(path.stem, (kind, "", True))[2]
            data = yamlio.load_fast(path)
            ours = check_says(kind, path)
            if expected is not None and ours != expected:
                disagree.append((path.name, "check", ours))
            if expected is None:
                continue
            as_text = validator.is_valid(_as_text(data))
            as_js = js.is_valid(_js_values(data))
            # A Date object no longer says whether it had a zone, or a time in a date-only
            # field, so there the schema can only be as lenient; it never refuses what check takes.
            if as_text != ours or (ours and not as_js):
                disagree.append((path.name, {"check": ours, "schema": as_text, "js-yaml": as_js}))
    assert not disagree


CHECK_JSONSCHEMA = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))


@pytest.mark.skipif(CHECK_JSONSCHEMA is None, reason="check-jsonschema is a test dependency")
def test_check_jsonschema_agrees_with_check(run, tmp_path: Path) -> None:
    schemas = tmp_path / "schemas"
    r = run(["schema", "--out", str(schemas)], SAMPLE)
    assert r.exit_code == 0, r.stderr
    files = corpus(tmp_path / "corpus")
    for kind, paths in files.items():
        paths = [p for p in paths if EDGES.get(p.stem, (kind, "", True))[2] is not None]
        out = subprocess.run([str(CHECK_JSONSCHEMA), "--schemafile", str(schemas / f"{kind}.schema.json"),
                              "-o", "json", *map(str, paths)], capture_output=True, text=True, timeout=120)
        report = json.loads(out.stdout)
        assert not report.get("parse_errors"), report["parse_errors"]
        failed = {Path(e["filename"]).name for e in report.get("errors", [])}
        assert (out.returncode == 0) == (not failed), out.stdout + out.stderr
        for path in paths:
            assert (path.name not in failed) == check_says(kind, path), \
                (path.name, [e["message"] for e in report["errors"] if Path(e["filename"]).name == path.name])


def test_a_quoted_timestamp_without_zone_is_named_as_such() -> None:
    (problem,) = field_problems("activity", {"type": "call", "at": "2026-11-01T10:00:00"})
    assert problem[2] == "at: timestamp without a time zone; add +01:00 or Z"


def test_yaml_nan_is_refused_by_check() -> None:
    """`.nan` is a YAML float; JSON has no NaN, so only check can refuse it (and does)."""
    assert field_problems("deal", {"title": "X", "value": float("nan")})
    assert field_problems("deal", {"title": "X", "value": float("inf")})
