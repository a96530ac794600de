"""The account's calls: whoami, an organization's usage, and the format schemas."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, get_args

from .._core.http import RequestPath
from .._core.retry import RetryPolicy
from .._core.serde import structure
from .._models.api import Usage, Whoami, check_segment
from ..errors import ResponseValidationError

__all__ = ["GroupBy", "Modality", "Schemas", "usage", "usage_params", "whoami"]

GroupBy = Literal["job", "project", "user"]
Modality = Literal["daily", "weekly", "monthly"]
_GROUPS: tuple[str, ...] = get_args(GroupBy)
_MODALITIES: tuple[str, ...] = get_args(Modality)


def _day(value: object, name: str) -> dt.date:
    """A calendar date from a date, a datetime (its date) or a "YYYY-MM-DD" string."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{name} must be a date as YYYY-MM-DD, got {value!r}") from None
    raise TypeError(f"{name} must be a date or a YYYY-MM-DD string, not {type(value).__name__}")


def _choice(value: object, name: str, options: tuple[str, ...]) -> str:
    if value not in options:
        raise ValueError(f"{name} must be one of {', '.join(options)}, got {value!r}")
    return str(value)


def usage_params(
    start_date: dt.date | str, end_date: dt.date | str, group_by: str, modality: str
) -> list[tuple[str, str]]:
    """The query of `GET /organizations/{id}/usage`, checked: `end_date` is after `start_date`."""
    start, end = _day(start_date, "start_date"), _day(end_date, "end_date")
    if end <= start:
        raise ValueError(f"end_date ({end}) must be after start_date ({start}); it is exclusive")
    return [
        ("start_date", start.isoformat()),
        ("end_date", end.isoformat()),
        ("group_by", _choice(group_by, "group_by", _GROUPS)),
        ("modality", _choice(modality, "modality", _MODALITIES)),
    ]


def _load_whoami(data: Any) -> Whoami:
    return structure(data, Whoami)


def _load_usage(data: Any) -> Usage:
    return structure(data, Usage)


async def whoami(http: RequestPath, *, retry: RetryPolicy | None = None) -> Whoami:
    """The API key the client authenticates with: its id, name and project."""
    found: Whoami = await http.request("GET", "/whoami", retry=retry, load=_load_whoami)
    return found


async def usage(
    http: RequestPath,
    organization_id: str,
    *,
    start_date: dt.date | str,
    end_date: dt.date | str,
    group_by: GroupBy = "project",
    modality: Modality = "daily",
    retry: RetryPolicy | None = None,
) -> Usage:
    """An organization's usage from `start_date` (inclusive) to `end_date` (exclusive)."""
    check_segment(organization_id, "organization_id")
    params = usage_params(start_date, end_date, group_by, modality)
    found: Usage = await http.request(
        "GET",
        f"/organizations/{organization_id}/usage",
        params=params,
        retry=retry,
        load=_load_usage,
    )
    return found


def _load_schema(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ResponseValidationError("unexpected format schema in response: not an object")
    return data


class Schemas:
    """The JSON Schema documents of IonQ's result and circuit formats (`client.schemas`)."""

    def __init__(self, http: RequestPath) -> None:
        self._http = http

    async def format(self, name: str, *, retry: RetryPolicy | None = None) -> dict[str, Any]:
        """The JSON Schema of format `name`, e.g. "ionq.result.probabilities.json.v2"."""
        check_segment(name, "name")
        schema: dict[str, Any] = await self._http.request(
            "GET", f"/schemas/formats/{name}", retry=retry, load=_load_schema
        )
        return schema
