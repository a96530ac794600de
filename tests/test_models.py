"""Job, JobCreated and JobStatus parse every shape the API (old and new) sends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from _spec import load_spec, validator_for

from ionq_async import Failure, Job, JobCreated, JobStatus, Noise, ResponseValidationError
from ionq_async._core.loaders import load_job_created, load_jobs
from ionq_async._core.serde import load_job
from ionq_async._models.jobs import is_terminal

SRC = "0198097d-3888-72ad-8c3c-1f1d0c9e8a77"


def _examples(path: str, method: str = "get", code: str = "200") -> dict[str, Any]:
    content = load_spec()["paths"][path][method]["responses"][code]["content"]
    examples: dict[str, Any] = content["application/json"]["examples"]
    return {name: ex["value"] for name, ex in examples.items()}


def test_spec_has_the_four_get_job_examples() -> None:
    assert sorted(_examples("/jobs/{UUID}")) == [
        "Multi Circuit",
        "QAOA Function",
        "Quantum Function",
        "Single Circuit",
    ]


@pytest.mark.parametrize(
    "name", ["Single Circuit", "Multi Circuit", "QAOA Function", "Quantum Function"]
)
def test_parses_every_get_job_response_example(name: str) -> None:
    body = _examples("/jobs/{UUID}")[name]
    assert validator_for("GetJobResponse").is_valid(body)  # the converter agrees with the spec
    job = load_job(body)
    assert job.id == body["id"]
    assert job.status is JobStatus.COMPLETED and job.is_terminal
    assert job.type == body["type"]
    assert job.backend == body["backend"]
    assert job.name == body["name"]
    assert job.shots == body["shots"]
    assert job.dry_run is False
    assert job.failure is None
    assert job.submitter_id == body["submitter_id"]
    assert job.project_id == body["project_id"]
    assert job.execution_duration_ms == body["execution_duration_ms"]
    assert job.child_job_ids == (
        tuple(body["child_job_ids"]) if body["child_job_ids"] is not None else None
    )
    assert job.settings == body["settings"]
    assert job.stats == body["stats"]
    assert job.output == body["output"]
    assert job.results == body["results"]
    for stamp in ("submitted_at", "started_at", "completed_at"):
        value = getattr(job, stamp)
        assert isinstance(value, datetime)
        assert value.utcoffset() == timedelta(0)
        assert value == datetime.fromisoformat(body[stamp])
    assert job.submitted_at == datetime(2026, 6, 11, 20, 47, 5, 440000, tzinfo=UTC)


def test_single_circuit_example_details() -> None:
    job = load_job(_examples("/jobs/{UUID}")["Single Circuit"])
    assert job.settings == {"error_mitigation": {"debiasing": True}}
    assert job.stats["gate_counts"] == {"1q": 4, "2q": 1}
    assert job.results is not None
    assert "ionq.result.probabilities.json.v2" in job.results


def test_parses_the_list_example() -> None:
    [body] = _examples("/jobs").values()
    jobs, cursor = load_jobs(body)
    assert cursor is None
    [job] = jobs
    raw = body["jobs"][0]
    assert job.id == raw["id"]
    assert job.cost_model == "QCT"
    assert job.noise == Noise(model="ideal")
    assert job.started_at is None and job.completed_at is None
    assert job.submitted_at == datetime(2025, 5, 28, 20, 47, 5, 440000, tzinfo=UTC)
    assert job.child_job_ids is None
    assert job.settings == {"compilation": {}}


def test_parses_a_legacy_job() -> None:
    job = load_job(
        {
            "id": SRC,
            "status": "failed",
            "target": "qpu.harmony",  # v0.3 name of backend
            "request": 1490932820,
            "response": 1490932834,
            "failure": {"error": "the circuit could not be compiled", "code": "internal_error"},
            "results": {"probabilities": {"url": f"/v0.4/jobs/{SRC}/results/probabilities"}},
            "submitted_at": "2024-01-02T03:04:05",  # no offset: UTC
            "children": [],
        }
    )
    assert job.status is JobStatus.FAILED and job.is_terminal
    assert job.failure == Failure(
        code="internal_error", message="the circuit could not be compiled"
    )
    assert job.results == {"probabilities": {"url": f"/v0.4/jobs/{SRC}/results/probabilities"}}
    assert job.backend is None
    assert job.submitted_at == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert job.submitted_at.tzinfo is not None


def test_v04_failure_and_noise_seed() -> None:
    job = load_job(
        {
            "id": SRC,
            "status": "failed",
            "failure": {"code": "TooManyShots", "message": "too many"},
            "noise": {"model": "aria-1", "seed": 7},
            "started_at": "2026-06-11T22:47:10+02:00",
        }
    )
    assert job.failure == Failure(code="TooManyShots", message="too many")
    assert job.noise == Noise(model="aria-1", seed=7)
    assert job.started_at == datetime(2026, 6, 11, 20, 47, 10, tzinfo=UTC)


def test_unknown_key_and_unknown_status_do_not_raise() -> None:
    job = load_job({"id": SRC, "status": "paused", "brand_new_field": {"x": 1}, "settings": None})
    assert job.status == "paused"
    assert not isinstance(job.status, JobStatus)
    assert not job.is_terminal
    assert not is_terminal(job.status)
    assert job.settings == {} and job.stats == {} and job.output == {}
    assert job.results is None


def test_missing_id_or_status_is_a_validation_error() -> None:
    with pytest.raises(ResponseValidationError):
        load_job({"status": "completed"})
    with pytest.raises(ResponseValidationError):
        load_job({"id": SRC})
    with pytest.raises(ResponseValidationError):
        load_job(["not", "a", "job"])


def test_job_created_accepts_missing_status() -> None:
    assert load_job_created({"id": SRC, "session_id": None}) == JobCreated(id=SRC)
    created = load_job_created({"id": SRC, "status": "submitted", "session_id": "s-1"})
    assert created == JobCreated(id=SRC, status=JobStatus.SUBMITTED, session_id="s-1")
    assert load_job_created({"id": SRC, "status": "queued"}).status == "queued"


def test_job_status_members_and_terminality() -> None:
    assert [s.value for s in JobStatus] == [
        "submitted",
        "ready",
        "started",
        "completed",
        "failed",
        "canceled",
    ]
    assert {s for s in JobStatus if s.is_terminal} == {
        JobStatus.COMPLETED,
        JobStatus.FAILED,
        JobStatus.CANCELED,
    }
    assert JobStatus("completed") == "completed"
    assert is_terminal("canceled") and not is_terminal("running")


def test_models_are_frozen() -> None:
    job = Job(id=SRC, status=JobStatus.READY)
    with pytest.raises(AttributeError):
        job.status = JobStatus.COMPLETED  # type: ignore[misc]
