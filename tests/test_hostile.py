"""The hostile corpus: a workspace, a web form and a shell in the hands of an attacker.

Every case runs the real CLI on a real git workspace (committed, as a pull request
would bring it) with a sentinel file outside the workspace that symbolic links point
at. Each case asserts the exact exit code, one line on stderr, no traceback, nothing
of the sentinel in the output, nothing outside the workspace written, and, where the
command refuses, the workspace and its git state unchanged. No case may exit 70
("a bug in crmkit").
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import MINIMAL_CONFIG, invoke

SENTINEL = "SENTINEL-7f3a-outside-the-workspace"
CRMKIT = [sys.executable, "-m", "crmkit"]

CONTACT = "name: Anna Berg\nemail: anna@acme.se\ncompany: acme-ab\ncountry: SE\n"
COMPANY = "name: Acme AB\ncountry: SE\n"
DEAL = ("title: Acme ERP\ncompany: acme-ab\nstage: proposal\nvalue: 1000\ncurrency: SEK\n"
        "stage_history:\n  - {stage: proposal, at: 2026-10-01T09:00:00+02:00, by: daniel}\n")
LEAD = "name: Bo Ek\nemail: bo@ek.se\nstatus: prospect\nusers: 10\n"
MAIL = '---\nsubject: "Hello {{ contact.name }}"\nkind: transactional\n---\n{body}\n'
BASE = {
    "contacts/anna-berg.yaml": CONTACT,
    "companies/acme-ab.yaml": COMPANY,
    "deals/acme-erp.yaml": DEAL,
    "leads/ld-20261101-abcde.yaml": LEAD,
    "crmkit.yaml": MINIMAL_CONFIG + "mail:\n  from: \"Test AB <hej@test.se>\"\n",
}


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


@dataclass
class Env:
    """What a case's setup may touch: the workspace and the folder outside it."""

    ws: Path
    outside: Path

    def write(self, rel: str, text: str | bytes) -> Path:
        path = self.ws / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8", newline="")
        return path

    def link(self, rel: str, target: Path) -> None:
        path = self.ws / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir() and not path.is_symlink():
            # the folder moves outside; the workspace keeps a link to it
            os.rename(path, target)
        elif path.is_file():
            path.unlink()
        path.symlink_to(target)

    def secret(self) -> Path:
        return self.outside / "secret.txt"


@dataclass
class Case:
    id: str
    args: list[str]
    code: int
    setup: Callable[[Env], None] | None = None
    stdin: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    #: The command refuses: files and git must be as before.
    refuses: bool = True
    #: Text stderr must hold (the reason, so a refusal for the wrong reason fails).
    says: str = ""
    #: Lines stderr may have: 1 for an error or a warning, 0 for a clean success.
    stderr_lines: int = 1
    check: Callable[[Env, object], None] | None = None


def _yaml_alias_bomb() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        prev = chr(ord("a") + i - 1)
        cur = chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]")
    return "name: bomb\n" + "\n".join(lines) + "\n"


def _no_file_has(text: str) -> Callable[[Env, object], None]:
    def check(env: Env, result: object) -> None:
        for path in env.ws.rglob("*"):
            if ".git" in path.parts or path.is_symlink() or not path.is_file():
                continue
            assert text not in path.read_text(encoding="utf-8", errors="replace"), path
    return check


def _outbox_has(needle: str, absent: str = "") -> Callable[[Env, object], None]:
    def check(env: Env, result: object) -> None:
        files = sorted((env.ws / "outbox").glob("*.eml"))
        assert files, "no message was rendered"
        text = files[0].read_text(encoding="utf-8")
        assert needle in text
        if absent:
            assert absent not in text
    return check


def _file_is(rel: str, expected: bytes) -> Callable[[Env, object], None]:
    def check(env: Env, result: object) -> None:
        assert (env.ws / rel).read_bytes() == expected
    return check


CRLF_CONTACT = b"# written on Windows\r\nname: Cecilia Ek\r\nemail: cecilia@ek.se\r\ncountry: SE\r\n"
BOM_CONTACT = "\ufeffname: Dora Varga\nemail: dora@varga.hu\n".encode()


