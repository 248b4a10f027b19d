"""The address-book corpus (tests/data/addressbooks, see SOURCES.md): every file imports whole.

For each file: every value in it is found in the records the import made, or in
what the import reported (rejected rows, skipped properties, values not
imported); a second import changes nothing (no commit, the same files); and a
round trip through crmkit's own export gives the same records back.

CRMKIT_ADDRESSBOOKS (folders, separated like PATH) adds more files to the same
tests: real exports that are not kept in this repository (see SOURCES.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from crmkit.io.countries import country_code
from crmkit.io.vcard_contact import UNKEPT, parse_date
from crmkit.io.vcard_read import decode_bytes, read_cards
from crmkit.store import yamlio
from crmkit.store.records import fold

CORPUS = Path(__file__).resolve().parents[1] / "data" / "addressbooks"
EXTRA = [Path(d) for d in os.environ.get("CRMKIT_ADDRESSBOOKS", "").split(os.pathsep) if d.strip()]
VCARDS = sorted(p.name for p in CORPUS.glob("*.vcf"))
for _folder in EXTRA:
    VCARDS += sorted(str(p) for p in _folder.glob("*.vcf"))
CSVS = {  # file -> (kind, values the file writes that mean "nothing": Outlook's 0/0/00 birthday)
    "google_contacts.csv": ("contact", set()),
    "google_contacts_2024.csv": ("contact", set()),
    "outlook_contacts.csv": ("contact", {"0/0/00"}),
    "thunderbird_contacts.csv": ("contact", set()),
    "linkedin_connections.csv": ("contact", set()),
    "salesforce_opportunities.csv": ("deal", set()),
}
for _folder in EXTRA:    # a real export of deals says so in its name ("opportunities.csv")
    CSVS.update({str(p): ("deal" if "opportunit" in p.name.lower() else "contact", {"0/0/00"})
                 for p in _folder.glob("*.csv")})
#: Salesforce stage names are read as the workspace's stages.
TRANSLATED = {"mobile": "cell", "closed won": "won", "closed lost": "lost", "proposal/price quote": "proposal",
              "negotiation/review": "negotiation"}


def norm(text: str) -> str:
    return re.sub(r"[\W_]+", "", fold(str(text)))


def tokens(text: str) -> list[str]:
    return [t for t in re.split(r"[\W_]+", fold(str(text))) if t]


def snapshot(ws: Path) -> dict[str, str]:
    return {str(p.relative_to(ws)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(ws.rglob("*.yaml")) if ".crmkit" not in p.parts}


def commits(ws: Path) -> int:
    out = subprocess.run(["git", "rev-list", "--count", "HEAD"], cwd=ws, capture_output=True, text=True, check=True)
    return int(out.stdout)


def stored(ws: Path, folder: str) -> dict[str, Any]:
    return {p.stem: yamlio.load_fast(p) for p in sorted((ws / folder).glob("*.yaml"))}


def everything(ws: Path) -> tuple[str, set[str]]:
    """All stored values of contacts, companies and deals, as one normalised text and a set of words."""
    values: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                values.append(str(k))
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
        else:
            values.append(str(node))

    walk([stored(ws, f) for f in ("contacts", "companies", "deals") if (ws / f).is_dir()])
    text = "\n".join(values)
    return "|".join(norm(v) for v in values), set(tokens(text))


class Found:
    def __init__(self, ws: Path, report: str) -> None:
        self.text, self.words = everything(ws)
        self.report = report

    def __call__(self, value: str) -> bool:
        """A value is kept whole, or word by word (a formatted address beside its parts), or reported."""
        v = value.strip()
        if not norm(v) or norm(v) in self.text or norm(v) == "other":   # "other" is the default type
            return True
        us_date = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", v)       # Outlook's month-first dates
        if us_date and norm(f"{us_date[3]}-{int(us_date[1]):02}-{int(us_date[2]):02}") in self.text:
            return True
        if v.lower().startswith("tel:") and norm(v[4:]) in self.text:
            return True
        if norm(country_code(v)) in self.text:
            return True
        words = tokens(v)
        return bool(words) and all(w in self.words or country_code(w).lower() in self.words for w in words)


def _import(run, ws: Path, args: list[str]) -> Any:
    r = run(["--json", "import", *args], ws)
    assert r.exit_code in (0, 4), r.stdout + r.stderr
    return r, json.loads(r.stdout)


@pytest.mark.parametrize("name", VCARDS)
def test_vcard_file_imports_whole_twice_and_round_trips(name: str, run, make_ws, tmp_path: Path) -> None:
    path = CORPUS / name        # an absolute name (CRMKIT_ADDRESSBOOKS) stays itself
    ws = make_ws()
    r, plan = _import(run, ws, ["vcard", str(path)])
    # every value of every property: in the records, or reported (a problem with its line, a count)
    found = Found(ws, r.stdout)
    problem_lines = {p["line"] for p in plan["problems"]}
    rejected = {row["line"] for row in plan["rows"] if row["action"] == "reject"}
    lost: list[str] = []
    for card in read_cards(decode_bytes(path.read_bytes())):
        if card.line in rejected:
            continue
        for prop in card.props:
            if prop.binary or prop.name in UNKEPT:
                assert plan["not_imported"].get(prop.name), (name, prop.name)
                continue
            if prop.name in ("X-ABLABEL", "X-ABADR") and not prop.text.strip():
                continue
            parts = prop.items if prop.name == "CATEGORIES" else prop.parts if prop.name in ("N", "ADR", "ORG") else [prop.text]
            if prop.name == "X-ANDROID-CUSTOM" and prop.parts[0] == "vnd.android.cursor.item/nickname":
                parts = prop.parts[1:]     # the mime type says what the row is: a nickname
            if prop.name == "BDAY":     # Apple's year 1604 means "no year": --03-02
                parts = [str(parse_date(prop.text, prop))]
            for part in parts:
                if part.strip() and not found(part):
                    lost.append(f"{name}:{prop.line}: {prop.name}: {part!r}")
        for line, prop_name, _ in card.problems:
            assert line in problem_lines, (name, line, prop_name)
    assert lost == []
    check = run(["check"], ws)
    assert check.exit_code == 0, check.stdout + check.stderr

    # the second import changes nothing: no commit, the same files
    before, files = commits(ws), snapshot(ws)
    _, again = _import(run, ws, ["vcard", str(path)])
    assert again["summary"]["create"] == again["summary"]["update"] == 0, again["rows"]
    assert commits(ws) == before and snapshot(ws) == files

    if not stored(ws, "contacts"):    # every card was rejected (a card of only a photo): reported above
        assert plan["summary"]["reject"] == len(plan["rows"]) > 0
        return
    # import -> export -> import is the identity
    out = tmp_path / "out.vcf"
    assert run(["export", "vcard", "-o", str(out)], ws).exit_code == 0
    ws2 = make_ws()
    _import(run, ws2, ["vcard", str(out)])
    assert stored(ws2, "contacts") == stored(ws, "contacts")
    names = lambda w: sorted(c["name"] for c in stored(w, "companies").values())  # noqa: E731
    assert names(ws2) == names(ws)


@pytest.mark.parametrize("name", sorted(CSVS))
def test_csv_export_imports_whole_twice_and_round_trips(name: str, run, make_ws, tmp_path: Path) -> None:
    path = CORPUS / name        # an absolute name (CRMKIT_ADDRESSBOOKS) stays itself
    kind, nothing = CSVS[name]
    ws = make_ws()
    r, plan = _import(run, ws, ["csv", str(path), "--kind", kind])
    assert plan["layout"], plan                        # recognised by its header
    found = Found(ws, r.stdout)
    rejected = {row["line"] for row in plan["rows"] if row["action"] == "reject"}
    from crmkit.io.csvfmt import read_rows

    _, rows = read_rows(path)
    lost = [f"{name}:{row.line}: {column}: {value!r}"
            for row in rows if row.line not in rejected
            for column, value in row.values.items()
            if value.strip() and value not in nothing and not found(TRANSLATED.get(value.lower(), value))]
    assert lost == []
    check = run(["check"], ws)
    assert check.exit_code == 0, check.stdout + check.stderr

    before, files = commits(ws), snapshot(ws)
    _, again = _import(run, ws, ["csv", str(path), "--kind", kind])
    assert again["summary"]["create"] == again["summary"]["update"] == 0, again["rows"]
    assert commits(ws) == before and snapshot(ws) == files

    # crmkit -> crmkit: export the companies and the records, import them into an empty workspace
    ws2 = make_ws()
    for what in ("company", kind):
        out = tmp_path / f"{what}.csv"
        assert run(["export", "csv", "--kind", what, "-o", str(out)], ws).exit_code == 0
        _import(run, ws2, ["csv", str(out), "--kind", what])
    folder = {"contact": "contacts", "deal": "deals"}[kind]
    a, b = stored(ws2, folder), stored(ws, folder)
    assert [(k, f, a[k].get(f), b[k].get(f)) for k in a for f in set(a[k]) | set(b[k]) if a[k].get(f) != b[k].get(f)] == []
    assert a == b
    assert stored(ws2, "companies") == stored(ws, "companies")
