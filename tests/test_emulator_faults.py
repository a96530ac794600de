"""Each FaultPlan fault kind, outages and the token-bucket rate limit."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest

from ionq_async.testing import FakeIonQ, Fault, FaultPlan

DATE = "Wed, 21 Oct 2026 07:28:00 GMT"


@pytest.fixture
async def fake() -> AsyncIterator[FakeIonQ]:
    async with FakeIonQ(durations=(0.01, 0.01, 0.01)) as server:
        yield server


@pytest.mark.parametrize(
    ("fault", "status", "retry_after"),
    [
        (Fault.rate_limited(2), 429, "2"),
        (Fault.rate_limited(DATE), 429, DATE),
        (Fault.http(500), 500, None),
        (Fault.http(502), 502, None),
        (Fault.http(503, retry_after=1.0), 503, "1"),
        (Fault.http(504), 504, None),
        (Fault.http(520), 520, None),
        (Fault.http(529), 529, None),
    ],
)
async def test_status_faults(
    fake: FakeIonQ,
    http: aiohttp.ClientSession,
    fault: Fault,
    status: int,
    retry_after: str | None,
) -> None:
    fake.faults.add("get_job", fault)
    job = fake.add_job()
    async with http.get(f"{fake.base_url}/jobs/{job.id}") as r:
        body = await r.json()
        assert r.status == status and r.headers.get("Retry-After") == retry_after
        assert r.headers["x-request-id"]
    assert body["statusCode"] == status and body["error"] and body["message"]
    async with http.get(f"{fake.base_url}/jobs/{job.id}") as r:
        assert r.status == 200
    assert [(q.status, q.fault) for q in fake.requests] == [(status, "status"), (200, None)]


async def test_html_fault(fake: FakeIonQ, http: aiohttp.ClientSession) -> None:
    fake.faults.add("list_jobs", Fault.html(502))
    async with http.get(f"{fake.base_url}/jobs") as r:
        text = await r.text()
        assert r.status == 502 and r.content_type == "text/html" and r.headers["x-request-id"]
    assert text.startswith("<!DOCTYPE html>") and "Cloudflare" in text


async def test_truncated_fault(fake: FakeIonQ, http: aiohttp.ClientSession) -> None:
    fake.faults.add("get_job", Fault.truncated())
    job = fake.add_job()
    async with http.get(f"{fake.base_url}/jobs/{job.id}") as r:
        assert r.status == 200 and r.content_type == "application/json"
        raw = await r.read()
    assert raw.startswith(b'{"id":') and len(raw) > 10
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)


async def test_reset_fault_sends_nothing(fake: FakeIonQ, http: aiohttp.ClientSession) -> None:
    fake.faults.add("clone", Fault.reset())
    src = fake.add_job()
    with pytest.raises(aiohttp.ClientConnectionError):
        async with http.post(f"{fake.base_url}/jobs/{src.id}/clone", json={}) as r:
            await r.read()
    assert fake.clones_of(src.id) == []
    assert fake.requests[-1].status is None and fake.requests[-1].fault == "reset"


async def test_hang_fault_outlasts_client_timeout(
    fake: FakeIonQ, http: aiohttp.ClientSession
) -> None:
    fake.faults.add("whoami", Fault.hang())
    with pytest.raises(asyncio.TimeoutError):
        async with http.get(
            f"{fake.base_url}/whoami", timeout=aiohttp.ClientTimeout(total=0.1)
        ) as r:
            await r.read()


async def test_bounded_hang_then_drop(fake: FakeIonQ, http: aiohttp.ClientSession) -> None:
    fake.faults.add("create", Fault.hang(0.05))
    payload = {
        "type": "ionq.circuit.v1",
        "backend": "simulator",
        "input": {"gateset": "qis", "circuit": []},
    }
    with pytest.raises(aiohttp.ClientConnectionError):
        async with http.post(f"{fake.base_url}/jobs", json=payload) as r:
            await r.read()
    assert len(fake.jobs) == 0


async def test_close_does_not_wait_for_hung_handlers() -> None:
    plan = FaultPlan().add("whoami", Fault.hang())
    loop = asyncio.get_running_loop()
    async with FakeIonQ(faults=plan) as fake:
        headers = {"Authorization": f"apiKey {fake.api_key}"}
        async with aiohttp.ClientSession(headers=headers) as s:
            task = asyncio.create_task(s.get(f"{fake.base_url}/whoami"))
            await asyncio.sleep(0.05)
            started = loop.time()
            await fake.close()
            with pytest.raises(aiohttp.ClientConnectionError):
                await task
    assert loop.time() - started < 0.9


@pytest.mark.parametrize("status", [None, 503])
async def test_commit_then_fail_creates_exactly_one_job(
    fake: FakeIonQ, http: aiohttp.ClientSession, status: int | None
) -> None:
    fake.faults.add("clone", Fault.commit_then_fail(status))
    src = fake.add_job()
    if status is None:
        with pytest.raises(aiohttp.ClientConnectionError):
            async with http.post(f"{fake.base_url}/jobs/{src.id}/clone", json={}) as r:
                await r.read()
    else:
        async with http.post(f"{fake.base_url}/jobs/{src.id}/clone", json={}) as r:
            assert r.status == 503 and (await r.json())["statusCode"] == 503
    assert len(fake.clones_of(src.id)) == 1
    assert len(fake.jobs) == 2


async def test_scripted_sequence_and_wildcard(fake: FakeIonQ, http: aiohttp.ClientSession) -> None:
    fake.faults.sequence("whoami", [Fault.http(502), None, Fault.http(503)])
    fake.faults.add("*", Fault.http(500))
    got = []
    for _ in range(5):
        async with http.get(f"{fake.base_url}/whoami") as r:
            got.append(r.status)
    assert got == [502, 200, 503, 500, 200]


async def test_random_plan_is_seeded() -> None:
    async def run() -> list[int]:
        plan = FaultPlan.random(0.3, kinds=[Fault.http(503)], routes=["whoami"], seed=42)
        async with FakeIonQ(faults=plan) as fake:
            headers = {"Authorization": f"apiKey {fake.api_key}"}
            async with aiohttp.ClientSession(headers=headers) as s:
                for _ in range(40):
                    async with s.get(f"{fake.base_url}/whoami") as r:
                        await r.read()
                async with s.get(f"{fake.base_url}/jobs") as r:
                    assert r.status == 200
            return [r.status or 0 for r in fake.requests]

    first = await run()
    assert first == await run()
    assert 4 <= first.count(503) <= 20


def test_unknown_route_name_rejected() -> None:
    with pytest.raises(ValueError, match="unknown route"):
        FaultPlan().add("clones", Fault.reset())


async def test_outage_answers_503_for_its_duration() -> None:
    clock = [1000.0]
    async with FakeIonQ(clock=lambda: clock[0]) as fake:
        headers = {"Authorization": f"apiKey {fake.api_key}"}
        fake.outage(5.0)
        async with aiohttp.ClientSession(headers=headers) as s:
            statuses = []
            for dt in (0.0, 2.0, 2.9, 0.2):
                clock[0] += dt
                async with s.get(f"{fake.base_url}/jobs") as r:
                    statuses.append((r.status, r.headers.get("Retry-After")))
    assert statuses == [(503, "5"), (503, "3"), (503, "1"), (200, None)]


async def test_rate_limit_half_rejected_at_twice_the_rate() -> None:
    clock = [0.0]
    async with FakeIonQ(rate_limit=10, burst=5, clock=lambda: clock[0]) as fake:
        headers = {"Authorization": f"apiKey {fake.api_key}"}
        async with aiohttp.ClientSession(headers=headers) as s:
            statuses = []
            for _ in range(5):
                async with s.get(f"{fake.base_url}/whoami") as r:
                    statuses.append(r.status)
            assert statuses == [200] * 5
            limited = []
            for _ in range(200):
                clock[0] += 0.05
                async with s.get(f"{fake.base_url}/whoami") as r:
                    if r.status == 429:
                        limited.append((r.headers["Retry-After"], (await r.json())["statusCode"]))
    assert 90 <= len(limited) <= 110
    assert all(ra.isdigit() and int(ra) >= 1 and code == 429 for ra, code in limited)


async def test_rate_limit_never_exceeds_burst() -> None:
    async with FakeIonQ(rate_limit=2, burst=3, clock=lambda: 50.0) as fake:
        headers = {"Authorization": f"apiKey {fake.api_key}"}
        async with aiohttp.ClientSession(headers=headers) as s:
            statuses = []
            for _ in range(10):
                async with s.get(f"{fake.base_url}/whoami") as r:
                    statuses.append(r.status)
    assert statuses == [200] * 3 + [429] * 7