CASES: list[Case] = [
    # -- ids and paths ------------------------------------------------------------------
    Case("traversal-show", ["show", "../../outside/secret"], 2, says="unknown record kind"),
    Case("traversal-kind-id", ["show", "contact/../../x"], 2, says="invalid id"),
    Case("traversal-add-id", ["contact", "add", "Eve", "--id", "../eve"], 2, says="invalid id"),
    Case("id-with-trailing-newline", ["show", "anna-berg\n"], 2, says="invalid id"),
    Case("traversal-template-name", ["mail", "render", "../../outside/x", "--to", "anna-berg"], 1,
         says="not a template name"),
    # -- symbolic links -----------------------------------------------------------------
    Case("symlink-record-show", ["show", "evil"], 1, says="symbolic link",
         setup=lambda e: e.link("contacts/evil.yaml", e.secret())),
    Case("symlink-record-set", ["set", "evil", "name=Eve"], 1, says="symbolic link",
         setup=lambda e: e.link("contacts/evil.yaml", e.secret())),
    Case("symlink-record-list", ["contact", "list"], 0, says="symbolic link",
         setup=lambda e: e.link("contacts/evil.yaml", e.secret())),
    Case("symlink-folder-write", ["activity", "add", "Call Anna", "type=call", "contact=anna-berg"], 1,
         says="symbolic link", setup=lambda e: (e.write("activities/act-1.yaml", "type: note\n"),
                                                e.link("activities", e.outside / "activities"))),
    Case("symlink-folder-list", ["activity", "list"], 0, says="symbolic link",
         setup=lambda e: (e.write("activities/act-1.yaml", "type: note\n"),
                          e.link("activities", e.outside / "activities"))),
    Case("symlink-template-include", ["mail", "render", "hi", "--to", "anna-berg"], 1, says="symbolic link",
         setup=lambda e: (e.write("templates/mail/hi.md.j2", MAIL.format(body='{% include "part.j2" %}')),
                          e.link("templates/part.j2", e.secret()))),
    Case("symlink-template-import", ["mail", "render", "hi", "--to", "anna-berg"], 1, says="symbolic link",
         setup=lambda e: (e.write("templates/mail/hi.md.j2",
                                  MAIL.format(body='{% import "macros.j2" as m %}{{ m }}')),
                          e.link("templates/macros.j2", e.secret()))),
    Case("symlink-template-file", ["mail", "render", "hi", "--to", "anna-berg"], 1, says="symbolic link",
         setup=lambda e: e.link("templates/mail/hi.md.j2", e.secret())),
    Case("symlink-template-folder", ["mail", "render", "hi", "--to", "anna-berg"], 1, says="symbolic link",
         setup=lambda e: (e.write("templates/mail/hi.md.j2", MAIL.format(body="hi")),
                          e.link("templates", e.outside / "templates"))),
    Case("symlink-rule-file", ["route"], 1, says="symbolic link",
         setup=lambda e: e.link("rules/routing.yaml", e.secret())),
    Case("symlink-segment", ["segment", "show", "evil"], 1, says="symbolic link",
         setup=lambda e: e.link("segments/evil.yaml", e.secret())),
    Case("symlink-outbox-message", ["mail", "send"], 1, says="symbolic link",
         setup=lambda e: e.link("outbox/evil.eml", e.secret())),
    Case("symlink-config", ["contact", "list"], 1, says="symbolic link",
         setup=lambda e: e.link("crmkit.yaml", e.secret())),
    Case("symlink-cache-folder", ["contact", "list"], 1, says="symbolic link",
         setup=lambda e: ((e.outside / "cache").mkdir(), e.link(".crmkit", e.outside))),
    Case("symlink-check-reports-each", ["check"], 1, says="problems found",
         setup=lambda e: (e.link("contacts/evil.yaml", e.secret()),
                          e.write("activities/act-1.yaml", "type: note\n"),
                          e.link("activities", e.outside / "activities")),
         check=lambda e, r: (_assert(r.stdout.count(": symlink: ") == 2, r.stdout),
                             _assert("contacts/evil.yaml" in r.stdout and "activities" in r.stdout, r.stdout))),
    # -- regular expressions ------------------------------------------------------------
    Case("regex-catastrophic-where", ["contact", "list", "--where", 'name matches "^(a+)+$"'], 0,
         refuses=False, stderr_lines=0,
         setup=lambda e: e.write("contacts/aaaa.yaml", "name: " + "a" * 5000 + "b\n")),
    Case("regex-backreference-where", ["contact", "list", "--where", 'name matches "(a)\\\\1"'], 2,
         says="backreferences"),
    Case("regex-lookahead-where", ["contact", "list", "--where", 'name matches "(?=a)"'], 2, says="look-ahead"),
    Case("regex-unsafe-rule-check", ["check"], 1, says="problems found", stderr_lines=2,  # + the no-fallback warning
         setup=lambda e: e.write("rules/routing.yaml",
                                 '- id: r1\n  when: name matches "(a+)\\\\1"\n  set: {owner: daniel}\n'),
         check=lambda e, r: _assert("backreferences" in r.stdout, r.stdout)),
    Case("regex-unsafe-rule-route", ["route"], 1, says="backreferences",
         setup=lambda e: e.write("rules/routing.yaml",
                                 '- id: r1\n  when: name matches "(a+)\\\\1"\n  set: {owner: daniel}\n')),
    Case("where-nested-3000-parentheses", ["contact", "list", "--where", "(" * 3000 + "name == x" + ")" * 3000],
         2, says="nested more than"),
    Case("where-3000-nots", ["contact", "list", "--where", "not " * 3000 + "name == x"], 2, says="nested more than"),
    # -- templates ----------------------------------------------------------------------
    Case("template-nested-range", ["mail", "render", "hi", "--to", "anna-berg"], 1, says="stopped",
         setup=lambda e: e.write("templates/mail/hi.md.j2", MAIL.format(
             body="{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"))),
    Case("template-10-gb-string", ["mail", "render", "hi", "--to", "anna-berg"], 1, says="stopped",
         setup=lambda e: e.write("templates/mail/hi.md.j2", MAIL.format(body="{{ 'a' * 10**10 }}"))),
    Case("template-huge-power", ["mail", "render", "hi", "--to", "anna-berg"], 1, says="stopped",
         setup=lambda e: e.write("templates/mail/hi.md.j2", MAIL.format(body="{{ 9 ** 9999999 }}"))),
    Case("template-huge-format-width", ["mail", "render", "hi", "--to", "anna-berg"], 1, says="stopped",
         setup=lambda e: e.write("templates/mail/hi.md.j2", MAIL.format(body="{{ '%999999999d' % 1 }}"))),
    Case("template-huge-ljust", ["mail", "render", "hi", "--to", "anna-berg"], 1, says="stopped",
         setup=lambda e: e.write("templates/mail/hi.md.j2", MAIL.format(body="{{ 'a'.ljust(10**9) }}"))),
    Case("template-huge-center-filter", ["mail", "render", "hi", "--to", "anna-berg"], 1, says="stopped",
         setup=lambda e: e.write("templates/mail/hi.md.j2", MAIL.format(body="{{ 'a'|center(10**9) }}"))),
    Case("template-sandbox-escape", ["mail", "render", "hi", "--to", "anna-berg"], 1, says="unsafe",
         setup=lambda e: e.write("templates/mail/hi.md.j2", MAIL.format(
             body="{{ ''.__class__.__mro__[1].__subclasses__() }}"))),
    Case("ssti-from-record-text", ["mail", "render", "hi", "--to", "eve"], 0, refuses=False, stderr_lines=0,
         setup=lambda e: (e.write("templates/mail/hi.md.j2", MAIL.format(body="Dear {{ contact.name }}")),
                          e.write("contacts/eve.yaml", 'name: "{{ 7*7 }} {% raw %}"\nemail: eve@evil.se\n')),
         check=lambda e, r: _outbox_has("Dear {{ 7*7 }}", absent="Dear 49")(e, r)),
    # -- mail headers, CSV ----------------------------------------------------------------
    # A batch names each recipient that failed, then the total: two lines for one recipient.
    Case("header-injection-name", ["mail", "render", "hi", "--to", "eve"], 1, says="line break", stderr_lines=2,
         setup=lambda e: (e.write("templates/mail/hi.md.j2", MAIL.format(body="hi")),
                          e.write("contacts/eve.yaml", 'name: "Eve\\r\\nBcc: all@evil.se"\nemail: eve@evil.se\n'))),
    Case("header-injection-set-email", ["set", "anna-berg", "email=anna@acme.se\r\nBcc: all@evil.se"], 1,
         says="not a plain email address"),
    Case("email-with-comma-on-add", ["contact", "add", "Eve", "email=eve@evil.se, all@evil.se"], 1,
         says="not a plain email address"),
    Case("email-with-angle-brackets", ["contact", "add", "Eve", "email=Eve <eve@evil.se>"], 1,
         says="not a plain email address"),
    Case("csv-formula-export", ["export", "csv", "--kind", "contact"], 0, refuses=False, stderr_lines=0,
         setup=lambda e: e.write("contacts/eve.yaml", "name: '=HYPERLINK(\"http://evil\",\"x\")'\nemail: e@evil.se\n"),
         check=lambda e, r: _assert("'=HYPERLINK" in r.stdout and ",=HYPERLINK" not in r.stdout, r.stdout)),
    # -- hostile YAML -------------------------------------------------------------------
    Case("yaml-python-tag", ["show", "evil"], 1, says="evil.yaml",
         setup=lambda e: e.write("contacts/evil.yaml",
                                 f"name: !!python/object/apply:os.system ['echo pwned > {e.outside}/pwned']\n")),
    Case("yaml-alias-bomb", ["show", "evil"], 1, says="not allowed",
         setup=lambda e: e.write("contacts/evil.yaml", _yaml_alias_bomb())),
    Case("yaml-duplicate-keys", ["show", "evil"], 1, says="duplicate key",
         setup=lambda e: e.write("contacts/evil.yaml", "name: Eve\nemail: a@b.se\nname: Mallory\n")),
    Case("yaml-50-mb-file", ["show", "evil"], 1, says="larger than",
         setup=lambda e: e.write("contacts/evil.yaml", "name: Eve\nnotes: " + "x" * 50_000_000 + "\n")),
    Case("yaml-binary-file", ["show", "evil"], 1, says="not UTF-8",
         setup=lambda e: e.write("contacts/evil.yaml", bytes(range(256)) * 64)),
    Case("yaml-nested-100000-deep", ["show", "evil"], 1, says="nested more than",
         setup=lambda e: e.write("contacts/evil.yaml", "name: Eve\ntags: " + "[" * 100_000 + "\n")),
    Case("yaml-block-nested-deep", ["contact", "list"], 0, says="nested more than",
         setup=lambda e: e.write("contacts/evil.yaml", "name: Eve\ntags:\n" + "- " * 50_000 + "x\n")),
    # -- web form (lead add -) ----------------------------------------------------------
    Case("form-1-2-mb-field", ["lead", "add", "-"], 1, says="a record may be",
         stdin=json.dumps({"name": "Eve", "email": "eve@evil.se", "notes": "x" * 1_200_000})),
    Case("form-json-100000-deep", ["lead", "add", "-"], 1, says="nested too deeply", stdin="[" * 100_000),
    Case("form-json-deep-value", ["lead", "add", "-"], 1, says="nested more than",
         stdin='{"name": "Eve", "email": "eve@evil.se", "x": ' + "[" * 500 + "]" * 500 + "}"),
    Case("form-crlf-email", ["lead", "add", "-"], 1, says="not a plain email address",
         stdin=json.dumps({"name": "Eve", "email": "eve@evil.se\r\nBcc: all@evil.se"})),
    Case("form-json-nan", ["lead", "add", "-"], 1, says="not valid JSON",
         stdin='{"name": "Eve", "email": "eve@evil.se", "users": NaN}'),
    Case("record-nan-compared", ["lead", "list", "--where", "users > 5"], 0, refuses=False, stderr_lines=0,
         setup=lambda e: e.write("leads/ld-20261101-nnnnn.yaml", "name: Nan\nemail: n@n.se\nusers: .nan\n")),
    Case("set-empty-key-part", ["set", "anna-berg", "address..city=Oslo"], 2, says="empty parts"),
    Case("form-reserved-field", ["lead", "add", "-"], 1, says="cannot be set",
         stdin=json.dumps({"name": "Eve", "email": "eve@evil.se", "merged_into": "ld-20261101-abcde"})),
    Case("form-computed-field", ["lead", "add", "-"], 1, says="cannot be set",
         stdin=json.dumps({"name": "Eve", "email": "eve@evil.se", "score": 100})),
    # -- reserved fields on every other write path --------------------------------------
    Case("set-merged-into", ["set", "anna-berg", "merged_into=acme-ab"], 2, says="kept by crmkit"),
    Case("set-computed-score", ["set", "ld-20261101-abcde", "score=100"], 2, says="kept by crmkit"),
    Case("add-merged-into", ["contact", "add", "Eve", "merged_into=anna-berg"], 2, says="kept by crmkit"),
    Case("import-reserved-column", ["import", "csv", "{outside}/in.csv", "--kind", "contact"], 2,
         says="kept by crmkit",
         setup=lambda e: (e.outside / "in.csv").write_text("name,email,merged_into\nEve,eve@evil.se,anna-berg\n")),
    Case("edit-writes-merged-into", ["edit", "anna-berg"], 1, says="kept by crmkit",
         env={"EDITOR": f"{sys.executable} -c \"import sys; open(sys.argv[1], 'a').write('merged_into: acme-ab\\\\n')\""}),
    # -- configuration and environment ---------------------------------------------------
    Case("config-stages-not-a-list", ["deal", "list"], 1, says="crmkit.yaml:",
         setup=lambda e: e.write("crmkit.yaml", "name: X\ntimezone: UTC\npipeline:\n  stages: 5\n")),
    Case("config-offers-a-list", ["deal", "list"], 1, says="offers must be a mapping",
         setup=lambda e: e.write("crmkit.yaml", "name: X\ntimezone: UTC\noffers: [25]\n")),
    Case("config-policy-pause-on-a-number", ["ticket", "list"], 1, says="sla.policies[1].pause_on",
         setup=lambda e: e.write("crmkit.yaml", MINIMAL_CONFIG + "sla:\n  policies:\n    - {id: p, pause_on: 5}\n")),
    Case("config-stage-probability-a-list", ["report", "pipeline"], 1, says="probability must be a number",
         setup=lambda e: e.write("crmkit.yaml", MINIMAL_CONFIG.replace("probability: 10,", "probability: [10],"))),
    Case("config-unknown-key-warned", ["check"], 0, refuses=False, says="ok:", stderr_lines=2,  # warning + ok
         setup=lambda e: e.write("crmkit.yaml", MINIMAL_CONFIG + "pipline:\n  stages: []\n"),
         check=lambda e, r: _assert("did you mean pipeline" in r.stderr, r.stderr)),
    Case("config-users-a-list-set-owner", ["set", "anna-berg", "owner=daniel"], 1, says="users",
         setup=lambda e: e.write("crmkit.yaml", "name: X\ntimezone: UTC\nusers: [1]\n")),
    Case("lock-timeout-not-a-number", ["set", "anna-berg", "title=CEO"], 2, says="CRMKIT_LOCK_TIMEOUT",
         env={"CRMKIT_LOCK_TIMEOUT": "abc"}),
    Case("deal-move-broken-value", ["deal", "move", "acme-erp", "negotiation"], 1, says="value",
         setup=lambda e: e.write("deals/acme-erp.yaml", DEAL.replace("value: 1000", "value: abc"))),
    Case("deal-move-missing-company", ["deal", "move", "acme-erp", "negotiation"], 1,
         says="company: no company with id 'no-such-ab'",
         setup=lambda e: e.write("deals/acme-erp.yaml", DEAL.replace("company: acme-ab", "company: no-such-ab"))),
    Case("deal-set-missing-company", ["set", "acme-erp", "title=Acme ERP 2"], 1,
         says="company: no company with id 'no-such-ab'",
         setup=lambda e: e.write("deals/acme-erp.yaml", DEAL.replace("company: acme-ab", "company: no-such-ab"))),
    Case("deal-set-broken-value", ["set", "acme-erp", "title=Acme ERP 2"], 1, says="value: expected an amount",
         setup=lambda e: e.write("deals/acme-erp.yaml", DEAL.replace("value: 1000", "value: abc"))),
    Case("record-field-of-the-wrong-kind", ["show", "acme-ab"], 0, refuses=False, stderr_lines=0,
         setup=lambda e: e.write("deals/acme-erp.yaml", DEAL + "products: 5\n")),
    Case("fifo-record-does-not-hang", ["show", "evil"], 1, says="not a regular file",
         setup=lambda e: os.mkfifo(e.ws / "contacts" / "evil.yaml")),
    # -- fidelity: what crmkit writes, any YAML reader reads the same ------------------------
    Case("crlf-kept-on-set", ["set", "cecilia-ek", "title=CTO"], 0, refuses=False, stderr_lines=0,
         setup=lambda e: e.write("contacts/cecilia-ek.yaml", CRLF_CONTACT),
         check=_file_is("contacts/cecilia-ek.yaml", CRLF_CONTACT + b"title: CTO\r\n")),
    Case("bom-kept-on-set", ["set", "dora-varga", "title=CTO"], 0, refuses=False, stderr_lines=0,
         setup=lambda e: e.write("contacts/dora-varga.yaml", BOM_CONTACT),
         check=_file_is("contacts/dora-varga.yaml", BOM_CONTACT + b"title: CTO\n")),
    Case("yaml-1-1-words-quoted", ["set", "anna-berg", "country=NO", "title=on", "notes=1:20"], 0,
         refuses=False, stderr_lines=0,
         check=_file_is("contacts/anna-berg.yaml",
                        b'name: Anna Berg\nemail: anna@acme.se\ncompany: acme-ab\ncountry: "NO"\n'
                        b'title: "on"\nnotes: "1:20"\n')),
]


