"""`crmkit init` commits editor schemas for records, crmkit.yaml, rules and segments,
wired up in .vscode/settings.json; the sample passes them and a typo does not."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import jsonschema
from conftest import git

from crmkit.store import yamlio


def _json(value):
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json(v) for v in value]
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime, dt.time)) else value


def test_init_writes_and_commits_schemas_that_the_sample_passes(run, tmp_path: Path) -> None:
    root = tmp_path / "demo"
    r = run(["init", str(root), "--sample"])
    assert r.exit_code == 0, r.stderr
    assert git(root, "status", "--porcelain") == ""
    tracked = git(root, "ls-files").split()
    assert "schemas/crmkit.schema.json" in tracked and ".vscode/settings.json" in tracked
    settings = json.loads((root / ".vscode/settings.json").read_text(encoding="utf-8"))["yaml.schemas"]
    checked = 0
    for schema_rel, globs in settings.items():
        schema = json.loads((root / schema_rel).read_text(encoding="utf-8"))
        validator = jsonschema.Draft7Validator(schema)
        for pattern in globs:
            for path in sorted(root.glob(pattern)):
                errors = [e.message for e in validator.iter_errors(_json(yamlio.load_fast(path)))]
                assert not errors, (path.name, errors[:3])
                checked += 1
    assert checked > 60
    covered = {g for globs in settings.values() for g in globs}
    assert {"crmkit.yaml", "rules/routing.yaml", "rules/escalation.yaml", "segments/*.yaml",
            "deals/*.yaml"} <= covered
    deal = json.loads((root / "schemas/deal.schema.json").read_text(encoding="utf-8"))
    assert "proposal" in deal["properties"]["stage"]["enum"]
    config = jsonschema.Draft7Validator(json.loads((root / "schemas/crmkit.schema.json").read_text()))
    typo = _json(yamlio.load_fast(root / "crmkit.yaml"))
    typo["curency"] = "SEK"
    assert any("curency" in e.message for e in config.iter_errors(typo))
    assert config.schema["properties"]["currency"]["description"]
    assert run(["check"], root).exit_code == 0


def test_init_keeps_existing_editor_settings(run, tmp_path: Path) -> None:
    root = tmp_path / "mine"
    (root / ".vscode").mkdir(parents=True)
    (root / ".vscode/settings.json").write_text('{"editor.tabSize": 2}\n')
    assert run(["init", str(root)]).exit_code == 0
    settings = json.loads((root / ".vscode/settings.json").read_text())
    assert settings["editor.tabSize"] == 2 and "./schemas/contact.schema.json" in settings["yaml.schemas"]
    assert run(["init", str(tmp_path / "bare"), "--no-editor-setup"]).exit_code == 0
    assert not (tmp_path / "bare/schemas").exists()


def test_check_reports_an_unknown_key_in_crmkit_yaml(run, make_ws) -> None:
    from conftest import MINIMAL_CONFIG

    ws = make_ws({"crmkit.yaml": MINIMAL_CONFIG + "curency: SEK\n"})
    r = run(["check"], ws)
    assert r.exit_code == 0 and "crmkit.yaml:" in r.stderr and "unknown key 'curency'; did you mean currency?" \
        in r.stderr
    r = run(["check", "--strict"], ws)
    assert r.exit_code == 1 and "config-key" in r.stdout
    assert run(["check"], make_ws()).stderr.count("warning") == 0
