"""A loopback proxy in front of the emulator that can rewrite answers: an adversarial server."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

import aiohttp
from aiohttp import web

from ionq_async import AsyncIonQ
from ionq_async.testing import FakeIonQ

Rewrite = Callable[[web.Request, int, bytes], tuple[int, bytes] | None]


class Proxy:
    """Forwards every request to `fake`; `rewrite(request, status, body)` may replace answers."""

    def __init__(self, fake: FakeIonQ, rewrite: Rewrite) -> None:
        self.fake = fake
        self.rewrite = rewrite
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.port = 0

    async def _handle(self, request: web.Request) -> web.Response:
        assert self._session is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        async with self._session.request(
            request.method,
            self.fake.url + request.path_qs,
            data=body or None,
            headers=headers,
            allow_redirects=False,
        ) as resp:
            status, data = resp.status, await resp.read()
        changed = self.rewrite(request, status, data)
        if changed is not None:
            status, data = changed
        return web.Response(status=status, body=data, content_type="application/json")

    async def __aenter__(self) -> Self:
        self._session = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    def client(self, **kwargs: Any) -> AsyncIonQ:
        return AsyncIonQ(
            api_key=self.fake.api_key, base_url=f"http://127.0.0.1:{self.port}/v0.4", **kwargs
        )
