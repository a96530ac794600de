"""Behaviour of the offline IonQ emulator through plain aiohttp requests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from conftest import Clock

from ionq_async.testing import FakeIonQ, Fate

BELL = [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}]
FAST = (0.01, 0.01, 0.01)


@pytest.fixture
async def fake(clock: Clock) -> AsyncIterator[FakeIonQ]:
    async with FakeIonQ(durations=(1.0, 2.0, 3.0), clock=clock) as server:
        yield server


async def call(
    http: aiohttp.ClientSession, fake: FakeIonQ, method: str, path: str, **kw: Any
) -> tuple[int, Any]:
    async with http.request(method, fake.base_url + path, **kw) as resp:
        assert resp.headers["x-request-id"]
        return resp.status, await resp.json()


async def test_lifecycle_is_derived_from_the_clock(
    fake: FakeIonQ, http: aiohttp.ClientSession, clock: Clock
) -> None:
    job = fake.add_job(name="bell", circuit=BELL, shots=1000)
    seen = []
    for dt in (0.0, 1.5, 2.0, 3.0):
        clock.t += dt
        _, body = await call(http, fake, "GET", f"/jobs/{job.id}")
        seen.append(body["status"])
    assert seen == ["submitted", "ready", "started", "completed"]
    assert body["submitted_at"].endswith("Z") and len(body["submitted_at"]) == 24
    assert body["completed_at"] is not None and body["execution_duration_ms"] == 3000
    assert body["results"]["probabilities"]["url"] == f"/v0.4/jobs/{job.id}/results/probabilities"


async def test_bell_probabilities_are_exact(fake: FakeIonQ, http: aiohttp.ClientSession) -> None:
    job = fake.add_job(circuit=BELL, status="completed")
    status, probs = await call(http, fake, "GET", f"/jobs/{job.id}/results/probabilities")
    assert (status, probs) == (200, {"0": 0.5, "3": 0.5})
    status, v2 = await call(
        http, fake, "GET", f"/jobs/{job.id}/artifacts/ionq.result.probabilities.json.v2"
    )
    assert v2 == {"probabilities": {"registers": {"output_all": {"00": 0.5, "11": 0.5}}}}


async def test_little_endian_keys(fake: FakeIonQ, http: aiohttp.ClientSession) -> None:
    job = fake.add_job(circuit=[{"gate": "x", "target": 1}], qubits=3, status="completed")
    _, probs = await call(http, fake, "GET", f"/jobs/{job.id}/results/probabilities")
    assert probs == {"2": 1.0}


async def test_results_404_until_completed(
    fake: FakeIonQ, http: aiohttp.ClientSession, clock: Clock
) -> None:
    job = fake.add_job(circuit=BELL)
    status, body = await call(http, fake, "GET", f"/jobs/{job.id}/results/probabilities")
    assert status == 404 and body["error"] == "Not Found Error"
    clock.t += 10
    status, _ = await call(http, fake, "GET", f"/jobs/{job.id}/results/probabilities")
    assert status == 200


async def test_clone_inherits_every_omitted_field(
    fake: FakeIonQ, http: aiohttp.ClientSession
) -> None:
    src = fake.add_job(
        name="src",
        circuit=BELL,
        shots=321,
        backend="simulator",
        metadata={"a": "1"},
        session_id="sess-1",
        settings={"error_mitigation": {"debiasing": False}},
        noise={"model": "aria-1", "seed": 7},
        dry_run=False,
        parent_job_id="parent-1",
    )
    status, created = await call(http, fake, "POST", f"/jobs/{src.id}/clone", json={})
    assert status == 201 and created["status"] == "submitted"
    assert created["session_id"] == "sess-1"
    new = fake.get_job(created["id"])
    for field in ("name", "metadata", "shots", "backend", "session_id", "settings", "noise"):
        assert getattr(new, field) == getattr(src, field), field
    assert (new.dry_run, new.type, new.input) == (src.dry_run, src.type, src.input)
    assert new.parent_job_id == "parent-1"
    assert fake.clones_of(src.id) == [new]


async def test_clone_body_overrides_and_metadata_replaces(
    fake: FakeIonQ, http: aiohttp.ClientSession
) -> None:
    src = fake.add_job(name="src", circuit=BELL, shots=10, metadata={"a": "1"})
    s2 = fake.add_session("qpu.forte-1").id
    body = {
        "name": "n2",
        "shots": 500,
        "metadata": {"b": "2"},
        "backend": "qpu.forte-1",
        "dry_run": True,
        "session_id": s2,
        "parent": "p2",
        "noise": {"model": "ideal"},
        "settings": {"compilation": {"opt": 1}},
    }
    _, created = await call(http, fake, "POST", f"/jobs/{src.id}/clone", json=body)
    new = fake.get_job(created["id"])
    assert (new.name, new.shots, new.metadata, new.backend) == (
        "n2",
        500,
        {"b": "2"},
        "qpu.forte-1",
    )
    assert (new.dry_run, new.session_id, new.parent_job_id) == (True, s2, "p2")
    assert new.settings == {"compilation": {"opt": 1}}
    assert src.metadata == {"a": "1"} and src.shots == 10


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({"bogus": 1}, "bogus"),
        ({"shots": 0}, "shots"),
        ({"shots": 1_000_001}, "shots"),
        ({"shots": "10"}, "shots"),
        ({"metadata": {"a": 1}}, "metadata"),
        ({"noise": {"seed": 1}}, "noise.model"),
        ({"noise": {"model": "nope"}}, "noise.model"),
        ({"noise": {"model": "ideal", "seed": 2**31}}, "noise.seed"),
        ({"settings": {"compilation": {"opt": "x"}}}, "settings.compilation.opt"),
        ({"settings": {"other": {}}}, "settings.other"),
        ({"dry_run": "yes"}, "dry_run"),
    ],
)
async def test_clone_validation(
    fake: FakeIonQ, http: aiohttp.ClientSession, body: dict[str, Any], key: str
) -> None:
    src = fake.add_job()
    status, err = await call(http, fake, "POST", f"/jobs/{src.id}/clone", json=body)
    assert status == 400
    assert err["statusCode"] == 400 and err["error"] == "Bad Request"
    assert err["validation"] == {"keys": [key], "source": "payload"}
    assert fake.clones_of(src.id) == []


async def test_clone_unknown_source_404(fake: FakeIonQ, http: aiohttp.ClientSession) -> None:
    status, err = await call(http, fake, "POST", "/jobs/nope/clone", json={})
    assert status == 404 and err["statusCode"] == 404


async def test_move_clones_then_cancels(fake: FakeIonQ, http: aiohttp.ClientSession) -> None:
    src = fake.add_job(metadata={"k": "v"})
    status, created = await call(http, fake, "POST", f"/jobs/{src.id}/move", json={"shots": 5})
    assert status == 201
    new = fake.get_job(created["id"])
    assert new.metadata == {"k": "v", "original_job_id": src.id}
    assert new.shots == 5
    assert fake.status(src.id) == "canceled"
    assert fake.clones_of(src.id) == [new]


async def test_move_terminal_source_is_409(fake: FakeIonQ, http: aiohttp.ClientSession) -> None:
    src = fake.add_job(status="completed")
    status, err = await call(http, fake, "POST", f"/jobs/{src.id}/move", json={})
    assert status == 409 and err["error"] == "Conflict Error"
    assert fake.clones_of(src.id) == [] and len(fake.jobs) == 1


async def test_create_job_and_validation(fake: FakeIonQ, http: aiohttp.ClientSession) -> None:
    payload = {
        "type": "ionq.circuit.v1",
        "backend": "simulator",
        "shots": 100,
        "input": {"gateset": "qis", "qubits": 2, "circuit": BELL},
    }
    status, created = await call(http, fake, "POST", "/jobs", json=payload)
    assert status == 201 and created == {
        "id": created["id"],
        "status": "submitted",
        "session_id": None,
    }
    status, err = await call(http, fake, "POST", "/jobs", json={**payload, "extra": 1})
    assert status == 400 and err["validation"]["keys"] == ["extra"]
    bad_gate = {**payload, "input": {"gateset": "qis", "circuit": [{"gate": "foo", "target": 0}]}}
    status, err = await call(http, fake, "POST", "/jobs", json=bad_gate)
    assert status == 400 and err["validation"]["keys"] == ["input.circuit[0].gate"]
    status, err = await call(http, fake, "POST", "/jobs", data=b"{not json")
    assert status == 400 and err["validation"]["source"] == "payload"


async def test_list_filters_and_pagination(fake: FakeIonQ, http: aiohttp.ClientSession) -> None:
    jobs = [fake.add_job(name=str(i), backend="simulator") for i in range(7)]
    qpu = fake.add_job(backend="qpu.forte-1", session_id="s1")
    done = fake.add_job(status="completed", parent_job_id="par")
    _, page = await call(http, fake, "GET", "/jobs", params={"limit": "3"})
    assert [j["id"] for j in page["jobs"]] == [done.id, qpu.id, jobs[6].id]
    assert "child_job_ids" not in page["jobs"][0]
    seen = []
    cursor: str | None = None
    while True:
        params = {"limit": "4", **({"next": cursor} if cursor else {})}
        _, page = await call(http, fake, "GET", "/jobs", params=params)
        seen += [j["id"] for j in page["jobs"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == [done.id, qpu.id, *[j.id for j in reversed(jobs)]]
    ids = [("ids", jobs[1].id), ("ids", jobs[4].id), ("ids", "missing")]
    _, page = await call(http, fake, "GET", "/jobs", params=ids)
    assert [j["id"] for j in page["jobs"]] == [jobs[4].id, jobs[1].id]
    _, page = await call(http, fake, "GET", "/jobs", params={"status": "completed"})
    assert [j["id"] for j in page["jobs"]] == [done.id]
    _, page = await call(http, fake, "GET", "/jobs", params={"target": "qpu.forte-1,qpu.x"})
    assert [j["id"] for j in page["jobs"]] == [qpu.id]
    _, page = await call(http, fake, "GET", "/jobs", params={"session_id": "s1"})
    assert [j["id"] for j in page["jobs"]] == [qpu.id]
    _, page = await call(http, fake, "GET", "/jobs", params={"parent_job_id": "par"})
    assert [j["id"] for j in page["jobs"]] == [done.id]
    _, page = await call(http, fake, "GET", "/jobs")
    assert len(page["jobs"]) == 9 and page["next"] is None
    status, err = await call(http, fake, "GET", "/jobs", params={"limit": "0"})
    assert status == 400 and err["validation"] == {"keys": ["limit"], "source": "query"}
    status, _ = await call(http, fake, "GET", "/jobs", params={"next": "garbage!"})
    assert status == 400


async def test_default_limit_is_25(fake: FakeIonQ, http: aiohttp.ClientSession) -> None:
    fake.seed_jobs(30)
    _, page = await call(http, fake, "GET", "/jobs")
    assert len(page["jobs"]) == 25 and page["next"]


async def test_cancel_delete_and_bulk(fake: FakeIonQ, http: aiohttp.ClientSession) -> None:
    a, b, c, d = (fake.add_job() for _ in range(4))
    done = fake.add_job(status="completed")
    status, body = await call(http, fake, "PUT", f"/jobs/{a.id}/status/cancel")
    assert (status, body) == (200, {"id": a.id, "status": "canceled"})
    assert fake.status(a.id) == "canceled"
    await call(http, fake, "PUT", f"/jobs/{done.id}/status/cancel")
    assert fake.status(done.id) == "completed"
    status, body = await call(http, fake, "PUT", "/jobs/status/cancel", json={"ids": [b.id, c.id]})
    assert body == {"ids": [b.id, c.id], "status": "canceled"}
    assert fake.status(b.id) == fake.status(c.id) == "canceled"
    status, body = await call(http, fake, "DELETE", f"/jobs/{a.id}")
    assert body == {"id": a.id, "status": "deleted"}
    status, _ = await call(http, fake, "GET", f"/jobs/{a.id}")
    assert status == 404
    status, body = await call(http, fake, "DELETE", "/jobs", json={"ids": [b.id, d.id]})
    assert body == {"ids": [b.id, d.id], "status": "deleted"}
    _, page = await call(http, fake, "GET", "/jobs")
    assert [j["id"] for j in page["jobs"]] == [done.id, c.id]
    status, err = await call(http, fake, "PUT", "/jobs/status/cancel", json={"ids": "x"})
    assert status == 400 and err["validation"]["keys"] == ["ids"]


async def test_fates_failed_and_canceled(
    fake: FakeIonQ, http: aiohttp.ClientSession, clock: Clock
) -> None:
    failed = fake.add_job(failure_code="TooManyShots")
    canceled = fake.add_job(fate="canceled")
    clock.t += 10
    _, body = await call(http, fake, "GET", f"/jobs/{failed.id}")
    assert body["status"] == "failed" and body["failure"]["code"] == "TooManyShots"
    assert body["results"] is None
    _, body = await call(http, fake, "GET", f"/jobs/{canceled.id}")
    assert body["status"] == "canceled" and body["failure"] is None
    with pytest.raises(ValueError, match="failure code"):
        Fate.failed("NotACode")


async def test_scripted_fates_and_hook_for_clones(
    fake: FakeIonQ, http: aiohttp.ClientSession, clock: Clock
) -> None:
    src = fake.add_job()
    fake.script_next_fates([Fate.failed("SimulationError"), "canceled"])
    fake.fate_for = lambda job: Fate.failed("QuantumComputerError") if job.shots == 13 else None
    ids = []
    for shots in (1, 2, 13, 4):
        _, created = await call(http, fake, "POST", f"/jobs/{src.id}/clone", json={"shots": shots})
        ids.append(created["id"])
    clock.t += 10
    statuses = [fake.job_json(i)["status"] for i in ids]
    assert statuses == ["failed", "canceled", "failed", "completed"]
    assert fake.job_json(ids[0])["failure"]["code"] == "SimulationError"
    assert fake.job_json(ids[2])["failure"]["code"] == "QuantumComputerError"
    fake.set_fate(src.id, "failed", failure_code="InternalError")
    assert fake.status(src.id) == "failed"


async def test_failure_rate_is_seeded() -> None:
    async def run() -> list[str]:
        async with FakeIonQ(durations=(0, 0, 0), failure_rate=0.5, seed=3) as fake:
            headers = {"Authorization": f"apiKey {fake.api_key}"}
            src = fake.add_job()
            out = []
            async with aiohttp.ClientSession(headers=headers) as s:
                for _ in range(20):
                    async with s.post(f"{fake.base_url}/jobs/{src.id}/clone", json={}) as r:
                        out.append(fake.status((await r.json())["id"]))
            return out

    first, second = await run(), await run()
    assert first == second and 4 <= first.count("failed") <= 16


async def test_auth_errors_and_request_ids(fake: FakeIonQ) -> None:
    async with aiohttp.ClientSession() as s:
        async with s.get(f"{fake.base_url}/jobs") as r:
            body = await r.json()
            assert r.status == 401 and body["error"] == "Unauthorized Error"
            first = r.headers["x-request-id"]
        async with s.get(f"{fake.base_url}/jobs", headers={"Authorization": "apiKey bad"}) as r:
            assert r.status == 401 and r.headers["x-request-id"] != first
        async with s.get(f"{fake.base_url}/backends") as r:
            backends = await r.json()
            assert r.status == 200
            assert {"simulator", "qpu.forte-1"} <= {b["backend"] for b in backends}
    assert [r.status for r in fake.requests] == [401, 401, 200]
    assert fake.requests[0].route == "list_jobs" and fake.requests[0].request_id == first


async def test_cost_and_whoami(fake: FakeIonQ, http: aiohttp.ClientSession) -> None:
    job = fake.add_job(backend="qpu.forte-1", shots=100, status="completed")
    _, cost = await call(http, fake, "GET", f"/jobs/{job.id}/cost")
    assert cost["cost"] == cost["estimated_cost"] and cost["cost"]["unit"] == "usd"
    _, me = await call(http, fake, "GET", "/whoami")
    assert me["key_id"] == fake.key_id and me["key_name"]


async def test_unknown_route_is_ionq_shaped_404(
    fake: FakeIonQ, http: aiohttp.ClientSession
) -> None:
    status, err = await call(http, fake, "GET", "/nope")
    assert status == 404 and set(err) == {"statusCode", "error", "message"}


async def test_requests_log_query_pairs(fake: FakeIonQ, http: aiohttp.ClientSession) -> None:
    await call(http, fake, "GET", "/jobs", params=[("ids", "a"), ("ids", "b")])
    rec = fake.requests[-1]
    assert (rec.method, rec.path, rec.query) == ("GET", "/v0.4/jobs", (("ids", "a"), ("ids", "b")))


async def test_start_close_without_context_manager() -> None:
    fake = FakeIonQ(durations=FAST)
    await fake.start()
    try:
        assert fake.base_url.startswith("http://127.0.0.1:") and fake.port > 0
    finally:
        await fake.close()
    with pytest.raises(RuntimeError):
        _ = fake.base_url
    await asyncio.sleep(0)
