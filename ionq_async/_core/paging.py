"""The walk across the pages of a cursor listing (`next`), the same for every listing."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import TypeVar

from ..errors import ResponseValidationError
from .declaration import Request
from .http import RequestPath
from .retry import RetryPolicy

__all__ = ["each", "walk"]

T = TypeVar("T")
PageAt = Callable[[str | None], Request[tuple[list[T], str | None]]]
"""The request for the page at a cursor (the first page when None)."""


async def walk(
    http: RequestPath,
    page_at: PageAt[T],
    *,
    retry: RetryPolicy | None = None,
    cursor: str | None = None,
) -> AsyncGenerator[list[T], None]:
    """Each page's items from `cursor` on; a cursor the server repeats is an error."""
    seen = {cursor} if cursor is not None else set()
    more = True
    while more:
        items, cursor = await http.send(page_at(cursor), retry)
        yield items
        if cursor in seen:
            raise ResponseValidationError(f"the server repeated the page cursor {cursor!r}")
        if cursor is not None:
            seen.add(cursor)
        more = cursor is not None


async def each(pages: AsyncGenerator[list[T], None]) -> AsyncGenerator[T, None]:
    """The items of `pages`, one by one; closing this closes the walk."""
    try:
        async for items in pages:
            for item in items:
                yield item
    finally:
        await pages.aclose()
