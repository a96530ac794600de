"""The ionq_async error tree, and the pure mapping from an HTTP answer to an error.

```text
IonQError
├── APIConnectionError            no usable HTTP answer; .method .url .request_sent
│   ├── APITimeoutError           (also TimeoutError)
│   └── SubmissionUnknownError    a POST may have created a job; carries the request
├── APIStatusError                .status_code .message .request_id .body; also a 3xx (not followed)
│   ├── BadRequestError 400       .validation_keys
│   ├── AuthenticationError 401
│   ├── PermissionDeniedError 403
│   ├── NotFoundError 404
│   ├── ConflictError 409
│   ├── RequestTooLargeError 413
│   ├── RateLimitError 429        .retry_after
│   └── ServerError 5xx           .retry_after
├── ResponseValidationError       a 2xx answer whose body is not the expected JSON
├── JobError                      .job_id
│   ├── JobFailedError            .job .failure .code
│   ├── JobCanceledError          .job
│   └── WaitTimeoutError          .timeout .job (also TimeoutError)
├── BudgetExceededError           .estimate .max_cost
└── JournalClosedError            a batch's journal was closed under it (also RuntimeError)
```
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from multidict import CIMultiDict

if TYPE_CHECKING:
    from ._models.jobs import Failure, Job

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BudgetExceededError",
    "ConflictError",
    "IonQError",
    "JobCanceledError",
    "JobError",
    "JobFailedError",
    "JournalClosedError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestTooLargeError",
    "ResponseValidationError",
    "ServerError",
    "SubmissionUnknownError",
    "WaitTimeoutError",
    "error_from_response",
    "parse_retry_after",
]

_BODY_TEXT_LIMIT = 500


class IonQError(Exception):
    """Base class of every error raised by ionq_async."""


class APIConnectionError(IonQError):
    """No usable HTTP answer: connect failure, reset, timeout or unreadable body."""

    def __init__(
        self, message: str, *, method: str = "", url: str = "", request_sent: bool = True
    ) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.url = url
        self.request_sent = request_sent

    def __str__(self) -> str:
        where = f" ({self.method} {self.url})" if self.method else ""
        return f"{self.message}{where}"


class APITimeoutError(APIConnectionError, TimeoutError):
    """One HTTP attempt took longer than the client's `request_timeout`."""


class SubmissionUnknownError(APIConnectionError):
    """A POST was sent but its answer was lost: a job may or may not have been created.

    It is never retried blindly; `request` is the body that was sent, so the caller (or the
    batch engine, through a metadata token) can look for the job before submitting again.
    `token` is the idempotency token the lost clone carried, if it had one.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str = "POST",
        url: str = "",
        request: Mapping[str, Any] | None = None,
        source_id: str | None = None,
        token: str | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url, request_sent=True)
        self.request: Mapping[str, Any] = dict(request or {})
        self.source_id = source_id
        self.token = token


class APIStatusError(IonQError):
    """The server answered with an error status; `retry_after` if it said when to come back."""

    status_code: int = 0

    def __init_subclass__(cls, *, status: int | None = None, **kw: Any) -> None:
        """`class NotFoundError(APIStatusError, status=404)`: the status it stands for."""
        super().__init_subclass__(**kw)
        if status is not None:
            cls.status_code = status

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        request_id: str | None = None,
        body: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        self.request_id = request_id
        self.body = body
        self.retry_after = retry_after

    def __str__(self) -> str:
        rid = f", request id {self.request_id}" if self.request_id else ""
        return f"HTTP {self.status_code}: {self.message}{rid}"


class BadRequestError(APIStatusError, status=400):
    """400: the request was invalid; `validation_keys` names the offending fields."""

    def __init__(self, *args: Any, validation_keys: tuple[str, ...] = (), **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.validation_keys = validation_keys


class AuthenticationError(APIStatusError, status=401):
    """401: the API key is missing or invalid."""


class PermissionDeniedError(APIStatusError, status=403):
    """403: the key may not use this resource."""


class NotFoundError(APIStatusError, status=404):
    """404: no such job (or its results are not ready yet)."""


class ConflictError(APIStatusError, status=409):
    """409: e.g. moving a job that can no longer be canceled."""


class RequestTooLargeError(APIStatusError, status=413):
    """413: the body is over IonQ's 10 MB limit."""


class RateLimitError(APIStatusError, status=429):
    """429: too many requests; `retry_after` is the server's wait in seconds, if it gave one."""


