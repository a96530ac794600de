"""Bad wait and rerun options: one clear error before any request (the poller read them late)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from ionq_async import AsyncIonQ, PollPolicy, RerunOptions
from ionq_async.testing import FakeIonQ

Call = Callable[[AsyncIonQ, str], Any]

BAD_WAITS: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"timeout": -1}, ValueError, "timeout must be > 0 seconds, got -1"),
    ({"timeout": float("nan")}, ValueError, "timeout must be > 0 seconds, got nan"),
    ({"timeout": 0}, ValueError, "timeout must be > 0 seconds, got 0"),
    ({"timeout": "5"}, TypeError, "timeout must be a number of seconds or None, not '5'"),
    ({"timeout": True}, TypeError, "timeout must be a number of seconds"),
    ({"poll": 5}, TypeError, "poll must be a PollPolicy or None, not int"),
    ({"on_status": "print"}, TypeError, "on_status must be callable or None, not str"),
]


async def _wait(client: AsyncIonQ, job_id: str, **kw: Any) -> Any:
    return await client.jobs.wait(job_id, **kw)


async def _wait_many(client: AsyncIonQ, job_id: str, **kw: Any) -> Any:
    return [job async for job in client.jobs.wait_many([job_id], **kw)]


@pytest.mark.parametrize("call", [_wait, _wait_many], ids=["wait", "wait_many"])
@pytest.mark.parametrize(("kw", "kind", "message"), BAD_WAITS)
async def test_a_bad_wait_option_raises_before_any_request(
    fake_ionq: FakeIonQ, call: Call, kw: dict[str, Any], kind: type[Exception], message: str
) -> None:
    job = fake_ionq.add_job(durations=(0.01, 0.01, 0.01)).id
    before = len(fake_ionq.requests)
    async with fake_ionq.client() as client:
        with pytest.raises(kind, match=message.replace("(", r"\(")):
            await call(client, job, **kw)
    assert len(fake_ionq.requests) == before


async def test_a_good_wait_still_works(fake_ionq: FakeIonQ) -> None:
    job = fake_ionq.add_job(durations=(0.01, 0.01, 0.01)).id
    poll = PollPolicy(initial=0.05)
    async with fake_ionq.client() as client:
        done = await client.jobs.wait(job, timeout=30, poll=poll, on_status=lambda _: None)
        assert done.status == "completed"
        assert [j.id async for j in client.jobs.wait_many([job], timeout=30.0, poll=poll)] == [job]


BAD_RERUNS: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"wait": "no"}, TypeError, "wait must be True or False, got 'no'"),
    ({"idempotent": "false"}, TypeError, "idempotent must be True or False, got 'false'"),
    ({"allow_incomplete_estimate": 1}, TypeError, "allow_incomplete_estimate must be True or"),
    ({"poll": 5}, TypeError, "poll must be a PollPolicy or None, got 5"),
    ({"on_progress": 5}, TypeError, "on_progress must be callable or None, got 5"),
    ({"timeout": "5"}, TypeError, "timeout must be a number of seconds or None, got '5'"),
]


@pytest.mark.parametrize(("kw", "kind", "message"), BAD_RERUNS)
async def test_a_bad_rerun_option_raises_before_any_request(
    fake_ionq: FakeIonQ, kw: dict[str, Any], kind: type[Exception], message: str
) -> None:
    """`wait="no"` was truthy (the batch waited); `poll=5` made each source an error outcome."""
    src = fake_ionq.add_job().id
    before = len(fake_ionq.requests)
    with pytest.raises(kind, match=message):
        RerunOptions(**kw)
    async with fake_ionq.client() as client:
        with pytest.raises(kind, match=message):
            await client.jobs.rerun_all([src], **kw)
    assert len(fake_ionq.requests) == before
    assert fake_ionq.clones_of(src) == []


@pytest.mark.parametrize(
    ("kw", "kind", "message"),
    [
        ({"target": 5}, TypeError, "target must be a str or a list of str, not int"),
        ({"target": ["simulator", None]}, TypeError, "target must be a str, not NoneType"),
        ({"target": ["simulator", ""]}, ValueError, "target must not be empty"),
        ({"session_id": ""}, ValueError, "session_id must not be empty"),
        ({"session_id": 5}, TypeError, "session_id must be a str, not int"),
        ({"submitter_id": " "}, ValueError, "submitter_id must not be empty"),
    ],
)
async def test_a_bad_list_filter_raises_before_any_request(
    fake_ionq: FakeIonQ, kw: dict[str, Any], kind: type[Exception], message: str
) -> None:
    """`target=5` was "can only join an iterable"; `session_id=""` was sent as `session_id=`."""
    before = len(fake_ionq.requests)
    async with fake_ionq.client() as client:
        with pytest.raises(kind, match=message):
            await client.jobs.list(**kw)
    assert len(fake_ionq.requests) == before


async def test_good_list_filters_are_sent(fake_ionq: FakeIonQ) -> None:
    job = fake_ionq.add_job(backend="simulator").id
    async with fake_ionq.client() as client:
        page = await client.jobs.list(target=["simulator", "qpu.forte-1"], limit=10)
        assert job in [j.id for j in page.jobs]
        await client.jobs.list(target="simulator", submitter_id="someone")
    sent = [dict(r.query) for r in fake_ionq.requests if r.path == "/v0.4/jobs"]
    assert sent[-2]["target"] == "simulator,qpu.forte-1"
    assert sent[-1] == {"target": "simulator", "submitter_id": "someone"}


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"initial": math.inf}, ValueError),
        ({"max_interval": math.inf}, ValueError),
        ({"initial": math.nan}, ValueError),
        ({"initial": 0}, ValueError),
        ({"factor": math.inf}, ValueError),
        ({"factor": 0.5}, ValueError),
        ({"jitter": 1.0}, ValueError),
        ({"initial": "1"}, TypeError),
        ({"factor": None}, TypeError),
        ({"jitter": True}, TypeError),
    ],
)
def test_a_bad_poll_policy_is_refused_with_its_field_named(
    kwargs: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error, match="|".join(kwargs)):
        PollPolicy(**kwargs)
    assert PollPolicy(initial=2, factor=1, max_interval=60, jitter=0).initial == 2


@pytest.mark.parametrize("kw", [{"backend": ""}, {"backend": "  "}, {"session_id": ""}])
async def test_a_blank_clone_field_raises_before_any_request(
    fake_ionq: FakeIonQ, kw: dict[str, Any]
) -> None:
    source = fake_ionq.add_job(status="completed")
    before = len(fake_ionq.requests)
    async with fake_ionq.client() as client:
        with pytest.raises(ValueError, match="must not be blank: leave it unset"):
            await client.jobs.clone(source.id, **kw)
    assert len(fake_ionq.requests) == before
    assert fake_ionq.clones_of(source.id) == []


def _one_string(client: AsyncIonQ, job: str) -> dict[str, Any]:
    """Each call that takes a list of job ids, given one id string (36 one-letter ids)."""
    jobs = client.jobs
    return {
        "rerun_all": lambda: jobs.rerun_all(job),
        "rerun": lambda: anext(aiter(jobs.rerun(job))),
        "estimate_rerun": lambda: jobs.estimate_rerun(job),
        "wait_many": lambda: anext(aiter(jobs.wait_many(job))),
        "cancel_many": lambda: jobs.cancel_many(job),
        "delete_many": lambda: jobs.delete_many(job),
        "list(ids=)": lambda: jobs.list(ids=job),
    }


async def test_one_id_string_where_a_list_is_wanted_is_refused_before_any_request(
    fake_ionq: FakeIonQ,
) -> None:
    job = fake_ionq.add_job(status="completed").id
    before = len(fake_ionq.requests)
    async with fake_ionq.client() as client:
        calls = _one_string(client, job)
        for name, call in calls.items():
            with pytest.raises(TypeError, match="must be a list of job ids, not a single string"):
                await call()
            assert len(fake_ionq.requests) == before, name
        assert [o.status async for o in client.jobs.rerun([job], idempotent=False)] == ["completed"]


async def test_a_bad_id_among_repeats_is_named_by_its_place_in_the_callers_list(
    fake_ionq: FakeIonQ,
) -> None:
    job = fake_ionq.add_job(status="completed").id
    async with fake_ionq.client() as client:
        with pytest.raises(ValueError, match=r"job_ids\[2\] must be a well-formed UUID"):
            client.jobs.wait_many([job, job, "nope"])
        done = [j.id async for j in client.jobs.wait_many([job, job], timeout=30.0)]
    assert done == [job]
