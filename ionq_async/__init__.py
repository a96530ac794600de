"""ionq_async: an async-first client of the IonQ Quantum Cloud API v0.4."""

from ._version import __version__
from .batch import RerunOutcome, RerunProgress, RerunReport
from .client import DEFAULT_BASE_URL, AsyncIonQ
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
from .jobs import Jobs
from .journal import Journal, JournalEntry
from .models import (
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
from .polling import PollPolicy
from .ratelimit import RateLimiter
from .retry import RetryBudget, RetryEvent, RetryPolicy

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
