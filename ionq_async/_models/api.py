"""Typed models of IonQ v0.4 backends, characterizations, sessions, whoami and usage."""

from __future__ import annotations

import datetime as dt
import enum
import re

from attrs import frozen

from .jobs import Money

__all__ = [
    "Backend",
    "BackendStatus",
    "Characterization",
    "Fidelity",
    "GateFidelity",
    "GroupUsage",
    "Session",
    "SessionSettings",
    "SessionStatus",
    "Timing",
    "Usage",
    "UsageAmount",
    "UsagePeriod",
    "Whoami",
    "check_segment",
]

_SEGMENT = re.compile(r"[A-Za-z0-9._~-]+")


def check_segment(value: object, name: str) -> str:
    """Return `value` if it is a non-empty string safe as one URL path segment, else raise."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    if _SEGMENT.fullmatch(value) is None or value in (".", ".."):
        raise ValueError(
            f"{name} must be a non-empty name of letters, digits and . _ ~ -, got {value!r}"
        )
    return value


class BackendStatus(enum.StrEnum):
    """A backend's state, as IonQ v0.4 reports it."""

    AVAILABLE = "available"
    UNAVAILABLE = "unavailable"
    RETIRED = "retired"


class SessionStatus(enum.StrEnum):
    """A session's lifecycle state: created, started (it ran a job), ended."""

    CREATED = "created"
    STARTED = "started"
    ENDED = "ended"


@frozen(kw_only=True)
class Backend:
    """A backend as `GET /backends` reports it; `status` is kept as a str when unknown."""

    backend: str
    status: BackendStatus | str
    qubits: int | None = None
    average_queue_time: float | None = None
    last_updated: dt.datetime | None = None
    characterization_id: str | None = None
    degraded: bool | None = None
    kw: float | None = None
    location: str | None = None
    supported_gates: tuple[str, ...] | None = None
    supported_native_gates: tuple[str, ...] | None = None
    supported_error_mitigations: tuple[str, ...] | None = None

    @property
    def name(self) -> str:
        """The backend's name, e.g. "qpu.forte-1" (the `backend` field)."""
        return self.backend

    @property
    def is_available(self) -> bool:
        """True when the backend reports itself available."""
        return self.status == BackendStatus.AVAILABLE


@frozen(kw_only=True)
class GateFidelity:
    """One fidelity figure: the median and, when reported, its standard error."""

    median: float
    stderr: float | None = None


@frozen(kw_only=True)
class Fidelity:
    """Median fidelities of state preparation and measurement, 1-qubit and 2-qubit gates."""

    spam: GateFidelity | None = None
    one_qubit: GateFidelity | None = None
    two_qubit: GateFidelity | None = None


@frozen(kw_only=True)
class Timing:
    """System times as reported (`t1`, `t2`, `1q`, `2q`, `readout`, `reset`)."""

    t1: float | None = None
    t2: float | None = None
    one_qubit: float | None = None
    two_qubit: float | None = None
    readout: float | None = None
    reset: float | None = None


@frozen(kw_only=True)
class Characterization:
    """A backend's measured characteristics at one date."""

    id: str
    backend: str | None = None
    date: dt.datetime | None = None
    qubits: int | None = None
    connectivity: tuple[tuple[int, ...], ...] = ()
    fidelity: Fidelity | None = None
    timing: Timing | None = None


@frozen(kw_only=True)
class SessionSettings:
    """A session's limits (None when not set) and, once started, when it expires."""

    job_count_limit: int | None = None
    duration_limit_min: int | None = None
    cost_limit: Money | None = None
    expires_at: dt.datetime | None = None


@frozen(kw_only=True)
class Session:
    """A session: reserved QPU time for a series of jobs on one backend."""

    id: str
    status: SessionStatus | str
    active: bool | None = None
    backend: str | None = None
    organization_id: str | None = None
    project_id: str | None = None
    creator_id: str | None = None
    ender_id: str | None = None
    created_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    settings: SessionSettings = SessionSettings()

    @property
    def is_ended(self) -> bool:
        """True once the session has ended."""
        return self.status == SessionStatus.ENDED


@frozen(kw_only=True)
class Whoami:
    """The API key this client authenticates with (never the key itself)."""

    key_id: str
    key_name: str
    project_id: str | None = None


@frozen(kw_only=True)
class UsageAmount:
    """An amount in one currency or credit unit."""

    amount: float
    unit: str


@frozen(kw_only=True)
class GroupUsage:
    """One group's (job, project or user) usage in one period."""

    group_id: str | None = None
    group_name: str | None = None
    job_count: int | None = None
    amount: float | None = None
    amount_unit: str | None = None
    amounts: tuple[UsageAmount, ...] = ()
    time_us: float | None = None


@frozen(kw_only=True)
class UsagePeriod:
    """Usage in one day, week or month; `from_date` is the spec's `from`."""

    from_date: dt.date | None = None
    job_count: int | None = None
    amount: float | None = None
    amount_unit: str | None = None
    amounts: tuple[UsageAmount, ...] = ()
    time_us: float | None = None
    group_usages: tuple[GroupUsage, ...] = ()


@frozen(kw_only=True)
class Usage:
    """An organization's QPU usage and cost over a date range, period by period."""

    organization: str | None = None
    group_type: str | None = None
    modality: str | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    usage_from: dt.datetime | None = None
    usage_to: dt.datetime | None = None
    usage_unit: str | None = None
    amount_total: float | None = None
    amount_totals: tuple[UsageAmount, ...] = ()
    job_count: int | None = None
    time_us_total: float | None = None
    usage_data: tuple[UsagePeriod, ...] = ()
