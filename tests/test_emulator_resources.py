"""Emulator routes beyond /jobs: backends, characterizations, sessions, estimate, usage, 405."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from conftest import Clock

from ionq_async.testing import FakeIonQ
from ionq_async.testing._ratecard import RATES, job_cost

BELL = [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}]
QPU = "qpu.forte-1"


@pytest.fixture
async def fake(clock: Clock) -> AsyncIterator[FakeIonQ]:
    async with FakeIonQ(durations=(1.0, 1.0, 1.0), clock=clock) as server:
        yield server


async def call(
    http: aiohttp.ClientSession, fake: FakeIonQ, method: str, path: str, **kw: Any
) -> tuple[int, Any]:
    async with http.request(method, fake.base_url + path, **kw) as resp:
        return resp.status, await resp.json()


def job(backend: str = QPU, **extra: Any) -> dict[str, Any]:
    return {
        "type": "ionq.circuit.v1",
        "backend": backend,
        "shots": 1000,
        "input": {"gateset": "qis", "circuit": BELL},
        **extra,
    }


async def test_backends_list_get_and_status_changes(
    fake: FakeIonQ, http: aiohttp.ClientSession
) -> None:
    status, backends = await call(http, fake, "GET", "/backends")
    assert status == 200
    assert [b["backend"] for b in backends] == ["simulator", QPU, "qpu.forte-enterprise-1"]
    assert backends[1]["average_queue_time"] == 1181215 and backends[1]["status"] == "available"
    fake.set_backend(QPU, status="unavailable", average_queue_time=5, degraded=True)
    async with aiohttp.ClientSession() as anonymous:
        status, one = await call(anonymous, fake, "GET", f"/backends/{QPU}")
    assert status == 200
    assert (one["status"], one["average_queue_time"], one["degraded"]) == ("unavailable", 5, True)
    assert one["characterization_id"] == fake.backends[QPU].characterizations[0]["id"]
    status, err = await call(http, fake, "GET", "/backends/qpu.nope")
    assert status == 404 and err["error"] == "Not Found Error"


async def test_characterizations_are_paged_and_filtered(
    fake: FakeIonQ, http: aiohttp.ClientSession
) -> None:
    status, page = await call(http, fake, "GET", f"/backends/{QPU}/characterizations")
    assert status == 200 and len(page["characterizations"]) == 10 and page["pages"] == 3
    dates = [c["date"] for c in page["characterizations"]]
    assert dates == sorted(dates, reverse=True) and dates[0].startswith("2026-06-16")
    params = {"start": "2026-06-10", "end": "2026-06-15", "limit": "2", "page": "3"}
    _, page = await call(http, fake, "GET", f"/backends/{QPU}/characterizations", params=params)
    assert [c["date"][:10] for c in page["characterizations"]] == ["2026-06-10"]
    assert page["pages"] == 3
    one = page["characterizations"][0]
    status, got = await call(http, fake, "GET", f"/backends/{QPU}/characterizations/{one['id']}")
    assert (status, got) == (200, one)
    for bad in ({"limit": "11"}, {"start": "yesterday"}, {"page": "0"}):
        status, err = await call(
            http, fake, "GET", f"/backends/{QPU}/characterizations", params=bad
        )
        assert status == 400 and err["validation"]["source"] == "query"
    status, _ = await call(http, fake, "GET", f"/backends/simulator/characterizations/{one['id']}")
    assert status == 404
    status, _ = await call(http, fake, "GET", "/backends/qpu.nope/characterizations")
    assert status == 404


async def test_whoami(fake: FakeIonQ, http: aiohttp.ClientSession) -> None:
    status, me = await call(http, fake, "GET", "/whoami")
    assert status == 200 and me["key_id"] == fake.key_id and me["project_id"]
    async with aiohttp.ClientSession() as anonymous:
        status, _ = await call(anonymous, fake, "GET", "/whoami")
    assert status == 401


async def test_estimate_uses_the_rate_card(fake: FakeIonQ, http: aiohttp.ClientSession) -> None:
    params = {"backend": QPU, "shots": "1000", "1q_gates": "100", "2q_gates": "50"}
    status, est = await call(http, fake, "GET", "/jobs/estimate", params=params)
    rate = RATES[QPU]
    expected = round(max(1000 * (100 * rate.cost_1q_gate + 50 * rate.cost_2q_gate), 97.5), 2)
    assert status == 200 and est["estimated_total_cost"] == expected == 155.0
    assert est["estimated_unit"] == "usd" and est["rate_card"]["rates"][0]["cost_2q_gate"] == 0.0025
    assert est["current_predicted_queue_time"] == 1181215
    assert est["estimate_context"]["qubits"] == 25 and est["estimated_execution_time"] > 0
    status, em = await call(
        http, fake, "GET", "/jobs/estimate", params={"backend": QPU, "error_mitigation": "true"}
    )
    assert em["estimated_total_cost"] == rate.error_mitigation_minimum
    _, free = await call(http, fake, "GET", "/jobs/estimate", params={"backend": "simulator"})
    assert free["estimated_total_cost"] == 0.0
    fake.estimate_shape = "rate_information"
    _, april = await call(http, fake, "GET", "/jobs/estimate", params=params)
    assert april["estimated_cost"] == expected and april["rate_information"]["job_cost_minimum"]


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({}, "backend"),
        ({"backend": "qpu.nope"}, "backend"),
        ({"backend": QPU, "shots": "0"}, "shots"),
        ({"backend": QPU, "qubits": "37"}, "qubits"),
        ({"backend": QPU, "1q_gates": "-1"}, "1q_gates"),
        ({"backend": QPU, "2q_gates": "x"}, "2q_gates"),
        ({"backend": QPU, "error_mitigation": "maybe"}, "error_mitigation"),
        ({"backend": QPU, "type": "nope"}, "type"),
    ],
)
async def test_estimate_params_are_validated(
    fake: FakeIonQ, http: aiohttp.ClientSession, params: dict[str, str], key: str
) -> None:
    status, err = await call(http, fake, "GET", "/jobs/estimate", params=params)
    assert status == 400 and err["validation"] == {"keys": [key], "source": "query"}


async def test_completed_job_cost_is_the_estimate(
    fake: FakeIonQ, http: aiohttp.ClientSession, clock: Clock
) -> None:
    _, created = await call(http, fake, "POST", "/jobs", json=job(shots=50_000))
    _, before = await call(http, fake, "GET", f"/jobs/{created['id']}/cost")
    price = job_cost(QPU, 50_000, 1, 1)
    assert price == 140.0 and before == {
        "dry_run": False,
        "estimated_cost": {"value": price, "unit": "usd"},
    }
    clock.t += 5
    _, after = await call(http, fake, "GET", f"/jobs/{created['id']}/cost")
    assert after["cost"] == {"value": price, "unit": "usd"}
    params = {"backend": QPU, "shots": "50000", "1q_gates": "1", "2q_gates": "1"}
    _, est = await call(http, fake, "GET", "/jobs/estimate", params=params)
    assert est["estimated_total_cost"] == price


async def test_session_lifecycle_and_job_count_limit(
    fake: FakeIonQ, http: aiohttp.ClientSession
) -> None:
    body = {"backend": QPU, "settings": {"job_count_limit": 2}}
    status, session = await call(http, fake, "POST", "/sessions", json=body)
    sid = session["id"]
    assert status == 201 and (session["status"], session["active"]) == ("created", True)
    assert session["settings"] == {"job_count_limit": 2} and session["started_at"] is None
    for _ in range(2):
        status, created = await call(http, fake, "POST", "/jobs", json=job(session_id=sid))
        assert status == 201 and created["session_id"] == sid
    _, now = await call(http, fake, "GET", f"/sessions/{sid}")
    assert (now["status"], now["active"]) == ("ended", False) and now["started_at"]
    assert now["ender_id"] is None
    status, err = await call(http, fake, "POST", "/jobs", json=job(session_id=sid))
    assert status == 400 and err["code"] == "SessionEnded" and sid in err["message"]
    assert err["validation"]["keys"] == ["session_id"]
    status, err = await call(http, fake, "POST", f"/jobs/{created['id']}/clone", json={"shots": 10})
    assert status == 400 and err["code"] == "SessionEnded"
    _, listed = await call(http, fake, "GET", f"/sessions/{sid}/jobs")
    assert len(listed["jobs"]) == 2 and {j["session_id"] for j in listed["jobs"]} == {sid}


async def test_session_end_list_filter_and_unknown_ids(
    fake: FakeIonQ, http: aiohttp.ClientSession
) -> None:
    _, open_one = await call(http, fake, "POST", "/sessions", json={"backend": QPU})
    _, ended = await call(http, fake, "POST", "/sessions", json={"backend": QPU})
    status, body = await call(http, fake, "POST", f"/sessions/{ended['id']}/end")
    assert status == 200 and body["status"] == "ended" and body["ender_id"]
    _, again = await call(http, fake, "POST", f"/sessions/{ended['id']}/end")
    assert again == body
    _, active = await call(http, fake, "GET", "/sessions", params={"active": "true"})
    _, inactive = await call(http, fake, "GET", "/sessions", params={"active": "false"})
    _, every = await call(http, fake, "GET", "/sessions")
    assert [s["id"] for s in active["sessions"]] == [open_one["id"]]
    assert [s["id"] for s in inactive["sessions"]] == [ended["id"]]
    assert [s["id"] for s in every["sessions"]] == [ended["id"], open_one["id"]]
    assert every["organization_id"] == fake.organization_id
    for path in ("/sessions/nope", "/sessions/nope/jobs"):
        status, _ = await call(http, fake, "GET", path)
        assert status == 404
    status, _ = await call(http, fake, "POST", "/sessions/nope/end")
    assert status == 404
    status, err = await call(http, fake, "POST", "/jobs", json=job(session_id="nope"))
    assert status == 400 and err["code"] == "SessionNotFound"
    status, err = await call(
        http, fake, "POST", "/jobs", json=job("simulator", session_id=open_one["id"])
    )
    assert status == 400 and err["code"] == "SessionBackendMismatch"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"backend": "qpu.nope"},
        {"backend": QPU, "extra": 1},
        {"backend": QPU, "settings": {"job_count_limit": 0}},
        {"backend": QPU, "settings": {"cost_limit": {"value": 5}}},
        {"backend": QPU, "settings": {"bogus": 1}},
    ],
)
async def test_session_create_is_validated(
    fake: FakeIonQ, http: aiohttp.ClientSession, body: dict[str, Any]
) -> None:
    status, err = await call(http, fake, "POST", "/sessions", json=body)
    assert status == 400 and err["statusCode"] == 400


async def test_session_duration_and_cost_limits(
    fake: FakeIonQ, http: aiohttp.ClientSession, clock: Clock
) -> None:
    timed = fake.add_session(QPU, duration_limit_min=1)
    status, _ = await call(http, fake, "POST", "/jobs", json=job(session_id=timed.id))
    assert status == 201 and fake.session_json(timed.id)["settings"]["expires_at"]
    clock.t += 61
    assert fake.session_json(timed.id)["status"] == "ended"
    status, err = await call(http, fake, "POST", "/jobs", json=job(session_id=timed.id))
    assert status == 400 and "duration limit" in err["message"]
    priced = fake.add_session(QPU, cost_limit=195.0)
    status, _ = await call(http, fake, "POST", "/jobs", json=job(session_id=priced.id))
    assert status == 201 and fake.sessions.by_id[priced.id].spent == 97.5
    status, err = await call(
        http, fake, "POST", "/jobs", json=job(session_id=priced.id, shots=100_000)
    )
    assert status == 400 and err["code"] == "SessionCostLimitExceeded"
    status, _ = await call(http, fake, "POST", "/jobs", json=job(session_id=priced.id))
    assert status == 201 and fake.session_json(priced.id)["status"] == "ended"


async def test_format_schemas(fake: FakeIonQ, http: aiohttp.ClientSession) -> None:
    fmt = "ionq.result.histogram.json.v2"
    status, doc = await call(http, fake, "GET", f"/schemas/formats/{fmt}")
    assert status == 200 and doc["$id"] == fmt and doc["required"] == ["histogram"]
    status, _ = await call(http, fake, "GET", "/schemas/formats/nope")
    assert status == 404


async def test_usage_totals_completed_jobs(
    fake: FakeIonQ, http: aiohttp.ClientSession, clock: Clock
) -> None:
    fake.add_job(backend=QPU, shots=1000, status="completed")
    fake.add_job(backend=QPU, shots=1000, status="completed", name="second")
    fake.add_job(backend=QPU, status="canceled")
    params = {
        "start_date": "2027-01-01",
        "end_date": "2027-02-01",
        "group_by": "job",
        "modality": "monthly",
    }
    path = f"/organizations/{fake.organization_id}/usage"
    status, usage = await call(http, fake, "GET", path, params=params)
    assert status == 200 and usage["job_count"] == 2 and usage["amount_total"] == 195.0
    assert usage["usage_data"][0]["from"] == "2027-01-01"
    assert len(usage["usage_data"][0]["group_usages"]) == 2
    status, err = await call(http, fake, "GET", path, params={**params, "modality": "hourly"})
    assert status == 400 and err["validation"]["keys"] == ["modality"]
    status, _ = await call(http, fake, "GET", path, params={**params, "end_date": "2026-01-01"})
    assert status == 400
    status, _ = await call(http, fake, "GET", "/organizations/other/usage", params=params)
    assert status == 404


async def test_405_carries_allow(fake: FakeIonQ, http: aiohttp.ClientSession) -> None:
    async with http.patch(fake.base_url + "/jobs/some-id") as resp:
        assert resp.status == 405
        assert set(resp.headers["Allow"].split(",")) == {"GET", "DELETE"}
        assert (await resp.json())["statusCode"] == 405
    async with http.post(fake.base_url + "/sessions/x/jobs") as resp:
        assert resp.status == 405 and resp.headers["Allow"] == "GET"


async def test_estimate_is_not_a_job_id(fake: FakeIonQ, http: aiohttp.ClientSession) -> None:
    status, _ = await call(http, fake, "GET", "/jobs/estimate", params={"backend": QPU})
    assert status == 200
