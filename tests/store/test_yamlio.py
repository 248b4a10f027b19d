"""The one YAML module: YAML 1.2 semantics, refusals, faithful round trips, atomic writes."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.errors import CrmkitError
from crmkit.store import yamlio

REPO = Path(__file__).resolve().parents[2]


def test_yaml_1_2_keeps_norway_and_leading_zeros() -> None:
    data = yamlio.loads_fast('country: NO\nzip: "01234"\nphone: "0767101055"\nanswer: yes\nok: true\n')
    assert data == {"country": "NO", "zip": "01234", "phone": "0767101055", "answer": "yes", "ok": True}


def test_duplicate_key_is_refused_with_its_line() -> None:
    with pytest.raises(CrmkitError) as err:
        yamlio.loads_fast("name: a\nemail: x\nname: b\n", "contacts/a.yaml")
    assert err.value.line == 3
    assert "duplicate key" in str(err.value)
    assert str(err.value).startswith("contacts/a.yaml:3:")


@pytest.mark.parametrize("text,line,what", [
    ("base: &b {x: 1}\nother: *b\n", 1, "anchor"),
    ("a: 1\nb: [1, 2]\nc: &x 3\n", 3, "anchor"),
])
def test_anchors_and_aliases_are_refused(text: str, line: int, what: str) -> None:
    with pytest.raises(CrmkitError) as err:
        yamlio.loads_fast(text, "deals/x.yaml")
    assert err.value.line == line
    assert what in str(err.value)


def test_ampersand_in_text_is_fine() -> None:
    assert yamlio.loads_fast('name: "Smith & Sons"\nnote: 5 * 3\n') == {"name": "Smith & Sons", "note": "5 * 3"}


def test_malformed_yaml_names_the_line() -> None:
    with pytest.raises(CrmkitError) as err:
        yamlio.loads_fast("name: a\n  bad: [1,\n", "x.yaml")
    assert err.value.line is not None and "invalid YAML" in str(err.value)


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("notes: " + "x" * (yamlio.MAX_FILE_BYTES + 10) + "\n")
    with pytest.raises(CrmkitError, match="larger than"):
        yamlio.load_fast(big)


def test_bom_and_non_utf8(tmp_path: Path) -> None:
    p = tmp_path / "a.yaml"
    p.write_bytes("\ufeffname: Åsa\n".encode("utf-8"))
    assert yamlio.load_fast(p) == {"name": "Åsa"}
    p.write_bytes(b"name: \xe5sa\n")
    with pytest.raises(CrmkitError, match="not UTF-8"):
        yamlio.load_fast(p)


def test_round_trip_keeps_comments_order_quotes_and_unknown_fields() -> None:
    text = (
        "# a customer we met at the fair\n"
        "name: 'Bjørn Ødegård'\n"
        "zip: \"01234\"\n"
        "country: SE   # Sweden\n"
        "favourite_colour: teal\n"
        "tags:\n"
        "  - vip\n"
        "  - nordic\n"
    )
    doc = yamlio.loads_roundtrip(text)
    doc["title"] = "CTO"
    out = yamlio.dumps(doc)
    assert out == text + "title: CTO\n"


def test_text_a_yaml_1_1_reader_would_misread_is_quoted_on_rewrite() -> None:
    # YAML 1.2 reads `NO` as Norway, YAML 1.1 tools as false: written quoted, both agree.
    doc = yamlio.loads_roundtrip("country: NO   # Norway\nname: Anna\n")
    doc["title"] = "on"
    assert yamlio.dumps(doc) == 'country: "NO" # Norway\nname: Anna\ntitle: "on"\n'


def test_new_text_that_looks_like_a_number_is_quoted() -> None:
    out = yamlio.dumps({"zip": "01234", "phone": "0767101055", "country": "NO", "n": 5})
    assert yamlio.loads_fast(out) == {"zip": "01234", "phone": "0767101055", "country": "NO", "n": 5}


def test_timestamps_are_written_iso_with_t() -> None:
    tz = dt.timezone(dt.timedelta(hours=1))
    out = yamlio.dumps({"at": dt.datetime(2026, 11, 22, 9, 30, tzinfo=tz)})
    assert out == "at: 2026-11-22T09:30:00+01:00\n"


def test_atomic_write_failure_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "r.yaml"
    p.write_text("name: old\n")

    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        yamlio.atomic_write_text(p, "name: new\n")
    assert p.read_text() == "name: old\n"
    assert sorted(os.listdir(tmp_path)) == ["r.yaml"]  # no temp file left behind


# -- the differential test: fast path == round-trip path ---------------------------

def _both(text: str) -> tuple[object, object]:
    return yamlio.loads_fast(text), yamlio.to_plain(yamlio.loads_roundtrip(text))


def test_fast_equals_roundtrip_on_every_sample_file() -> None:
    files = sorted((REPO / "sample_workspace").rglob("*.yaml"))
    assert files, "the sample workspace has YAML files"
    for path in files:
        text = yamlio.read_text(path)
        fast, slow = _both(text)
        assert fast == slow, path


TRICKY = [
    "a: NO\nb: no\nc: off\nd: y\ne: ~\nf: null\n",
    "zip: 01234\nphone: 0767101055\noctal: 0o17\nhex: 0x1F\nsci: 1e3\nneg: -0.50\n",
    "d: 2026-02-28\nt: 2026-03-29T02:30:00+01:00\nz: 2026-01-01T00:00:00Z\n",
    "s: '12 345,50 kr'\nu: \"Szőke Zsófia\"\nm: |\n  line one\n  line two\n",
    "nested: {a: [1, 2, {b: c}], d: {e: f}}\nempty: {}\nlist: []\n",
    "inf: .inf\nnan_text: '.nan'\nbool: True\nyes_text: Yes\n",
    "folded: >\n  one\n  two\nkey with spaces: v\n'quoted key': 1\n",
]


@pytest.mark.parametrize("text", TRICKY)
def test_fast_equals_roundtrip_on_tricky_documents(text: str) -> None:
    fast, slow = _both(text)
    assert fast == slow


scalars = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=20),
    st.integers(-10**12, 10**12),
    st.booleans(),
    st.none(),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1)),
    st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-10**9, max_value=10**9).map(float),
)
documents = st.dictionaries(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzåäöøő_", min_size=1, max_size=10),
    st.one_of(scalars, st.lists(scalars, max_size=4), st.dictionaries(st.sampled_from(["x", "y", "zip"]), scalars)),
    max_size=8,
)


@settings(max_examples=150, deadline=None)
@given(documents)
def test_fast_equals_roundtrip_on_generated_documents(doc: dict) -> None:
    text = yamlio.dumps(doc)
    fast, slow = _both(text)
    assert fast == slow
    assert fast == doc


def test_a_value_used_twice_is_written_twice_not_as_an_alias() -> None:
    now = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)
    tags = ["a"]
    out = yamlio.dumps({"at": now, "created": now, "x": tags, "y": tags})
    assert "&" not in out and "*" not in out
    assert yamlio.loads_fast(out)["created"] == now
