"""Every operation of the official spec is sent by some public SDK method (and nothing else is).

Each public method is called against the emulator; its recorded requests are mapped back to the
spec's (method, path template) operations.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from _spec import load_spec

from ionq_async import AsyncIonQ, Backends, Jobs, Schemas, Sessions
from ionq_async.testing import FakeIonQ

# Operations no public method sends yet (none: every method is exercised below).
PENDING: set[str] = set()

# Public methods that send no request of their own (they drive the ones exercised below).
NOT_REQUESTS = {"jobs.wait", "jobs.wait_many", "jobs.rerun", "jobs.rerun_all"}

QPU = "qpu.forte-1"
BELL = [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}]
SLOW = (60.0, 60.0, 60.0)
FROM, TO = "2025-01-01", "2030-01-01"
PAYLOAD = {
    "type": "ionq.circuit.v1",
    "backend": "simulator",
    "input": {"gateset": "qis", "circuit": BELL},
}

Call = Callable[[AsyncIonQ, FakeIonQ], Awaitable[Any]]


async def _all(items: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in items]


def _done(fake: FakeIonQ) -> str:
    return fake.add_job(status="completed", circuit=BELL).id


def _pending(fake: FakeIonQ) -> str:
    return fake.add_job(durations=SLOW).id


async def _open(client: AsyncIonQ, fake: FakeIonQ) -> None:
    async with client.sessions.open(QPU, job_count_limit=1):
        pass


async def _session_jobs(client: AsyncIonQ, fake: FakeIonQ) -> list[Any]:
    return await _all(client.sessions.jobs(fake.add_session(QPU).id))


async def _end(client: AsyncIonQ, fake: FakeIonQ) -> Any:
    return await client.sessions.end(fake.add_session(QPU).id)


async def _get_session(client: AsyncIonQ, fake: FakeIonQ) -> Any:
    return await client.sessions.get(fake.add_session(QPU).id)


async def _artifact(client: AsyncIonQ, fake: FakeIonQ) -> Any:
    job = await client.jobs.get(_done(fake))
    entry = next(e for e in (job.results or {}).values() if isinstance(e, dict) and "id" in e)
    return await client.jobs.artifact(job.id, entry["id"])


async def _characterization(client: AsyncIonQ, fake: FakeIonQ) -> Any:
    return await client.backends.characterization(
        QPU, fake.backends[QPU].characterizations[0]["id"]
    )


CALLS: dict[str, Call] = {
    "jobs.create": lambda c, f: c.jobs.create(
        {
            "type": "ionq.circuit.v1",
            "backend": "simulator",
            "input": {"gateset": "qis", "circuit": BELL},
        }
    ),
    "jobs.list": lambda c, f: _all(c.jobs.list()),
    "jobs.get": lambda c, f: c.jobs.get(_done(f)),
    "jobs.clone": lambda c, f: c.jobs.clone(_done(f), shots=10),
    "jobs.move": lambda c, f: c.jobs.move(_pending(f)),
    "jobs.cancel": lambda c, f: c.jobs.cancel(_pending(f)),
    "jobs.cancel_many": lambda c, f: c.jobs.cancel_many([_pending(f), _pending(f)]),
    "jobs.delete": lambda c, f: c.jobs.delete(_done(f)),
    "jobs.delete_many": lambda c, f: c.jobs.delete_many([_done(f)]),
    "jobs.cost": lambda c, f: c.jobs.cost(_done(f)),
    "jobs.probabilities": lambda c, f: c.jobs.probabilities(_done(f)),
    "jobs.probabilities(sharpen)": lambda c, f: c.jobs.probabilities(_done(f), sharpen=True),
    "jobs.estimate_rerun": lambda c, f: c.jobs.estimate_rerun([_done(f)]),
    "jobs.estimate": lambda c, f: c.jobs.estimate(QPU, qubits=2, shots=100, two_qubit_gates=1),
    "jobs.results": lambda c, f: c.jobs.results(_done(f)),
    "jobs.artifact": _artifact,
    "backends.list": lambda c, f: c.backends.list(),
    "backends.get": lambda c, f: c.backends.get(QPU),
    "backends.characterizations": lambda c, f: _all(c.backends.characterizations(QPU)),
    "backends.characterization": _characterization,
    "sessions.create": lambda c, f: c.sessions.create(QPU, job_count_limit=2),
    "sessions.get": _get_session,
    "sessions.list": lambda c, f: c.sessions.list(active=True),
    "sessions.end": _end,
    "sessions.jobs": _session_jobs,
    "sessions.open": _open,
    "schemas.format": lambda c, f: c.schemas.format("ionq.result.probabilities.json.v2"),
    "whoami": lambda c, f: c.whoami(),
    "usage": lambda c, f: c.usage(
        f.organization_id, start_date="2025-01-01", end_date="2030-01-01"
    ),
}


def _public_methods() -> set[str]:
    """`resource.method` for every public method of the client and its resources."""
    found = {
        name
        for name, member in inspect.getmembers(AsyncIonQ, inspect.iscoroutinefunction)
        if not name.startswith("_") and name != "close"
    }
    resources = {"jobs": Jobs, "backends": Backends, "sessions": Sessions, "schemas": Schemas}
    for prefix, cls in resources.items():
        for name, member in inspect.getmembers(cls):
            if not name.startswith("_") and callable(member) and not isinstance(member, type):
                found.add(f"{prefix}.{name}")
    return found


def _operations(spec: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(METHOD, path template) -> operationId for every operation of the spec."""
    return {
        (method.upper(), path): op["operationId"]
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in {"get", "put", "post", "delete", "patch"}
    }


