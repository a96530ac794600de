"""Request shape of backends, sessions, whoami, usage and schemas: method, path, query, body."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
from _spec import validator_for
from aioresponses import aioresponses
from test_client_requests import BASE, KEY, check, sent
from yarl import URL

from ionq_async import (
    AsyncIonQ,
    BackendStatus,
    Money,
    ResponseValidationError,
    RetryPolicy,
    SessionStatus,
    SubmissionUnknownError,
)
from ionq_async._core.queries import session_body as create_body

QPU = "qpu.forte-1"
CHAR = "617a1f8b-59d4-435d-aa33-695433d7155e"
SID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
ORG = "71d164e6-6ebe-4126-8839-f1529bb01a00"
JOB = "0198097d-3888-72ad-8c3c-1f1d0c9e8a77"
BACKEND = {
    "backend": QPU,
    "status": "available",
    "qubits": 36,
    "average_queue_time": 1181215,
    "last_updated": "2025-06-16T00:00:00Z",
}
SESSION = {
    "id": SID,
    "created_at": "2025-06-16T00:00:00Z",
    "organization_id": ORG,
    "backend": QPU,
    "project_id": None,
    "creator_id": None,
    "ended_at": None,
    "ender_id": None,
    "settings": {},
    "active": True,
    "status": "created",
    "started_at": None,
}


def url(path: str, query: list[tuple[str, str]] | None = None) -> str:
    return str(URL(BASE + path).with_query(query or []))


@pytest.fixture
async def client() -> AsyncIterator[AsyncIonQ]:
    async with AsyncIonQ(KEY, base_url=BASE, rate_limit=None, retry=RetryPolicy.none()) as c:
        yield c


async def test_backends_list(mocked: aioresponses, client: AsyncIonQ) -> None:
    mocked.get(url("/backends"), payload=[BACKEND, {**BACKEND, "backend": "simulator"}])
    backends = await client.backends.list()
    assert [b.name for b in backends] == [QPU, "simulator"]
    [call] = sent(mocked)
    check(call, "GET", "/backends")


async def test_backends_list_also_reads_an_object_with_a_backends_array(
    mocked: aioresponses, client: AsyncIonQ
) -> None:
    mocked.get(url("/backends"), payload={"backends": [BACKEND]})
    assert [b.name for b in await client.backends.list()] == [QPU]


async def test_backends_get_ignores_unknown_keys(mocked: aioresponses, client: AsyncIonQ) -> None:
    mocked.get(url(f"/backends/{QPU}"), payload={**BACKEND, "brand_new_field": [1, 2]})
    backend = await client.backends.get(QPU)
    assert backend.status is BackendStatus.AVAILABLE and backend.qubits == 36
    [call] = sent(mocked)
    check(call, "GET", f"/backends/{QPU}")


async def test_backends_get_of_another_backend_is_retried_as_a_bad_answer(
    mocked: aioresponses, client: AsyncIonQ
) -> None:
    mocked.get(url(f"/backends/{QPU}"), payload={**BACKEND, "backend": "simulator"})
    mocked.get(url(f"/backends/{QPU}"), payload=BACKEND)
    assert (await client.backends.get(QPU, retry=RetryPolicy(initial_wait=0))).name == QPU
    assert len(sent(mocked)) == 2


async def test_characterizations_send_bounds_limit_and_pages(
    mocked: aioresponses, client: AsyncIonQ
) -> None:
    start = dt.datetime(2025, 1, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    base = [("limit", "10"), ("start", "2025-01-01T10:00:00Z"), ("end", "2025-02-01")]
    full = [{"id": f"00000000-0000-4000-8000-{i:012d}"} for i in range(10)]
    path = f"/backends/{QPU}/characterizations"
    mocked.get(url(path, [*base, ("page", "1")]), payload={"characterizations": full, "pages": 2})
    last = {"characterizations": [{"id": CHAR}], "pages": 2}
    mocked.get(url(path, [*base, ("page", "2")]), payload=last)
    found = [
        c.id
        async for c in client.backends.characterizations(QPU, start=start, end=dt.date(2025, 2, 1))
    ]
    assert found == [c["id"] for c in full] + [CHAR]
    first, second = sent(mocked)
    check(first, "GET", path, query=[*base, ("page", "1")])
    check(second, "GET", path, query=[*base, ("page", "2")])


async def test_characterizations_refuse_a_page_served_twice(
    mocked: aioresponses, client: AsyncIonQ
) -> None:
    full = {"characterizations": [{"id": f"c{i}"} for i in range(10)], "pages": 3}
    path = f"/backends/{QPU}/characterizations"
    mocked.get(url(path, [("limit", "10"), ("page", "1")]), payload=full)
    mocked.get(url(path, [("limit", "10"), ("page", "2")]), payload=full)
    with pytest.raises(ResponseValidationError, match="repeated"):
        _ = [c async for c in client.backends.characterizations(QPU)]


async def test_characterization_by_id(mocked: aioresponses, client: AsyncIonQ) -> None:
    path = f"/backends/{QPU}/characterizations/{CHAR}"
    mocked.get(url(path), payload={"id": CHAR, "qubits": 36, "fidelity": {"spam": {"median": 1}}})
    found = await client.backends.characterization(QPU, CHAR)
    assert found.qubits == 36 and found.fidelity and found.fidelity.spam
    [call] = sent(mocked)
    check(call, "GET", path)


async def test_whoami(mocked: aioresponses, client: AsyncIonQ) -> None:
    mocked.get(url("/whoami"), payload={"key_id": CHAR, "key_name": "ci"})
    me = await client.whoami()
    assert (me.key_id, me.key_name, me.project_id) == (CHAR, "ci", None)
    [call] = sent(mocked)
    check(call, "GET", "/whoami")


async def test_whoami_without_a_key_id_is_a_bad_answer(
    mocked: aioresponses, client: AsyncIonQ
) -> None:
    mocked.get(url("/whoami"), payload={"key_name": "ci"})
    with pytest.raises(ResponseValidationError, match="Whoami"):
        await client.whoami()


async def test_usage(mocked: aioresponses, client: AsyncIonQ) -> None:
    query = [
        ("start_date", "2025-01-01"),
        ("end_date", "2025-03-02"),
        ("group_by", "user"),
        ("modality", "monthly"),
    ]
    body = {"group_type": "user", "modality": "monthly", "usage_data": [{"from": "2025-01-01"}]}
    mocked.get(url(f"/organizations/{ORG}/usage", query), payload=body)
    usage = await client.usage(
        ORG,
        start_date=dt.datetime(2025, 1, 1, 23, 59),
        end_date="2025-03-02",
        group_by="user",
        modality="monthly",
    )
    assert usage.usage_data[0].from_date == dt.date(2025, 1, 1)
    [call] = sent(mocked)
    check(call, "GET", f"/organizations/{ORG}/usage", query=query)


async def test_usage_defaults(mocked: aioresponses, client: AsyncIonQ) -> None:
    query = [
        ("start_date", "2025-01-01"),
        ("end_date", "2025-01-02"),
        ("group_by", "project"),
        ("modality", "daily"),
    ]
    mocked.get(url(f"/organizations/{ORG}/usage", query), payload={})
    await client.usage(ORG, start_date=dt.date(2025, 1, 1), end_date=dt.date(2025, 1, 2))
    [call] = sent(mocked)
    check(call, "GET", f"/organizations/{ORG}/usage", query=query)


async def test_format_schema(mocked: aioresponses, client: AsyncIonQ) -> None:
    name = "ionq.result.histogram.json.v1"
    doc = {"$schema": "https://json-schema.org/draft-07/schema", "$id": name, "type": "object"}
    mocked.get(url(f"/schemas/formats/{name}"), payload=doc)
    assert await client.schemas.format(name) == doc
    [call] = sent(mocked)
    check(call, "GET", f"/schemas/formats/{name}")


async def test_format_schema_that_is_not_an_object_is_a_bad_answer(
    mocked: aioresponses, client: AsyncIonQ
) -> None:
    mocked.get(url("/schemas/formats/ionq.native.v1"), payload=["nope"])
    with pytest.raises(ResponseValidationError):
        await client.schemas.format("ionq.native.v1")


@pytest.mark.parametrize(
    ("kwargs", "body"),
    [
        ({}, {"backend": QPU}),
        ({"job_count_limit": 10}, {"backend": QPU, "settings": {"job_count_limit": 10}}),
        (
            {"job_count_limit": 10, "duration_limit_min": 60, "cost_limit": 100},
            {
                "backend": QPU,
                "settings": {
                    "job_count_limit": 10,
                    "duration_limit_min": 60,
                    "cost_limit": {"unit": "usd", "value": 100},
                },
            },
        ),
        (
            {"cost_limit": Money(value=12.5, unit="credit")},
            {"backend": QPU, "settings": {"cost_limit": {"unit": "credit", "value": 12.5}}},
        ),
    ],
)
async def test_sessions_create_sends_only_the_limits_set(
    mocked: aioresponses, client: AsyncIonQ, kwargs: dict[str, Any], body: dict[str, Any]
) -> None:
    mocked.post(url("/sessions"), payload=SESSION, status=201)
    session = await client.sessions.create(QPU, **kwargs)
    assert session.id == SID and session.status is SessionStatus.CREATED
    [call] = sent(mocked)
    check(call, "POST", "/sessions", body=body)


async def test_sessions_create_with_an_unreadable_answer_is_a_submission_unknown(
    mocked: aioresponses, client: AsyncIonQ
) -> None:
    mocked.post(url("/sessions"), payload={"created": True}, status=201)
    with pytest.raises(SubmissionUnknownError) as info:
        await client.sessions.create(QPU, job_count_limit=2)
    assert info.value.request == {"backend": QPU, "settings": {"job_count_limit": 2}}


async def test_sessions_get_end_and_list(mocked: aioresponses, client: AsyncIonQ) -> None:
    ended = {**SESSION, "status": "ended", "active": False, "ended_at": "2025-06-16T01:00:00Z"}
    mocked.get(url(f"/sessions/{SID}"), payload=SESSION)
    mocked.post(url(f"/sessions/{SID}/end"), payload=ended)
    listing = {"organization_id": ORG, "sessions": [ended, {**SESSION, "status": "paused"}]}
    mocked.get(url("/sessions"), payload=listing)
    mocked.get(url("/sessions", [("active", "false")]), payload=listing)
    mocked.get(url("/sessions", [("active", "true")]), payload={**listing, "sessions": []})
    assert (await client.sessions.get(SID)).active is True
    assert (await client.sessions.end(SID)).is_ended
    every = await client.sessions.list()
    assert [s.status for s in every] == [SessionStatus.ENDED, "paused"]
    assert len(await client.sessions.list(active=False)) == 2
    assert await client.sessions.list(active=True) == []
    calls = sent(mocked)
    check(calls[0], "GET", f"/sessions/{SID}")
    check(calls[1], "POST", f"/sessions/{SID}/end")
    check(calls[2], "GET", "/sessions")
    check(calls[3], "GET", "/sessions", query=[("active", "false")])
    check(calls[4], "GET", "/sessions", query=[("active", "true")])


async def test_sessions_jobs_follow_the_cursor(mocked: aioresponses, client: AsyncIonQ) -> None:
    path = f"/sessions/{SID}/jobs"
    first = [("status", "completed"), ("limit", "2")]
    job = {"id": JOB, "status": "completed", "session_id": SID}
    mocked.get(url(path, first), payload={"jobs": [job], "next": "c1"})
    mocked.get(url(path, [*first, ("next", "c1")]), payload={"jobs": [job], "next": None})
    jobs = [j async for j in client.sessions.jobs(SID, status="completed", limit=2)]
    assert [j.id for j in jobs] == [JOB, JOB]
    one, two = sent(mocked)
    check(one, "GET", path, query=first)
    check(two, "GET", path, query=[*first, ("next", "c1")])


async def test_sessions_jobs_refuse_a_repeated_cursor(
    mocked: aioresponses, client: AsyncIonQ
) -> None:
    path = f"/sessions/{SID}/jobs"
    mocked.get(url(path), payload={"jobs": [], "next": "c1"})
    mocked.get(url(path, [("next", "c1")]), payload={"jobs": [], "next": "c1"})
    with pytest.raises(ResponseValidationError, match="repeated"):
        _ = [j async for j in client.sessions.jobs(SID)]


async def test_session_of_another_id_is_a_bad_answer(
    mocked: aioresponses, client: AsyncIonQ
) -> None:
    mocked.get(url(f"/sessions/{SID}"), payload={**SESSION, "id": "other"})
    with pytest.raises(ResponseValidationError, match="other"):
        await client.sessions.get(SID)


async def test_open_creates_then_ends(mocked: aioresponses, client: AsyncIonQ) -> None:
    mocked.post(url("/sessions"), payload=SESSION, status=201)
    mocked.post(url(f"/sessions/{SID}/end"), payload={**SESSION, "status": "ended"})
    async with client.sessions.open(QPU, duration_limit_min=5) as session:
        assert session.id == SID
        assert len(sent(mocked)) == 1
    create, end = sent(mocked)
    check(create, "POST", "/sessions", body={"backend": QPU, "settings": {"duration_limit_min": 5}})
    check(end, "POST", f"/sessions/{SID}/end")


@pytest.mark.parametrize("how", ["create", "open"])
async def test_an_unknown_session_limit_is_refused_before_anything_is_sent(
    mocked: aioresponses, client: AsyncIonQ, how: str
) -> None:
    limits: dict[str, Any] = {"max_cost": 5, "job_limit": 3, "job_count_limit": 2}
    with pytest.raises(TypeError, match=r"unknown session limit\(s\): job_limit, max_cost$"):
        if how == "create":
            await client.sessions.create(QPU, **limits)
        else:
            async with client.sessions.open(QPU, **limits):
                pytest.fail("a session was opened")
    assert sent(mocked) == []


async def test_open_passes_its_limits_and_retry_to_the_create_and_the_end(
    mocked: aioresponses, client: AsyncIonQ
) -> None:
    busy = {"status": 429, "payload": {"message": "slow down"}, "headers": {"Retry-After": "0"}}
    mocked.post(url("/sessions"), **busy)
    mocked.post(url("/sessions"), payload=SESSION, status=201)
    mocked.post(url(f"/sessions/{SID}/end"), **busy)
    mocked.post(url(f"/sessions/{SID}/end"), payload={**SESSION, "status": "ended"})
    retry = RetryPolicy(max_attempts=2, initial_wait=0, jitter=0)
    limits = {"job_count_limit": 4, "cost_limit": Money(value=2.5, unit="credit")}
    async with client.sessions.open(QPU, retry=retry, **limits) as session:
        assert session.id == SID
    calls = sent(mocked)
    assert len(calls) == 4
    settings = {"job_count_limit": 4, "cost_limit": {"unit": "credit", "value": 2.5}}
    for call in calls[:2]:
        check(call, "POST", "/sessions", body={"backend": QPU, "settings": settings})
    for call in calls[2:]:
        check(call, "POST", f"/sessions/{SID}/end")


def test_session_bodies_validate_against_the_spec() -> None:
    validator = validator_for("CreateSessionRequest")
    bodies = [
        create_body(QPU, None, None, None),
        create_body(QPU, 10, 60, 100),
        create_body(QPU, None, None, Money(value=1.5, unit="credit")),
    ]
    for body in bodies:
        validator.validate(body)
    validator_for("Session").validate(SESSION)
