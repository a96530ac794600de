"""Every emulator route exercised through the real AsyncIonQ client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from conftest import Clock

from ionq_async import AsyncIonQ, Noise, RetryPolicy
from ionq_async.errors import (
    BadRequestError,
    ConflictError,
    NotFoundError,
    RateLimitError,
    SubmissionUnknownError,
)
from ionq_async.testing import FakeIonQ, Fault

BELL = [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}]


@pytest.fixture
async def fake(clock: Clock) -> AsyncIterator[FakeIonQ]:
    async with FakeIonQ(durations=(1.0, 1.0, 1.0), clock=clock) as server:
        yield server


@pytest.fixture
async def client(fake: FakeIonQ) -> AsyncIterator[AsyncIonQ]:
    async with fake.client(retry=RetryPolicy.none()) as c:
        yield c


async def test_create_get_and_probabilities(
    fake: FakeIonQ, client: AsyncIonQ, clock: Clock
) -> None:
    payload: dict[str, Any] = {
        "type": "ionq.circuit.v1",
        "backend": "simulator",
        "name": "bell",
        "shots": 1000,
        "input": {"gateset": "qis", "qubits": 2, "circuit": BELL},
    }
    created = await client.jobs.create(payload)
    assert created.status == "submitted" and created.id in fake.jobs
    job = await client.jobs.get(created.id)
    assert (job.name, job.shots, job.status) == ("bell", 1000, "submitted")
    clock.t += 5
    job = await client.jobs.get(created.id)
    assert job.status == "completed" and job.completed_at is not None
    assert await client.jobs.probabilities(created.id) == {"0": 0.5, "3": 0.5}
    cost = await client.jobs.cost(created.id)
    assert cost.cost is not None and cost.cost.unit == "usd"


async def test_list_with_filters_and_pages(fake: FakeIonQ, client: AsyncIonQ) -> None:
    jobs = [fake.add_job(name=str(i)) for i in range(12)]
    parent = fake.add_job(name="parent")
    qpu = fake.add_job(backend="qpu.forte-1", session_id="s")
    child = fake.add_job(parent_job_id=parent.id, status="completed")
    listed = [j.id async for j in client.jobs.list(limit=5)]
    assert listed == [child.id, qpu.id, parent.id, *[j.id for j in reversed(jobs)]]
    some = [jobs[2].id, jobs[7].id]
    assert [j.id async for j in client.jobs.list(ids=some)] == [jobs[7].id, jobs[2].id]
    assert [j.id async for j in client.jobs.list(target="qpu.forte-1")] == [qpu.id]
    assert [j.id async for j in client.jobs.list(session_id="s")] == [qpu.id]
    assert [j.id async for j in client.jobs.list(parent_job_id=parent.id)] == [child.id]
    assert [j.id async for j in client.jobs.list(status="completed")] == [child.id]


async def test_clone_and_move(fake: FakeIonQ, client: AsyncIonQ) -> None:
    src = fake.add_job(name="src", circuit=BELL, shots=100, metadata={"a": "b"})
    clone = await client.jobs.clone(src.id, shots=200, noise=Noise(model="aria-1", seed=1))
    new = fake.get_job(clone.id)
    assert (new.shots, new.name, new.metadata) == (200, "src", {"a": "b"})
    assert new.noise == {"model": "aria-1", "seed": 1}
    moved = await client.jobs.move(src.id, metadata={"x": "y"})
    assert fake.get_job(moved.id).metadata == {"x": "y", "original_job_id": src.id}
    assert fake.status(src.id) == "canceled"
    assert [j.id for j in fake.clones_of(src.id)] == [clone.id, moved.id]
    with pytest.raises(ConflictError):
        await client.jobs.move(src.id)
    with pytest.raises(BadRequestError) as bad:
        # The client validates shots itself, so send the bad body through its transport.
        await client._request("POST", f"/jobs/{src.id}/clone", json_body={"shots": 0})
    assert bad.value.status_code == 400
    with pytest.raises(NotFoundError):
        await client.jobs.clone("0198097d-3888-72ad-8000-000000000000")


async def test_cancel_and_delete(fake: FakeIonQ, client: AsyncIonQ) -> None:
    a, b, c, d, e = (fake.add_job() for _ in range(5))
    await client.jobs.cancel(a.id)
    await client.jobs.cancel_many([b.id, c.id])
    assert {fake.status(j.id) for j in (a, b, c)} == {"canceled"}
    await client.jobs.delete(a.id)
    await client.jobs.delete_many([d.id, e.id])
    assert set(fake.jobs) == {b.id, c.id}
    with pytest.raises(NotFoundError):
        await client.jobs.get(a.id)


async def test_routes_without_a_jobs_method(fake: FakeIonQ, client: AsyncIonQ) -> None:
    # The client has no public artifacts/backends/whoami helpers yet; go through its transport.
    job = fake.add_job(circuit=BELL, status="completed")
    descriptor = (await client.jobs.get(job.id)).results or {}
    art = descriptor["ionq.result.probabilities.json.v2"]["id"]
    payload = await client._request("GET", f"/jobs/{job.id}/artifacts/{art}")
    assert payload == {"probabilities": {"registers": {"output_all": {"00": 0.5, "11": 0.5}}}}
    backends = await client._request("GET", "/backends")
    assert "simulator" in {b["backend"] for b in backends}
    me = await client._request("GET", "/whoami")
    assert me["key_id"] == fake.key_id


async def test_faults_surface_as_client_errors(fake: FakeIonQ, client: AsyncIonQ) -> None:
    src = fake.add_job()
    fake.faults.add("clone", Fault.commit_then_fail())
    with pytest.raises(SubmissionUnknownError):
        await client.jobs.clone(src.id)
    assert len(fake.clones_of(src.id)) == 1
    # Last: the client pauses for Retry-After after a 429.
    fake.faults.add("get_job", Fault.rate_limited(3))
    with pytest.raises(RateLimitError) as info:
        await client.jobs.get(src.id)
    assert info.value.retry_after == 3
