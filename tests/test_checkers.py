"""crmkit.check: the store's checks plus every domain's, and none lost on the way."""

from __future__ import annotations

import inspect
from collections.abc import Callable

from crmkit import check
from crmkit.store.validate import check_records
from crmkit.store.workspace import Workspace


def test_every_checker_is_a_function_of_the_workspace() -> None:
    assert len(check.CHECKERS) == len(set(check.CHECKERS)) == 19
    for fn in check.CHECKERS:
        assert inspect.isfunction(fn) and list(inspect.signature(fn).parameters) == ["ws"]


def test_domain_problems_come_from_crmkit_check_not_from_the_store(make_ws: Callable[..., object]) -> None:
    root = make_ws({
        "contacts/anna.yaml": "name: Anna\ncompany: nobody\n",
        "segments/broken.yaml": "where: 'stage =>'\n",
        "rules/routing.yaml": "- id: r1\n  kind: lead\n  when: 'users >'\n",
    })
    ws = Workspace(root)
    store_codes = {p.code for p in check_records(ws)}
    ws = Workspace(root)
    problems = check.check_workspace(ws)
    paths = {p.path for p in problems}
    assert "missing-ref" in store_codes
    assert {"contacts/anna.yaml", "segments/broken.yaml", "rules/routing.yaml"} <= paths
    assert not {p.path for p in check_records(Workspace(root))} & {"segments/broken.yaml", "rules/routing.yaml"}
    assert problems == sorted(problems, key=lambda p: (p.path, p.line or 0, p.code))