def _assert(condition: bool, context: str) -> None:
    assert condition, context


def _snapshot(root: Path) -> dict[str, bytes | str]:
    """Every file below root (links as their target text, never followed), but git's and the cache."""
    out: dict[str, bytes | str] = {}
    for folder, dirs, files in os.walk(root, followlinks=False):
        rel_folder = os.path.relpath(folder, root)
        dirs[:] = [d for d in dirs if not (rel_folder == "." and d in (".git", ".crmkit"))]
        for name in dirs + files:
            full = os.path.join(folder, name)
            rel = os.path.relpath(full, root)
            if os.path.islink(full):
                out[rel] = "-> " + os.readlink(full)
            elif os.path.isfile(full) and not stat_is_fifo(full):
                with open(full, "rb") as fh:
                    out[rel] = fh.read()
    return out


def stat_is_fifo(path: str) -> bool:
    import stat

    return stat.S_ISFIFO(os.lstat(path).st_mode)


@pytest.fixture
def hostile(tmp_path: Path, make_ws: Callable[..., Path]) -> Callable[[Case], tuple[Env, dict, dict, str]]:
    def build(case: Case) -> tuple[Env, dict, dict, str]:
        outside = tmp_path / "outside"
        outside.mkdir()
        (outside / "secret.txt").write_text(f"name: {SENTINEL}\n{SENTINEL}\n")
        ws = make_ws(dict(BASE), git=True)
        env = Env(ws, outside)
        if case.setup is not None:
            case.setup(env)
            git(ws, "add", "-A")
            git(ws, "commit", "-q", "-m", "a pull request", "--allow-empty")
        return env, _snapshot(ws), _snapshot(outside), git(ws, "rev-parse", "HEAD")

    return build


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input_is_contained(case: Case, hostile, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    env, ws_before, outside_before, head = hostile(case)
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(env.ws)
    args = [a.replace("{outside}", str(env.outside)) for a in case.args]
    result = invoke(args, env.ws, input=case.stdin)

    assert result.exit_code != 70, f"internal error: {result.stderr}"
    assert result.exit_code == case.code, result.stderr or result.stdout
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == case.stderr_lines, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    if case.says:
        assert case.says in result.stderr, result.stderr
    assert SENTINEL not in result.stdout + result.stderr
    assert _snapshot(env.outside) == outside_before, "something outside the workspace was written"
    assert not (env.outside / "pwned").exists()
    if case.refuses:
        assert _snapshot(env.ws) == ws_before, "a refusing command changed the workspace"
        assert git(env.ws, "rev-parse", "HEAD") == head
        assert git(env.ws, "status", "--porcelain") == ""
    else:
        assert SENTINEL not in git(env.ws, "log", "-p", "--all")
    if case.check is not None:
        case.check(env, result)


# -- the cases that need a process of their own ------------------------------------------


def _run(args: list[str], ws: Path, **kw) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    return subprocess.run(CRMKIT + ["-w", str(ws), *args], capture_output=True, text=True, env=env, **kw)


def test_a_full_disk_is_one_line_and_exit_74(make_ws: Callable[..., Path]) -> None:
    """A write that the file system refuses (here: the file size limit, as a full disk
    refuses with ENOSPC) is one line with the file, exit 74, nothing half-written."""
    ws = make_ws(dict(BASE))
    before = _snapshot(ws)

    def small_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # then write() fails with EFBIG instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    r = _run(["contact", "add", "Eve Big", "notes=" + "x" * 10_000], ws, preexec_fn=small_files)
    assert r.returncode == 74, r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
    # the file named is the first one the limit refused: the transaction's journal or the record
    assert "contacts/" in r.stderr or ".crmkit/tx/journal" in r.stderr, r.stderr
    assert _snapshot(ws) == before
    assert git(ws, "status", "--porcelain") == ""


def test_output_to_a_full_device_is_one_line_and_exit_74(make_ws: Callable[..., Path]) -> None:
    ws = make_ws(dict(BASE))
    with open("/dev/full", "w") as full:
        r = subprocess.run(CRMKIT + ["-w", str(ws), "contact", "list"], stdout=full, stderr=subprocess.PIPE,
                           text=True, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert r.returncode == 74, r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr and "No space left" in r.stderr, r.stderr


def test_catastrophic_pattern_on_many_long_names_is_linear() -> None:
    """Not timed (speed is measured in bench/): RE2 answers where `re` would not in a lifetime."""
    from crmkit.conditions.language import parse

    cond = parse('name matches "^(a+)+$"')
    names = [{"name": "a" * n + "b"} for n in range(1, 2000)]
    assert not any(cond.evaluate(r) for r in names)
    assert cond.evaluate({"name": "aaaa"})


def test_reserved_computed_fields_mirror_the_computed_table() -> None:
    from crmkit.conditions.views import COMPUTED
    from crmkit.store.fieldcheck import COMPUTED_FIELDS

    assert {k: set(v) for k, v in COMPUTED.items()} == {k: set(v) for k, v in COMPUTED_FIELDS.items()}


@pytest.mark.parametrize("value, ok", [
    ("anna@acme.se", True), ("a.b+tag@sub.example.co.uk", True), ("zsófia@példa.hu", True),
    ("anna@acme.se\n", False), ("anna@acme.se\r\nBcc: x@y.z", False), ("a@b.se, c@d.se", False),
    ("Anna <anna@acme.se>", False), ("anna", False), ("@acme.se", False), ("anna@", False),
    ("anna@@acme.se", False), ("anna@.acme.se", False), ("anna@acme..se", False), ('"a b"@acme.se', False),
])
def test_the_email_rule(value: str, ok: bool) -> None:
    from crmkit.store.fieldcheck import email_problem

    assert (email_problem(value) is None) is ok
