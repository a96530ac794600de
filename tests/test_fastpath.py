"""The direct readers of a Job and a created job agree with cattrs' generated functions.

`load_job` and the JobCreated loader read the usual answer directly (ionq_async/_core/
fastpath.py) and hand anything else to cattrs; here every body, usual or odd, must give
the same model (same repr: a status member stays a member) or the same error.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from cattrs.gen import make_dict_structure_fn
from hypothesis import given, settings
from hypothesis import strategies as st

from ionq_async import (
    CloneRequest,
    Compilation,
    Job,
    JobCreated,
    JobStatus,
    Noise,
    ResponseValidationError,
    Settings,
)
from ionq_async._core import fastpath, loaders, serde
from ionq_async._core.fastpath import Ending, read_ending, read_job, read_job_created, slot_filler
from ionq_async._core.serde import dump_request

JOB_ID = "0198097d-3888-72ad-8c3c-1f1d0c9e8a77"

FULL_JOB: dict[str, Any] = {
    "id": JOB_ID,
    "status": "failed",
    "type": "ionq.circuit.v1",
    "backend": "qpu.aria-1",
    "dry_run": True,
    "name": "bell",
    "metadata": {"run": "7"},
    "shots": 1024,
    "noise": {"model": "aria-1", "seed": 42},
    "failure": {"code": "CompilationError", "message": "bad gate"},
    "submitter_id": "64b03577072d45001c85e9c4",
    "project_id": "1333d459-cf47-4a5e-acc1-8d4eb4f7b025",
    "parent_job_id": "0198097d-4000-7000-8000-000000000002",
    "child_job_ids": ["0198097d-4000-7000-8000-000000000003"],
    "session_id": "0198097d-5000-7000-8000-000000000003",
    "submitted_at": "2026-01-02T03:04:05.123Z",
    "started_at": "2026-01-02T03:04:06",
    "completed_at": 1767323047.5,
    "predicted_wait_time_ms": 10,
    "predicted_execution_duration_ms": 20,
    "execution_duration_ms": 30,
    "cost_model": "QCT",
    "settings": {"compilation": {"opt": 1}},
    "stats": {"qubits": 2},
    "output": {"x": 1},
    "results": {"probabilities": {"url": "/v0.4/jobs/x/results/probabilities"}},
    "an_unknown_key": {"ignored": True},
}


def _generated(cls: type[Any]) -> Any:
    """What `structure(data, cls)` did before the fast path: cattrs' generated function."""
    fn = make_dict_structure_fn(cls, serde._converter)

    def load(data: Any) -> Any:
        try:
            return fn(data, cls)
        except serde._INVALID as exc:
            raise serde._invalid(exc, cls.__name__, data) from exc

    return load


_GENERATED_JOB = _generated(Job)
_GENERATED_CREATED = _generated(JobCreated)


def _outcome(load: Any, data: Any) -> tuple[str, str]:
    try:
        return "ok", repr(load(data))
    except ResponseValidationError as exc:
        return "error", str(exc)


def _same(fast: Any, generated: Any, data: Any) -> None:
    assert _outcome(fast, data) == _outcome(generated, data)


def test_every_field_of_a_full_job_is_read_as_cattrs_reads_it() -> None:
    job = serde.load_job(FULL_JOB)
    assert repr(job) == repr(_GENERATED_JOB(FULL_JOB))
    defaults = Job(id="", status="submitted")
    unchanged = [
        f.name for f in attrs.fields(Job) if getattr(job, f.name) == getattr(defaults, f.name)
    ]
    assert unchanged == []  # FULL_JOB sets every field, so a field the fast path forgot shows


def test_the_fast_path_reads_every_job_field(monkeypatch: pytest.MonkeyPatch) -> None:
    assert fastpath.UNREAD == [], "add these Job fields to _core/fastpath.py's reader"
    # A field it did not know would send every Job to cattrs, never through a raw value.
    monkeypatch.setattr(fastpath, "UNREAD", ["a_new_field"])
    assert read_job(FULL_JOB) is None
    assert repr(serde.load_job(FULL_JOB)) == repr(_GENERATED_JOB(FULL_JOB))


