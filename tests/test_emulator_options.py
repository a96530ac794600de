"""FakeIonQ options over HTTP: billed costs, listing lag, the default QPU, session-end faults."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from conftest import Clock

from ionq_async.testing import ROUTES, FakeIonQ, Fault, FaultPlan
from ionq_async.testing._app import Api

BELL = [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}]
QPU = "qpu.forte-1"
ESTIMATE = 97.5  # the rate card's minimum for a Bell pair on qpu.forte-1
USAGE = {
    "start_date": "2027-01-01",
    "end_date": "2027-02-01",
    "group_by": "job",
    "modality": "monthly",
}


def job(backend: str = QPU, **extra: Any) -> dict[str, Any]:
    return {
        "type": "ionq.circuit.v1",
        "backend": backend,
        "shots": 1000,
        "input": {"gateset": "qis", "circuit": BELL},
        **extra,
    }


@pytest.fixture
async def fake(clock: Clock, request: pytest.FixtureRequest) -> AsyncIterator[FakeIonQ]:
    options: dict[str, Any] = getattr(request, "param", {})
    async with FakeIonQ(durations=(1.0, 1.0, 1.0), clock=clock, **options) as server:
        yield server


async def call(
    http: aiohttp.ClientSession, fake: FakeIonQ, method: str, path: str, **kw: Any
) -> tuple[int, Any]:
    async with http.request(method, fake.base_url + path, **kw) as resp:
        return resp.status, await resp.json()


async def create(http: aiohttp.ClientSession, fake: FakeIonQ, **body: Any) -> str:
    status, created = await call(http, fake, "POST", "/jobs", json=job(**body))
    assert status == 201, created
    return str(created["id"])


async def listed(http: aiohttp.ClientSession, fake: FakeIonQ, path: str, **params: str) -> set[str]:
    status, page = await call(http, fake, "GET", path, params=params)
    assert status == 200, page
    return {j["id"] for j in page["jobs"]}


def options(**kwargs: Any) -> pytest.MarkDecorator:
    """Run the test against a FakeIonQ built with ``kwargs``."""
    return pytest.mark.parametrize("fake", [kwargs], indirect=True, ids=[repr(kwargs)])


# cost_factor


@options(cost_factor=1.2)
async def test_billed_cost_is_the_estimate_times_the_factor(
    fake: FakeIonQ, http: aiohttp.ClientSession, clock: Clock
) -> None:
    job_id = await create(http, fake)
    status, running = await call(http, fake, "GET", f"/jobs/{job_id}/cost")
    assert status == 200
    assert running == {"dry_run": False, "estimated_cost": {"value": ESTIMATE, "unit": "usd"}}
    clock.t += 3.0
    _, done = await call(http, fake, "GET", f"/jobs/{job_id}/cost")
    assert done["estimated_cost"] == {"value": ESTIMATE, "unit": "usd"}
    assert done["cost"] == {"value": 117.0, "unit": "usd"}
    _, estimate = await call(
        http,
        fake,
        "GET",
        "/jobs/estimate",
        params={"backend": QPU, "shots": "1000", "2q_gates": "1"},
    )
    assert estimate["estimated_total_cost"] == ESTIMATE


@options(cost_factor=0.5)
async def test_usage_reports_billed_amounts(
    fake: FakeIonQ, http: aiohttp.ClientSession, clock: Clock
) -> None:
    first = await create(http, fake)
    await create(http, fake)
    await create(http, fake, dry_run=True)
    await create(http, fake, backend="simulator")
    clock.t += 3.0
    path = f"/organizations/{fake.organization_id}/usage"
    status, usage = await call(http, fake, "GET", path, params=USAGE)
    assert status == 200
    assert (usage["job_count"], usage["amount_total"]) == (3, 97.5)
    assert usage["amount_totals"] == [{"amount": 97.5, "unit": "USD"}]
    groups = {g["group_id"]: g["amount"] for g in usage["usage_data"][0]["group_usages"]}
    assert groups[first] == 48.75 and sorted(groups.values()) == [0.0, 48.75, 48.75]


@options(cost_factor=0.0)
async def test_a_zero_factor_bills_nothing_and_dry_runs_are_never_billed(
    fake: FakeIonQ, http: aiohttp.ClientSession, clock: Clock
) -> None:
    free, dry = await create(http, fake), await create(http, fake, dry_run=True)
    clock.t += 3.0
    _, billed = await call(http, fake, "GET", f"/jobs/{free}/cost")
    assert billed["cost"] == {"value": 0.0, "unit": "usd"}
    assert billed["estimated_cost"]["value"] == ESTIMATE
    _, dry_cost = await call(http, fake, "GET", f"/jobs/{dry}/cost")
    assert dry_cost == {"dry_run": True, "estimated_cost": {"value": 0.0, "unit": "usd"}}


async def test_the_default_factor_bills_the_estimate(
    fake: FakeIonQ, http: aiohttp.ClientSession, clock: Clock
) -> None:
    job_id = await create(http, fake)
    clock.t += 3.0
    _, done = await call(http, fake, "GET", f"/jobs/{job_id}/cost")
    assert done["cost"] == done["estimated_cost"] == {"value": ESTIMATE, "unit": "usd"}
    assert fake.actual_cost(fake.get_job(job_id)) == ESTIMATE


@pytest.mark.parametrize(
    "options",
    [
        {"cost_factor": -0.1},
        {"cost_factor": math.nan},
        {"cost_factor": math.inf},
        {"cost_factor": True},
        {"cost_factor": "1.5"},
        {"list_lag": -1},
        {"list_lag": math.inf},
        {"durations": (0.1, -0.1, 0.1)},
        {"durations": (0.1, 0.1)},
        {"durations": (0.1, math.nan, 0.1)},
    ],
)
def test_bad_option_values_are_refused(options: dict[str, Any]) -> None:
    name = next(iter(options))
    with pytest.raises(ValueError, match=name):
        FakeIonQ(**options)


# list_lag


@options(list_lag=5.0)
async def test_listings_show_a_job_list_lag_seconds_after_it_is_stored(
    fake: FakeIonQ, http: aiohttp.ClientSession, clock: Clock
) -> None:
    session = fake.add_session(QPU)
    old = fake.add_job(backend=QPU, status="completed")
    clock.t += 5.0
    job_id, stored = await create(http, fake, session_id=session.id), clock.t
    views = [
        ("/jobs", {}),
        ("/jobs", {"ids": job_id}),
        ("/jobs", {"ids[]": f"{job_id},{old.id}"}),
        ("/jobs", {"status": "submitted"}),
        ("/jobs", {"target": QPU}),
        ("/jobs", {"session_id": session.id}),
        (f"/sessions/{session.id}/jobs", {}),
    ]
    for path, params in views:
        assert job_id not in await listed(http, fake, path, **params), (path, params)
    assert await listed(http, fake, "/jobs") == {old.id}
    status, body = await call(http, fake, "GET", f"/jobs/{job_id}")
    assert status == 200 and body["status"] == "submitted"
    clock.t = stored + 4.99
    assert await listed(http, fake, "/jobs", ids=job_id) == set()
    clock.t = stored + 5.0
    for path, params in views[:3] + views[4:]:
        assert job_id in await listed(http, fake, path, **params), (path, params)
    assert await listed(http, fake, "/jobs", status="completed") == {job_id, old.id}


@options(list_lag=2.0)
async def test_lag_counts_from_storing_so_seeded_and_child_jobs_lag_too(
    fake: FakeIonQ, http: aiohttp.ClientSession, clock: Clock
) -> None:
    seeded = fake.add_job(status="completed")
    multi = {
        "type": "ionq.multi-circuit.v1",
        "backend": "simulator",
        "input": {"gateset": "qis", "circuits": [{"circuit": BELL}, {"circuit": BELL}]},
    }
    status, created = await call(http, fake, "POST", "/jobs", json=multi)
    assert status == 201
    _, parent = await call(http, fake, "GET", f"/jobs/{created['id']}")
    children = set(parent["child_job_ids"])
    assert await listed(http, fake, "/jobs") == set()
    assert await listed(http, fake, "/jobs", parent_job_id=created["id"]) == set()
    clock.t += 2.0
    assert await listed(http, fake, "/jobs") == {seeded.id, created["id"], *children}
    assert await listed(http, fake, "/jobs", parent_job_id=created["id"]) == children


@options(list_lag=10.0)
async def test_pages_skip_hidden_jobs_and_the_lag_can_change_at_run_time(
    fake: FakeIonQ, http: aiohttp.ClientSession, clock: Clock
) -> None:
    visible = [fake.add_job(name=f"v{i}") for i in range(3)]
    clock.t += 10.0
    hidden = fake.add_job(name="hidden")
    status, page = await call(http, fake, "GET", "/jobs", params={"limit": "2"})
    assert status == 200
    assert [j["id"] for j in page["jobs"]] == [visible[2].id, visible[1].id]
    _, rest = await call(http, fake, "GET", "/jobs", params={"limit": "2", "next": page["next"]})
    assert [j["id"] for j in rest["jobs"]] == [visible[0].id] and rest["next"] is None
    fake.list_lag = 0.0
    assert hidden.id in await listed(http, fake, "/jobs")


# the default QPU ("qpu")


async def test_qpu_names_the_default_qpu_on_every_route_that_takes_a_backend(
    fake: FakeIonQ, http: aiohttp.ClientSession
) -> None:
    job_id = await create(http, fake, backend="qpu")
    status, body = await call(http, fake, "GET", f"/jobs/{job_id}")
    assert status == 200 and body["backend"] == QPU and "noise" not in body
    status, session = await call(http, fake, "POST", "/sessions", json={"backend": "qpu"})
    assert status == 201 and session["backend"] == QPU
    in_session = await create(http, fake, backend="qpu", session_id=session["id"])
    assert fake.get_job(in_session).session_id == session["id"]
    src = fake.add_job()
    status, clone = await call(http, fake, "POST", f"/jobs/{src.id}/clone", json={"backend": "qpu"})
    assert status == 201 and fake.get_job(clone["id"]).backend == QPU
    status, estimate = await call(
        http, fake, "GET", "/jobs/estimate", params={"backend": "qpu", "shots": "1000"}
    )
    assert status == 200 and estimate["estimate_context"]["backend"] == QPU
    assert estimate["estimated_total_cost"] == ESTIMATE


@pytest.mark.parametrize("name", ["QPU", "qpu.", "qpu.qpu", "ionq_qpu", "qpu.aria-1", " qpu"])
async def test_other_backend_names_are_still_refused(
    fake: FakeIonQ, http: aiohttp.ClientSession, name: str
) -> None:
    status, err = await call(http, fake, "POST", "/jobs", json=job(backend=name))
    assert status == 400 and err["validation"]["keys"] == ["backend"]
    assert "qpu" in err["message"] and QPU in err["message"]
    status, err = await call(http, fake, "POST", "/sessions", json={"backend": name})
    assert status == 400 and err["validation"]["keys"] == ["backend"]
    src = fake.add_job()
    status, err = await call(http, fake, "POST", f"/jobs/{src.id}/clone", json={"backend": name})
    assert status == 400 and err["validation"]["keys"] == ["backend"]
    status, err = await call(http, fake, "GET", "/jobs/estimate", params={"backend": name})
    assert status == 400 and err["validation"]["keys"] == ["backend"]
    assert len(fake.jobs) == 1


async def test_a_null_noise_seed_is_taken_and_not_echoed(
    fake: FakeIonQ, http: aiohttp.ClientSession
) -> None:
    noise = {"model": "aria-1", "seed": None}
    job_id = await create(http, fake, backend="simulator", noise=noise)
    _, body = await call(http, fake, "GET", f"/jobs/{job_id}")
    assert body["noise"] == {"model": "aria-1"}
    seeded = await create(http, fake, backend="simulator", noise={"model": "ideal", "seed": 7})
    _, body = await call(http, fake, "GET", f"/jobs/{seeded}")
    assert body["noise"] == {"model": "ideal", "seed": 7}


# faults on POST /sessions/{id}/end


def test_every_route_of_the_app_is_a_fault_plan_route() -> None:
    names = {route.name for route in Api(FakeIonQ()).build().router.routes()}
    assert names == set(ROUTES) and "end_session" in names


@pytest.mark.parametrize("status", [500, 502, 503, 504, 522])
async def test_a_5xx_on_session_end_leaves_the_session_open(
    fake: FakeIonQ, http: aiohttp.ClientSession, status: int
) -> None:
    session = fake.add_session(QPU)
    fake.faults.add("end_session", Fault.http(status))
    got, body = await call(http, fake, "POST", f"/sessions/{session.id}/end")
    assert got == status and body["statusCode"] == status
    assert fake.session_json(session.id)["status"] == "created"
    got, body = await call(http, fake, "POST", f"/sessions/{session.id}/end")
    assert got == 200 and body["status"] == "ended"


async def test_a_reset_before_acting_leaves_the_session_open(
    fake: FakeIonQ, http: aiohttp.ClientSession
) -> None:
    session = fake.add_session(QPU)
    fake.faults.add("end_session", Fault.reset())
    with pytest.raises(aiohttp.ClientConnectionError):
        await call(http, fake, "POST", f"/sessions/{session.id}/end")
    assert fake.session_json(session.id)["active"] is True
    assert [(r.route, r.status, r.fault) for r in fake.requests] == [("end_session", None, "reset")]


@pytest.mark.parametrize("status", [None, 502])
async def test_a_fault_after_acting_ends_the_session_all_the_same(
    fake: FakeIonQ, http: aiohttp.ClientSession, status: int | None
) -> None:
    session = fake.add_session(QPU)
    fake.faults.add("end_session", Fault.commit_then_fail(status))
    if status is None:
        with pytest.raises(aiohttp.ClientConnectionError):
            await call(http, fake, "POST", f"/sessions/{session.id}/end")
    else:
        got, _ = await call(http, fake, "POST", f"/sessions/{session.id}/end")
        assert got == status
    assert fake.session_json(session.id)["status"] == "ended"
    refused, err = await call(http, fake, "POST", "/jobs", json=job(session_id=session.id))
    assert refused == 400 and err["code"] == "SessionEnded"


async def test_a_random_plan_on_session_end_spares_other_routes(clock: Clock) -> None:
    plan = FaultPlan.random(1.0, [Fault.http(503)], routes=["end_session"], seed=3)
    async with FakeIonQ(faults=plan, clock=clock) as server:
        session = server.add_session(QPU)
        headers = {"Authorization": f"apiKey {server.api_key}"}
        async with aiohttp.ClientSession(headers=headers) as s:
            for _ in range(3):
                async with s.post(f"{server.base_url}/sessions/{session.id}/end") as r:
                    assert r.status == 503
            async with s.get(f"{server.base_url}/sessions/{session.id}") as r:
                assert r.status == 200 and (await r.json())["status"] == "created"
