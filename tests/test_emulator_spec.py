"""Every emulator response body validates against IonQ's official OpenAPI v0.4 schemas."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from _spec import validator_for
from conftest import Clock
from jsonschema import ValidationError

from ionq_async.testing import FakeIonQ, Fault

BELL = [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}]
Check = Callable[[str, Any], None]


@pytest.fixture(scope="module")
def check() -> Check:
    def validate(schema: str, body: Any) -> None:
        validator_for(schema).validate(body)

    return validate


def strip_legacy(job: dict[str, Any]) -> dict[str, Any]:
    """Drop legacy ``{url}`` results entries.

    The live server sends them beside artifact descriptors; the Sept 2026 spec no longer lists them.
    """
    results = job.get("results")
    if isinstance(results, dict):
        kept = {k: v for k, v in results.items() if not (isinstance(v, dict) and "url" in v)}
        return {**job, "results": kept}
    return job


@pytest.fixture
async def fake() -> AsyncIterator[FakeIonQ]:
    async with FakeIonQ(durations=(5.0, 5.0, 5.0)) as server:
        yield server


async def call(
    http: aiohttp.ClientSession, fake: FakeIonQ, method: str, path: str, **kw: Any
) -> tuple[int, Any]:
    async with http.request(method, fake.base_url + path, **kw) as resp:
        return resp.status, await resp.json()


async def test_jobs_in_every_state_match_get_and_list_schemas(
    fake: FakeIonQ, http: aiohttp.ClientSession, check: Check
) -> None:
    jobs = [
        fake.add_job(name="bell", circuit=BELL, shots=1000, metadata={"k": "v"}),
        fake.add_job(status="ready"),
        fake.add_job(status="started", backend="qpu.forte-1"),
        fake.add_job(status="completed", settings={"error_mitigation": {"debiasing": True}}),
        fake.add_job(status="completed", dry_run=True, noise={"model": "aria-1", "seed": 3}),
        fake.add_job(failure_code="TooManyGates", status="failed"),
        fake.add_job(status="canceled"),
        fake.add_job(type="ionq.qasm3.v1", input={"data": "OPENQASM 3;"}, status="completed"),
    ]
    fake.cancel(jobs[0].id)
    statuses = set()
    for job in jobs:
        status, body = await call(http, fake, "GET", f"/jobs/{job.id}")
        assert status == 200
        check("GetJobResponse", strip_legacy(body))
        check("SingleCircuitJob", strip_legacy(body))
        statuses.add(body["status"])
    assert statuses == {"ready", "started", "completed", "failed", "canceled"}
    _, completed = await call(http, fake, "GET", f"/jobs/{jobs[3].id}")
    with pytest.raises(ValidationError):
        check("SingleCircuitJob", completed)
    with pytest.raises(ValidationError):
        check("SingleCircuitJob", {k: v for k, v in body.items() if k != "child_job_ids"})
    status, page = await call(http, fake, "GET", "/jobs", params={"limit": "5"})
    check("GetJobsResponse", {**page, "jobs": [strip_legacy(j) for j in page["jobs"]]})
    assert page["next"] is not None


async def test_mutations_match_schemas(
    fake: FakeIonQ, http: aiohttp.ClientSession, check: Check
) -> None:
    src, other = fake.add_job(), fake.add_job()
    payload = {
        "type": "ionq.circuit.v1",
        "backend": "simulator",
        "input": {"gateset": "qis", "circuit": BELL},
    }
    for method, path, body, schema in [
        ("POST", "/jobs", payload, "JobCreationResponse"),
        ("POST", f"/jobs/{src.id}/clone", {"shots": 10}, "JobCreationResponse"),
        ("POST", f"/jobs/{src.id}/move", {}, "JobCreationResponse"),
        ("GET", f"/jobs/{src.id}/cost", None, "GetJobCostResponse"),
        ("PUT", f"/jobs/{other.id}/status/cancel", None, "JobCanceledResponse"),
        ("PUT", "/jobs/status/cancel", {"ids": [other.id]}, "JobsCanceledResponse"),
        ("DELETE", f"/jobs/{other.id}", None, "JobDeletedResponse"),
        ("DELETE", "/jobs", {"ids": [src.id]}, "JobsDeletedResponse"),
        ("GET", "/whoami", None, "Whoami"),
    ]:
        status, answer = await call(http, fake, method, path, json=body)
        assert status in (200, 201), (path, answer)
        check(schema, answer)


async def test_results_and_artifacts_match_schemas(
    fake: FakeIonQ, http: aiohttp.ClientSession, check: Check
) -> None:
    job = fake.add_job(circuit=BELL, status="completed")
    _, v1 = await call(http, fake, "GET", f"/jobs/{job.id}/results/probabilities")
    check("IonqResultProbabilitiesJsonV1", v1)
    _, body = await call(http, fake, "GET", f"/jobs/{job.id}")
    for key, descriptor in strip_legacy(body)["results"].items():
        check("ArtifactDescriptor", descriptor)
        _, payload = await call(http, fake, "GET", f"/jobs/{job.id}/artifacts/{descriptor['id']}")
        assert key == "ionq.result.probabilities.json.v2"
        check("IonqResultProbabilitiesJsonV2", payload)
    _, cost = await call(http, fake, "GET", f"/jobs/{job.id}/cost")
    check("GetJobCostResponse", cost)


async def test_backends_match_schema(
    fake: FakeIonQ, http: aiohttp.ClientSession, check: Check
) -> None:
    status, backends = await call(http, fake, "GET", "/backends")
    assert status == 200 and len(backends) >= 2
    for backend in backends:
        check("Backend", backend)


async def test_error_bodies_match_schemas(
    fake: FakeIonQ, http: aiohttp.ClientSession, check: Check
) -> None:
    done = fake.add_job(status="completed")
    fake.faults.add("get_job", Fault.rate_limited(1)).add("get_job", Fault.http(503))
    for method, path, body, code in [
        ("POST", f"/jobs/{done.id}/clone", {"shots": -1}, 400),
        ("GET", f"/jobs/{done.id}", None, 429),
        ("GET", f"/jobs/{done.id}", None, 503),
        ("GET", "/jobs/missing", None, 404),
        ("POST", f"/jobs/{done.id}/move", {}, 409),
    ]:
        status, err = await call(http, fake, method, path, json=body)
        assert status == code == err["statusCode"]
        check("BadRequestError" if code == 400 else "Error", err)
        assert ("validation" in err) == (code == 400)
    async with aiohttp.ClientSession() as anonymous:
        status, err = await call(anonymous, fake, "GET", "/jobs")
    assert status == 401
    check("Error", err)


async def test_new_operations_match_schemas(check: Check) -> None:
    fmts = (
        "ionq.result.probabilities.json.v1",
        "ionq.result.probabilities.json.v2",
        "ionq.result.histogram.json.v1",
        "ionq.result.histogram.json.v2",
        "ionq.result.shots.json.v1",
        "ionq.result.shots.json.v2",
    )
    async with (
        FakeIonQ(
            durations=(0.0, 0.0, 0.0), results_shape="descriptors", result_formats=fmts
        ) as fake,
        aiohttp.ClientSession(headers={"Authorization": f"apiKey {fake.api_key}"}) as http,
    ):
        qpu = "qpu.forte-1"
        _, session = await call(http, fake, "POST", "/sessions", json={"backend": "simulator"})
        sid = session["id"]
        check("Session", session)
        multi = {
            "type": "ionq.multi-circuit.v1",
            "backend": "simulator",
            "session_id": sid,
            "input": {"gateset": "qis", "circuits": [{"circuit": BELL}, {"circuit": BELL[:1]}]},
        }
        qf = {
            "type": "quantum-function",
            "backend": "simulator",
            "input": {"type": "generic", "data": {}},
        }
        graph = {"nodes": [{"id": 0}, {"id": 1}], "adjacency": [[{"id": 1}], [{"id": 0}]]}
        qaoa = {
            "type": "qctrl.qaoa.v1",
            "backend": "simulator",
            "external_settings": {"api_credentials": "k"},
            "input": {"problem_type": "maxcut", "problem": graph},
        }
        made = {}
        for name, body, schema in [
            ("multi", multi, "MultiCircuitJob"),
            ("qf", qf, "QuantumFunctionJob"),
            ("qaoa", qaoa, "QaoaJob"),
        ]:
            status, created = await call(http, fake, "POST", "/jobs", json=body)
            assert status == 201, created
            check("JobCreationResponse", created)
            _, job = await call(http, fake, "GET", f"/jobs/{created['id']}")
            check(schema, job)
            check("GetJobResponse", job)
            made[name] = job
        for child in made["multi"]["child_job_ids"]:
            _, job = await call(http, fake, "GET", f"/jobs/{child}")
            check("SingleCircuitJob", job)
            for fmt, descriptor in job["results"].items():
                check("ArtifactDescriptor", descriptor)
                _, art = await call(http, fake, "GET", f"/jobs/{child}/artifacts/{fmt}")
                schema = "Ionq" + "".join(p.capitalize() for p in fmt.split(".")[1:])
                check(schema.replace("-aggregate", "Aggregate"), art)
        agg = "ionq.result.probabilities-aggregate.json.v1"
        _, art = await call(http, fake, "GET", f"/jobs/{made['multi']['id']}/artifacts/{agg}")
        check("IonqResultProbabilitiesAggregateJsonV1", art)
        for path, schema in [
            ("/sessions", "SessionsResponse"),
            (f"/sessions/{sid}", "Session"),
            (f"/sessions/{sid}/jobs", "GetJobsResponse"),
            (f"/backends/{qpu}", "Backend"),
            (f"/jobs/estimate?backend={qpu}&shots=500&2q_gates=3", "GetJobEstimateResponse"),
            ("/schemas/formats/ionq.native.v1", "FormatSchemaDocument"),
            (
                f"/organizations/{fake.organization_id}/usage?start_date=2020-01-01"
                "&end_date=2100-01-01&group_by=user&modality=weekly",
                "Usages",
            ),
        ]:
            status, body = await call(http, fake, "GET", path)
            assert status == 200, (path, body)
            check(schema, body)
        _, page = await call(http, fake, "GET", f"/backends/{qpu}/characterizations?limit=2")
        assert set(page) == {"characterizations", "pages"}
        for item in page["characterizations"]:
            check("Characterization", item)
        status, ended = await call(http, fake, "POST", f"/sessions/{sid}/end")
        check("Session", ended)
        status, refused = await call(http, fake, "POST", "/jobs", json=multi)
        assert status == 400
        check("BadRequestError", refused)


async def test_billing_lag_and_client_forms_match_schemas(check: Check, clock: Clock) -> None:
    async with (
        FakeIonQ(durations=(1.0, 1.0, 1.0), clock=clock, cost_factor=1.3, list_lag=2.0) as fake,
        aiohttp.ClientSession(headers={"Authorization": f"apiKey {fake.api_key}"}) as http,
    ):
        bodies = [
            {"backend": "qpu", "shots": 1000},
            {"backend": "simulator", "noise": {"model": "aria-1", "seed": None}},
        ]
        ids = []
        for extra in bodies:
            payload = {"type": "ionq.circuit.v1", "input": {"gateset": "qis", "circuit": BELL}}
            status, created = await call(http, fake, "POST", "/jobs", json={**payload, **extra})
            assert status == 201, created
            ids.append(created["id"])
        _, hidden = await call(http, fake, "GET", "/jobs")
        assert hidden == {"jobs": [], "next": None}
        check("GetJobsResponse", hidden)
        clock.t += 3.0
        _, page = await call(http, fake, "GET", "/jobs")
        assert {j["id"] for j in page["jobs"]} == set(ids)
        check("GetJobsResponse", {**page, "jobs": [strip_legacy(j) for j in page["jobs"]]})
        for job_id in ids:
            _, job = await call(http, fake, "GET", f"/jobs/{job_id}")
            check("SingleCircuitJob", strip_legacy(job))
        _, cost = await call(http, fake, "GET", f"/jobs/{ids[0]}/cost")
        assert cost["cost"]["value"] > cost["estimated_cost"]["value"]
        check("GetJobCostResponse", cost)
        _, estimate = await call(http, fake, "GET", "/jobs/estimate?backend=qpu")
        check("GetJobEstimateResponse", estimate)
        usage = (
            f"/organizations/{fake.organization_id}/usage?start_date=2020-01-01"
            "&end_date=2100-01-01&group_by=job&modality=daily"
        )
        _, report = await call(http, fake, "GET", usage)
        assert report["amount_total"] == cost["cost"]["value"]
        check("Usages", report)
