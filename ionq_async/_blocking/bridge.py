"""How a blocking method wraps its async twin: a typed descriptor, iterators and context managers.

`get = blocking(AsyncJobs.get)` in a blocking resource class gives `resource.get(...)`, which
runs the async method on the client's loop thread and returns its result: the same
parameters (ParamSpec), the same docstring, no second implementation.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Any, Concatenate, Generic, ParamSpec, Self, TypeVar, overload

from .loop import LoopThread

__all__ = [
    "Blocking",
    "BlockingContext",
    "BlockingIterator",
    "Twin",
    "blocking",
    "iterating",
    "parameters_of",
]

A = TypeVar("A")
P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S")
T = TypeVar("T")
X = TypeVar("X")
W = TypeVar("W")


class Blocking(Generic[A]):
    """A blocking view of an async object (`_twin`) whose calls run on `_loop`."""

    def __init__(self, twin: A, loop: LoopThread) -> None:
        self._twin = twin
        self._loop = loop


class Twin(Generic[A, P, X, W]):
    """A method of a Blocking[A] class: calls its async twin, converts the result with `wrap`."""

    def __init__(
        self,
        method: Callable[Concatenate[A, P], X],
        wrap: Callable[[X, LoopThread], W],
        *,
        make_on_loop: bool,
    ) -> None:
        self._wrap = wrap
        self._make_on_loop = make_on_loop
        self._name = method.__name__
        self.__doc__ = method.__doc__

    def __set_name__(self, owner: type[Any], name: str) -> None:
        if name != self._name:
            raise TypeError(f"{owner.__name__}.{name} must wrap the async {name}")

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Self: ...

    @overload
    def __get__(self, obj: Blocking[A], owner: type[Any]) -> Callable[P, W]: ...

    def __get__(self, obj: Blocking[A] | None, owner: type[Any]) -> Self | Callable[P, W]:
        if obj is None:
            return self
        bound: Callable[P, X] = getattr(obj._twin, self._name)
        wrap, loop = self._wrap, obj._loop

        if not self._make_on_loop:  # a coroutine: made here, run on the loop

            def call(*args: P.args, **kwargs: P.kwargs) -> W:
                return wrap(bound(*args, **kwargs), loop)

        else:  # an iterator or context manager: made on the loop, as it may bind to it

            def call(*args: P.args, **kwargs: P.kwargs) -> W:
                return wrap(loop.run(_made(bound, *args, **kwargs)), loop)

        functools.update_wrapper(call, bound)
        signature = inspect.signature(bound)
        if self._make_on_loop:  # an iterator or a context manager, not what the async one returns
            signature = signature.replace(return_annotation=getattr(wrap, "__name__", ""))
        call.__signature__ = signature  # type: ignore[attr-defined]
        obj.__dict__[self._name] = call  # later lookups skip this descriptor
        return call


def parameters_of(
    twin_init: Callable[Concatenate[Any, P], None],
) -> Callable[[Callable[Concatenate[S, ...], None]], Callable[Concatenate[S, P], None]]:
    """Give an `__init__(self, *args, **kwargs)` that forwards to `twin_init` its parameters.

    Type checkers check calls against them and `inspect.signature` (help, IDEs) shows them,
    so a blocking class takes its async twin's constructor arguments without restating them.
    """

    signature = inspect.signature(twin_init)

    def give(init: Callable[Concatenate[S, ...], None]) -> Callable[Concatenate[S, P], None]:
        def checked(self: S, *args: Any, **kwargs: Any) -> None:
            # Bound here, so that a wrong argument names this class, not the async twin.
            try:
                signature.bind(self, *args, **kwargs)
            except TypeError as exc:
                raise TypeError(f"{type(self).__name__}(): {exc}") from None
            init(self, *args, **kwargs)

        wrapped: Callable[Concatenate[S, ...], None] = functools.wraps(init)(checked)
        wrapped.__signature__ = signature  # type: ignore[attr-defined]
        return wrapped

    return give


async def _made(factory: Callable[P, X], *args: P.args, **kwargs: P.kwargs) -> X:
    return factory(*args, **kwargs)


def _run(coro: Coroutine[Any, Any, T], loop: LoopThread) -> T:
    return loop.run(coro)


def blocking(
    method: Callable[Concatenate[A, P], Coroutine[Any, Any, R]],
) -> Twin[A, P, Coroutine[Any, Any, R], R]:
    """The blocking twin of an async method: it returns what the coroutine returns."""
    return Twin(method, _run, make_on_loop=False)


def iterating(
    method: Callable[Concatenate[A, P], X], wrap: Callable[[X, LoopThread], W]
) -> Twin[A, P, X, W]:
    """The blocking twin of a method returning an async iterator or context manager."""
    return Twin(method, wrap, make_on_loop=True)


class _End:
    """The end of an async iterator, as a value (a task cannot raise StopAsyncIteration)."""


_END = _End()


async def _next(iterator: AsyncIterator[T]) -> T | _End:
    try:
        return await anext(iterator)
    except StopAsyncIteration:
        return _END


async def _aclose(iterator: object) -> None:
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        await aclose()


class BlockingIterator(Generic[T]):
    """An async iterator read with a plain `for`; `with` it (or `close()`) to stop it early.

    Leaving a `with` block (a `break`, an exception) closes the async iterator on the
    client's loop, which stops its work as leaving an `async for` over it would.
    """

    def __init__(self, iterator: AsyncIterator[T], loop: LoopThread) -> None:
        self._iterator = iterator
        self._loop = loop
        self._closed = False

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> T:
        if self._closed:
            raise StopIteration
        item = self._loop.run(_next(self._iterator))
        if isinstance(item, _End):
            self._closed = True
            raise StopIteration
        return item

    def close(self) -> None:
        """Stop the iteration now (its `aclose()` on the loop); closing twice is harmless."""
        if not self._closed:
            self._closed = True
            self._loop.run(_aclose(self._iterator))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


async def _enter(manager: AbstractAsyncContextManager[T]) -> T:
    return await manager.__aenter__()


async def _exit(
    manager: AbstractAsyncContextManager[Any],
    exc_type: type[BaseException] | None,
    exc: BaseException | None,
    tb: TracebackType | None,
) -> bool | None:
    try:
        return await manager.__aexit__(exc_type, exc, tb)
    except BaseException as raised:
        if raised is exc and not isinstance(raised, Exception):
            # The caller's own KeyboardInterrupt coming back: raised in a task it would
            # stop the loop thread; the caller re-raises it.
            return False
        raise


class BlockingContext(Generic[T]):
    """An async context manager used as a plain `with` block (entered and left on the loop)."""

    def __init__(self, manager: AbstractAsyncContextManager[T], loop: LoopThread) -> None:
        self._manager = manager
        self._loop = loop

    def __enter__(self) -> T:
        return self._loop.run(_enter(self._manager))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        return self._loop.run(_exit(self._manager, exc_type, exc, tb))
