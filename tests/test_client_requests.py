"""Request shape of every `client.jobs.*` call: method, path, query, headers and exact body."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aioresponses import aioresponses
from yarl import URL

from ionq_async import (
    AsyncIonQ,
    CloneRequest,
    Compilation,
    ErrorMitigation,
    IonQError,
    JobCreated,
    JobStatus,
    JobStatusChange,
    Noise,
    ResponseValidationError,
    RetryPolicy,
    Settings,
)

KEY = "sk-SECRET-123"
BASE = "https://api.ionq.co/v0.4"
SRC = "0198097d-3888-72ad-8c3c-1f1d0c9e8a77"
NEW = "0198097d-4000-7000-8000-000000000001"
OTHER = "0198097d-4000-7000-8000-000000000002"
UA = re.compile(r"^ionq-async/\S+ aiohttp/\d+\.\d+\S* [A-Za-z]+/\d+\.\d+\.\d+\S*$")
CREATED = {"id": NEW, "status": "submitted", "session_id": None}


def job_body(job_id: str = SRC, **extra: Any) -> dict[str, Any]:
    return {"id": job_id, "status": "completed", **extra}


@pytest.fixture
async def client() -> AsyncIterator[AsyncIonQ]:
    async with AsyncIonQ(KEY, base_url=BASE, rate_limit=None, retry=RetryPolicy.none()) as c:
        yield c


def sent(m: aioresponses) -> list[tuple[str, URL, dict[str, Any]]]:
    """Every intercepted request as (method, full URL with query, kwargs), in order."""
    calls = [(key[0], key[1], call.kwargs) for key, calls in m.requests.items() for call in calls]
    return calls


def check(
    call: tuple[str, URL, dict[str, Any]],
    method: str,
    path: str,
    *,
    query: list[tuple[str, str]] | None = None,
    body: Any = None,
) -> None:
    """Assert one request's method, path, query, auth, User-Agent and exact JSON body."""
    got_method, url, kwargs = call
    assert got_method == method
    assert url.scheme == "https" and url.host == "api.ionq.co"
    assert url.path == "/v0.4" + path
    # aioresponses keys URLs with a sorted query; the params the client passed keep its order.
    assert sorted(url.query.items()) == sorted(query or [])
    assert list(kwargs["params"] or []) == (query or [])
    headers = kwargs["headers"]
    assert headers["Authorization"] == f"apiKey {KEY}"
    assert UA.match(headers["User-Agent"]), headers["User-Agent"]
    if body is None:
        assert kwargs["data"] is None
        assert "Content-Type" not in headers
    else:
        assert isinstance(kwargs["data"], bytes)
        assert json.loads(kwargs["data"]) == body
        assert headers["Content-Type"] == "application/json"


FULL = CloneRequest(
    parent=OTHER,
    name="bell again",
    metadata={"run": "7", "owner": "me"},
    shots=1000,
    backend="simulator",
    session_id="sess-1",
    settings=Settings(
        error_mitigation=ErrorMitigation(debiasing=False, symmetry_verification=True),
        compilation=Compilation(opt=1, precision="1E-3", gate_basis="ZZ"),
    ),
    dry_run=True,
    noise=Noise(model="aria-1", seed=7),
)
FULL_BODY = {
    "parent": OTHER,
    "name": "bell again",
    "metadata": {"run": "7", "owner": "me"},
    "shots": 1000,
    "backend": "simulator",
    "session_id": "sess-1",
    "settings": {
        "error_mitigation": {"debiasing": False, "symmetry_verification": True},
        "compilation": {"opt": 1, "precision": "1E-3", "gate_basis": "ZZ"},
    },
    "dry_run": True,
    "noise": {"model": "aria-1", "seed": 7},
}


