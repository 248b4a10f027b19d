"""Editor schemas committed in the workspace, and the settings that wire them up.

`crmkit init` writes `schemas/*.schema.json` (tracked, so the whole team gets them)
for every record kind, for crmkit.yaml (with its pools), for the rule files and for
segments, plus `.vscode/settings.json` mapping each schema to its files for the YAML
language server (VS Code's Red Hat YAML extension; Neovim, Helix, Zed and JetBrains
read the same `yaml.schemas`). The deal schema lists the workspace's stages as an
enum. `crmkit check` stays the judge: these schemas help while typing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCHEMA_DIR = "schemas"

from crmkit.store.config_keys import CONFIG_KEYS  # noqa: E402 - one list for check and the schema

_TEXT = {"type": "string"}
_WHEN = {"type": ["string", "boolean"], "description": "A condition in crmkit's condition language."}


def config_schema() -> dict[str, Any]:
    stage = {"type": "object", "required": ["name"], "properties": {
        "name": {**_TEXT, "description": "The stage's name, used in deals' `stage`."},
        "probability": {"type": "number", "minimum": 0, "maximum": 100, "description": "Win probability, percent."},
        "category": {"enum": ["pipeline", "best_case", "commit", "closed"]},
        "won": {"type": "boolean"}, "lost": {"type": "boolean"}}}
    pool = {"type": "object", "properties": {
        "strategy": {"enum": ["round_robin", "least_loaded", "weighted", "territory"],
                     "description": "How the next owner is chosen."},
        "members": {"type": "array", "items": {"anyOf": [_TEXT, {"type": "object", "required": ["user"], "properties": {
            "user": _TEXT, "weight": {"type": "number"}, "capacity": {"type": "number"}}}]},
            "description": "User ids, or {user, weight, capacity}."}, "fallback": {**_TEXT, "description": "Owner when nobody is available."}}}
    props: dict[str, Any] = {k: {"description": d} for k, d in CONFIG_KEYS.items()}
    props["pipeline"].update({"type": "object", "properties": {
        "stages": {"type": "array", "items": stage}, "rates": {"type": "object", "description":
                                                               "1 unit of the currency = ? of the workspace currency"}}})
    props["pools"].update({"type": "object", "additionalProperties": pool})
    props["users"].update({"type": "object", "additionalProperties": {"type": "object", "properties": {
        "name": _TEXT, "email": _TEXT, "team": _TEXT, "role": _TEXT}}})
    props["tickets"].update({"type": "object", "properties": {"reply_to_closed": {"enum": ["follow_up", "reopen"]}},
                             "additionalProperties": False})
    return _doc("crmkit.yaml", {"type": "object", "properties": props, "additionalProperties": False})


def routing_schema() -> dict[str, Any]:
    from crmkit.sales.rules import RULE_KEYS

    props: dict[str, dict[str, Any]] = {k: {"description": k} for k in RULE_KEYS}
    props.update({"id": {**_TEXT, "description": "Unique id of the rule (named in commits)."}, "when": _WHEN,
                  "kind": {"enum": ["lead", "ticket", "contact", "deal", "company"]},
                  "assign": {**_TEXT, "description": "A user id."}, "pool": {**_TEXT, "description": "A pool name."},
                  "set": {"type": "object"}, "tags": {"type": "array", "items": _TEXT},
                  "notify": {**_TEXT, "description": "An email template to the new owner."}})
    rule = {"type": "object", "required": ["id"], "properties": props, "additionalProperties": False}
    return _doc("routing and triage rules", {"type": "array", "items": rule})


def escalation_schema() -> dict[str, Any]:
    from crmkit.support.escalation import KEYS

    props: dict[str, Any] = {k: {"description": k} for k in KEYS}
    props.update({"id": _TEXT, "when": _WHEN, "set": {"type": "object"},
                  "priority": {"enum": ["raise", "low", "normal", "high", "urgent"]},
                  "repeat": {**_TEXT, "description": "Fire again after this business time, such as 4h."}})
    rule = {"type": "object", "required": ["id", "when"], "properties": props, "additionalProperties": False}
    return _doc("escalation rules", {"type": "array", "items": rule})


def segment_schema() -> dict[str, Any]:
    return _doc("segment", {"type": "object", "required": ["kind", "where"], "properties": {
        "kind": {"enum": ["contact", "company", "lead", "deal", "ticket", "activity"]},
        "where": {**_WHEN, "description": "Which records belong to the segment."},
        "description": _TEXT}, "additionalProperties": False})


def record_schema(kind: str, stages: list[str]) -> dict[str, Any]:
    from crmkit.store.schema import json_schema

    schema = json_schema(kind)
    if kind == "deal" and stages:
        schema["properties"]["stage"] = {"enum": stages, "description": "A stage of the pipeline in crmkit.yaml."}
    return schema


def _doc(title: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"$schema": "http://json-schema.org/draft-07/schema#", "title": f"crmkit {title}", **body}


def schemas(config: dict[str, Any]) -> dict[str, tuple[dict[str, Any], list[str]]]:
    """file name -> (schema, the workspace files it applies to)."""
    from crmkit.store.records import FOLDERS

    stages = [str(s.get("name")) for s in ((config.get("pipeline") or {}).get("stages") or [])
              if isinstance(s, dict) and s.get("name")]
    out: dict[str, tuple[dict[str, Any], list[str]]] = {
        "crmkit.schema.json": (config_schema(), ["crmkit.yaml"]),
        "routing.schema.json": (routing_schema(), ["rules/routing.yaml", "rules/triage.yaml"]),
        "escalation.schema.json": (escalation_schema(), ["rules/escalation.yaml"]),
        "segment.schema.json": (segment_schema(), ["segments/*.yaml"]),
    }
    for kind, folder in FOLDERS.items():
        out[f"{kind}.schema.json"] = (record_schema(kind, stages), [f"{folder}/*.yaml"])
    return out


def write_editor_setup(root: Path, config: dict[str, Any]) -> list[Path]:
    """Write schemas/ and .vscode/settings.json (keeping other settings there); returns the paths."""
    from crmkit.store import yamlio

    written = []
    mapping: dict[str, list[str]] = {}
    for name, (schema, globs) in schemas(config).items():
        path = root / SCHEMA_DIR / name
        yamlio.atomic_write_text(path, json.dumps(schema, indent=2, ensure_ascii=False) + "\n")
        written.append(path)
        mapping[f"./{SCHEMA_DIR}/{name}"] = globs
    settings_path = root / ".vscode" / "settings.json"
    settings: dict[str, Any] = {}
    if settings_path.exists():
        try:
            settings = json.loads(settings_path.read_text(encoding="utf-8"))
        except ValueError:
            return written          # a hand-made file we cannot read: leave it alone
    settings["yaml.schemas"] = {**(settings.get("yaml.schemas") or {}), **mapping}
    yamlio.atomic_write_text(settings_path, json.dumps(settings, indent=2, ensure_ascii=False) + "\n")
    written.append(settings_path)
    return written
