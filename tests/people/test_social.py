"""Social profiles: validated and normalised per network, searchable, through vCard and CSV."""

from __future__ import annotations

import json

import pytest
from conftest import git

from crmkit.errors import CrmkitError
from crmkit.people.social import normalise
from crmkit.store import yamlio


@pytest.mark.parametrize(("network", "typed", "stored"), [
    ("linkedin", "https://www.linkedin.com/in/anna-berg/", "https://www.linkedin.com/in/anna-berg"),
    ("LinkedIn", "linkedin.com/in/anna-berg?trk=x", "https://www.linkedin.com/in/anna-berg"),
    ("linkedin", "anna-berg", "https://www.linkedin.com/in/anna-berg"),
    ("twitter", "@AnnaBerg", "https://x.com/annaberg"),
    ("x", "http://twitter.com/AnnaBerg/status/1", "https://x.com/annaberg"),
    ("mastodon", "@anna@Mastodon.social", "https://mastodon.social/@anna"),
    ("mastodon", "https://fosstodon.org/@anna/", "https://fosstodon.org/@anna"),
    ("facebook", "anna.berg.5", "https://www.facebook.com/anna.berg.5"),
    ("github", "github.com/anna-b", "https://github.com/anna-b"),
    ("skype", "anna.berg.fjordlys", "anna.berg.fjordlys"),
    ("xmpp", "xmpp:anna@jabber.se", "xmpp:anna@jabber.se"),
])
def test_profiles_are_normalised(network: str, typed: str, stored: str) -> None:
    assert normalise(network, typed)["value"] == stored


@pytest.mark.parametrize(("network", "typed", "why"), [
    ("linkedin", "javascript:alert(document.cookie)", "javascript: links are refused"),
    ("skype", "javascript:alert(1)", "javascript: links are refused"),
    ("x", "data:text/html,<script>", "data: links are refused"),
    ("myspace", "anna", "unknown social network 'myspace'"),
    ("linkedin", "https://linkedin.evil.com.example/in/anna", "is not on linkedin.com"),
    ("linkedin", "https://www.linkedin.com/feed/", "is not a profile"),
    ("x", "@this_handle_is_far_too_long", "is not a x handle"),
    ("github", "line\nbreak", "multi-line"),
])
def test_bad_profiles_are_refused_with_the_reason(network: str, typed: str, why: str) -> None:
    with pytest.raises(CrmkitError, match=why.replace("(", r"\(").replace(")", r"\)")):
        normalise(network, typed)


@pytest.fixture
def ws(make_ws):  # type: ignore[no-untyped-def]
    return make_ws({"contacts/anna.yaml": "name: Anna\nemail: anna@plain.se\n",
                    "contacts/bo.yaml": "name: Bo\n"})


def load(ws, cid: str) -> dict:  # type: ignore[no-untyped-def]
    return yamlio.load_fast(ws / f"contacts/{cid}.yaml")


def test_contact_social_adds_replaces_and_removes_a_profile(run, ws) -> None:
    r = run(["contact", "social", "anna", "linkedin", "linkedin.com/in/anna-berg/"], ws)
    assert r.exit_code == 0 and "social.linkedin = https://www.linkedin.com/in/anna-berg" in r.stdout
    assert run(["contact", "social", "anna", "twitter", "@Anna"], ws).exit_code == 0
    assert load(ws, "anna")["social"] == [{"type": "linkedin", "value": "https://www.linkedin.com/in/anna-berg"},
                                          {"type": "x", "value": "https://x.com/anna"}]
    r = run(["contact", "social", "anna", "x", "x.com/anna2"], ws)
    assert "https://x.com/anna -> https://x.com/anna2" in r.stdout
    assert "social" in git(ws, "log", "-1", "--format=%s")
    assert run(["contact", "social", "anna", "linkedin", "--remove"], ws).exit_code == 0
    assert load(ws, "anna")["social"] == [{"type": "x", "value": "https://x.com/anna2"}]
    listed = run(["contact", "list", "--where", "social.x exists", "--json"], ws)
    assert [c["id"] for c in json.loads(listed.stdout)] == ["anna"]
    assert json.loads(run(["contact", "list", "--where", "social.linkedin exists", "--json"], ws).stdout) == []
    assert [c["id"] for c in json.loads(run(["contact", "list", "--where", 'social.x matches "anna2$"', "--json"],
                                            ws).stdout)] == ["anna"]


def test_a_javascript_link_or_an_unknown_network_changes_nothing(run, ws) -> None:
    before = (ws / "contacts/anna.yaml").read_bytes()
    head = git(ws, "rev-parse", "HEAD")
    for args in (["linkedin", "javascript:alert(1)"], ["myspace", "anna"]):
        r = run(["contact", "social", "anna", *args], ws)
        assert r.exit_code == 1 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert (ws / "contacts/anna.yaml").read_bytes() == before and git(ws, "rev-parse", "HEAD") == head


