"""ionq_async: an async-first client of the IonQ Quantum Cloud API v0.4."""

from ._batch.estimate import RerunEstimate, SourceEstimate
from ._batch.journal import Journal, JournalEntry
from ._batch.run import RerunStream
from ._batch.types import RerunOptions, RerunOutcome, RerunProgress, RerunReport
from ._blocking import IonQ
from ._client import DEFAULT_BASE_URL, AsyncIonQ
from ._core import logs as _logs
from ._core.ratelimit import RateLimiter
from ._core.retry import RetryBudget, RetryEvent, RetryPolicy
from ._engine.polling import PollPolicy
from ._models.answers import CostEstimate, EstimateRate, JobPage, JobsStatusChange, JobStatusChange
from ._models.api import (
    Backend,
    BackendStatus,
    Characterization,
    Fidelity,
    GateFidelity,
    GroupUsage,
    Session,
    SessionSettings,
    SessionStatus,
    Timing,
    Usage,
    UsageAmount,
    UsagePeriod,
    Whoami,
)
from ._models.job_types import JOB_TYPES
from ._models.jobs import (
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
from ._models.results import CircuitResult, Results
from ._resources.account import Schemas
from ._resources.backends import Backends
from ._resources.jobs import Jobs
from ._resources.listing import JobListing
from ._resources.sessions import Sessions
from ._version import __version__
from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BudgetExceededError,
    ConflictError,
    IonQError,
    JobCanceledError,
    JobError,
    JobFailedError,
    JournalClosedError,
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
    "Backend",
    "BackendStatus",
    "Backends",
    "BadRequestError",
    "BudgetExceededError",
    "Characterization",
    "CircuitResult",
    "CloneRequest",
    "Compilation",
    "ConflictError",
    "CostEstimate",
    "ErrorMitigation",
    "EstimateRate",
    "Failure",
    "Fidelity",
    "GateFidelity",
    "GroupUsage",
    "IonQ",
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
    "JournalClosedError",
    "JournalEntry",
    "Money",
    "Noise",
    "NotFoundError",
    "PermissionDeniedError",
    "PollPolicy",
    "RateLimitError",
    "RateLimiter",
    "RequestTooLargeError",
    "RerunEstimate",
    "RerunOptions",
    "RerunOutcome",
    "RerunProgress",
    "RerunReport",
    "RerunStream",
    "ResponseValidationError",
    "Results",
    "RetryBudget",
    "RetryEvent",
    "RetryPolicy",
    "Schemas",
    "ServerError",
    "Session",
    "SessionSettings",
    "SessionStatus",
    "Sessions",
    "Settings",
    "SourceEstimate",
    "SubmissionUnknownError",
    "Timing",
    "Usage",
    "UsageAmount",
    "UsagePeriod",
    "WaitTimeoutError",
    "Whoami",
    "__version__",
]

_logs.configure_from_env()
