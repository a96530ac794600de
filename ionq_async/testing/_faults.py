"""FaultPlan: scripted or seeded-random infrastructure faults per route."""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

FaultKind = Literal["status", "html", "truncated", "reset", "hang", "commit_then_fail"]
ROUTES = (
    "create",
    "list_jobs",
    "delete_jobs",
    "get_job",
    "delete_job",
    "cancel",
    "cancel_many",
    "clone",
    "move",
    "cost",
    "probabilities",
    "artifact",
    "backends",
    "whoami",
    "estimate",
    "aggregated",
    "legacy_results",
    "backend",
    "characterizations",
    "characterization",
    "create_session",
    "sessions",
    "session",
    "end_session",
    "session_jobs",
    "format_schema",
    "usage",
)
"""Route names a FaultPlan can target; ``"*"`` matches every route."""
RETRYABLE_STATUSES = (429, 500, 502, 503, 504, *range(520, 530))


@dataclass(frozen=True)
class Fault:
    """One injected fault; build it with the class-method constructors."""

    kind: FaultKind
    status: int = 503
    retry_after: str | None = None
    seconds: float | None = None

    @classmethod
    def http(cls, status: int = 503, *, retry_after: float | str | None = None) -> Fault:
        """An IonQ-shaped JSON error answer; ``retry_after`` in seconds or as an HTTP date."""
        ra = None if retry_after is None else str(retry_after)
        if isinstance(retry_after, float) and retry_after.is_integer():
            ra = str(int(retry_after))
        return cls("status", status=status, retry_after=ra)

    @classmethod
    def rate_limited(cls, retry_after: float | str = 1) -> Fault:
        """A 429 with ``Retry-After`` (seconds, or an HTTP date string)."""
        return cls.http(429, retry_after=retry_after)

    @classmethod
    def html(cls, status: int = 502) -> Fault:
        """A Cloudflare-style HTML error page with ``status``."""
        return cls("html", status=status)

    @classmethod
    def truncated(cls) -> Fault:
        """The real answer (handler runs) with its JSON body cut in half."""
        return cls("truncated", status=200)

    @classmethod
    def reset(cls) -> Fault:
        """Drop the connection without any response."""
        return cls("reset")

    @classmethod
    def hang(cls, seconds: float | None = None) -> Fault:
        """Never answer: wait ``seconds`` (default: until server shutdown), then drop."""
        return cls("hang", seconds=seconds)

    @classmethod
    def commit_then_fail(cls, status: int | None = None) -> Fault:
        """Run the handler (a POST creates its job), then drop (or answer ``status``)."""
        return cls("commit_then_fail", status=status or 0)


def default_random_kinds() -> list[Fault]:
    """Faults FaultPlan.random draws from when no kinds are given."""
    return [
        Fault.rate_limited(1),
        Fault.http(500),
        Fault.http(502),
        Fault.http(503),
        Fault.http(504),
        Fault.http(522),
        Fault.html(502),
        Fault.reset(),
    ]


@dataclass
class _RandomRule:
    rate: float
    kinds: list[Fault]
    routes: frozenset[str] | None
    rng: random.Random


class FaultPlan:
    """Which requests fail and how: scripted per route, seeded-random, or a timed outage.

    Scripted faults are consumed in order, one per matching request, before random rules.
    Route names are listed in ``ROUTES`` (``"*"`` = any route).
    """

    def __init__(self) -> None:
        self._scripted: dict[str, deque[Fault]] = {}
        self._random: list[_RandomRule] = []
        self._outages: list[tuple[float, float, int]] = []
        self._pending_outages: list[tuple[float, float, int]] = []

    def add(self, route: str, fault: Fault, times: int = 1) -> FaultPlan:
        """Script ``fault`` for the next ``times`` requests of ``route``."""
        _check_route(route)
        self._scripted.setdefault(route, deque()).extend([fault] * times)
        return self

    def sequence(self, route: str, faults: Iterable[Fault | None]) -> FaultPlan:
        """Script one entry per request of ``route``; ``None`` lets that request through."""
        _check_route(route)
        self._scripted.setdefault(route, deque()).extend(faults)  # type: ignore[arg-type]
        return self

    def add_random(
        self,
        rate: float,
        kinds: Iterable[Fault] | None = None,
        routes: Iterable[str] | None = None,
        seed: int = 0,
    ) -> FaultPlan:
        """Fail a ``rate`` fraction of matching requests with a seeded choice of ``kinds``."""
        route_set = None if routes is None else frozenset(routes)
        for r in route_set or ():
            _check_route(r)
        kind_list = list(kinds) if kinds is not None else default_random_kinds()
        self._random.append(_RandomRule(rate, kind_list, route_set, random.Random(seed)))
        return self

    @classmethod
    def random(
        cls,
        rate: float,
        kinds: Iterable[Fault] | None = None,
        routes: Iterable[str] | None = None,
        seed: int = 0,
    ) -> FaultPlan:
        """A plan failing a ``rate`` fraction of requests (seeded, reproducible)."""
        return cls().add_random(rate, kinds, routes, seed)

    def outage(self, seconds: float, status: int = 503, *, start: float = 0.0) -> FaultPlan:
        """Answer ``status`` to every request from ``start`` to ``start + seconds`` after bind."""
        self._pending_outages.append((start, seconds, status))
        return self

    def bind(self, now: float) -> None:
        """Anchor relative outages at clock time ``now`` (called when the server starts)."""
        for start, seconds, status in self._pending_outages:
            self._outages.append((now + start, now + start + seconds, status))
        self._pending_outages.clear()

    def pick(self, route: str, now: float) -> Fault | None:
        """The fault for this request, if any (consumes scripted entries)."""
        for begin, end, status in self._outages:
            if begin <= now < end:
                return Fault.http(status, retry_after=max(1, round(end - now)))
        for key in (route, "*"):
            queue = self._scripted.get(key)
            if queue:
                fault = queue.popleft()
                if fault is not None:
                    return fault
                return None
        for rule in self._random:
            matches = rule.routes is None or route in rule.routes
            if matches and rule.rng.random() < rule.rate:
                return rule.rng.choice(rule.kinds)
        return None


def _check_route(route: str) -> None:
    if route != "*" and route not in ROUTES:
        raise ValueError(f"unknown route {route!r}; expected one of {', '.join(ROUTES)} or '*'")
