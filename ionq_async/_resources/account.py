"""`client.schemas`: the JSON Schemas of IonQ's formats (whoami and usage are on the client)."""

from __future__ import annotations

from typing import Any

from .._core import api
from .._core.http import RequestPath
from .._core.retry import RetryPolicy

__all__ = ["Schemas"]


class Schemas:
    """The JSON Schema documents of IonQ's result and circuit formats (`client.schemas`)."""

    def __init__(self, http: RequestPath) -> None:
        self._http = http

    async def format(self, name: str, *, retry: RetryPolicy | None = None) -> dict[str, Any]:
        """The JSON Schema of format `name`, e.g. "ionq.result.probabilities.json.v2"."""
        return await self._http.send(api.GET_FORMAT_SCHEMA(name), retry)