def test_the_usual_job_takes_the_fast_path() -> None:
    usual = {k: v for k, v in FULL_JOB.items() if k != "completed_at"}
    assert read_job(usual) is not None
    assert read_job({**usual, "completed_at": "2026-01-02T03:04:07Z"}) is not None
    assert type(serde.load_job(usual).status) is JobStatus


ODD_CHANGES: list[dict[str, Any]] = [
    {"status": "paused"},  # unknown status: kept as a string
    {"status": 3},
    {"status": None},
    {"id": 5},
    {"id": None},
    {"name": 12},
    {"shots": "100"},
    {"shots": 1.5},
    {"shots": True},
    {"shots": []},
    {"dry_run": "no"},
    {"dry_run": None},
    {"metadata": {"a": 1, "b": "x"}},
    {"metadata": []},
    {"metadata": None},
    {"noise": {"model": "ideal", "seed": 2**40}},
    {"noise": {"model": "ideal", "seed": True}},
    {"noise": {"model": ""}},
    {"noise": {"model": 3}},
    {"noise": "ideal"},
    {"failure": "it broke"},
    {"failure": {"error": "legacy", "code": None}},
    {"failure": 7},
    {"child_job_ids": [1, 2]},
    {"child_job_ids": "abc"},
    {"child_job_ids": 3},
    {"submitted_at": "2026-01-02"},
    {"submitted_at": "not a time"},
    {"submitted_at": 0},
    {"submitted_at": True},
    {"submitted_at": ["2026"]},
    {"settings": None},
    {"settings": []},
    {"results": []},
    {"results": None},
]


@pytest.mark.parametrize("change", ODD_CHANGES)
def test_odd_job_fields_are_read_or_refused_as_cattrs_does(change: dict[str, Any]) -> None:
    _same(serde.load_job, _GENERATED_JOB, {**FULL_JOB, **change})


@pytest.mark.parametrize("missing", ["id", "status", "noise", "settings", "dry_run", "results"])
def test_absent_job_fields_are_read_as_cattrs_reads_them(missing: str) -> None:
    _same(serde.load_job, _GENERATED_JOB, {k: v for k, v in FULL_JOB.items() if k != missing})


@pytest.mark.parametrize("data", [None, [], "job", 3, {}, {"id": JOB_ID}])
def test_what_is_no_job_is_refused_as_cattrs_refuses_it(data: Any) -> None:
    _same(serde.load_job, _GENERATED_JOB, data)


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(["completed", "2026-01-02T03:04:05Z", "2026-01-02T03:04:05+02:00", ""]),
    st.lists(st.text(max_size=4), max_size=3),
    st.dictionaries(st.text(max_size=4), st.one_of(st.text(max_size=4), st.integers())),
    st.fixed_dictionaries({"model": st.text(max_size=6)}, optional={"seed": st.integers()}),
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(FULL_JOB)), _VALUES))
def test_any_job_body_reads_as_cattrs_reads_it(change: dict[str, Any]) -> None:
    _same(serde.load_job, _GENERATED_JOB, {**FULL_JOB, **change})


def test_a_job_named_by_the_answer_goes_through_the_fast_path_too() -> None:
    assert loaders.load_job_named(FULL_JOB, JOB_ID).id == JOB_ID
    with pytest.raises(ResponseValidationError, match="asked for job"):
        loaders.load_job_named(FULL_JOB, "0198097d-4000-7000-8000-000000000009")


@pytest.mark.parametrize(
    "data",
    [
        {"id": JOB_ID, "status": "submitted", "session_id": None},
        {"id": JOB_ID},
        {"id": JOB_ID, "status": "new-kind", "extra": 1},
        {"id": JOB_ID, "status": None, "session_id": "s"},
        {"id": 5, "status": "submitted"},
        {"id": JOB_ID, "status": 5},
        {"id": JOB_ID, "session_id": 7},
        {"status": "submitted"},
        [],
        None,
    ],
)
def test_a_created_job_reads_as_cattrs_reads_it(data: Any) -> None:
    _same(loaders.load_job_created, _GENERATED_CREATED, data)


def test_the_usual_created_job_takes_the_fast_path() -> None:
    created = read_job_created({"id": JOB_ID, "status": "submitted", "session_id": None})
    assert created == JobCreated(id=JOB_ID, status=JobStatus.SUBMITTED)
    assert type(created.status) is JobStatus  # type: ignore[union-attr]


