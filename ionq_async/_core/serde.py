"""The one cattrs _converter: every mapping between IonQ JSON and the models lives here."""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from .._models.api import (
    BackendStatus,
    Fidelity,
    SessionSettings,
    SessionStatus,
    Timing,
    UsagePeriod,
)
from .._models.jobs import (
    CloneRequest,
    Compilation,
    ErrorMitigation,
    Failure,
    Job,
    JobStatus,
    Noise,
    Settings,
)
from ..errors import ResponseValidationError

__all__ = [
    "dump_job",
    "dump_request",
    "load_job",
    "load_metadata",
    "read_date",
    "read_datetime",
    "structure",
    "unstructure",
]

T = TypeVar("T")
E = TypeVar("E", bound=enum.StrEnum)

_converter = cattrs.Converter()


_STATUSES: dict[str, JobStatus] = {s.value: s for s in JobStatus}


def _status(value: Any, _: Any) -> JobStatus | str:
    """A known status as a member; an unknown one kept as its raw string."""
    if isinstance(value, JobStatus):
        return value
    if not isinstance(value, str):
        raise TypeError(f"status must be a string, got {value!r}")
    return _STATUSES.get(value, value)


def _optional_status(value: Any, _: Any) -> JobStatus | str | None:
    return None if value is None else _status(value, None)


def _lenient_enum(enum_cls: type[E]) -> Callable[[Any, Any], E | str]:
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


def _session_settings(value: Any, _: Any) -> SessionSettings:
    if value is None:
        return SessionSettings()
    return _settings_fn(value, SessionSettings)


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


def _failure(value: Any, _: Any) -> Failure | None:
    """v0.4 `{code, message}`, falling back to the legacy `{error, code}` shape."""
    if value is None:
        return None
    if isinstance(value, str):
        return Failure(code="Unknown", message=value)
    if not isinstance(value, dict):
        raise TypeError(f"failure must be an object, got {value!r}")
    message = value.get("message") or value.get("error") or ""
    return Failure(code=str(value.get("code") or "Unknown"), message=str(message))


def _noise(value: Any, _: Any) -> Noise | None:
    if not isinstance(value, dict) or not isinstance(value.get("model"), str):
        return None
    seed = value.get("seed")
    seed = seed if isinstance(seed, int) and not isinstance(seed, bool) else None
    in_range = seed is not None and -(2**31) <= seed < 2**31
    return Noise(model=value["model"], seed=seed if in_range else None)