async def test_clone_with_clone_request(client: AsyncIonQ, mocked: aioresponses) -> None:
    mocked.post(f"{BASE}/jobs/{SRC}/clone", payload=CREATED, status=201)
    created = await client.jobs.clone(SRC, FULL)
    assert created == JobCreated(id=NEW, status=JobStatus.SUBMITTED, session_id=None)
    [call] = sent(mocked)
    check(call, "POST", f"/jobs/{SRC}/clone", body=FULL_BODY)


async def test_clone_with_no_fields_sends_empty_object(
    client: AsyncIonQ, mocked: aioresponses
) -> None:
    mocked.post(f"{BASE}/jobs/{SRC}/clone", payload={"id": NEW, "session_id": None}, status=201)
    created = await client.jobs.clone(SRC)
    assert created.id == NEW and created.status is None
    [call] = sent(mocked)
    check(call, "POST", f"/jobs/{SRC}/clone", body={})


async def test_clone_keyword_form(client: AsyncIonQ, mocked: aioresponses) -> None:
    mocked.post(f"{BASE}/jobs/{SRC}/clone", payload=CREATED, status=201)
    await client.jobs.clone(
        SRC, shots=500, name="again", noise=Noise(model="ideal"), metadata={"k": "v"}
    )
    [call] = sent(mocked)
    check(
        call,
        "POST",
        f"/jobs/{SRC}/clone",
        body={"shots": 500, "name": "again", "noise": {"model": "ideal"}, "metadata": {"k": "v"}},
    )


async def test_clone_keywords_override_request_fields(
    client: AsyncIonQ, mocked: aioresponses
) -> None:
    mocked.post(f"{BASE}/jobs/{SRC}/clone", payload=CREATED, status=201)
    request = CloneRequest(shots=10, name="base", backend="simulator")
    await client.jobs.clone(SRC, request, shots=20, dry_run=False)
    [call] = sent(mocked)
    check(
        call,
        "POST",
        f"/jobs/{SRC}/clone",
        body={"shots": 20, "name": "base", "backend": "simulator", "dry_run": False},
    )
    assert request.shots == 10  # the caller's request is not mutated


async def test_clone_rejects_non_request(client: AsyncIonQ, mocked: aioresponses) -> None:
    with pytest.raises(TypeError, match="request"):
        await client.jobs.clone(SRC, {"shots": 10})  # type: ignore[arg-type]
    assert mocked.requests == {}


async def test_move(client: AsyncIonQ, mocked: aioresponses) -> None:
    mocked.post(f"{BASE}/jobs/{SRC}/move", payload=CREATED, status=201)
    moved = await client.jobs.move(SRC, CloneRequest(backend="qpu.forte-1"), shots=200)
    assert moved.id == NEW
    [call] = sent(mocked)
    check(call, "POST", f"/jobs/{SRC}/move", body={"backend": "qpu.forte-1", "shots": 200})


CIRCUIT = {
    "type": "ionq.circuit.v1",
    "backend": "simulator",
    "shots": 100,
    "name": "bell",
    "input": {
        "gateset": "qis",
        "qubits": 2,
        "circuit": [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}],
    },
    "noise": {"model": "aria-1"},
}
QASM3 = {
    "type": "ionq.qasm3.v1",
    "backend": "qpu.forte-1",
    "shots": 50,
    "input": 'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\nh q[0];\ncx q[0], q[1];\n',
    "metadata": {"src": "qasm"},
}


