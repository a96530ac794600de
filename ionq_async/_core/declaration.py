"""What one declaration is (Operation), and what calling it gives (Request, from a Call)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Generic, NamedTuple, ParamSpec, TypeVar

from attrs import field, frozen

from .queries import Params
from .retry import Kind

__all__ = ["Call", "Operation", "Request"]

P = ParamSpec("P")
T = TypeVar("T")
U = TypeVar("U")


class Call(NamedTuple):
    """What one call fills in: path arguments, query, JSON body, and the loader's subject."""

    args: tuple[str, ...] = ()
    params: Params | None = None
    body: Any = None
    subject: Any = None


class Request(Generic[T]):
    """One call of one operation, ready to send."""

    __slots__ = ("body", "op", "params", "path", "subject")

    def __init__(
        self, op: Operation[Any, T], path: str, params: Params | None, body: Any, subject: Any
    ) -> None:
        self.op = op
        self.path = path
        self.params = params
        self.body = body
        self.subject = subject

    def load(self, data: Any) -> T:
        """The answer, read by the operation's loader."""
        return self.op.load(data, self.subject)

    def __repr__(self) -> str:
        return f"Request({self.op.method} {self.path})"


@frozen(eq=False)
class Operation(Generic[P, T]):
    """One API operation: `op(*args)` gives the Request for those arguments."""

    name: str
    """The spec's operationId (a name in parentheses: not in the spec)."""
    route: str
    """The method and path template, e.g. "GET /jobs/{UUID}"."""
    kind: Kind
    build: Callable[P, Call] = field(repr=False)
    load: Callable[[Any, Any], T] = field(repr=False)
    method: str = field(init=False)
    path: str = field(init=False, repr=False)
    _format: str = field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        method, _, path = self.route.partition(" ")
        object.__setattr__(self, "method", method)
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "_format", re.sub(r"\{[^}]*\}", "{}", path))

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Request[T]:
        call = self.build(*args, **kwargs)
        path = self._format.format(*call.args) if call.args else self.path
        return Request(self, path, call.params, call.body, call.subject)

    def reading(self, load: Callable[[Any, Any], U]) -> Operation[P, U]:
        """The same operation, its answer read by `load` instead (not a new declaration)."""
        return Operation(self.name, self.route, self.kind, self.build, load)
