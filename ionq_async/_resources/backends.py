"""`client.backends`: backends, their status and queue time, and their characterizations."""

from __future__ import annotations

from collections.abc import AsyncIterator

from .._core import api
from .._core.http import RequestPath
from .._core.queries import CHARACTERIZATION_PAGE, Params, TimeBound, characterization_params
from .._core.retry import RetryPolicy
from .._models.api import Backend, Characterization, check_segment
from ..errors import ResponseValidationError

__all__ = ["Backends"]


class Backends:
    """Backend operations of one AsyncIonQ client (`client.backends`)."""

    def __init__(self, http: RequestPath) -> None:
        self._http = http

    async def list(self, *, retry: RetryPolicy | None = None) -> list[Backend]:
        """Every backend, with its status, qubits and current queue time."""
        return await self._http.send(api.GET_BACKENDS(), retry)

    async def get(self, name: str, *, retry: RetryPolicy | None = None) -> Backend:
        """One backend by name, e.g. "qpu.forte-1" (NotFoundError when unknown)."""
        return await self._http.send(api.GET_BACKEND(name), retry)

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
        return self._pages(name, characterization_params(start, end), retry)

    async def _pages(
        self, name: str, params: Params, retry: RetryPolicy | None
    ) -> AsyncIterator[Characterization]:
        # The spec's `pages` is described as the pages *remaining* while servers send the
        # total, so paging stops on a short page instead of trusting it.
        seen: set[str] = set()
        page, full = 1, True
        while full:
            request = api.GET_CHARACTERIZATIONS(name, [*params, ("page", str(page))])
            items = await self._http.send(request, retry)
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
        return await self._http.send(api.GET_CHARACTERIZATION(name, id), retry)
