"""The package's structure: one-way imports, one owner per dependency, modules of readable size."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from _spec import load_spec

import ionq_async
from ionq_async._core import api
from ionq_async._core.retry import Kind

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


# --- layers: a folder per layer, imports only downward --------------------------------------

LAYERS = (
    ("ionq_async._version",),
    ("ionq_async._models",),
    ("ionq_async.errors",),
    ("ionq_async._core",),
    ("ionq_async._engine",),
    ("ionq_async._batch",),
    ("ionq_async._resources",),
    (ROOT_LAYER := "(root modules)",),
    ("ionq_async.testing",),
    ("ionq_async.cli",),
)
"""Lowest first. Root modules are the package's own top-level modules (`_client`, a blocking
client, `__init__`); the emulator stands above them, and the CLI (which can serve it) on top."""


def _layer(module: str) -> tuple[int, str]:
    """(rank, folder) of a module: the layer it belongs to, and its folder in that layer."""
    for rank, folders in enumerate(LAYERS):
        for folder in folders:
            if module == folder or module.startswith(folder + "."):
                return rank, folder
    rank = next(i for i, folders in enumerate(LAYERS) if ROOT_LAYER in folders)
    return rank, ROOT_LAYER


def _downward_violations(graph: dict[str, set[str]]) -> list[str]:
    bad = []
    for module, targets in sorted(graph.items()):
        rank, folder = _layer(module)
        for target in sorted(targets):
            to_rank, to_folder = _layer(target)
            if to_rank > rank or (to_rank == rank and to_folder != folder):
                bad.append(f"{module} -> {target}")
    return bad


def test_imports_go_only_downward_between_layer_folders() -> None:
    """TYPE_CHECKING and function-level imports count: `_imports` walks the whole tree."""
    assert _downward_violations(_graph()) == []


def test_the_layer_rule_catches_an_upward_import() -> None:
    graph = {
        "ionq_async._core.http": {"ionq_async._resources.jobs"},
        "ionq_async._engine.polling": {"ionq_async._batch.engine"},
        "ionq_async.testing._server": {"ionq_async.cli._base"},
        "ionq_async._resources.jobs": {"ionq_async._core.http", "ionq_async._models.jobs"},
        "ionq_async._client": {"ionq_async._resources.jobs", "ionq_async._version"},
    }
    assert _downward_violations(graph) == [
        "ionq_async._core.http -> ionq_async._resources.jobs",
        "ionq_async._engine.polling -> ionq_async._batch.engine",
        "ionq_async.testing._server -> ionq_async.cli._base",
    ]


def test_imports_inside_functions_and_type_checking_blocks_are_seen(tmp_path: Path) -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from .._batch import engine\n"
        "def f():\n    from .._resources import jobs\n"
    )
    module = ROOT / "_core" / "probe_for_test.py"
    try:
        module.write_text(source)
        targets = {t for t, _ in _imports(module)}
    finally:
        module.unlink()
    assert {"ionq_async._batch.engine", "ionq_async._resources.jobs"} <= targets


# --- every operation declared once, with the kind the spec implies --------------------------


def _spec_kind(method: str, operation: dict[str, object]) -> Kind:
    """GET is safe; PUT and DELETE idempotent; a POST answered 201 creates, else idempotent."""
    if method == "GET":
        return Kind.SAFE
    if method in ("PUT", "DELETE"):
        return Kind.IDEMPOTENT
    responses = operation.get("responses")
    return Kind.CREATING if isinstance(responses, dict) and "201" in responses else Kind.IDEMPOTENT


def _template(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def test_every_spec_operation_is_declared_exactly_once_with_its_kind() -> None:
    spec = load_spec()
    expected = {
        (method.upper(), _template(path)): (
            operation["operationId"],
            _spec_kind(method.upper(), operation),
        )
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if method in ("get", "put", "post", "delete", "patch")
    }
    assert len(expected) == 25
    declared = [((op.method, _template(op.path)), (op.name, op.kind)) for op in api.OPERATIONS]
    keys = [key for key, _ in declared]
    assert sorted(k for k in keys if keys.count(k) > 1) == [], "declared more than once"
    assert dict(declared) == expected


def test_operations_are_declared_only_in_the_declaration_module() -> None:
    """One `Operation(` per declaration, all in `_core/api.py`; `reading()` makes variants."""
    places: dict[str, int] = {}
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and _called(node) == "Operation":
                places[_name(path)] = places.get(_name(path), 0) + 1
    module_level = {
        name: value for name, value in vars(api).items() if isinstance(value, api.Operation)
    }
    assert places == {"ionq_async._core.api": len(module_level), "ionq_async._core.declaration": 1}
    non_spec = {name for name, op in module_level.items() if op not in api.OPERATIONS}
    assert non_spec == {"GET_RESULT_AT"}, "a declaration not in the spec is named here"


# --- no request leaves except through a declaration -----------------------------------------

HTTP_METHODS = {"GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS"}
REQUEST_PATH = "ionq_async._core"


def _called(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _raw_requests(tree: ast.AST) -> list[str]:
    """Calls that send (or build) a request from a raw method or path instead of a declaration."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _called(node)
        first = node.args[0] if node.args else None
        raw_first = isinstance(first, ast.JoinedStr) or (
            isinstance(first, ast.Constant)
            and isinstance(first.value, str)
            and (first.value.upper() in HTTP_METHODS or first.value.startswith("/"))
        )
        if name in ("request", "send", "_request", "_attempt") and raw_first:
            found.append(f"line {node.lineno}: .{name}({ast.unparse(first)}, ...)")
        elif name == "request":
            found.append(f"line {node.lineno}: .request(...) (the request path has `send`)")
        elif name in ("Transport", "RequestPath") or (
            name == "send" and "transport" in ast.unparse(node.func)
        ):
            found.append(f"line {node.lineno}: {ast.unparse(node.func)}(...)")
    return found


def test_no_module_outside_the_request_path_sends_a_raw_request() -> None:
    builders = {"ionq_async._client"}  # builds the transport and the request path it owns
    found = {}
    for path in ROOT.rglob("*.py"):
        module = _name(path)
        if module.startswith((REQUEST_PATH, "ionq_async.testing")):
            continue
        hits = _raw_requests(ast.parse(path.read_text()))
        if module in builders:
            hits = [h for h in hits if "Transport(" not in h and "RequestPath(" not in h]
        if hits:
            found[module] = hits
    assert found == {}


def test_requests_are_built_only_from_declarations() -> None:
    """`Request(` is made by a declaration's call; the client's raw escape finds one first."""
    places = {}
    for path in ROOT.rglob("*.py"):
        tree = ast.parse(path.read_text())
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and _called(n) == "Request"]
        if calls:
            places[_name(path)] = len(calls)
    assert places == {"ionq_async._core.declaration": 1, "ionq_async._client": 1}
    client = (ROOT / "_client.py").read_text()
    assert "api.find(method, path)" in client


def test_the_raw_request_check_catches_each_form() -> None:
    source = (
        "async def f(http, transport, session):\n"
        "    await http.request('GET', '/jobs')\n"
        "    await http.send('POST', f'/jobs/{x}/clone')\n"
        "    await transport.send(method, path)\n"
        "    await client._request('GET', '/whoami')\n"
        "    await http.send(api.GET_JOB(job_id), retry)\n"
    )
    hits = _raw_requests(ast.parse(source))
    assert [h.split(":")[0] for h in hits] == ["line 2", "line 3", "line 4", "line 5"]
