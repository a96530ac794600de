"""The CLI's pieces in process: key masking, the rerun exit rule and the JSON of a job."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from ionq_async import AuthenticationError, Job, JobStatus, RerunOutcome, RerunReport
from ionq_async import cli as cli_module
from ionq_async._core.serde import dump_job, load_job
from ionq_async._models.jobs import Failure, Noise
from ionq_async.cli import _secrets
from ionq_async.cli._rerun import succeeded

KEY = "sk-live-0123456789abcdef"
MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.mark.parametrize(
    ("argv", "masked"),
    [
        (["--api-key", KEY, "rerun", "x"], ["--api-key", "***", "rerun", "x"]),
        ([f"--api-key={KEY}", "rerun"], ["--api-key=***", "rerun"]),
        (["rerun", "--api", KEY], ["rerun", "--api", "***"]),
        (["rerun", f"--api-k={KEY}"], ["rerun", "--api-k=***"]),
        (["rerun", "--journal", "run.db"], ["rerun", "--journal", "run.db"]),
    ],
)
def test_redact_argv_masks_every_form_of_the_key(argv: list[str], masked: list[str]) -> None:
    assert _secrets.redact_argv(argv) == masked
    assert _secrets.keys_in_argv(argv) == ([KEY] if KEY in " ".join(argv) else [])


def test_redactor_masks_argv_and_environment_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IONQ_API_KEY", "env-key-abcdef")
    redact = _secrets.Redactor.for_cli(["--api-key", KEY])
    assert redact(f"a {KEY} b env-key-abcdef c") == "a *** b *** c"
    assert _secrets.Redactor(["abc"]).keys == []  # too short to mask without garbling


def _main(monkeypatch: pytest.MonkeyPatch, error: BaseException, *argv: str) -> int:
    async def command(_: Any) -> int:
        raise error

    monkeypatch.delenv("IONQ_API_KEY", raising=False)
    monkeypatch.setattr(cli_module, "_command", lambda _: command)
    return cli_module.main([*argv, "get", MISSING])


@pytest.mark.parametrize(
    ("error", "code", "expected"),
    [
        (RuntimeError(f"unexpected {KEY}"), 1, "RuntimeError: unexpected ***"),
        (OSError(f"disk {KEY}"), 1, "ionq-async: error: disk ***"),
        (KeyboardInterrupt(), 130, "ionq-async: interrupted"),
    ],
)
def test_errors_and_tracebacks_never_show_the_key(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    error: BaseException,
    code: int,
    expected: str,
) -> None:
    assert _main(monkeypatch, error, "--api-key", KEY) == code
    out, err = capsys.readouterr()
    assert KEY not in out and KEY not in err
    assert expected in err


def test_an_api_error_echoing_the_key_is_masked(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    echoed = AuthenticationError(f"bad key apiKey {KEY}", status_code=401)
    assert _main(monkeypatch, echoed, f"--api-key={KEY}") == 1
    _, err = capsys.readouterr()
    assert err.strip() == "ionq-async: error: HTTP 401: bad key apiKey ***"


def _report(*statuses: str) -> RerunReport:
    outcomes = tuple(RerunOutcome(source_id=f"s{i}", status=s) for i, s in enumerate(statuses))
    counts: dict[str, int] = {}
    for s in statuses:
        counts[s] = counts.get(s, 0) + 1
    return RerunReport(outcomes=outcomes, counts=counts, duration=1.0)


def test_submitted_counts_as_success_only_without_waiting() -> None:
    assert succeeded(_report("completed", "completed"))
    assert not succeeded(_report("completed", "submitted"))
    assert succeeded(_report("completed", "submitted"), waited=False)
    assert not succeeded(_report("completed", "failed"), waited=False)


def test_dump_job_is_the_json_of_a_job() -> None:
    job = Job(
        id="j1",
        status=JobStatus.FAILED,
        noise=Noise(model="aria-1"),
        failure=Failure(code="X", message="m"),
        child_job_ids=("c1", "c2"),
        submitted_at=datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
        metadata={"k": "v"},
    )
    data = dump_job(job)
    assert data == {
        "id": "j1",
        "status": "failed",
        "dry_run": False,
        "metadata": {"k": "v"},
        "noise": {"model": "aria-1"},
        "failure": {"code": "X", "message": "m"},
        "child_job_ids": ["c1", "c2"],
        "submitted_at": "2024-05-01T12:00:00Z",
        "settings": {},
        "stats": {},
        "output": {},
    }
    assert load_job(json.loads(json.dumps(data))) == job
    assert dump_job(Job(id="j2", status="paused"))["status"] == "paused"


def test_a_report_counts_its_outcomes_when_not_told() -> None:
    outcomes = tuple(
        RerunOutcome(source_id=f"s{i}", status=s)
        for i, s in enumerate(["completed", "failed", "completed"])
    )
    report = RerunReport(outcomes=outcomes, duration=1.0)
    assert report.counts == {
        "completed": 2,
        "failed": 1,
        "canceled": 0,
        "error": 0,
        "ambiguous": 0,
        "submitted": 0,
        "skipped": 0,
    }
    assert not report.ok
    assert RerunReport(outcomes=(), duration=0.0).counts["completed"] == 0