def _string_tuple(value: Any, _: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(str(v) for v in value)


def _loose_dict(value: Any, _: Any) -> dict[str, Any]:
    # Decoded JSON is ours alone: kept as is, not copied.
    return value if type(value) is dict else {}


def _nullable_dict(value: Any, _: Any) -> dict[str, Any] | None:
    return value if type(value) is dict else None


def _optional_datetime(value: Any, _: Any) -> datetime | None:
    return None if value is None else read_datetime(value)


def _metadata(value: Any, _: Any) -> dict[str, str] | None:
    """Job metadata: str -> str (values of other types are turned into strings)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise TypeError(f"metadata must be an object, got {value!r}")
    if all(type(v) is str for v in value.values()):
        return value
    return {str(k): v if type(v) is str else str(v) for k, v in value.items()}


def _optional_str(value: Any, _: Any) -> str | None:
    """A fast path for the many `str | None` fields (cattrs' generic Optional is slower)."""
    return value if value is None or type(value) is str else str(value)


def _optional_int(value: Any, _: Any) -> int | None:
    if value is None or type(value) is int:
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(f"expected an integer, got {value!r}")
    return int(value)


_converter.register_structure_hook(str | None, _optional_str)
_converter.register_structure_hook(int | None, _optional_int)
_converter.register_structure_hook(JobStatus | str, _status)
_converter.register_structure_hook(JobStatus | str | None, _optional_status)
_converter.register_structure_hook(datetime, read_datetime)
_converter.register_structure_hook(datetime | None, _optional_datetime)
_converter.register_structure_hook(dict[str, str] | None, _metadata)
_converter.register_structure_hook(Failure | None, _failure)
_converter.register_structure_hook(Noise | None, _noise)
_converter.register_structure_hook(tuple[str, ...] | None, _string_tuple)
_converter.register_structure_hook_func(lambda t: t == dict[str, Any], _loose_dict)
_converter.register_structure_hook_func(lambda t: t == dict[str, Any] | None, _nullable_dict)
_converter.register_structure_hook(Job, make_dict_structure_fn(Job, _converter))
_converter.register_structure_hook(BackendStatus | str, _lenient_enum(BackendStatus))
_converter.register_structure_hook(SessionStatus | str, _lenient_enum(SessionStatus))
_converter.register_structure_hook(date | None, read_date)
for _renamed in (Fidelity, Timing):
    _converter.register_structure_hook(
        _renamed,
        make_dict_structure_fn(
            _renamed,
            _converter,
            one_qubit=override(rename="1q"),
            two_qubit=override(rename="2q"),
        ),
    )
_converter.register_structure_hook(
    UsagePeriod,
    make_dict_structure_fn(UsagePeriod, _converter, from_date=override(rename="from")),
)
_settings_fn = make_dict_structure_fn(SessionSettings, _converter)
_converter.register_structure_hook(SessionSettings, _session_settings)


def _omit_unset(cls: type[Any]) -> Callable[[Any], dict[str, Any]]:
    """An unstructure hook that drops unset (None) fields and empty nested objects."""
    base = make_dict_unstructure_fn(cls, _converter)

    def unstructure(value: Any) -> dict[str, Any]:
        return {
            k: v
            for k, v in base(value).items()
            if v is not None and not (v == {} and attrs.has(type(getattr(value, k))))
        }

    return unstructure


for _cls in (Noise, ErrorMitigation, Compilation, Settings, CloneRequest):
    _converter.register_unstructure_hook(_cls, _omit_unset(_cls))


def _iso(value: datetime) -> str:
    """A timestamp as the API writes it: ISO 8601, UTC as `Z`."""
    return value.isoformat().replace("+00:00", "Z")


def _omit_none(cls: type[Any]) -> Callable[[Any], dict[str, Any]]:
    """An unstructure hook that drops the fields that are None (empty objects are kept)."""
    base = make_dict_unstructure_fn(cls, _converter)

    def unstructure(value: Any) -> dict[str, Any]:
        return {k: v for k, v in base(value).items() if v is not None}

    return unstructure


_converter.register_unstructure_hook(datetime, _iso)
_converter.register_unstructure_hook(Failure, _omit_none(Failure))
_converter.register_unstructure_hook(Job, _omit_none(Job))


def dump_job(job: Job) -> dict[str, Any]:
    """A Job as JSON data: unset fields left out, timestamps ISO 8601, statuses as strings."""
    data: dict[str, Any] = _converter.unstructure(job, Job)
    return data


def unstructure(value: Any) -> Any:
    """`value` (a model, or containers of models) as plain JSON data."""
    return _converter.unstructure(value)


def dump_request(request: CloneRequest) -> dict[str, Any]:
    """The JSON body for a clone/move: set fields only, so the rest is inherited."""
    body: dict[str, Any] = _converter.unstructure(request)
    return body


def structure(data: Any, cls: type[T], *, what: str | None = None) -> T:
    """Structure `data` as `cls`, raising ResponseValidationError with a readable reason."""
    try:
        result: T = _converter.structure(data, cls)
        return result
    except (cattrs.BaseValidationError, TypeError, ValueError, KeyError) as exc:
        if isinstance(exc, cattrs.BaseValidationError):
            reason = "; ".join(cattrs.transform_error(exc))
        else:
            reason = str(exc)
        raise ResponseValidationError(
            f"unexpected {what or cls.__name__} in response: {reason}"
        ) from exc


def load_job(data: Any) -> Job:
    """A Job from its JSON; ResponseValidationError when it is not one."""
    return structure(data, Job)


def load_metadata(value: Any) -> dict[str, str] | None:
    """A job's raw `metadata` as str -> str (None when absent); ResponseValidationError else."""
    try:
        return _metadata(value, None)
    except TypeError as exc:
        raise ResponseValidationError(f"unexpected job metadata: {exc}") from exc
