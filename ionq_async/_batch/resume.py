"""What a journal entry or a lost answer means for a source: done, to await, or unknown."""

from __future__ import annotations

from datetime import UTC, datetime

from .._models.jobs import check_job_id
from ..errors import BadRequestError, SubmissionUnknownError
from .journal import JournalEntry
from .types import RerunOutcome

__all__ = [
    "ambiguous",
    "is_id",
    "journaled_end",
    "sent_at",
    "sent_by",
    "session_refusal",
    "skipped",
    "untokened",
]


def is_id(value: str) -> bool:
    try:
        check_job_id(value, "source_id")
    except (ValueError, TypeError):
        return False
    return True


def journaled_end(entry: JournalEntry) -> RerunOutcome | None:
    """The outcome a journal entry already settles, or None if the source needs more work.

    `ambiguous` (reconciled by token), `error` (awaited again if its clone is known,
    else cloned once more) and `skipped` (cloned now) are not final: a resume finishes them.
    """
    if entry.status is None or entry.status in ("ambiguous", "error", "skipped"):
        return None
    return RerunOutcome(
        source_id=entry.source_id,
        job_id=entry.job_id,
        status=entry.status,
        attempts=entry.attempt,
    )


def sent_at(entry: JournalEntry) -> datetime:
    """The earliest time the entry's clone may have been sent."""
    return datetime.fromtimestamp(entry.sent or entry.updated, UTC)


def sent_by(entry: JournalEntry, now: datetime) -> datetime:
    """The latest time the entry's clone may have been sent (`now`: the resume's start).

    An intent written ahead has no send time: its POST, if any, went out before that run
    stopped, which a resume cannot date closer than its own start. An end written after
    it (`updated`) is later than any POST of the source.
    """
    if entry.sent is not None:
        return datetime.fromtimestamp(entry.sent, UTC)
    if entry.status is not None:
        return datetime.fromtimestamp(entry.updated, UTC)
    return now


def ambiguous(source_id: str, error: SubmissionUnknownError, attempt: int) -> RerunOutcome:
    return RerunOutcome(source_id=source_id, status="ambiguous", error=error, attempts=attempt)


def untokened(source_id: str) -> SubmissionUnknownError:
    return SubmissionUnknownError(
        "an earlier run stopped while cloning this source without an idempotency token; "
        "its clone may exist",
        source_id=source_id,
    )


def skipped(source_id: str, reason: str, attempt: int) -> RerunOutcome:
    """A source not cloned, and why."""
    return RerunOutcome(source_id=source_id, status="skipped", reason=reason, attempts=attempt)


def session_refusal(error: BaseException) -> str | None:
    """The reason, if `error` is the server refusing a job for its session (ended, limits)."""
    if isinstance(error, BadRequestError) and "session_id" in error.validation_keys:
        return f"the session refused the job: {error.message}"
    return None
