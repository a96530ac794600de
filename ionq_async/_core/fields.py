"""Lenient readers of single JSON fields: the converter's hooks, usable on their own."""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from .._models.jobs import Failure, JobStatus, Noise

__all__ = [
    "STATUSES",
    "lenient_enum",
    "read_date",
    "read_datetime",
    "read_described_datetime",
    "read_failure",
    "read_loose_dict",
    "read_metadata",
    "read_noise",
    "read_nullable_dict",
    "read_optional_datetime",
    "read_optional_int",
    "read_optional_status",
    "read_optional_str",
    "read_status",
    "read_string_tuple",
]

E = TypeVar("E", bound=enum.StrEnum)

STATUSES: dict[str, JobStatus] = {s.value: s for s in JobStatus}


def read_status(value: Any, _: Any) -> JobStatus | str:
    """A known status as a member; an unknown one kept as its raw string."""
    if isinstance(value, JobStatus):
        return value
    if not isinstance(value, str):
        raise TypeError(f"status must be a string, got {value!r}")
    return STATUSES.get(value, value)


def read_optional_status(value: Any, _: Any) -> JobStatus | str | None:
    return None if value is None else read_status(value, None)


def lenient_enum(enum_cls: type[E]) -> Callable[[Any, Any], E | str]:
    """A hook reading a known value as a member of `enum_cls` and an unknown one as its str."""
    members: dict[str, E] = {m.value: m for m in enum_cls}

    def hook(value: Any, _: Any) -> E | str:
        if not isinstance(value, str):
            raise TypeError(f"status must be a string, got {value!r}")
        return members.get(value, value)

    return hook


def read_date(value: Any, _: Any = None) -> date | None:
    """A calendar date from "YYYY-MM-DD" (or a full timestamp, whose date is kept)."""
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, str) and len(value) == 10:
        return date.fromisoformat(value)
    return read_datetime(value).date()


def read_datetime(value: Any, _: Any = None) -> datetime:
    """An aware datetime from an ISO-8601 string (UTC if it has no offset) or epoch seconds."""
    if type(value) is str:  # the usual case first
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    if isinstance(value, datetime):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if not isinstance(value, str):
        raise TypeError(f"timestamp must be an ISO-8601 string, got {value!r}")
    return read_datetime(str(value))


def read_failure(value: Any, _: Any) -> Failure | None:
    """v0.4 `{code, message}`, falling back to the legacy `{error, code}` shape."""
    if value is None:
        return None
    if isinstance(value, str):
        return Failure(code="Unknown", message=value)
    if not isinstance(value, dict):
        raise TypeError(f"failure must be an object, got {value!r}")
    message = value.get("message") or value.get("error") or ""
    return Failure(code=str(value.get("code") or "Unknown"), message=str(message))


_NOISES: dict[tuple[str, int | None], Noise] = {}
_NOISES_KEPT = 256


def read_noise(value: Any, _: Any) -> Noise | None:
    """The job's simulator noise; the few distinct ones are shared (Noise is immutable)."""
    if not isinstance(value, dict) or not isinstance(model := value.get("model"), str):
        return None
    seed = value.get("seed")
    seed = seed if isinstance(seed, int) and not isinstance(seed, bool) else None
    if seed is not None and not -(2**31) <= seed < 2**31:
        seed = None
    noise = _NOISES.get((model, seed))
    if noise is None:
        noise = Noise(model=model, seed=seed)
        if len(_NOISES) < _NOISES_KEPT:
            _NOISES[model, seed] = noise
    return noise


def read_string_tuple(value: Any, _: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(str(v) for v in value)


def read_loose_dict(value: Any, _: Any) -> dict[str, Any]:
    # Decoded JSON is ours alone: kept as is, not copied.
    return value if type(value) is dict else {}


def read_nullable_dict(value: Any, _: Any) -> dict[str, Any] | None:
    return value if type(value) is dict else None


def read_optional_datetime(value: Any, _: Any) -> datetime | None:
    return None if value is None else read_datetime(value)


def read_described_datetime(value: Any, _: Any) -> datetime | None:
    """A field the spec types as a free string that describes a time: None if not a time.

    `Backend.last_updated` and `Characterization.date` are plain strings in the spec; one
    that is no ISO-8601 time or epoch must not make a whole listing unreadable.
    """
    try:
        return read_optional_datetime(value, None)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def read_metadata(value: Any, _: Any) -> dict[str, str] | None:
    """Job metadata: str -> str (values of other types turned into strings, nulls left out)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise TypeError(f"metadata must be an object, got {value!r}")
    for v in value.values():
        if type(v) is not str:
            return {
                str(k): v if type(v) is str else str(v) for k, v in value.items() if v is not None
            }
    return value


def read_optional_str(value: Any, _: Any) -> str | None:
    """A fast path for the many `str | None` fields (cattrs' generic Optional is slower)."""
    return value if value is None or type(value) is str else str(value)


def read_optional_int(value: Any, _: Any) -> int | None:
    if value is None or type(value) is int:
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(f"expected an integer, got {value!r}")
    return int(value)
