"""What a journal entry or a lost answer means for a source: done, to await, or unknown."""

from __future__ import annotations

from datetime import UTC, datetime

from ._journal import JournalEntry
from ._models import check_job_id
from ._rerun_types import RerunOutcome
from .errors import SubmissionUnknownError

__all__ = ["ambiguous", "is_id", "journaled_end", "sent_at", "untokened"]


def is_id(value: str) -> bool:
    try:
        check_job_id(value, "source_id")
    except (ValueError, TypeError):
        return False
    return True


def journaled_end(entry: JournalEntry) -> RerunOutcome | None:
    """The outcome a journal entry already settles, or None if the source needs more work.

    `ambiguous` (reconciled by token) and `error` (awaited again if its clone is known,
    else cloned once more) are not final: a resume finishes them.
    """
    if entry.status is None or entry.status in ("ambiguous", "error"):
        return None
    return RerunOutcome(
        source_id=entry.source_id,
        job_id=entry.job_id,
        status=entry.status,
        attempts=entry.attempt,
    )


def sent_at(entry: JournalEntry) -> datetime:
    return datetime.fromtimestamp(entry.sent or entry.updated, UTC)


def ambiguous(source_id: str, error: SubmissionUnknownError, attempt: int) -> RerunOutcome:
    return RerunOutcome(source_id=source_id, status="ambiguous", error=error, attempts=attempt)


def untokened(source_id: str) -> SubmissionUnknownError:
    return SubmissionUnknownError(
        "an earlier run stopped while cloning this source without an idempotency token; "
        "its clone may exist",
        source_id=source_id,
    )
