"""client.backends, client.sessions, whoami, usage and schemas against the emulator (real HTTP)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest

from ionq_async import (
    AsyncIonQ,
    Backend,
    BackendStatus,
    BadRequestError,
    Characterization,
    Money,
    NotFoundError,
    RetryPolicy,
    Session,
    SessionStatus,
    Usage,
    Whoami,
)
from ionq_async.testing import FakeIonQ

QPU = "qpu.forte-1"
UNKNOWN_ID = "0198097d-4000-7000-8000-0000000000ff"
JAN, FEB = "2025-01-01", "2025-02-01"


@pytest.fixture
async def fake() -> AsyncIterator[FakeIonQ]:
    async with FakeIonQ(durations=(0.01, 0.01, 0.02)) as server:
        yield server


@pytest.fixture
async def client(fake: FakeIonQ) -> AsyncIterator[AsyncIonQ]:
    async with fake.client(rate_limit=None, retry=RetryPolicy.none()) as c:
        yield c


async def test_backends_list_and_get(fake: FakeIonQ, client: AsyncIonQ) -> None:
    backends = await client.backends.list()
    assert all(isinstance(b, Backend) for b in backends)
    assert [b.name for b in backends] == list(fake.backends)
    qpu = await client.backends.get(QPU)
    assert qpu == backends[1]
    assert qpu.status is BackendStatus.AVAILABLE and qpu.is_available
    assert (qpu.qubits, qpu.average_queue_time) == (36, 1181215)
    assert qpu.location == "College Park, MD, USA"
    assert qpu.last_updated == dt.datetime(2026, 6, 16, tzinfo=dt.UTC)
    assert qpu.characterization_id == fake.backends[QPU].characterizations[0]["id"]
    assert qpu.supported_error_mitigations == ("debiasing",)
    assert "cnot" in (qpu.supported_gates or ())


async def test_a_backend_status_the_sdk_does_not_know_is_kept_as_a_string(
    fake: FakeIonQ, client: AsyncIonQ
) -> None:
    fake.set_backend(QPU, status="calibrating", degraded=True, average_queue_time=5)
    qpu = await client.backends.get(QPU)
    assert qpu.status == "calibrating" and not isinstance(qpu.status, BackendStatus)
    assert not qpu.is_available and qpu.degraded is True and qpu.average_queue_time == 5


async def test_unknown_backend_is_not_found(fake: FakeIonQ, client: AsyncIonQ) -> None:
    with pytest.raises(NotFoundError, match=r"qpu\.nope"):
        await client.backends.get("qpu.nope")
    with pytest.raises(NotFoundError):
        await anext(client.backends.characterizations("qpu.nope"))


async def test_every_characterization_page_is_read(fake: FakeIonQ, client: AsyncIonQ) -> None:
    every = [c async for c in client.backends.characterizations(QPU)]
    expected = fake.backends[QPU].characterizations
    assert [c.id for c in every] == [c["id"] for c in expected]
    assert len(every) == 30 and all(isinstance(c, Characterization) for c in every)
    first = every[0]
    assert first.backend == QPU and first.qubits == 36
    assert first.date == dt.datetime(2026, 6, 16, tzinfo=dt.UTC)
    assert first.connectivity[0] == (0, 1)
    assert first.fidelity is not None and first.fidelity.spam is not None
    assert first.fidelity.spam.median == expected[0]["fidelity"]["spam"]["median"]
    assert first.fidelity.two_qubit is not None
    assert first.fidelity.two_qubit.median == expected[0]["fidelity"]["2q"]["median"]
    assert first.timing is not None
    assert (first.timing.one_qubit, first.timing.two_qubit) == (130, 970)
    pages = [r.query for r in fake.requests if r.route == "characterizations"]
    assert [dict(q)["page"] for q in pages] == ["1", "2", "3", "4"]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (dt.datetime(2026, 6, 10, tzinfo=dt.UTC), dt.datetime(2026, 6, 14)),
        ("2026-06-10", "2026-06-14T00:00:00Z"),
        (dt.date(2026, 6, 10), 1_781_395_200),  # 2026-06-14T00:00:00Z as epoch seconds
    ],
)
async def test_characterizations_between_two_times(client: AsyncIonQ, start: Any, end: Any) -> None:
    found = [c async for c in client.backends.characterizations(QPU, start=start, end=end)]
    assert [c.date.day for c in found if c.date] == [13, 12, 11, 10]


async def test_one_characterization_by_id(fake: FakeIonQ, client: AsyncIonQ) -> None:
    wanted = fake.backends[QPU].characterizations[3]
    found = await client.backends.characterization(QPU, wanted["id"])
    assert found.id == wanted["id"] and found.date == dt.datetime(2026, 6, 13, tzinfo=dt.UTC)
    with pytest.raises(NotFoundError):
        await client.backends.characterization(QPU, UNKNOWN_ID)


async def test_whoami_names_the_key_without_showing_it(fake: FakeIonQ, client: AsyncIonQ) -> None:
    me = await client.whoami()
    assert isinstance(me, Whoami)
    assert me.key_id == fake.key_id and me.key_name == "ionq-async emulator"
    assert fake.api_key not in repr(me)


async def test_usage_counts_completed_jobs(fake: FakeIonQ, client: AsyncIonQ) -> None:
    for i in range(3):
        fake.add_job(name=f"u{i}", status="completed", backend=QPU)
    today = dt.datetime.fromtimestamp(fake.now(), dt.UTC).date()
    usage = await client.usage(
        fake.organization_id,
        start_date=today - dt.timedelta(days=1),
        end_date=(today + dt.timedelta(days=1)).isoformat(),
        group_by="job",
        modality="weekly",
    )
    assert isinstance(usage, Usage)
    assert (usage.organization, usage.group_type, usage.modality) == (
        fake.organization_id,
        "job",
        "weekly",
    )
    assert usage.job_count == 3 and usage.amount_total is not None and usage.amount_total > 0
    assert usage.start_date == today - dt.timedelta(days=1)
    assert len(usage.usage_data) >= 1 and sum(p.job_count or 0 for p in usage.usage_data) == 3
    period = usage.usage_data[0]
    assert period.from_date is not None and period.from_date.weekday() == 0
    assert {g.group_name for p in usage.usage_data for g in p.group_usages} == {"u0", "u1", "u2"}


async def test_usage_of_an_unknown_organization_is_not_found(client: AsyncIonQ) -> None:
    with pytest.raises(NotFoundError):
        await client.usage(UNKNOWN_ID, start_date="2025-01-01", end_date="2025-02-01")


async def test_format_schema(client: AsyncIonQ) -> None:
    schema = await client.schemas.format("ionq.result.probabilities.json.v2")
    assert schema["$id"] == "ionq.result.probabilities.json.v2"
    assert "$schema" in schema and schema["type"] == "object"
    with pytest.raises(NotFoundError):
        await client.schemas.format("ionq.result.nope.v9")


async def test_session_lifecycle(fake: FakeIonQ, client: AsyncIonQ) -> None:
    session = await client.sessions.create(
        QPU, job_count_limit=5, duration_limit_min=30, cost_limit=Money(value=250, unit="usd")
    )
    assert isinstance(session, Session) and session.status is SessionStatus.CREATED
    assert session.active is True and session.backend == QPU
    assert session.organization_id == fake.organization_id
    assert (session.settings.job_count_limit, session.settings.duration_limit_min) == (5, 30)
    assert session.settings.cost_limit == Money(value=250, unit="usd")
    assert await client.sessions.get(session.id) == session
    other = await client.sessions.create("qpu.forte-enterprise-1", cost_limit=10)
    assert other.settings.cost_limit == Money(value=10, unit="usd")
    assert other.settings.job_count_limit is None
    assert [s.id for s in await client.sessions.list()] == [other.id, session.id]
    ended = await client.sessions.end(other.id)
    assert ended.is_ended and ended.active is False and ended.ended_at is not None
    assert [s.id for s in await client.sessions.list(active=True)] == [session.id]
    assert [s.id for s in await client.sessions.list(active=False)] == [other.id]
    assert (await client.sessions.end(other.id)).is_ended  # ending twice is harmless


async def test_session_jobs_follow_every_page(fake: FakeIonQ, client: AsyncIonQ) -> None:
    session = fake.add_session(QPU)
    slow = (60.0, 60.0, 60.0)
    mine = [fake.add_job(backend=QPU, session_id=session.id, durations=slow).id for _ in range(5)]
    done = [fake.add_job(backend=QPU, session_id=session.id, status="completed").id for _ in "ab"]
    fake.add_job(backend=QPU)  # not in the session
    found = [job.id async for job in client.sessions.jobs(session.id, limit=3)]
    assert sorted(found) == sorted(mine + done) and len(found) == 7
    assert len([r for r in fake.requests if r.route == "session_jobs"]) == 3
    completed = [j.id async for j in client.sessions.jobs(session.id, status="completed")]
    assert sorted(completed) == sorted(done)


async def test_unknown_session_is_not_found(client: AsyncIonQ) -> None:
    with pytest.raises(NotFoundError):
        await client.sessions.get(UNKNOWN_ID)
    with pytest.raises(NotFoundError):
        await client.sessions.end(UNKNOWN_ID)
    with pytest.raises(NotFoundError):
        await anext(client.sessions.jobs(UNKNOWN_ID))


async def test_unknown_backend_for_a_session_is_a_bad_request(client: AsyncIonQ) -> None:
    with pytest.raises(BadRequestError) as info:
        await client.sessions.create("qpu.nope")
    assert info.value.validation_keys == ("backend",)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda c: c.backends.get(""), ValueError, "name"),
        (lambda c: c.backends.get("qpu/../jobs"), ValueError, "name"),
        (lambda c: c.backends.get(3), TypeError, "name"),
        (lambda c: c.backends.characterization(QPU, "nope"), ValueError, "id"),
        (lambda c: c.sessions.get("a b"), ValueError, "id"),
        (lambda c: c.sessions.end(None), TypeError, "id"),
        (lambda c: c.sessions.create(QPU, job_count_limit=0), ValueError, "job_count_limit"),
        (lambda c: c.sessions.create(QPU, job_count_limit=True), TypeError, "job_count_limit"),
        (lambda c: c.sessions.create(QPU, duration_limit_min=2**31), ValueError, "duration"),
        (lambda c: c.sessions.create(QPU, cost_limit=-1), ValueError, "cost_limit"),
        (lambda c: c.sessions.create(QPU, cost_limit=float("inf")), ValueError, "cost_limit"),
        (lambda c: c.sessions.create(QPU, cost_limit="10"), TypeError, "cost_limit"),
        (lambda c: c.sessions.create(QPU, cost_limit=Money(value=1, unit="")), ValueError, "unit"),
        (lambda c: c.sessions.list(active="yes"), TypeError, "active"),
        (lambda c: c.schemas.format("a/b"), ValueError, "name"),
        (lambda c: c.usage("", start_date=JAN, end_date=FEB), ValueError, "org"),
        (lambda c: c.usage("o", start_date="01/01/2025", end_date=FEB), ValueError, "start"),
        (lambda c: c.usage("o", start_date=FEB, end_date=FEB), ValueError, "after"),
        (lambda c: c.usage("o", start_date=20250101, end_date=FEB), TypeError, "start"),
        (
            lambda c: c.usage("o", start_date=JAN, end_date=FEB, group_by="x"),
            ValueError,
            "group_by",
        ),
        (
            lambda c: c.usage("o", start_date=JAN, end_date=FEB, modality="x"),
            ValueError,
            "modality",
        ),
    ],
)
async def test_bad_input_is_refused_before_any_request(
    fake: FakeIonQ, client: AsyncIonQ, call: Any, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        await call(client)
    assert fake.requests == []


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"start": "yesterday"}, ValueError, "start"),
        ({"end": [2025]}, TypeError, "end"),
        ({"start": True}, TypeError, "start"),
        ({"end": 1e30}, ValueError, "end"),
    ],
)
async def test_bad_time_bounds_are_refused_at_the_call(
    fake: FakeIonQ, client: AsyncIonQ, kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        client.backends.characterizations(QPU, **kwargs)
    with pytest.raises(ValueError, match="limit"):
        client.sessions.jobs(UNKNOWN_ID, limit=26)
    assert fake.requests == []
