"""The documentation site (docs/, mkdocs.yml): every public name has a docstring that the
API reference shows, the defaults it states are the real ones, and its example runs."""

from __future__ import annotations

import ast
import asyncio
import importlib
import importlib.util
import inspect
import os
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

import ionq_async
import ionq_async.errors
import ionq_async.testing

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
REFERENCE = DOCS / "reference"

PUBLIC_MODULES = (ionq_async, ionq_async.testing, ionq_async.errors)

# Plain values: a str, tuple, list or dict has no docstring of its own, and a typing alias
# (Literal[...]) cannot hold one. They are listed here by name, and only they may be.
PLAIN_VALUES = {
    "ionq_async": {
        "__version__": "the version string",
        "DEFAULT_BASE_URL": "a str (its attribute docstring is shown in the reference)",
        "JOB_TYPES": "a tuple of job type names (attribute docstring in the reference)",
    },
    "ionq_async.testing": {
        "CIRCUIT_FORMATS": "a tuple of result format names",
        "ESTIMATE_SHAPES": "a tuple of answer shape names",
        "FAILURE_CODES": "a list of the spec's failure codes",
        "RATES": "a dict of backend name to Rate",
        "RESULTS_SHAPES": "a tuple of answer shape names",
        "ROUTES": "a tuple of route names",
        "SESSION_CODES": "a tuple of session error codes",
        "EstimateShape": "a Literal alias",
        "ResultsShape": "a Literal alias",
    },
    "ionq_async.errors": {},
}


def _public(module: ModuleType) -> list[tuple[ModuleType, str]]:
    skip = PLAIN_VALUES[module.__name__]
    return [(module, name) for name in module.__all__ if name not in skip]


DOCUMENTED = [pair for module in PUBLIC_MODULES for pair in _public(module)]


def _directives() -> dict[str, str]:
    """Every `::: path` of the reference pages, with its indented options block."""
    found: dict[str, str] = {}
    for page in sorted(REFERENCE.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        for match in re.finditer(r"^::: ([\w.]+)\n((?:[ \t]+.*\n?)*)", text, re.M):
            found[match.group(1)] = match.group(2)
    return found


def _module(path: str) -> ModuleType | None:
    """The module at dotted `path`, or None when `path` names something else."""
    try:
        spec = importlib.util.find_spec(path)
    except ModuleNotFoundError:
        return None
    return None if spec is None else importlib.import_module(path)


def _shown_by(module: ModuleType, name: str, directives: dict[str, str]) -> list[str]:
    """The directives that render `module.name`: its own, or one of a module exporting it."""
    target = getattr(module, name)
    shown = []
    for path, options in directives.items():
        if path == f"{module.__name__}.{name}":
            shown.append(path)
            continue
        owner = _module(path)
        if owner is None or name not in getattr(owner, "__all__", ()):
            continue
        assert "members:" not in options, f"::: {path} lists its members; use one per name"
        if getattr(owner, name) is target:
            shown.append(path)
    return shown


def test_plain_values_are_exported_values_not_classes_or_functions() -> None:
    for module in PUBLIC_MODULES:
        for name, reason in PLAIN_VALUES[module.__name__].items():
            assert name in module.__all__, f"{module.__name__}.{name} is gone: drop it ({reason})"
            value = getattr(module, name)
            kind = inspect.isclass(value) or inspect.isroutine(value)
            assert not kind, f"{module.__name__}.{name} is a class or function: document it"


def test_the_checked_names_include_the_main_ones() -> None:
    names = {f"{m.__name__}.{n}" for m, n in DOCUMENTED}
    for expected in (
        "ionq_async.AsyncIonQ",
        "ionq_async.RetryPolicy",
        "ionq_async.SubmissionUnknownError",
        "ionq_async.testing.FakeIonQ",
        "ionq_async.testing.serve",
        "ionq_async.errors.error_from_response",
    ):
        assert expected in names


@pytest.mark.parametrize(
    ("module", "name"), DOCUMENTED, ids=[f"{m.__name__}.{n}" for m, n in DOCUMENTED]
)
def test_public_name_has_a_docstring(module: ModuleType, name: str) -> None:
    value = getattr(module, name)
    own = vars(value).get("__doc__") if inspect.isclass(value) else value.__doc__
    assert isinstance(own, str) and own.strip(), f"{module.__name__}.{name} has no docstring"


@pytest.mark.parametrize(
    ("module", "name"), DOCUMENTED, ids=[f"{m.__name__}.{n}" for m, n in DOCUMENTED]
)
def test_public_name_is_in_the_reference(module: ModuleType, name: str) -> None:
    shown = _shown_by(module, name, _directives())
    assert shown, f"no `::: {module.__name__}.{name}` in docs/reference/*.md"


def test_reference_directives_name_public_objects() -> None:
    public = {f"{m.__name__}.{n}" for m in PUBLIC_MODULES for n in m.__all__}
    for path in _directives():
        assert path in public or _module(path) in PUBLIC_MODULES, (
            f"::: {path} is not a public name (mkdocs would render a private path)"
        )


def test_the_site_has_every_page_in_its_nav() -> None:
    config = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert "BENCHMARKS.md" in pages
    for page in pages:
        assert re.search(rf":\s*{re.escape(page)}\s*$", config, re.M), f"{page} not in nav"


def test_documented_defaults_are_the_real_ones() -> None:
    rows = []
    for page in sorted(REFERENCE.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        rows += re.findall(r"^\| `(\w+)\((\w+)=\.\.\.\)` \| `([^`]+)` \|$", text, re.M)
    assert len(rows) >= 7
    for cls, param, value in rows:
        default = inspect.signature(getattr(ionq_async, cls)).parameters[param].default
        assert default == ast.literal_eval(value), f"{cls}({param}=...) is {default!r}"


async def test_the_emulator_page_example_runs() -> None:
    text = (DOCS / "emulator.md").read_text(encoding="utf-8")
    example = re.search(r"```python\n(.*?)\n```", text, re.S)
    assert example is not None and "asyncio.run(main())" in example.group(1)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-W",
        "error",
        "-c",
        example.group(1),
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, err.decode()
    assert out.decode().strip() == "{'0': 0.5, '3': 0.5}"


def test_the_error_tree_of_the_guide_is_the_module_s() -> None:
    guide = (DOCS / "errors.md").read_text(encoding="utf-8")
    tree = re.search(r"```text\n(IonQError\n.*?)```", guide, re.S)
    assert tree is not None and ionq_async.errors.__doc__ is not None
    assert tree.group(1) in ionq_async.errors.__doc__
    named = {"IonQError", *re.findall(r"[├└]── (\w+)", tree.group(1))}
    classes = {n for n in ionq_async.errors.__all__ if inspect.isclass(getattr(ionq_async, n, 0))}
    assert named == classes