class ServerError(APIStatusError, status=500):
    """5xx: the server or a gateway failed; `retry_after` if it said when to come back."""


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    cls.status_code: cls for cls in APIStatusError.__subclasses__()
}
"""The classes above by status; subclasses defined elsewhere do not change what is raised."""


class ResponseValidationError(IonQError):
    """A success status whose body is not the JSON the API documents."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        request_id: str | None = None,
        body: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.request_id = request_id
        self.body = body


class JobError(IonQError):
    """A job ended (or was awaited) in a way the caller asked to be told about."""

    def __init__(self, message: str, *, job_id: str) -> None:
        super().__init__(message)
        self.job_id = job_id


class JobFailedError(JobError):
    """The awaited job ended `failed`."""

    def __init__(self, job: Job) -> None:
        failure = job.failure
        code = failure.code if failure else "Unknown"
        text = failure.message if failure else "no failure details"
        super().__init__(f"job {job.id} failed: {code}: {text}", job_id=job.id)
        self.job = job
        self.failure: Failure | None = failure
        self.code = code


class JobCanceledError(JobError):
    """The awaited job ended `canceled`."""

    def __init__(self, job: Job) -> None:
        super().__init__(f"job {job.id} was canceled", job_id=job.id)
        self.job = job


class WaitTimeoutError(JobError, TimeoutError):
    """A wait ran out of time; `job` is the last state seen (None if never read)."""

    def __init__(self, job_id: str, *, timeout: float, job: Job | None = None) -> None:
        last = f" (last status {job.status})" if job is not None else ""
        super().__init__(f"job {job_id} not finished after {timeout:g} s{last}", job_id=job_id)
        self.timeout = timeout
        self.job = job


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After value: delta seconds or an HTTP date."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def _message_from_body(body: bytes, reason: str) -> tuple[str, str, dict[str, Any]]:
    text = body.decode("utf-8", errors="replace")
    try:
        data = json.loads(text) if text else None
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ("message", "error"):
            value = data.get(key)
            if isinstance(value, str) and value:
                return value, text, data
            if isinstance(value, dict) and isinstance(value.get("message"), str):
                return str(value["message"]), text, data
        return reason or "error", text, data
    snippet = text.strip()[:_BODY_TEXT_LIMIT]
    return snippet or reason or "error", text, {}


def _redirect_message(location: str | None) -> str:
    """A 3xx's message: where it pointed (the host only, never the rest of the URL)."""
    try:
        host = urlsplit(location).hostname if location else None
    except ValueError:
        host = None
    where = f" to {host}" if host else ""
    return f"redirected{where}; not followed (the IonQ API never redirects)"


def error_from_response(
    status: int, headers: Mapping[str, str], body: bytes, *, reason: str = ""
) -> APIStatusError:
    """The typed error for an error status, its headers and body (no I/O)."""
    message, text, data = _message_from_body(body, reason)
    headers = CIMultiDict(headers)  # header names are case-insensitive, even in a plain dict
    request_id = headers.get("x-request-id")
    kw: dict[str, Any] = {"status_code": status, "request_id": request_id, "body": text}
    if 300 <= status < 400:
        return APIStatusError(_redirect_message(headers.get("location")), **kw)
    if status == 429:
        return RateLimitError(
            message, retry_after=parse_retry_after(headers.get("retry-after")), **kw
        )
    if status == 400:
        validation = data.get("validation")
        keys = validation.get("keys") if isinstance(validation, dict) else None
        valid = tuple(str(k) for k in keys) if isinstance(keys, list) else ()
        return BadRequestError(message, validation_keys=valid, **kw)
    if status >= 500:
        return ServerError(message, retry_after=parse_retry_after(headers.get("retry-after")), **kw)
    return _STATUS_CLASSES.get(status, APIStatusError)(message, **kw)


class BudgetExceededError(IonQError):
    """A batch would cost more than its `max_cost`, or its cost is not fully known.

    Raised before any clone is sent; `estimate` is the RerunEstimate it was judged by.
    """

    def __init__(
        self, message: str, *, estimate: Any = None, max_cost: float | None = None
    ) -> None:
        super().__init__(message)
        self.estimate = estimate
        self.max_cost = max_cost


class JournalClosedError(IonQError, RuntimeError):
    """A write to a journal that is closed, or was closed before the write could commit."""