@pytest.mark.parametrize("payload", [CIRCUIT, QASM3], ids=["circuit", "qasm3"])
async def test_create(client: AsyncIonQ, mocked: aioresponses, payload: dict[str, Any]) -> None:
    mocked.post(f"{BASE}/jobs", payload=CREATED, status=201)
    created = await client.jobs.create(payload)
    assert created.id == NEW and created.status is JobStatus.SUBMITTED
    [call] = sent(mocked)
    check(call, "POST", "/jobs", body=payload)


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"backend": "simulator", "input": {}}, ValueError),
        ({"type": "ionq.qir.v1", "backend": "simulator", "input": {}}, ValueError),
        ([("type", "ionq.circuit.v1")], TypeError),
    ],
)
async def test_create_rejects_bad_payload_without_request(
    client: AsyncIonQ, mocked: aioresponses, payload: Any, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await client.jobs.create(payload)
    assert mocked.requests == {}


async def test_get(client: AsyncIonQ, mocked: aioresponses) -> None:
    mocked.get(f"{BASE}/jobs/{SRC}", payload=job_body(name="bell", shots=100))
    job = await client.jobs.get(SRC)
    assert (job.id, job.status, job.name, job.shots) == (SRC, JobStatus.COMPLETED, "bell", 100)
    [call] = sent(mocked)
    check(call, "GET", f"/jobs/{SRC}")


async def test_list_with_every_filter(client: AsyncIonQ, mocked: aioresponses) -> None:
    query = [
        ("ids", SRC),
        ("ids", OTHER),
        ("status", "completed"),
        ("target", "simulator,qpu.aria-1"),
        ("session_id", "sess-1"),
        ("parent_job_id", NEW),
        ("limit", "25"),
    ]
    mocked.get(
        str(URL(f"{BASE}/jobs").with_query(query)), payload={"jobs": [job_body()], "next": None}
    )
    jobs = [
        j
        async for j in client.jobs.list(
            status=JobStatus.COMPLETED,
            limit=25,
            ids=[SRC, OTHER],
            target=["simulator", "qpu.aria-1"],
            session_id="sess-1",
            parent_job_id=NEW,
        )
    ]
    assert [j.id for j in jobs] == [SRC]
    [call] = sent(mocked)
    check(call, "GET", "/jobs", query=query)


async def test_list_follows_next_across_three_pages(
    client: AsyncIonQ, mocked: aioresponses
) -> None:
    ids = [f"0198097d-4000-7000-8000-00000000010{i}" for i in range(5)]
    base_q = [("status", "completed"), ("limit", "2")]
    pages = [
        (base_q, {"jobs": [job_body(ids[0]), job_body(ids[1])], "next": "c1"}),
        ([*base_q, ("next", "c1")], {"jobs": [job_body(ids[2]), job_body(ids[3])], "next": "c2"}),
        ([*base_q, ("next", "c2")], {"jobs": [job_body(ids[4])], "next": None}),
    ]
    for query, payload in pages:
        mocked.get(str(URL(f"{BASE}/jobs").with_query(query)), payload=payload)
    got = [j.id async for j in client.jobs.list(status="completed", limit=2)]
    assert got == ids
    calls = sent(mocked)
    assert len(calls) == 3
    for call, (query, _) in zip(calls, pages, strict=True):
        check(call, "GET", "/jobs", query=query)


async def test_list_stops_on_missing_or_empty_next(client: AsyncIonQ, mocked: aioresponses) -> None:
    mocked.get(f"{BASE}/jobs", payload={"jobs": [job_body()], "next": ""})
    assert [j.id async for j in client.jobs.list()] == [SRC]
    [call] = sent(mocked)
    check(call, "GET", "/jobs")


async def test_list_raises_on_repeated_cursor(client: AsyncIonQ, mocked: aioresponses) -> None:
    mocked.get(f"{BASE}/jobs", payload={"jobs": [job_body(SRC)], "next": "c1"})
    mocked.get(f"{BASE}/jobs?next=c1", payload={"jobs": [job_body(OTHER)], "next": "c1"})
    seen: list[str] = []
    with pytest.raises(ResponseValidationError, match="repeated"):
        async for job in client.jobs.list():
            seen.append(job.id)
    assert seen == [SRC, OTHER]
    assert len(sent(mocked)) == 2


@pytest.mark.parametrize("limit", [0, 1001, True, 2.5, "10"])
async def test_list_rejects_bad_limit(client: AsyncIonQ, mocked: aioresponses, limit: Any) -> None:
    with pytest.raises(ValueError, match="limit"):
        async for _ in client.jobs.list(limit=limit):
            pass
    assert mocked.requests == {}


async def test_list_rejects_unknown_status(client: AsyncIonQ, mocked: aioresponses) -> None:
    with pytest.raises(ValueError):
        async for _ in client.jobs.list(status="paused"):
            pass
    assert mocked.requests == {}


async def test_cancel(client: AsyncIonQ, mocked: aioresponses) -> None:
    mocked.put(f"{BASE}/jobs/{SRC}/status/cancel", payload={"id": SRC, "status": "canceled"})
    assert await client.jobs.cancel(SRC) == JobStatusChange(id=SRC, status="canceled")
    [call] = sent(mocked)
    check(call, "PUT", f"/jobs/{SRC}/status/cancel")


async def test_cancel_many(client: AsyncIonQ, mocked: aioresponses) -> None:
    mocked.put(f"{BASE}/jobs/status/cancel", payload={"ids": [SRC, OTHER], "status": "canceled"})
    await client.jobs.cancel_many(iter([SRC, OTHER]))
    [call] = sent(mocked)
    check(call, "PUT", "/jobs/status/cancel", body={"ids": [SRC, OTHER]})


async def test_delete(client: AsyncIonQ, mocked: aioresponses) -> None:
    mocked.delete(f"{BASE}/jobs/{SRC}", payload={"id": SRC, "status": "deleted"})
    await client.jobs.delete(SRC)
    [call] = sent(mocked)
    check(call, "DELETE", f"/jobs/{SRC}")


async def test_delete_many(client: AsyncIonQ, mocked: aioresponses) -> None:
    mocked.delete(f"{BASE}/jobs", payload={"ids": [SRC, OTHER], "status": "deleted"})
    await client.jobs.delete_many([SRC, OTHER])
    [call] = sent(mocked)
    check(call, "DELETE", "/jobs", body={"ids": [SRC, OTHER]})


async def test_bulk_calls_with_no_ids_send_nothing(client: AsyncIonQ, mocked: aioresponses) -> None:
    await client.jobs.cancel_many([])
    await client.jobs.delete_many([])
    assert mocked.requests == {}


async def test_cost(client: AsyncIonQ, mocked: aioresponses) -> None:
    mocked.get(
        f"{BASE}/jobs/{SRC}/cost",
        payload={
            "dry_run": False,
            "estimated_cost": {"value": 1.5, "unit": "USD"},
            "cost": {"value": 1.25, "unit": "USD"},
        },
    )
    cost = await client.jobs.cost(SRC)
    assert cost.estimated_cost is not None and cost.estimated_cost.value == 1.5
    assert cost.cost is not None and (cost.cost.value, cost.cost.unit) == (1.25, "USD")
    [call] = sent(mocked)
    check(call, "GET", f"/jobs/{SRC}/cost")


async def test_probabilities_legacy_url_strips_duplicated_prefix(
    client: AsyncIonQ, mocked: aioresponses
) -> None:
    legacy = {"probabilities": {"url": f"/v0.4/jobs/{SRC}/results/probabilities"}}
    mocked.get(f"{BASE}/jobs/{SRC}", payload=job_body(results=legacy))
    mocked.get(f"{BASE}/jobs/{SRC}/results/probabilities", payload={"0": 0.5, "3": 0.5})
    assert await client.jobs.probabilities(SRC) == {"0": 0.5, "3": 0.5}
    get, probs = sent(mocked)
    check(get, "GET", f"/jobs/{SRC}")
    check(probs, "GET", f"/jobs/{SRC}/results/probabilities")


async def test_probabilities_legacy_absolute_url_on_same_host(
    client: AsyncIonQ, mocked: aioresponses
) -> None:
    legacy = {"probabilities": {"url": f"{BASE}/jobs/{SRC}/results/probabilities"}}
    mocked.get(f"{BASE}/jobs/{SRC}", payload=job_body(results=legacy))
    mocked.get(f"{BASE}/jobs/{SRC}/results/probabilities", payload={"1": 1.0})
    assert await client.jobs.probabilities(SRC) == {"1": 1.0}
    check(sent(mocked)[1], "GET", f"/jobs/{SRC}/results/probabilities")


async def test_probabilities_without_results_uses_results_endpoint(
    client: AsyncIonQ, mocked: aioresponses
) -> None:
    mocked.get(f"{BASE}/jobs/{SRC}", payload=job_body(results=None))
    mocked.get(f"{BASE}/jobs/{SRC}/results/probabilities", payload={"0": 1})
    assert await client.jobs.probabilities(SRC) == {"0": 1.0}
    check(sent(mocked)[1], "GET", f"/jobs/{SRC}/results/probabilities")


async def test_probabilities_artifact_v1(client: AsyncIonQ, mocked: aioresponses) -> None:
    fmt = "ionq.result.probabilities.json.v1"
    results = {fmt: {"id": "probabilities", "format": fmt, "media_type": "application/json"}}
    mocked.get(f"{BASE}/jobs/{SRC}", payload=job_body(results=results))
    mocked.get(f"{BASE}/jobs/{SRC}/artifacts/probabilities", payload={"0": 0.25, "1": 0.75})
    assert await client.jobs.probabilities(SRC) == {"0": 0.25, "1": 0.75}
    get, art = sent(mocked)
    check(get, "GET", f"/jobs/{SRC}")
    check(art, "GET", f"/jobs/{SRC}/artifacts/probabilities")


async def test_probabilities_artifact_v2(client: AsyncIonQ, mocked: aioresponses) -> None:
    fmt = "ionq.result.probabilities.json.v2"
    artifact = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
    results = {fmt: {"id": artifact, "format": fmt, "media_type": "application/json"}}
    mocked.get(f"{BASE}/jobs/{SRC}", payload=job_body(results=results))
    mocked.get(
        f"{BASE}/jobs/{SRC}/artifacts/{artifact}",
        payload={"probabilities": {"registers": {"output_all": {"00": 0.5, "11": 0.5}}}},
    )
    assert await client.jobs.probabilities(SRC) == {"0": 0.5, "3": 0.5}
    check(sent(mocked)[1], "GET", f"/jobs/{SRC}/artifacts/{artifact}")


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.com/v0.4/steal",
        "//evil.example.com/v0.4/steal",
        "https://api.ionq.co.evil.example.com/v0.4/steal",
        "https://api.ionq.co:444/v0.4/steal",
        "http://api.ionq.co/v0.4/steal",
    ],
)
async def test_probabilities_refuses_url_on_another_host(
    client: AsyncIonQ, mocked: aioresponses, url: str
) -> None:
    legacy = {"probabilities": {"url": url}}
    mocked.get(f"{BASE}/jobs/{SRC}", payload=job_body(results=legacy))
    with pytest.raises(IonQError, match="refusing to send the API key"):
        await client.jobs.probabilities(SRC)
    [only] = sent(mocked)  # the job read; nothing went to the other host
    check(only, "GET", f"/jobs/{SRC}")


@pytest.mark.parametrize("sharpen", [True, False])
async def test_probabilities_sharpen(
    client: AsyncIonQ, mocked: aioresponses, sharpen: bool
) -> None:
    flag = "true" if sharpen else "false"
    legacy = {"probabilities": {"url": f"/v0.4/jobs/{SRC}/results/probabilities"}}
    mocked.get(f"{BASE}/jobs/{SRC}", payload=job_body(results=legacy))
    mocked.get(f"{BASE}/jobs/{SRC}/results/probabilities?sharpen={flag}", payload={"3": 1.0})
    assert await client.jobs.probabilities(SRC, sharpen=sharpen) == {"3": 1.0}
    check(sent(mocked)[1], "GET", f"/jobs/{SRC}/results/probabilities", query=[("sharpen", flag)])
