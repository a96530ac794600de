"""ionq_async: an async-first client of the IonQ Quantum Cloud API v0.4."""

from ._answers import CostEstimate, EstimateRate, JobPage, JobsStatusChange, JobStatusChange
from ._client import DEFAULT_BASE_URL, AsyncIonQ
from ._job_types import JOB_TYPES
from ._jobs import Jobs
from ._journal import Journal, JournalEntry
from ._listing import JobListing
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
from ._rerun_types import RerunOptions, RerunOutcome, RerunProgress, RerunReport
from ._result_models import CircuitResult, Results
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
    "JOB_TYPES",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncIonQ",
    "AuthenticationError",
    "BadRequestError",
    "CircuitResult",
    "CloneRequest",
    "Compilation",
    "ConflictError",
    "CostEstimate",
    "ErrorMitigation",
    "EstimateRate",
    "Failure",
    "IonQError",
    "Job",
    "JobCanceledError",
    "JobCost",
    "JobCreated",
    "JobError",
    "JobFailedError",
    "JobListing",
    "JobPage",
    "JobStatus",
    "JobStatusChange",
    "Jobs",
    "JobsStatusChange",
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
    "RerunOptions",
    "RerunOutcome",
    "RerunProgress",
    "RerunReport",
    "ResponseValidationError",
    "Results",
    "RetryBudget",
    "RetryEvent",
    "RetryPolicy",
    "ServerError",
    "Settings",
    "SubmissionUnknownError",
    "WaitTimeoutError",
    "__version__",
]
