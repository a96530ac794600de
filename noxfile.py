"""Developer sessions: tests, lint, typecheck, docs, demo and bench."""

import re
import tomllib
from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["tests", "lint", "typecheck"]

SOURCES = ["ionq_async", "tests", "examples", "bench", "docs/_gen_cli_svg.py", "noxfile.py"]


@nox.session(python="3.11")
def tests(session: nox.Session) -> None:
    """The test suite (loopback HTTP only)."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


def lowest_pins() -> list[str]:
    """`name==floor` for every runtime dependency, the floors read from pyproject.toml."""
    project = tomllib.loads(Path("pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = []
    for spec in project["dependencies"]:
        found = re.match(r"([A-Za-z0-9_.-]+)\s*>=\s*([0-9][^,;\s]*)", spec)
        if found is None:
            raise ValueError(f"dependency without a >= floor: {spec!r}")
        pins.append(f"{found[1]}=={found[2]}")
    return pins


@nox.session(python="3.11")
def lowest(session: nox.Session) -> None:
    """The test suite on the lowest versions pyproject allows for every runtime dependency."""
    pins = lowest_pins()
    session.install("-e", ".[test]", *pins)
    check = "; ".join(
        f"assert version({name!r}) == {floor!r}, ({name!r}, version({name!r}))"
        for name, floor in (pin.split("==") for pin in pins)
    )
    session.run("python", "-c", f"from importlib.metadata import version; {check}")
    session.run("pytest", *session.posargs)


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff")
    session.run("ruff", "check", *SOURCES)
    session.run("ruff", "format", "--check", *SOURCES)


@nox.session(python="3.11")
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package."""
    session.install("-e", ".[test]", "mypy")
    session.run("mypy", "--strict", "ionq_async")


@nox.session(python="3.11")
def docs(session: nox.Session) -> None:
    """The documentation site (mkdocs.yml), built offline into site/; any warning fails it."""
    session.install("-e", ".[docs]")
    session.run("mkdocs", "build", "--strict", *session.posargs)


@nox.session(python="3.11")
def demo(session: nox.Session) -> None:
    """The README's first command: the offline demo, from a fresh install with the cli extra."""
    session.install("-e", ".[cli]")
    session.run("ionq-async", "demo")


@nox.session(python="3.11")
def bench(session: nox.Session) -> None:
    """Benchmarks B1-B5 (docs/BENCHMARKS.md); `nox -s bench -- --smoke` is the quick check.

    The package with its CLI extra (B2's CLI row runs `ionq-async rerun`); ionq-core (the
    peer in B1/B4) and sniffio (without it httpcore 1.0.9 re-imports it on every request,
    encode/httpcore PR #1103) go into this session's venv only.
    """
    session.install("-e", ".[cli]", "ionq-core", "sniffio")
    session.run("python", "bench/run_all.py", *session.posargs)


@nox.session(python="3.11")
def conformance(session: nox.Session) -> None:
    """IonQ's own clients (in this venv only) against the emulator.

    ionq-core parses every emulator answer it has a model for; qiskit-ionq runs its end-to-end
    flow (backends, a Bell circuit, three circuits in one job, a noisy simulator, a cancel,
    retrieve_job, qpu.forte-1 and the bare default QPU) against ``python -m ionq_async.testing``.
    """
    session.install("-e", ".", "ionq-core==0.2.0", "qiskit==2.6.2", "qiskit-ionq==1.1.1")
    session.run("python", "tests/conformance/ionq_core_parse.py")
    session.run("python", "tests/conformance/qiskit_ionq_flow.py")