def _template_of(method: str, path: str, ops: dict[tuple[str, str], str]) -> tuple[str, str]:
    """The spec operation a sent request is, literal segments winning over `{param}` ones."""
    matches = [
        (template.count("{"), (m, template))
        for m, template in ops
        if m == method and re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), path)
    ]
    assert matches, f"the SDK sent {method} {path}, which is no operation of the spec"
    return min(matches)[1]


def test_every_public_method_is_exercised() -> None:
    missing = _public_methods() - NOT_REQUESTS - {name.split("(")[0] for name in CALLS}
    assert not missing, f"public methods not exercised by this test: {sorted(missing)}"


async def test_every_spec_operation_is_sent_by_a_public_method() -> None:
    ops = _operations(load_spec())
    assert len(ops) == 25
    sent_by: dict[str, set[str]] = {}
    async with FakeIonQ(durations=(0.0, 0.0, 0.0)) as fake, fake.client() as client:
        for name, call in CALLS.items():
            before = len(fake.requests)
            await call(client, fake)
            for record in fake.requests[before:]:
                path = record.path.removeprefix("/v0.4")
                op = ops[_template_of(record.method, path, ops)]
                sent_by.setdefault(op, set()).add(name)
    unsent = set(ops.values()) - set(sent_by) - PENDING
    assert not unsent, f"spec operations no public method sends: {sorted(unsent)}"
    stale = PENDING & set(sent_by)
    assert not stale, f"now sent, remove from PENDING: {sorted(stale)}"
    assert set(ops.values()) >= PENDING


@pytest.mark.parametrize(
    ("method", "path", "template"),
    [
        ("GET", "/jobs/estimate", "/jobs/estimate"),
        ("GET", "/jobs/0198097d-3888-72ad-8c3c-1f1d0c9e8a77", "/jobs/{UUID}"),
        ("PUT", "/jobs/status/cancel", "/jobs/status/cancel"),
        ("PUT", "/jobs/abc/status/cancel", "/jobs/{UUID}/status/cancel"),
        ("GET", "/sessions/s1/jobs", "/sessions/{session_id}/jobs"),
    ],
)
def test_paths_map_to_the_most_literal_template(method: str, path: str, template: str) -> None:
    ops = _operations(load_spec())
    assert _template_of(method, path, ops) == (method, template)
