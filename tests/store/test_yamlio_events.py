"""yamlio.loads_events (the merge driver's parser) gives what loads_fast gives: values,
types and errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.store import yamlio

REPO = Path(__file__).resolve().parents[2]


def typed(value: Any) -> Any:
    """The value with every scalar's type beside it (True == 1 and 1 == 1.0 in Python)."""
    if isinstance(value, dict):
        return [("map", typed(k), typed(v)) for k, v in value.items()]
    if isinstance(value, list):
        return ["seq", *(typed(v) for v in value)]
    if isinstance(value, dt.datetime):
        return (type(value).__name__, value.isoformat(), str(value.tzinfo))
    return (type(value).__name__, repr(value))


def same(text: str) -> None:
    assert typed(yamlio.loads_events(text)) == typed(yamlio.loads_fast(text))


def test_every_sample_and_test_data_file() -> None:
    files = sorted((REPO / "sample_workspace").rglob("*.yaml")) + sorted((REPO / "tests").rglob("*.yaml"))
    assert len(files) > 20
    read = 0
    for path in files:
        try:
            text = yamlio.read_text(path)
            expected = typed(yamlio.loads_fast(text))
        except yamlio.YamlFileError as exc:
            with pytest.raises(yamlio.YamlFileError) as got:
                yamlio.loads_events(text)
            assert got.value.message == exc.message, path
            continue
        assert typed(yamlio.loads_events(text)) == expected, path
        read += 1
    assert read > 20


EDGES = [
    "a: NO\nb: no\nc: off\nd: y\ne: ~\nf: null\n",
    "zip: 01234\nphone: 0767101055\noctal: 0o17\nhex: 0x1F\nsci: 1e3\nneg: -0.50\n",
    "d: 2026-02-28\nt: 2026-03-29T02:30:00+01:00\nz: 2026-01-01T00:00:00Z\n",
    "s: '12 345,50 kr'\nu: \"Szőke Zsófia\"\nm: |\n  line one\n  line two\n",
    "nested: {a: [1, 2, {b: c}], d: {e: f}}\nempty: {}\nlist: []\n",
    "inf: .inf\nnan_text: '.nan'\nbool: True\nyes_text: Yes\n",
    "",
    "# only a comment\n",
    "plain\n",
    "- 1\n- true\n- ~\n- ''\n- '1'\n- \"true\"\n",
    "a:\nb: \nc: ''\n",
    "n: Null\nN: NULL\nnull_text: nil\nt: TRUE\nf: False\nfx: fAlse\n",
    "i: +12\nj: -0\nk: 0b101\nl: 1_000\nm: 0x_1f\no: 012\nf: 1.\ng: .5\nh: -.inf\nq: +1e5\nr: 1e-3\n",
    "t1: 2026-11-20 09:00:00\nt2: 2026-11-20t09:00:00.5Z\nt3: 2026-1-2T3:04:05 +01:00\nd: 2026-11-20\n",
    "1: one\n2.5: x\ntrue: y\n~: z\n2026-01-01: d\n",
    "k: 'it''s'\nl: \"a\\tb\\u00e5\"\nm: |-\n  kept\n\n  lines\nn: >+\n  folded\n\n",
    "multi: this is\n  a plain scalar\n  over lines\n",
    "nest:\n  - a: 1\n    b: [x, {c: d}]\n  - - deep\n    - list\n",
    "--- \nexplicit: start\n...\n",
    "tagged: !!str 123\n",
    "anchor: &a x\nalias: *a\n",
    "merge:\n  <<: {a: 1}\n  b: 2\n",
    "value: =\n",
    "%YAML 1.1\n---\nold: yes\n",
    "a: 1\n---\nb: 2\n",
    "a: 1\na: 2\n",
    "? [complex, key]\n: v\n",
    "bad: [unclosed\n",
    "date: 2026-02-30\n",
    "a: b: c\n",
    "\tindent: tab\n",
    "company: Smith & Co\nnote: a * b\n",
]


@pytest.mark.parametrize("text", EDGES)
def test_edges_give_the_same_values_or_the_same_error(text: str) -> None:
    try:
        expected = typed(yamlio.loads_fast(text, "x.yaml"))
    except yamlio.YamlFileError as exc:
        with pytest.raises(yamlio.YamlFileError) as got:
            yamlio.loads_events(text, "x.yaml")
        assert (got.value.message, got.value.line) == (exc.message, exc.line)
        return
    assert typed(yamlio.loads_events(text, "x.yaml")) == expected


scalars = st.one_of(
    st.text(max_size=20),
    st.text(alphabet="0123456789-+.:eEx_oTtZ ", max_size=12),
    st.sampled_from(["true", "False", "null", "~", "", "NULL", ".inf", "-.NaN", "<<", "=", "0o17", "1_0"]),
    st.integers(-10**15, 10**15),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1)),
    st.datetimes(timezones=st.just(dt.UTC)),
)
documents = st.recursive(
    st.dictionaries(st.text(min_size=1, max_size=8), scalars, max_size=6),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(min_size=1, max_size=8), inner,
                                                                         max_size=4)),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(documents)
def test_generated_documents(doc: Any) -> None:
    same(yamlio.dumps(doc))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab: -\n'\"[]{},#&*!|>?%0123456789.~tn", max_size=40))
def test_arbitrary_text_same_value_or_same_error(text: str) -> None:
    test_edges_give_the_same_values_or_the_same_error(text)
