"""Every JobCreationPayload type on the emulator, results shapes and artifacts in every format."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from conftest import Clock

from ionq_async.testing import FakeIonQ, simulate

BELL = [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}]
V2 = "ionq.result.probabilities.json.v2"
FORMATS = (
    "ionq.result.probabilities.json.v1",
    V2,
    "ionq.result.histogram.json.v1",
    "ionq.result.histogram.json.v2",
    "ionq.result.shots.json.v1",
    "ionq.result.shots.json.v2",
)
MULTI = {
    "type": "ionq.multi-circuit.v1",
    "backend": "simulator",
    "shots": 1000,
    "input": {
        "gateset": "qis",
        "circuits": [
            {"name": "bell", "circuit": BELL, "registers": {"first": [0]}},
            {"circuit": [{"gate": "x", "target": 1}], "qubits": 3},
            {"gateset": "native", "circuit": [{"gate": "gpi", "target": 0, "phase": 0}]},
        ],
    },
}


@pytest.fixture
async def fake(clock: Clock) -> AsyncIterator[FakeIonQ]:
    async with FakeIonQ(durations=(1.0, 1.0, 1.0), clock=clock) as server:
        yield server


async def call(
    http: aiohttp.ClientSession, fake: FakeIonQ, method: str, path: str, **kw: Any
) -> tuple[int, Any]:
    async with http.request(method, fake.base_url + path, **kw) as resp:
        return resp.status, await resp.json()


async def create_done(
    http: aiohttp.ClientSession, fake: FakeIonQ, clock: Clock, body: dict[str, Any]
) -> dict[str, Any]:
    status, created = await call(http, fake, "POST", "/jobs", json=body)
    assert status == 201, created
    clock.t += 5
    _, job = await call(http, fake, "GET", f"/jobs/{created['id']}")
    assert job["status"] == "completed"
    return dict(job)


async def test_multi_circuit_job_has_children_with_their_own_results(
    fake: FakeIonQ, http: aiohttp.ClientSession, clock: Clock
) -> None:
    parent = await create_done(http, fake, clock, MULTI)
    children = parent["child_job_ids"]
    assert len(children) == 3 and parent["stats"]["circuits"] == 3
    assert parent["results"]["probabilities"]["url"].endswith("/results/probabilities/aggregated")
    aggregate = "ionq.result.probabilities-aggregate.json.v1"
    assert parent["results"][aggregate]["id"] == aggregate
    _, agg = await call(http, fake, "GET", f"/jobs/{parent['id']}/artifacts/{aggregate}")
    assert agg == {
        children[0]: {"0": 0.5, "3": 0.5},
        children[1]: {"2": 1.0},
        children[2]: {"1": 1.0},
    }
    _, legacy = await call(
        http, fake, "GET", f"/jobs/{parent['id']}/results/probabilities/aggregated"
    )
    assert legacy == agg
    _, first = await call(http, fake, "GET", f"/jobs/{children[0]}")
    assert (first["parent_job_id"], first["name"], first["type"]) == (
        parent["id"],
        "bell",
        "ionq.circuit.v1",
    )
    _, listed = await call(http, fake, "GET", "/jobs", params={"parent_job_id": parent["id"]})
    assert {j["id"] for j in listed["jobs"]} == set(children)
    _, v2 = await call(http, fake, "GET", f"/jobs/{children[0]}/artifacts/{V2}")
    registers = v2["probabilities"]["registers"]
    assert registers == {"output_all": {"00": 0.5, "11": 0.5}, "first": {"0": 0.5, "1": 0.5}}
    status, _ = await call(http, fake, "GET", f"/jobs/{parent['id']}/results/probabilities")
    assert status == 404


async def test_cancel_and_delete_of_a_parent_reach_its_children(
    fake: FakeIonQ, http: aiohttp.ClientSession
) -> None:
    _, created = await call(http, fake, "POST", "/jobs", json=MULTI)
    children = fake.get_job(created["id"]).child_ids or []
    await call(http, fake, "PUT", f"/jobs/{created['id']}/status/cancel")
    assert {fake.status(c) for c in children} == {"canceled"}
    await call(http, fake, "DELETE", f"/jobs/{created['id']}")
    assert not any(c in fake.jobs for c in children)


async def test_native_circuit_is_simulated(
    fake: FakeIonQ, http: aiohttp.ClientSession, clock: Clock
) -> None:
    circuit = [{"gate": "gpi2", "target": 0, "phase": 0}, {"gate": "ms", "targets": [0, 1]}]
    body = {
        "type": "ionq.circuit.v1",
        "backend": "simulator",
        "input": {"gateset": "native", "circuit": circuit},
    }
    job = await create_done(http, fake, clock, body)
    _, probs = await call(http, fake, "GET", f"/jobs/{job['id']}/results/probabilities")
    assert probs == {str(k): v for k, v in simulate(circuit, native=True).items()}
    assert sum(probs.values()) == pytest.approx(1.0)


async def test_quantum_function_and_qaoa_jobs(
    fake: FakeIonQ, http: aiohttp.ClientSession, clock: Clock
) -> None:
    terms = [{"pauli_string": "ZZ", "coefficient": 0.5}, {"pauli_string": "XI", "coefficient": 2}]
    qf = {
        "type": "quantum-function",
        "backend": "simulator",
        "settings": {"error_mitigation": {"debiasing": False}},
        "input": {
            "data": {
                "type": "hamiltonian-energy",
                "data": {"hamiltonian": terms, "ansatz": {"data": "OPENQASM 3.0;"}},
            }
        },
    }
    job = await create_done(http, fake, clock, qf)
    assert job["results"] == {"value": 0.5, "variance": 4.0}
    assert job["settings"] == {"error_mitigation": {"debiasing": False}}
    triangle = {
        "nodes": [{"id": "a"}, {"id": "b"}, {"id": "c"}],
        "adjacency": [
            [{"id": "b"}, {"id": "c"}],
            [{"id": "a"}, {"id": "c"}],
            [{"id": "a"}, {"id": "b"}],
        ],
    }
    qaoa = {
        "type": "qctrl.qaoa.v1",
        "backend": "simulator",
        "external_settings": {"api_credentials": "k"},
        "input": {"problem_type": "maxcut", "problem": triangle},
    }
    job = await create_done(http, fake, clock, qaoa)
    best = job["results"]["qaoa_results"]
    assert best["optimal_cost"] == -2.0 and best["processing_status"] == "complete"
    assert len(best["optimal_bitstring"]) == 3


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({**MULTI, "input": {"gateset": "qis", "circuits": []}}, "input.circuits"),
        (
            {
                **MULTI,
                "input": {"gateset": "qis", "circuits": [{"circuit": BELL}], "circuit": BELL},
            },
            "input.circuit",
        ),
        (
            {
                **MULTI,
                "input": {
                    "gateset": "qis",
                    "circuits": [{"circuit": [{"gate": "ms", "targets": [0, 1]}]}],
                },
            },
            "input.circuits[0].circuit[0].gate",
        ),
        (
            {"type": "quantum-function", "backend": "simulator", "input": {"data": {}}},
            "input.data.type",
        ),
        (
            {
                "type": "qctrl.qaoa.v1",
                "backend": "simulator",
                "input": {"problem_type": "maxcut", "problem": {}},
            },
            "external_settings.api_credentials",
        ),
        (
            {
                "type": "qctrl.qaoa.v1",
                "backend": "simulator",
                "external_settings": {"api_credentials": "k"},
                "input": {"problem_type": "maxcut", "problem": {}},
            },
            "input.problem",
        ),
        (
            {
                "type": "ionq.circuit.v1",
                "backend": "qpu.nope",
                "input": {"gateset": "qis", "circuit": BELL},
            },
            "backend",
        ),
        (
            {
                "type": "ionq.circuit.v1",
                "backend": "simulator",
                "input": {"gateset": "qis", "circuit": [{"gate": "x", "target": 40}]},
            },
            "input.circuit[0].target",
        ),
    ],
)
async def test_invalid_payloads_of_every_type(
    fake: FakeIonQ, http: aiohttp.ClientSession, body: dict[str, Any], key: str
) -> None:
    status, err = await call(http, fake, "POST", "/jobs", json=body)
    assert status == 400 and err["validation"]["keys"] == [key], err


@pytest.mark.parametrize("shape", ["both", "descriptors", "legacy"])
async def test_results_shape_setting(clock: Clock, shape: Any) -> None:
    async with FakeIonQ(clock=clock, results_shape=shape, result_formats=FORMATS) as fake:
        job = fake.add_job(circuit=BELL, status="completed")
        results = fake.job_json(job.id)["results"]
    legacy = {k for k, v in results.items() if "url" in v}
    descriptors = {k for k, v in results.items() if "id" in v}
    assert legacy == (set() if shape == "descriptors" else {"probabilities", "histogram", "shots"})
    assert descriptors == (set() if shape == "legacy" else set(FORMATS))


async def test_artifacts_in_every_format(fake: FakeIonQ, http: aiohttp.ClientSession) -> None:
    job = fake.add_job(circuit=BELL, shots=101, status="completed")
    got = {}
    for fmt in FORMATS:
        status, got[fmt] = await call(http, fake, "GET", f"/jobs/{job.id}/artifacts/{fmt}")
        assert status == 200, fmt
    assert got[FORMATS[0]] == {"0": 0.5, "3": 0.5}
    assert got[FORMATS[2]] == {"0": 51, "3": 50}
    assert got[FORMATS[3]] == {"histogram": {"registers": {"output_all": {"00": 51, "11": 50}}}}
    shots = got[FORMATS[4]]
    assert len(shots) == 101 and shots.count("0") == 51 and shots.count("3") == 50
    bits = [s["registers"]["output_all"] for s in got[FORMATS[5]]["shots"]]
    assert [b for b in bits if b == [1, 1]] == [[1, 1]] * 50
    _, legacy_hist = await call(http, fake, "GET", f"/jobs/{job.id}/results/histogram")
    assert legacy_hist == got[FORMATS[2]]
    status, _ = await call(http, fake, "GET", f"/jobs/{job.id}/artifacts/nope")
    assert status == 404


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="results_shape"):
        FakeIonQ(results_shape="spec")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="result_formats"):
        FakeIonQ(result_formats=["ionq.native.v1"])
    with pytest.raises(ValueError, match="estimate_shape"):
        FakeIonQ(estimate_shape="old")  # type: ignore[arg-type]
