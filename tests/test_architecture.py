"""The architecture, held by a test: no import cycle, no upward import, no logic in cli/.

The layer table below is the one ARCHITECTURE.md documents. Every import counts,
at module level and inside functions alike (a lazy import is still an arrow).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "crmkit"

#: Lowest first. A module may import its own package and any package on a lower
#: layer, nothing on its own layer or above. Support sits above sales: it serves
#: customers by the value sales computes (tiers, won deals as satisfaction signals).
LAYERS: list[set[str]] = [
    {"__init__", "errors", "resources"},
    {"targets", "values"},
    {"store"},
    {"conditions"},
    {"render"},
    {"io"},
    {"people"},
    {"marketing"},
    {"sales"},
    {"support"},
    {"reports"},
    {"exchange"},
    {"check"},
    {"cli"},
    {"__main__"},
]

#: cli/ modules that are the command line's own plumbing (options, output, the error
#: boundary, lazy loading, completion), not commands; they may define helpers.
CLI_PLUMBING = {"common", "main", "registry", "completion"}


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _type_checking_nodes(tree: ast.Module) -> set[int]:
    """ids of the nodes inside `if TYPE_CHECKING:` blocks: imports for annotations only."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            for stmt in node.body:
                inside.update(id(n) for n in ast.walk(stmt))
    return inside


def _imports(name: str, path: Path, *, typing_only: bool = False) -> set[str]:
    """The crmkit modules `name` imports, wherever in the file the import statement is: the
    ones that run (typing_only=False) or the ones under `if TYPE_CHECKING:` (typing_only=True)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing = _type_checking_nodes(tree)
    for node in ast.walk(tree):
        if (id(node) in typing) != typing_only:
            continue
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for a in node.names:
                out.add(f"{module}.{a.name}" if f"{module}.{a.name}" in MODULES else module)
    return {m for m in out if m in MODULES and m != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}
#: Imports for annotations only (`if TYPE_CHECKING:`): they never run, so they cannot make an
#: import cycle (store/transaction.py names the Workspace that imports it), but they still
#: point down the table like any other arrow.
TYPE_GRAPH = {name: _imports(name, path, typing_only=True) for name, path in MODULES.items()}


def _layer_of(module: str) -> int:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "__init__"
    for i, layer in enumerate(LAYERS):
        if top in layer:
            return i
    raise AssertionError(f"{module}: its package {top!r} is in no layer of the table; add it")


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_the_walker_sees_function_level_imports() -> None:
    # rules.py imports pools inside functions only; a walker that missed them would miss arrows.
    assert "crmkit.sales.pools" in GRAPH["crmkit.sales.rules"]
    assert "crmkit.cli.common" in GRAPH["crmkit.cli.main"]


def test_the_walker_tells_annotation_imports_apart() -> None:
    # transaction.py names the Workspace for its annotations only; workspace.py imports it for real.
    assert "crmkit.store.workspace" in TYPE_GRAPH["crmkit.store.transaction"]
    assert "crmkit.store.workspace" not in GRAPH["crmkit.store.transaction"]
    assert "crmkit.store.transaction" in GRAPH["crmkit.store.workspace"]


def test_every_package_has_a_layer() -> None:
    for module in MODULES:
        _layer_of(module)


def test_no_upward_or_sideways_import() -> None:
    wrong = []
    for module, targets in GRAPH.items():
        for target in targets | TYPE_GRAPH[module]:
            if _top(module) != _top(target) and _layer_of(target) >= _layer_of(module):
                wrong.append(f"{module} -> {target}")
    assert not wrong, "imports against the layer table (ARCHITECTURE.md):\n" + "\n".join(sorted(wrong))


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle() -> None:
    assert _cycles(GRAPH) == []


def _is_command(fn: ast.FunctionDef) -> bool:
    return any("command" in ast.unparse(d) or "group" in ast.unparse(d) for d in fn.decorator_list)


def _is_option_decorator(fn: ast.FunctionDef) -> bool:
    """A function that only stacks click options: its body returns click.option(...) applications."""
    text = ast.unparse(fn)
    return "click.option" in text and not any(isinstance(n, (ast.For, ast.While)) and "click" not in ast.unparse(n)
                                              for n in ast.walk(fn))


CLI_FUNCTIONS = [
    (name, fn) for name, path in MODULES.items()
    if name.startswith("crmkit.cli.") and name.rpartition(".")[2] not in CLI_PLUMBING
    for fn in ast.parse(path.read_text(encoding="utf-8")).body if isinstance(fn, ast.FunctionDef)
]


@pytest.mark.parametrize("module, fn", CLI_FUNCTIONS, ids=[f"{m}:{f.name}" for m, f in CLI_FUNCTIONS])
def test_cli_functions_are_commands_or_take_the_app(module: str, fn: ast.FunctionDef) -> None:
    """The measurable rule for "no logic in cli/": every function there is a click command,
    a builder of commands or options, or a helper of a command that takes the App (or click
    context) to parse and print. A function of plain data is logic and belongs in a domain."""
    args = {a.arg for a in fn.args.args + fn.args.kwonlyargs}
    builds_command = fn.name.startswith("make_") and any(
        isinstance(n, ast.FunctionDef) and _is_command(n) for n in ast.walk(fn))
    assert _is_command(fn) or builds_command or _is_option_decorator(fn) or args & {"app", "ctx"}, (
        f"{module}:{fn.name} (line {fn.lineno}) is neither a command nor takes the app: move it to a domain package")


def test_cli_does_not_touch_git_directly() -> None:
    """Commits are the store's job (transactions); cli/ reads history through the store."""
    offenders = [m for m, targets in GRAPH.items() if m.startswith("crmkit.cli.") and "crmkit.store.gitio" in targets]
    assert offenders == []


#: Modules longer than MAX_LINES, each with why (ARCHITECTURE.md's *Checks* says the same).
#: The store's storage core is one job per module and is being reworked on its own.
LONG_MODULES = {
    "crmkit.store.yamlio": "the one YAML module: fast load, round trip, atomic writes",
    "crmkit.store.gitio": "the one git adapter",
    "crmkit.store.transaction": "the one write scope",
}
MAX_LINES = 400


def test_no_module_over_max_lines_but_the_named_ones() -> None:
    """One job per module: a module past ~400 lines is split along a seam, or named above."""
    long = {name: n for name, path in MODULES.items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert {n for n in long if n not in LONG_MODULES} == set(), long
