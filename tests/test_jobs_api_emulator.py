"""The jobs API of issue 14 against the emulator over real HTTP: estimates, results, types."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from conftest import Clock

from ionq_async import (
    JOB_TYPES,
    AsyncIonQ,
    JobError,
    JobPage,
    JobsStatusChange,
    JobStatusChange,
    Money,
    RetryPolicy,
)
from ionq_async.testing import FakeIonQ, execution_time_ms, job_cost, simulate

BELL = [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}]
X0 = [{"gate": "x", "target": 0}]
HIST = "ionq.result.histogram.json.v1"
SHOTS_V2 = "ionq.result.shots.json.v2"
PROBS_V1 = "ionq.result.probabilities.json.v1"
PROBS_V2 = "ionq.result.probabilities.json.v2"
MULTI: dict[str, Any] = {
    "type": "ionq.multi-circuit.v1",
    "backend": "simulator",
    "shots": 1000,
    "input": {
        "gateset": "qis",
        "circuits": [{"name": "bell", "circuit": BELL}, {"name": "x0", "circuit": X0}],
    },
}
TRIANGLE = {
    "nodes": [{"id": "a"}, {"id": "b"}, {"id": "c"}],
    "adjacency": [
        [{"id": "b"}, {"id": "c"}],
        [{"id": "a"}, {"id": "c"}],
        [{"id": "a"}, {"id": "b"}],
    ],
}
EVERY_TYPE: dict[str, dict[str, Any]] = {
    "qis": {
        "type": "ionq.circuit.v1",
        "backend": "simulator",
        "input": {"gateset": "qis", "qubits": 2, "circuit": BELL},
    },
    "native": {
        "type": "ionq.circuit.v1",
        "backend": "simulator",
        "input": {"gateset": "native", "circuit": [{"gate": "gpi", "target": 0, "phase": 0}]},
    },
    "qasm3": {
        "type": "ionq.qasm3.v1",
        "backend": "simulator",
        "input": {"data": 'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[1] q;\nx q[0];\n'},
    },
    "multi": MULTI,
    "quantum-function": {
        "type": "quantum-function",
        "backend": "simulator",
        "input": {
            "data": {
                "type": "hamiltonian-energy",
                "data": {
                    "hamiltonian": [{"pauli_string": "ZZ", "coefficient": 0.5}],
                    "ansatz": {"data": "OPENQASM 3.0;"},
                },
            }
        },
    },
    "qaoa": {
        "type": "qctrl.qaoa.v1",
        "backend": "simulator",
        "external_settings": {"api_credentials": "k"},
        "input": {"problem_type": "maxcut", "problem": TRIANGLE},
    },
}


@pytest.fixture
async def fake(clock: Clock) -> AsyncIterator[FakeIonQ]:
    async with FakeIonQ(durations=(1.0, 1.0, 1.0), clock=clock) as server:
        yield server


@pytest.fixture
async def client(fake: FakeIonQ) -> AsyncIterator[AsyncIonQ]:
    async with fake.client(retry=RetryPolicy.none()) as c:
        yield c


def test_every_type_is_in_the_list_of_job_types() -> None:
    assert {body["type"] for body in EVERY_TYPE.values()} == set(JOB_TYPES)


@pytest.mark.parametrize("kind", sorted(EVERY_TYPE))
async def test_every_job_type_is_accepted_and_completes(
    client: AsyncIonQ, clock: Clock, kind: str
) -> None:
    created = await client.jobs.create(EVERY_TYPE[kind])
    clock.t += 5
    job = await client.jobs.get(created.id)
    assert job.status == "completed" and job.type == EVERY_TYPE[kind]["type"]
    results = await client.jobs.results(created.id)
    assert results.job_id == created.id
    if kind in ("quantum-function", "qaoa"):
        assert results.probabilities == {} and results.raw == job.results and results.raw
    elif kind == "multi":
        assert len(results.children) == 2
    else:
        assert sum(results.probabilities.values()) == pytest.approx(1.0)


@pytest.mark.parametrize("shape", ["both", "descriptors", "legacy"])
async def test_multi_circuit_results_per_child_and_aggregate(clock: Clock, shape: Any) -> None:
    async with (
        FakeIonQ(durations=(1.0, 1.0, 1.0), clock=clock, results_shape=shape) as fake,
        fake.client(retry=RetryPolicy.none()) as client,
    ):
        created = await client.jobs.create(MULTI)
        clock.t += 5
        results = await client.jobs.results(created.id)
        children = fake.get_job(created.id).child_ids or []
    assert results.is_multi_circuit and list(results.children) == children
    bell, x0 = (results.children[c] for c in children)
    assert (bell.name, x0.name) == ("bell", "x0")
    assert bell.probabilities == simulate(BELL) == {0: 0.5, 3: 0.5}
    assert x0.probabilities == simulate(X0) == {1: 1.0}
    assert bell.bitstrings == {"00": 0.5, "11": 0.5} and x0.bitstrings == {"1": 1.0}
    assert bell.counts == {0: 500, 3: 500} and bell.counts_derived and bell.shots == 1000
    assert results.aggregate == {children[0]: simulate(BELL), children[1]: simulate(X0)}
    assert results.probabilities == {} and results.qubits == 2


@pytest.mark.parametrize("shape", ["both", "descriptors", "legacy"])
async def test_single_circuit_results_in_every_shape(clock: Clock, shape: Any) -> None:
    formats = (PROBS_V2, HIST, SHOTS_V2)
    async with (
        FakeIonQ(clock=clock, results_shape=shape, result_formats=formats) as fake,
        fake.client(retry=RetryPolicy.none()) as client,
    ):
        job = fake.add_job(circuit=BELL, qubits=3, shots=101, status="completed")
        results = await client.jobs.results(job.id)
        legacy = await client.jobs.probabilities(job.id)
    assert results.probabilities == {0: 0.5, 3: 0.5}
    assert legacy == {"0": 0.5, "3": 0.5}
    assert results.qubits == 3 and results.bitstrings == {"000": 0.5, "011": 0.5}
    assert results.counts == {0: 51, 3: 50} and results.counts_source == "histogram"
    assert results.bitstring_counts == {"000": 51, "011": 50}
    assert not results.counts_derived and results.children == {} and results.aggregate is None
    if shape == "legacy":
        # Legacy shots URLs serve the v1 list of decimal states.
        assert results.samples is not None and sorted(results.samples) == [0] * 51 + [3] * 50
    else:
        assert results.samples is not None and results.samples.count(3) == 50


async def test_counts_from_shots_when_no_histogram(clock: Clock) -> None:
    async with (
        FakeIonQ(clock=clock, results_shape="descriptors", result_formats=(SHOTS_V2,)) as fake,
        fake.client(retry=RetryPolicy.none()) as client,
    ):
        job = fake.add_job(circuit=X0, shots=7, status="completed")
        results = await client.jobs.results(job.id)
    assert results.samples == (1,) * 7 and results.counts == {1: 7}
    assert results.counts_source == "shots" and results.probabilities == {1: 1.0}


async def test_artifact_is_the_decoded_payload(fake: FakeIonQ, client: AsyncIonQ) -> None:
    job = fake.add_job(circuit=BELL, status="completed")
    assert await client.jobs.artifact(job.id, PROBS_V2) == {
        "probabilities": {"registers": {"output_all": {"00": 0.5, "11": 0.5}}}
    }
    assert await client.jobs.artifact(job.id, "probabilities") == {"0": 0.5, "3": 0.5}


async def test_results_of_an_unfinished_job_raise(fake: FakeIonQ, client: AsyncIonQ) -> None:
    job = fake.add_job(circuit=BELL)
    with pytest.raises(JobError, match="once it is completed"):
        await client.jobs.results(job.id)


@pytest.mark.parametrize("shape", ["rate_card", "rate_information"])
async def test_estimate_in_both_answer_shapes(shape: Any) -> None:
    async with (
        FakeIonQ(estimate_shape=shape) as fake,
        fake.client(retry=RetryPolicy.none()) as client,
    ):
        est = await client.jobs.estimate(
            "qpu.forte-1", qubits=4, shots=500, one_qubit_gates=100, two_qubit_gates=40
        )
        queue = int(fake.backends["qpu.forte-1"].average_queue_time)
    assert est.total == Money(value=job_cost("qpu.forte-1", 500, 100, 40), unit="usd")
    assert est.total.value > 0
    assert est.execution_time_ms == execution_time_ms("qpu.forte-1", 500, 100, 40)
    assert est.queue_time_ms == queue
    assert est.context["shots"] == 500 and est.context["qubits"] == 4
    [rate] = est.rates
    assert (rate.cost_1q_gate, rate.cost_2q_gate) == (0.0003, 0.0025)
    assert (est.rate_card_id is None) == (shape == "rate_information")


async def test_estimate_with_error_mitigation_uses_its_minimum(client: AsyncIonQ) -> None:
    est = await client.jobs.estimate("qpu.forte-1", qubits=2, error_mitigation=True)
    assert est.total.value == job_cost("qpu.forte-1", 1000, 0, 0, error_mitigation=True)


async def test_cancel_and_delete_answer_their_status(fake: FakeIonQ, client: AsyncIonQ) -> None:
    a, b, c = (fake.add_job(circuit=BELL) for _ in range(3))
    assert await client.jobs.cancel(a.id) == JobStatusChange(id=a.id, status="canceled")
    assert await client.jobs.cancel_many([b.id, c.id]) == JobsStatusChange(
        ids=(b.id, c.id), status="canceled"
    )
    assert fake.status(b.id) == "canceled"
    assert await client.jobs.delete(a.id) == JobStatusChange(id=a.id, status="deleted")
    assert await client.jobs.delete_many([b.id, c.id]) == JobsStatusChange(
        ids=(b.id, c.id), status="deleted"
    )
    assert not fake.jobs
    assert await client.jobs.delete_many([]) == JobsStatusChange(ids=(), status="deleted")


async def test_list_awaited_page_by_page_resumes_at_its_cursor(
    fake: FakeIonQ, client: AsyncIonQ
) -> None:
    made = [fake.add_job(name=str(i)).id for i in range(5)]
    newest_first = made[::-1]
    first = await client.jobs.list(limit=2)
    assert isinstance(first, JobPage) and [j.id for j in first.jobs] == newest_first[:2]
    assert first.next is not None
    second = await client.jobs.list(limit=2, cursor=first.next)
    assert [j.id for j in second.jobs] == newest_first[2:4]
    rest = [j.id async for j in client.jobs.list(limit=2, cursor=second.next)]
    assert rest == newest_first[4:]
    last = await client.jobs.list(limit=2, cursor=second.next)
    assert last.next is None
    assert [j.id async for j in client.jobs.list(limit=2)] == newest_first


async def test_listing_more_than_100_ids_walks_them_100_at_a_time(
    fake: FakeIonQ, client: AsyncIonQ
) -> None:
    jobs = [fake.add_job(status="completed" if i % 2 else "failed") for i in range(250)]
    ids = [j.id for j in jobs]
    listed = [job.id async for job in client.jobs.list(ids=ids, limit=40)]
    assert sorted(listed) == sorted(ids)
    reads = [r for r in fake.requests if r.route == "list_jobs"]
    sizes = [sum(1 for key, _ in r.query if key == "ids") for r in reads]
    assert max(sizes) == 100 and sum(sizes) >= 250, sizes
    done = {j.id for i, j in enumerate(jobs) if i % 2}
    assert {job.id async for job in client.jobs.list(ids=ids, status="completed")} == done
    with pytest.raises(ValueError, match="250 ids are listed 100 at a time"):
        await client.jobs.list(ids=ids)
    with pytest.raises(ValueError, match="a cursor names a page of one"):
        client.jobs.list(ids=ids, cursor="abc")
    page = await client.jobs.list(ids=ids[:100])
    assert len(page.jobs) == 25  # the API's default page size; one request, 100 ids
