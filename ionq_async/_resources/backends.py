"""`client.backends`: backends, their status and queue time, and their characterizations."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import AsyncIterator
from typing import Any

from .._core.http import RequestPath
from .._core.retry import RetryPolicy
from .._core.serde import structure
from .._models.api import Backend, Characterization, check_segment
from .._models.jobs import check_job_id
from ..errors import ResponseValidationError

_Params = list[tuple[str, str]]
_Page = list[Characterization]

__all__ = ["Backends", "TimeBound", "time_bound"]

TimeBound = dt.datetime | dt.date | str | int | float
CHARACTERIZATION_PAGE = 10
"""The largest page the spec allows for characterizations (also its default)."""


def time_bound(value: object, name: str) -> str:
    """`value` (a datetime, date, ISO-8601 string or epoch seconds) as an ISO-8601 string."""
    if isinstance(value, bool) or not isinstance(value, dt.date | str | int | float):
        raise TypeError(
            f"{name} must be a datetime, date, ISO-8601 string or epoch seconds, "
            f"not {type(value).__name__}"
        )
    if isinstance(value, int | float):
        try:
            value = dt.datetime.fromtimestamp(value, dt.UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"{name} is not a valid epoch time: {value!r}") from None
    if isinstance(value, str):
        try:
            dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{name} must be an ISO-8601 date or time, got {value!r}") from None
        return value
    if isinstance(value, dt.datetime):
        # A naive datetime is UTC, like the API's own timestamps.
        aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return value.isoformat()


def _load_backends(data: Any) -> list[Backend]:
    if isinstance(data, dict) and isinstance(data.get("backends"), list):
        data = data["backends"]  # the shape qiskit-ionq also accepts
    if not isinstance(data, list):
        raise ResponseValidationError("unexpected backend list in response: not an array")
    return [structure(item, Backend) for item in data]


def _load_backend(name: str, data: Any) -> Backend:
    backend = structure(data, Backend)
    if backend.backend != name:
        raise ResponseValidationError(
            f"asked for backend {name}, the server answered backend {backend.backend}"
        )
    return backend


def _load_characterization(data: Any) -> Characterization:
    return structure(data, Characterization)


def _load_page(data: Any) -> list[Characterization]:
    if not isinstance(data, dict) or not isinstance(data.get("characterizations"), list):
        raise ResponseValidationError(
            "unexpected characterization page in response: no `characterizations` array"
        )
    return [structure(item, Characterization) for item in data["characterizations"]]


class Backends:
    """Backend operations of one AsyncIonQ client (`client.backends`)."""

    def __init__(self, http: RequestPath) -> None:
        self._http = http

    async def list(self, *, retry: RetryPolicy | None = None) -> list[Backend]:
        """Every backend, with its status, qubits and current queue time."""
        backends: list[Backend] = await self._http.request(
            "GET", "/backends", retry=retry, load=_load_backends
        )
        return backends

    async def get(self, name: str, *, retry: RetryPolicy | None = None) -> Backend:
        """One backend by name, e.g. "qpu.forte-1" (NotFoundError when unknown)."""
        check_segment(name, "name")
        backend: Backend = await self._http.request(
            "GET", f"/backends/{name}", retry=retry, load=functools.partial(_load_backend, name)
        )
        return backend

    def characterizations(
        self,
        name: str,
        *,
        start: TimeBound | None = None,
        end: TimeBound | None = None,
        retry: RetryPolicy | None = None,
    ) -> AsyncIterator[Characterization]:
        """Every characterization of backend `name` dated `start <= date < end`, newest first.

        `start` and `end` take a datetime, date, ISO-8601 string or epoch seconds.
        """
        check_segment(name, "name")
        params = [("limit", str(CHARACTERIZATION_PAGE))]
        if start is not None:
            params.append(("start", time_bound(start, "start")))
        if end is not None:
            params.append(("end", time_bound(end, "end")))
        return self._pages(name, params, retry)

    async def _pages(
        self, name: str, params: _Params, retry: RetryPolicy | None
    ) -> AsyncIterator[Characterization]:
        # The spec's `pages` is described as the pages *remaining* while servers send the
        # total, so paging stops on a short page instead of trusting it.
        seen: set[str] = set()
        page, full = 1, True
        while full:
            items: _Page = await self._http.request(
                "GET",
                f"/backends/{name}/characterizations",
                params=[*params, ("page", str(page))],
                retry=retry,
                load=_load_page,
            )
            if items and items[0].id in seen:
                raise ResponseValidationError(f"the server repeated page {page - 1} as {page}")
            seen.update(c.id for c in items)
            for item in items:
                yield item
            full = len(items) >= CHARACTERIZATION_PAGE
            page += 1

    async def characterization(
        self, name: str, id: str, *, retry: RetryPolicy | None = None
    ) -> Characterization:
        """One characterization of backend `name` by its id."""
        check_segment(name, "name")
        check_job_id(id, "id")
        found: Characterization = await self._http.request(
            "GET",
            f"/backends/{name}/characterizations/{id}",
            retry=retry,
            load=_load_characterization,
        )
        return found
