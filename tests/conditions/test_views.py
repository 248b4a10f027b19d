"""Computed fields: every entry of the plugin table resolves, and a broken one is loud."""

from __future__ import annotations

import pytest

from crmkit.conditions import views
from crmkit.errors import InternalError
from crmkit.store.records import Record
from crmkit.targets import resolve

TARGETS = sorted({target for fields in views.COMPUTED.values() for target in fields.values()})


@pytest.mark.parametrize("target", TARGETS)
def test_every_computed_field_resolves_to_a_function(target: str) -> None:
    assert callable(resolve(target))


def test_a_computed_field_whose_function_is_gone_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(views.COMPUTED, "deal", {"magic": "crmkit.sales.scoring:no_such_function"})
    rec = Record("deal", "d1", {"title": "x"})
    v = views.view(None, rec)
    assert v["title"] == "x" and v.get("other") is None
    with pytest.raises(InternalError, match="no_such_function"):
        v.get("magic")
    assert views.computed_fields("deal") == ["magic"]  # listed, not silently dropped
