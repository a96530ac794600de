"""Typed models of IonQ v0.4 jobs and of the clone request; no wire logic lives here."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypedDict

from attrs import field, frozen

__all__ = [
    "INT32_MAX",
    "MAX_SHOTS",
    "CloneFields",
    "CloneRequest",
    "Compilation",
    "ErrorMitigation",
    "Failure",
    "Job",
    "JobCost",
    "JobCreated",
    "JobStatus",
    "Money",
    "Noise",
    "Settings",
    "check_job_id",
    "is_terminal",
]

INT32_MAX = 2**31 - 1
_INT32 = (-(2**31), INT32_MAX)
_HEX_AS_0 = bytes.maketrans(b"0123456789abcdefABCDEF", b"0" * 22)
_CANONICAL = b"00000000-0000-0000-0000-000000000000"
MAX_SHOTS = 1_000_000
"""The most shots a job may ask for."""


class JobStatus(enum.StrEnum):
    """A job's lifecycle state, as IonQ v0.4 reports it."""

    SUBMITTED = "submitted"
    READY = "ready"
    STARTED = "started"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def is_terminal(self) -> bool:
        """True for completed, failed and canceled."""
        return self in _TERMINAL


_TERMINAL = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED})


def is_terminal(status: JobStatus | str) -> bool:
    """True when a status (a member or a raw server string) is final."""
    return status in _TERMINAL


def check_job_id(value: object, name: str = "job_id") -> str:
    """Return `value` if it is a UUID string in canonical 8-4-4-4-12 form, else raise."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a UUID string, not {type(value).__name__}")
    # The 8-4-4-4-12 shape, each hex digit read as "0" (a regex match costs 1.5x as much).
    if len(value) != 36 or not value.isascii() or value.encode().translate(_HEX_AS_0) != _CANONICAL:
        try:
            uuid.UUID(value)
        except ValueError:
            raise ValueError(f"{name} must be a well-formed UUID, got {value!r}") from None
        raise ValueError(f"{name} must be a UUID in canonical 8-4-4-4-12 form, got {value!r}")
    return value


def _strict_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low:,} and {high:,}, got {value:,}")


def _optional(name: str, value: object, kind: type | tuple[type, ...]) -> None:
    if value is None:
        return
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise TypeError(f"{name} must not be a bool")
    if not isinstance(value, kind):
        expected = (
            kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        )
        raise TypeError(f"{name} must be {expected} or None, not {type(value).__name__}")


def _freeze_metadata(value: Mapping[str, str] | None) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise TypeError(f"metadata must be a mapping of str to str, not {type(value).__name__}")
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise TypeError(
                f"metadata must map str to str; {key!r}: {item!r} is "
                f"{type(key).__name__} -> {type(item).__name__}"
            )
    return dict(value)


@frozen(kw_only=True)
class Noise:
    """Simulator noise: a model name (e.g. "aria-1") and an optional int32 seed."""

    model: str
    seed: int | None = None

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.model, str) or not self.model:
            raise TypeError(f"noise.model must be a non-empty str, got {self.model!r}")
        if self.seed is not None:
            _strict_int("noise.seed", self.seed, *_INT32)


@frozen(kw_only=True)
class ErrorMitigation:
    """Error-mitigation switches; None means "as the source job had it"."""

    debiasing: bool | None = None
    symmetry_verification: bool | None = None

    def __attrs_post_init__(self) -> None:
        _optional("settings.error_mitigation.debiasing", self.debiasing, bool)
        _optional(
            "settings.error_mitigation.symmetry_verification", self.symmetry_verification, bool
        )


@frozen(kw_only=True)
class Compilation:
    """Compilation settings; None means "as the source job had it"."""

    opt: float | None = None
    precision: str | None = None
    gate_basis: str | None = None

    def __attrs_post_init__(self) -> None:
        _optional("settings.compilation.opt", self.opt, (int, float))
        _optional("settings.compilation.precision", self.precision, str)
        _optional("settings.compilation.gate_basis", self.gate_basis, str)


@frozen(kw_only=True)
class Settings:
    """Job settings: error mitigation and compilation."""

    error_mitigation: ErrorMitigation | None = None
    compilation: Compilation | None = None

    def __attrs_post_init__(self) -> None:
        _optional("settings.error_mitigation", self.error_mitigation, ErrorMitigation)
        _optional("settings.compilation", self.compilation, Compilation)


@frozen(kw_only=True)
class CloneRequest:
    """The body of `POST /jobs/{id}/clone` (and move); every unset field is inherited.

    A field left as None is omitted from the request, so the new job keeps the source
    job's value. Validation happens here, before any request is sent.
    """

    parent: str | None = None
    name: str | None = None
    metadata: dict[str, str] | None = field(default=None, converter=_freeze_metadata)
    shots: int | None = None
    backend: str | None = None
    session_id: str | None = None
    settings: Settings | None = None
    dry_run: bool | None = None
    noise: Noise | None = None

    def __attrs_post_init__(self) -> None:
        if self.parent is not None:
            check_job_id(self.parent, "parent")
        _optional("name", self.name, str)
        if self.shots is not None:
            _strict_int("shots", self.shots, 1, MAX_SHOTS)
        for field_name in ("backend", "session_id"):
            value = getattr(self, field_name)
            _optional(field_name, value, str)
            if value is not None and not value.strip():
                raise ValueError(
                    f"{field_name} must not be blank: leave it unset (None) to inherit "
                    "the source job's"
                )
        _optional("settings", self.settings, Settings)
        _optional("dry_run", self.dry_run, bool)
        _optional("noise", self.noise, Noise)


class CloneFields(TypedDict, total=False):
    """The fields of CloneRequest as keyword arguments of `jobs.clone()` and `jobs.move()`."""

    parent: str | None
    name: str | None
    metadata: Mapping[str, str] | None
    shots: int | None
    backend: str | None
    session_id: str | None
    settings: Settings | None
    dry_run: bool | None
    noise: Noise | None


@frozen(kw_only=True)
class Failure:
    """Why a job failed: a code from the spec's enum (or a legacy one) and a message."""

    code: str
    message: str


