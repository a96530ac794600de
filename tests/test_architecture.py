"""The package's structure: one-way imports, one owner per dependency, modules of readable size."""

from __future__ import annotations

import ast
from pathlib import Path

import ionq_async

ROOT = Path(ionq_async.__file__).parent
ENGINES = (
    "ionq_async._engine.polling",
    "ionq_async._engine.idempotency",
    "ionq_async._batch.engine",
)
UPWARD = ("ionq_async._client", "ionq_async._resources.jobs")
LONG_ALLOWED = {"ionq_async.testing._app"}  # the emulator's route table


def _name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(module imported, only for type checking) for every import in `path`."""
    module = _name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text())
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in node.body:
                typing_only.update(id(n) for n in ast.walk(inner))
    found: list[tuple[str, bool]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) in typing_only) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append((target, id(node) in typing_only))
            for alias in node.names:  # `from . import _commands` imports a module
                candidate = f"{target}.{alias.name}"
                if (ROOT.parent / Path(*candidate.split("."))).with_suffix(".py").exists():
                    found.append((candidate, id(node) in typing_only))
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_name(p): p for p in ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges = set()
        for target, _ in _imports(path):
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name and target != "ionq_async":
                edges.add(target)
        graph[name] = edges
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_import_graph_has_no_circle() -> None:
    graph = _graph()
    assert len(graph) > 20
    assert _cycle(graph) is None, f"import circle: {' -> '.join(_cycle(graph) or [])}"


def test_the_cycle_finder_finds_a_circle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_no_engine_reaches_up_into_the_client_or_the_jobs_resource() -> None:
    graph = _graph()
    for engine in ENGINES:
        assert not graph[engine] & set(UPWARD), f"{engine} imports {graph[engine] & set(UPWARD)}"


def test_each_dependency_has_one_owner() -> None:
    owners: dict[str, set[str]] = {"tenacity": set(), "cattrs": set(), "aiohttp": set()}
    for path in ROOT.rglob("*.py"):
        for target, typing_only in _imports(path):
            top = target.split(".")[0]
            if top in owners and not (top == "aiohttp" and typing_only):
                owners[top].add(_name(path))
    assert owners["tenacity"] == {"ionq_async._core.retry"}
    assert owners["cattrs"] == {"ionq_async._core.serde"}
    outside = {m for m in owners["aiohttp"] if not m.startswith("ionq_async.testing")}
    assert outside == {"ionq_async._core.transport"}


def test_no_module_is_over_400_lines() -> None:
    long = {
        _name(p): n
        for p in ROOT.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 400 and _name(p) not in LONG_ALLOWED
    }
    assert long == {}


def test_only_the_public_modules_have_public_names() -> None:
    public = {
        _name(p)
        for p in ROOT.rglob("*.py")
        if not any(part.startswith("_") for part in _name(p).split(".")[1:])
    }
    assert public == {"ionq_async", "ionq_async.errors", "ionq_async.testing", "ionq_async.cli"}
