"""ionq_async: an async-first client of the IonQ Quantum Cloud API v0.4."""

from ._client import DEFAULT_BASE_URL, AsyncIonQ
from ._jobs import Jobs
from ._journal import Journal, JournalEntry
from ._models import (
    CloneRequest,
    Compilation,
    ErrorMitigation,
    Failure,
    Job,
    JobCost,
    JobCreated,
    JobStatus,
    Money,
    Noise,
    Settings,
)
from ._polling import PollPolicy
from ._ratelimit import RateLimiter
from ._rerun_types import RerunOutcome, RerunProgress, RerunReport
from ._retry import RetryBudget, RetryEvent, RetryPolicy
from ._version import __version__
from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    IonQError,
    JobCanceledError,
    JobError,
    JobFailedError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTooLargeError,
    ResponseValidationError,
    ServerError,
    SubmissionUnknownError,
    WaitTimeoutError,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncIonQ",
    "AuthenticationError",
    "BadRequestError",
    "CloneRequest",
    "Compilation",
    "ConflictError",
    "ErrorMitigation",
    "Failure",
    "IonQError",
    "Job",
    "JobCanceledError",
    "JobCost",
    "JobCreated",
    "JobError",
    "JobFailedError",
    "JobStatus",
    "Jobs",
    "Journal",
    "JournalEntry",
    "Money",
    "Noise",
    "NotFoundError",
    "PermissionDeniedError",
    "PollPolicy",
    "RateLimitError",
    "RateLimiter",
    "RequestTooLargeError",
    "RerunOutcome",
    "RerunProgress",
    "RerunReport",
    "ResponseValidationError",
    "RetryBudget",
    "RetryEvent",
    "RetryPolicy",
    "ServerError",
    "Settings",
    "SubmissionUnknownError",
    "WaitTimeoutError",
    "__version__",
]