@frozen(kw_only=True)
class JobCreated:
    """The answer to create, clone and move: the new job's id."""

    id: str
    status: JobStatus | str | None = None
    session_id: str | None = None


@frozen(kw_only=True)
class Money:
    """An amount with its unit (a currency code, or "credit")."""

    value: float
    unit: str


@frozen(kw_only=True)
class JobCost:
    """A job's estimated and, once known, actual cost."""

    dry_run: bool = False
    estimated_cost: Money | None = None
    cost: Money | None = None


@frozen(kw_only=True)
class Job:
    """A job as `GET /jobs/{id}` or a list page reports it.

    `status` is a `JobStatus`, or the raw string when the server sends a status this
    version does not know (such a status is never terminal).
    """

    id: str
    status: JobStatus | str
    type: str | None = None
    backend: str | None = None
    dry_run: bool = False
    name: str | None = None
    metadata: dict[str, str] | None = None
    shots: int | None = None
    noise: Noise | None = None
    failure: Failure | None = None
    submitter_id: str | None = None
    project_id: str | None = None
    parent_job_id: str | None = None
    child_job_ids: tuple[str, ...] | None = None
    session_id: str | None = None
    submitted_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    predicted_wait_time_ms: int | None = None
    predicted_execution_duration_ms: int | None = None
    execution_duration_ms: int | None = None
    cost_model: str | None = None
    settings: dict[str, Any] = field(factory=dict)
    stats: dict[str, Any] = field(factory=dict)
    output: dict[str, Any] = field(factory=dict)
    results: dict[str, Any] | None = None

    @property
    def is_terminal(self) -> bool:
        """True once the job is completed, failed or canceled."""
        return self.status in _TERMINAL
