"""Routing's bulk write: when new fields can be appended to a record's text as they are."""

from __future__ import annotations

import pytest

from crmkit.store import appending


@pytest.mark.parametrize("text,ok", [
    ("name: A\nstatus: prospect\n", True),
    ("# header\nname: A\nnotes: |\n  two\n  lines\n", True),
    ("name: A\nowner: karin\n", False),        # the key is there already (perhaps added since it was read)
    ('name: A\n"routing": x\n', False),
    ("---\nname: A\n", False),                 # document markers: parse to be sure
    ("  name: A\n", False),                    # not at the left margin
    ("{name: A}\n", False),                    # a flow mapping
])
def test_plainly_appendable(text: str, ok: bool) -> None:
    assert appending.plainly_appendable(text, {"owner": "x", "routing": {}}) is ok