def test_noise_is_shared_but_equal_to_a_new_one() -> None:
    a = serde.load_job({**FULL_JOB, "noise": {"model": "aria-1", "seed": 7}})
    b = serde.load_job({**FULL_JOB, "noise": {"model": "aria-1", "seed": 7}})
    assert a.noise == b.noise
    assert a.noise is b.noise  # immutable, so one object serves every job


@attrs.frozen
class _Checked:
    x: int = attrs.field(validator=attrs.validators.instance_of(int))


@attrs.frozen
class _Plain:
    x: int
    y: str = "y"


@attrs.frozen(slots=False)
class _Unslotted:
    x: int


def test_the_slot_filler_builds_what_init_builds() -> None:
    assert slot_filler(_Plain)(1, "z") == _Plain(x=1, y="z")
    with pytest.raises(TypeError):
        slot_filler(_Plain)(1)  # every field is given, defaults are not filled in


@pytest.mark.parametrize("cls", [_Checked, _Unslotted])
def test_the_slot_filler_calls_init_when_init_does_more_or_there_are_no_slots(
    cls: type[Any],
) -> None:
    assert slot_filler(cls)(1) == cls(x=1)
    if cls is _Checked:
        with pytest.raises(TypeError):
            slot_filler(cls)("not an int")


@pytest.mark.parametrize(
    "request_",
    [
        CloneRequest(),
        CloneRequest(name="bench"),
        CloneRequest(name="b", shots=5, backend="simulator", dry_run=False, parent=JOB_ID),
        CloneRequest(session_id="s", metadata={"a": "b"}),
        CloneRequest(shots=3, noise=Noise(model="aria-1", seed=1)),
        CloneRequest(settings=Settings(compilation=Compilation(opt=1)), name="x"),
        CloneRequest(settings=Settings()),
    ],
)
def test_a_clone_body_is_what_the_converter_makes(request_: CloneRequest) -> None:
    assert dump_request(request_) == serde._converter.unstructure(request_)


def _generated_ending(data: Any) -> Ending:
    job = _GENERATED_JOB(data)
    return Ending(job.status, job.failure, job.submitted_at, job.started_at, job.completed_at)


@pytest.mark.parametrize("change", [{}, *ODD_CHANGES])
def test_the_ending_of_a_job_body_is_its_jobs_or_the_same_error(change: dict[str, Any]) -> None:
    _same(serde.load_ending, _generated_ending, {**FULL_JOB, **change})


@pytest.mark.parametrize("data", [None, [], "job", 3, {}, {"id": JOB_ID}])
def test_the_ending_of_what_is_no_job_is_the_same_error(data: Any) -> None:
    _same(serde.load_ending, _generated_ending, data)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(FULL_JOB)), _VALUES))
def test_any_job_bodys_ending_is_its_jobs(change: dict[str, Any]) -> None:
    _same(serde.load_ending, _generated_ending, {**FULL_JOB, **change})


def test_the_usual_job_ends_without_a_job_built() -> None:
    usual = {k: v for k, v in FULL_JOB.items() if k != "completed_at"}
    ending = read_ending(usual)
    assert ending is not None and type(ending.status) is JobStatus
    assert ending == serde.load_ending(usual)
    assert loaders.JobState("failed", usual).ending() == ending


def test_a_page_read_for_a_batch_keeps_an_ended_jobs_ending_alone() -> None:
    ended = {**FULL_JOB, "status": "completed"}
    running = {**FULL_JOB, "id": "a" * 8 + FULL_JOB["id"][8:], "status": "running"}
    broken = {**ended, "id": "b" * 8 + FULL_JOB["id"][8:], "submitted_at": "yesterday"}
    read, _ = loaders.load_job_ends({"jobs": [ended, running, broken]})
    end, still, bad = read
    assert isinstance(end, loaders.JobEnd) and end.id == ended["id"]
    assert end.ending() == loaders.JobState("completed", ended).ending()
    assert isinstance(still, loaders.JobState) and still.raw is running, "a running job's body"
    assert isinstance(bad, loaders.JobEnd) and bad.status == "completed"
    with pytest.raises(ResponseValidationError) as raised:
        bad.ending()
    with pytest.raises(ResponseValidationError) as direct:
        loaders.JobState("completed", broken).ending()
    assert str(raised.value) == str(direct.value), "the same error the whole body gives"