def test_check_reports_a_bad_profile_in_a_file_with_its_line(run, make_ws) -> None:
    ws = make_ws({"contacts/anna.yaml": "name: Anna\nsocial:\n  - {type: linkedin, value: 'javascript:alert(1)'}\n",
                  "contacts/bo.yaml": "name: Bo\nsocial:\n  - {type: friendster, value: bo}\n"})
    r = run(["check"], ws)
    assert r.exit_code == 1
    assert "contacts/anna.yaml:2: social: linkedin: javascript: links are refused" in r.stdout + r.stderr
    # a network crmkit does not know (an address book's own label) is a warning, an error with --strict
    assert "contacts/bo.yaml:2: social-network: unknown social network 'friendster'" in r.stdout + r.stderr
    (ws / "contacts/anna.yaml").unlink()
    assert run(["check"], ws).exit_code == 0
    assert run(["check", "--strict"], ws).exit_code == 1


KHARD = """\
BEGIN:VCARD
VERSION:3.0
PRODID:-//khard//khard//EN
UID:6a3f1e42-khard-anna
FN:Anna Berg
N:Berg;Anna;;;
EMAIL;TYPE=WORK:anna.berg@plain.se
X-SOCIALPROFILE;TYPE=linkedin:https://www.linkedin.com/in/anna-berg/
X-SOCIALPROFILE;TYPE=twitter:https://twitter.com/AnnaBerg
X-SOCIALPROFILE;TYPE=myspace:https://myspace.com/anna
X-SKYPE:anna.berg.skype
END:VCARD
BEGIN:VCARD
VERSION:3.0
PRODID:-//khard//khard//EN
UID:6a3f1e42-khard-bo
FN:Bo Ek
N:Ek;Bo;;;
EMAIL;TYPE=HOME:bo@ek.se
X-SOCIALPROFILE;TYPE=linkedin:javascript:alert(1)
END:VCARD
"""


def test_vcard_round_trip_of_social_profiles_with_khard_style_files(run, make_ws, tmp_path) -> None:
    src = make_ws()
    (tmp_path / "khard.vcf").write_text(KHARD, encoding="utf-8")
    r = run(["import", "vcard", str(tmp_path / "khard.vcf")], src)
    assert r.exit_code == 0, r.stderr
    out = r.stdout + r.stderr
    assert "links that run code are refused" in out
    contacts = {yamlio.load_fast(p)["name"]: yamlio.load_fast(p) for p in (src / "contacts").glob("*.yaml")}
    # myspace is no network crmkit knows: kept as the card had it (nothing lost), check warns
    expected = [{"type": "linkedin", "value": "https://www.linkedin.com/in/anna-berg"},
                {"type": "x", "value": "https://x.com/annaberg"},
                {"type": "myspace", "value": "https://myspace.com/anna"},
                {"type": "skype", "value": "anna.berg.skype"}]
    assert contacts["Anna Berg"]["social"] == expected
    assert "social" not in contacts["Bo Ek"]
    exported = tmp_path / "out.vcf"
    assert run(["export", "vcard", "-o", str(exported)], src).exit_code == 0
    text = exported.read_text(encoding="utf-8")
    assert "X-SOCIALPROFILE;TYPE=LINKEDIN:https://www.linkedin.com/in/anna-berg" in text
    assert "javascript" not in text
    dst = make_ws()
    assert run(["import", "vcard", str(exported)], dst).exit_code == 0
    again = {yamlio.load_fast(p)["name"]: yamlio.load_fast(p) for p in (dst / "contacts").glob("*.yaml")}
    assert again["Anna Berg"]["social"] == expected


def test_csv_carries_social_profiles_both_ways(run, ws, make_ws, tmp_path) -> None:
    run(["contact", "social", "anna", "linkedin", "anna-berg"], ws)
    out = tmp_path / "contacts.csv"
    assert run(["export", "csv", "-o", str(out)], ws).exit_code == 0
    assert "social" in out.read_text(encoding="utf-8").splitlines()[0]
    dst = make_ws()
    assert run(["import", "csv", str(out), "--kind", "contact"], dst).exit_code == 0
    assert load(dst, "anna")["social"] == [{"type": "linkedin", "value": "https://www.linkedin.com/in/anna-berg"}]


def test_the_readme_social_examples_run_on_the_sample_as_printed(run, sample_ws) -> None:
    """README "People and their networks": each `$ crmkit contact social ...` line, run on the
    sample, prints the line under it (stdout, or the error on stderr) with its exit code."""
    import shlex
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8").splitlines()
    examples = [(line[2:], readme[i + 1]) for i, line in enumerate(readme)
                if line.startswith("$ crmkit contact social ")]
    assert len(examples) >= 3
    for command, shown in examples:
        r = run(shlex.split(command)[1:], sample_ws)
        if shown.startswith("crmkit: error: "):
            assert r.exit_code == 1 and r.stderr.strip() == shown, (command, r.stderr)
        else:
            assert r.exit_code == 0 and r.stdout.strip() == shown.strip(), (command, r.stdout, r.stderr)
