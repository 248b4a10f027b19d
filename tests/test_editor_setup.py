"""The editor set-up the README documents: schemas from `crmkit schema` validate record files."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import jsonschema

from crmkit.store import yamlio
from crmkit.store.records import FOLDERS


def _json(value):  # what the YAML language server hands the validator: dates are strings
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json(v) for v in value]
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


def test_schemas_accept_the_sample_and_flag_a_wrong_type(run, sample_ws: Path) -> None:
    r = run(["schema", "--out", str(sample_ws / ".crmkit/schema")], sample_ws)
    assert r.exit_code == 0, r.stderr
    checked = 0
    for kind, folder in FOLDERS.items():
        schema = json.loads((sample_ws / ".crmkit/schema" / f"{kind}.schema.json").read_text(encoding="utf-8"))
        validator = jsonschema.Draft7Validator(schema)
        for path in sorted((sample_ws / folder).glob("*.yaml")):
            errors = [e.message for e in validator.iter_errors(_json(yamlio.load_fast(path)))]
            assert not errors, (path.name, errors)
            checked += 1
    assert checked > 50
    contact = json.loads((sample_ws / ".crmkit/schema/contact.schema.json").read_text(encoding="utf-8"))
    bad = {"name": "Karin", "phone": 46701234567, "emails": [{"type": "home", "value": "k@example.se"}], "x_custom": 1}
    messages = [e.message for e in jsonschema.Draft7Validator(contact).iter_errors(bad)]
    assert len(messages) == 1 and "46701234567" in messages[0]      # a number where text belongs; custom fields ok
