"""Request shape of the jobs calls of issue 14: method, path, query and exact body."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aioresponses import aioresponses
from test_client_requests import BASE, CREATED, KEY, NEW, OTHER, SRC, check, job_body, sent
from yarl import URL

from ionq_async import (
    JOB_TYPES,
    AsyncIonQ,
    IonQError,
    JobPage,
    JobsStatusChange,
    JobStatusChange,
    ResponseValidationError,
    RetryPolicy,
)

ESTIMATE = {
    "estimate_context": {"backend": "qpu.forte-1", "organization": "o", "project": "p"},
    "estimated_at": "2026-09-01T00:00:00Z",
    "estimated_unit": "usd",
    "rate_card": {"id": "rc", "rates": [{"sku": "forte.gates", "unit": "gates"}]},
    "estimated_total_cost": 97.5,
    "estimated_execution_time": 96250,
    "current_predicted_queue_time": 397577,
}
PROBS_V1 = "ionq.result.probabilities.json.v1"
HIST_V2 = "ionq.result.histogram.json.v2"


@pytest.fixture
async def client() -> AsyncIterator[AsyncIonQ]:
    async with AsyncIonQ(KEY, base_url=BASE, rate_limit=None, retry=RetryPolicy.none()) as c:
        yield c


async def test_estimate_sends_every_given_parameter(
    client: AsyncIonQ, mocked: aioresponses
) -> None:
    query = [
        ("backend", "qpu.forte-1"),
        ("type", "ionq.multi-circuit.v1"),
        ("qubits", "5"),
        ("shots", "200"),
        ("1q_gates", "30"),
        ("2q_gates", "12"),
        ("error_mitigation", "false"),
    ]
    mocked.get(str(URL(f"{BASE}/jobs/estimate").with_query(query)), payload=ESTIMATE)
    est = await client.jobs.estimate(
        "qpu.forte-1",
        qubits=5,
        shots=200,
        one_qubit_gates=30,
        two_qubit_gates=12,
        error_mitigation=False,
        type="ionq.multi-circuit.v1",
    )
    assert (est.total.value, est.total.unit, est.execution_time_ms) == (97.5, "usd", 96250)
    assert est.queue_time_ms == 397577 and est.rate_card_id == "rc"
    [call] = sent(mocked)
    check(call, "GET", "/jobs/estimate", query=query)


async def test_estimate_leaves_unset_options_to_the_api(
    client: AsyncIonQ, mocked: aioresponses
) -> None:
    query = [("backend", "simulator"), ("qubits", "2"), ("1q_gates", "0"), ("2q_gates", "0")]
    mocked.get(str(URL(f"{BASE}/jobs/estimate").with_query(query)), payload=ESTIMATE)
    await client.jobs.estimate("simulator", qubits=2)
    [call] = sent(mocked)
    check(call, "GET", "/jobs/estimate", query=query)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"backend": "", "qubits": 2}, ValueError),
        ({"backend": "simulator", "qubits": 0}, ValueError),
        ({"backend": "simulator", "qubits": True}, TypeError),
        ({"backend": "simulator", "qubits": 2, "shots": 0}, ValueError),
        ({"backend": "simulator", "qubits": 2, "shots": 1_000_001}, ValueError),
        ({"backend": "simulator", "qubits": 2, "one_qubit_gates": -1}, ValueError),
        ({"backend": "simulator", "qubits": 2, "two_qubit_gates": 2.5}, TypeError),
        ({"backend": "simulator", "qubits": 2, "error_mitigation": "yes"}, TypeError),
        ({"backend": "simulator", "qubits": 2, "type": "ionq.qir.v1"}, ValueError),
    ],
)
async def test_estimate_checks_inputs_before_any_request(
    client: AsyncIonQ, mocked: aioresponses, kwargs: dict[str, Any], error: type[Exception]
) -> None:
    backend = kwargs.pop("backend")
    with pytest.raises(error):
        await client.jobs.estimate(backend, **kwargs)
    assert mocked.requests == {}


async def test_estimate_without_a_cost_is_a_validation_error(
    client: AsyncIonQ, mocked: aioresponses
) -> None:
    mocked.get(
        URL(f"{BASE}/jobs/estimate").with_query(
            backend="simulator", qubits="1", **{"1q_gates": "0", "2q_gates": "0"}
        ),
        payload={"estimated_unit": "usd"},
    )
    with pytest.raises(ResponseValidationError, match="cost estimate"):
        await client.jobs.estimate("simulator", qubits=1)


@pytest.mark.parametrize("kind", JOB_TYPES)
async def test_create_sends_every_job_type_as_given(
    client: AsyncIonQ, mocked: aioresponses, kind: str
) -> None:
    payload: dict[str, Any] = {"type": kind, "backend": "simulator", "input": {"gateset": "qis"}}
    if kind == "qctrl.qaoa.v1":
        payload["external_settings"] = {"api_credentials": "k"}
    mocked.post(f"{BASE}/jobs", payload=CREATED, status=201)
    assert (await client.jobs.create(payload)).id == NEW
    [call] = sent(mocked)
    check(call, "POST", "/jobs", body=payload)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"type": "ionq.qir.v1", "backend": "simulator", "input": {}}, "quantum-function"),
        (
            {"type": "qctrl.qaoa.v1", "backend": "simulator", "input": {}},
            "external_settings",
        ),
        ({"type": "ionq.multi-circuit.v1", "backend": "simulator", "input": "x"}, "object"),
        (
            {"type": "ionq.circuit.v1", "backend": "simulator", "input": {"gateset": "ibm"}},
            "gateset",
        ),
        ({"type": "ionq.circuit.v1", "backend": 3, "input": {}}, "backend"),
    ],
)
async def test_create_rejects_payloads_off_the_spec(
    client: AsyncIonQ, mocked: aioresponses, payload: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await client.jobs.create(payload)
    assert mocked.requests == {}


async def test_typed_answers_of_cancel_and_delete(client: AsyncIonQ, mocked: aioresponses) -> None:
    mocked.put(f"{BASE}/jobs/{SRC}/status/cancel", payload={"id": SRC, "status": "canceled"})
    mocked.delete(f"{BASE}/jobs/{SRC}", payload={"id": SRC, "status": "deleted"})
    mocked.put(f"{BASE}/jobs/status/cancel", payload={"ids": [SRC, OTHER], "status": "canceled"})
    mocked.delete(f"{BASE}/jobs", payload={"ids": [SRC], "status": "deleted"})
    assert await client.jobs.cancel(SRC) == JobStatusChange(id=SRC, status="canceled")
    assert await client.jobs.delete(SRC) == JobStatusChange(id=SRC, status="deleted")
    assert await client.jobs.cancel_many([SRC, OTHER]) == JobsStatusChange(
        ids=(SRC, OTHER), status="canceled"
    )
    assert await client.jobs.delete_many([SRC]) == JobsStatusChange(ids=(SRC,), status="deleted")
    calls = sent(mocked)
    check(calls[0], "PUT", f"/jobs/{SRC}/status/cancel")
    check(calls[1], "DELETE", f"/jobs/{SRC}")
    check(calls[2], "PUT", "/jobs/status/cancel", body={"ids": [SRC, OTHER]})
    check(calls[3], "DELETE", "/jobs", body={"ids": [SRC]})


async def test_an_answer_without_a_body_still_names_the_job(
    client: AsyncIonQ, mocked: aioresponses
) -> None:
    mocked.put(f"{BASE}/jobs/{SRC}/status/cancel", body=b"")
    assert await client.jobs.cancel(SRC) == JobStatusChange(id=SRC, status="canceled")


async def test_bulk_calls_with_no_ids_answer_no_ids(
    client: AsyncIonQ, mocked: aioresponses
) -> None:
    assert await client.jobs.cancel_many([]) == JobsStatusChange(ids=(), status="canceled")
    assert await client.jobs.delete_many(()) == JobsStatusChange(ids=(), status="deleted")
    assert mocked.requests == {}


async def test_list_awaited_reads_one_page_with_its_cursor(
    client: AsyncIonQ, mocked: aioresponses
) -> None:
    first = [("status", "completed"), ("limit", "1")]
    mocked.get(
        str(URL(f"{BASE}/jobs").with_query(first)), payload={"jobs": [job_body()], "next": "c1"}
    )
    resumed = [*first, ("next", "c1")]
    mocked.get(
        str(URL(f"{BASE}/jobs").with_query(resumed)),
        payload={"jobs": [job_body(OTHER)], "next": None},
    )
    page = await client.jobs.list(status="completed", limit=1)
    assert isinstance(page, JobPage) and [j.id for j in page.jobs] == [SRC] and page.next == "c1"
    again = await client.jobs.list(status="completed", limit=1, cursor=page.next)
    assert [j.id for j in again.jobs] == [OTHER] and again.next is None
    calls = sent(mocked)
    check(calls[0], "GET", "/jobs", query=first)
    check(calls[1], "GET", "/jobs", query=resumed)


async def test_list_iterated_from_a_cursor_refuses_that_cursor_again(
    client: AsyncIonQ, mocked: aioresponses
) -> None:
    mocked.get(f"{BASE}/jobs?next=c1", payload={"jobs": [job_body()], "next": "c1"})
    with pytest.raises(ResponseValidationError, match="repeated"):
        async for _ in client.jobs.list(cursor="c1"):
            pass


async def test_list_rejects_an_empty_cursor(client: AsyncIonQ, mocked: aioresponses) -> None:
    with pytest.raises(ValueError, match="cursor"):
        await client.jobs.list(cursor="")
    assert mocked.requests == {}


def completed(results: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return job_body(results=results, shots=10, stats={"qubits": 2}, **extra)


async def test_results_reads_every_offered_artifact(
    client: AsyncIonQ, mocked: aioresponses
) -> None:
    desc = {
        f: {"id": f"a-{i}", "format": f, "media_type": "application/json"}
        for i, f in enumerate((PROBS_V1, HIST_V2))
    }
    mocked.get(f"{BASE}/jobs/{SRC}", payload=completed(desc))
    mocked.get(f"{BASE}/jobs/{SRC}/artifacts/a-0", payload={"0": 0.5, "3": 0.5})
    hist = {"histogram": {"registers": {"output_all": {"00": 4, "11": 6}}}}
    mocked.get(f"{BASE}/jobs/{SRC}/artifacts/a-1", payload=hist)
    results = await client.jobs.results(SRC)
    assert results.probabilities == {0: 0.5, 3: 0.5} and results.counts == {0: 4, 3: 6}
    assert results.bitstrings == {"00": 0.5, "11": 0.5} and results.counts_source == "histogram"
    calls = sent(mocked)
    check(calls[0], "GET", f"/jobs/{SRC}")
    assert sorted(c[1].path for c in calls[1:]) == [
        f"/v0.4/jobs/{SRC}/artifacts/a-0",
        f"/v0.4/jobs/{SRC}/artifacts/a-1",
    ]
    for call in calls[1:]:
        check(call, "GET", call[1].path.removeprefix("/v0.4"))


async def test_results_follow_a_legacy_url_with_its_query(
    client: AsyncIonQ, mocked: aioresponses
) -> None:
    url = f"{BASE}/jobs/{SRC}/results/probabilities?sharpen=false"
    mocked.get(f"{BASE}/jobs/{SRC}", payload=completed({"probabilities": {"url": url}}))
    mocked.get(url, payload={"1": 0.2, "2": 0.8})
    results = await client.jobs.results(SRC)
    assert results.probabilities == {1: 0.2, 2: 0.8}
    assert results.counts == {1: 2, 2: 8} and results.counts_derived
    check(
        sent(mocked)[1], "GET", f"/jobs/{SRC}/results/probabilities", query=[("sharpen", "false")]
    )


async def test_results_never_send_the_key_to_another_host(
    client: AsyncIonQ, mocked: aioresponses
) -> None:
    evil = {"probabilities": {"url": "https://evil.example/steal"}}
    mocked.get(f"{BASE}/jobs/{SRC}", payload=completed(evil))
    with pytest.raises(IonQError, match="refusing"):
        await client.jobs.results(SRC)
    assert len(sent(mocked)) == 1


async def test_results_of_a_multi_circuit_job_read_the_children(
    client: AsyncIonQ, mocked: aioresponses
) -> None:
    agg = "ionq.result.probabilities-aggregate.json.v1"
    parent = completed(
        {agg: {"id": "agg", "format": agg, "media_type": "application/json"}},
        child_job_ids=[NEW, OTHER],
    )
    mocked.get(f"{BASE}/jobs/{SRC}", payload=parent)
    mocked.get(f"{BASE}/jobs/{SRC}/artifacts/agg", payload={NEW: {"3": 1.0}, OTHER: {"0": 1.0}})
    for cid, probs in ((NEW, {"3": 1.0}), (OTHER, {"0": 1.0})):
        legacy = {"probabilities": {"url": f"/v0.4/jobs/{cid}/results/probabilities"}}
        mocked.get(f"{BASE}/jobs/{cid}", payload=completed(legacy, id=cid))
        mocked.get(f"{BASE}/jobs/{cid}/results/probabilities", payload=probs)
    results = await client.jobs.results(SRC)
    assert list(results.children) == [NEW, OTHER]
    assert results.children[NEW].bitstrings == {"11": 1.0}
    assert results.aggregate == {NEW: {3: 1.0}, OTHER: {0: 1.0}}
    paths = sorted(c[1].path.removeprefix("/v0.4") for c in sent(mocked))
    assert paths == sorted(
        [
            f"/jobs/{SRC}",
            f"/jobs/{SRC}/artifacts/agg",
            f"/jobs/{NEW}",
            f"/jobs/{NEW}/results/probabilities",
            f"/jobs/{OTHER}",
            f"/jobs/{OTHER}/results/probabilities",
        ]
    )


async def test_artifact_escapes_its_id(client: AsyncIonQ, mocked: aioresponses) -> None:
    mocked.get(f"{BASE}/jobs/{SRC}/artifacts/a%2Fb", payload=["1", "1"])
    assert await client.jobs.artifact(SRC, "a/b") == ["1", "1"]
    [call] = sent(mocked)
    assert call[0] == "GET" and call[1].raw_path == f"/v0.4/jobs/{SRC}/artifacts/a%2Fb"


@pytest.mark.parametrize("artifact_id", ["", "..", 3])
async def test_artifact_rejects_a_bad_id(
    client: AsyncIonQ, mocked: aioresponses, artifact_id: Any
) -> None:
    with pytest.raises(ValueError, match="artifact_id"):
        await client.jobs.artifact(SRC, artifact_id)
    assert mocked.requests == {}
