"""The resource commands of ``ionq-async``: backends, whoami, sessions and results."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console

from .._core.queries import session_body
from .._core.serde import unstructure
from .._models.api import Session, check_segment
from .._models.results import CircuitResult, Results, bitstring
from ._base import EXIT_OK, UsageError, job_id, make_client, print_json
from ._render_resources import (
    backends_table,
    histogram,
    limits_text,
    outcomes,
    session_table,
    sessions_table,
    whoami_table,
)

__all__ = ["backends", "results", "sessions", "whoami"]

_FLAGS = {
    "job_count_limit": "--job-limit",
    "duration_limit_min": "--duration-limit",
    "cost_limit": "--cost-limit",
}


def _out() -> Console:
    return Console(highlight=False)


def _err() -> Console:
    return Console(stderr=True, highlight=False)


def _dump(value: object) -> Any:
    """An SDK model as JSON data (timestamps ISO 8601, enums as strings)."""
    return unstructure(value)


async def backends(args: argparse.Namespace) -> int:
    """``backends``: every backend with its status, qubits and queue time."""
    async with make_client(args) as client:
        found = await client.backends.list()
    if args.json:
        print_json([_dump(b) for b in found])
    elif found:
        _out().print(backends_table(found))
    else:
        _err().print("no backends")
    return EXIT_OK


async def whoami(args: argparse.Namespace) -> int:
    """``whoami``: the API key's name, id and project."""
    async with make_client(args) as client:
        me = await client.whoami()
    if args.json:
        print_json(_dump(me))
    else:
        _out().print(whoami_table(me))
    return EXIT_OK


async def sessions(args: argparse.Namespace) -> int:
    """``sessions list|create|end``."""
    actions = {"list": _list_sessions, "create": _create_session, "end": _end_session}
    return await actions[args.action](args)


async def _list_sessions(args: argparse.Namespace) -> int:
    async with make_client(args) as client:
        found = await client.sessions.list(active=True if args.active else None)
    if args.json:
        print_json([_dump(s) for s in found])
    elif found:
        title = f"{len(found)} {'active ' if args.active else ''}session{'s' * (len(found) != 1)}"
        out = _out()
        out.print(sessions_table(found, title=title, width=out.width))
    else:
        _err().print("no active sessions" if args.active else "no sessions")
    return EXIT_OK


async def _create_session(args: argparse.Namespace) -> int:
    limits: dict[str, Any] = {
        "job_count_limit": args.job_limit,
        "duration_limit_min": args.duration_limit,
        "cost_limit": args.cost_limit,
    }
    try:
        session_body(args.backend, *limits.values())
    except (TypeError, ValueError) as exc:
        message = str(exc)
        for name, flag in _FLAGS.items():
            message = message.replace(name, flag)
        raise UsageError(message) from None
    async with make_client(args) as client:
        session = await client.sessions.create(args.backend, **limits)
    if args.json:
        print_json(_dump(session))
    else:
        _out().print(
            f"created session [bold green]{session.id}[/] on {session.backend or args.backend}"
            f" ({session.status}); limits: {limits_text(session.settings)}"
        )
    return EXIT_OK


async def _end_session(args: argparse.Namespace) -> int:
    try:
        sid = check_segment(args.session_id.strip(), "SESSION_ID")
    except ValueError:
        raise UsageError(f"not a session id: {args.session_id!r}") from None
    async with make_client(args) as client:
        session: Session = await client.sessions.end(sid)
    if args.json:
        print_json(_dump(session))
    else:
        _out().print(session_table(session))
    return EXIT_OK


def _circuit_json(result: CircuitResult, sort: str, top: int | None) -> dict[str, Any]:
    rows = outcomes(result, sort=sort, top=top)
    return {
        "job_id": result.job_id,
        "name": result.name,
        "qubits": result.qubits,
        "shots": result.shots,
        "counts_source": result.counts_source,
        "outcomes": [{"bitstring": bits, "probability": p, "count": n} for bits, p, n in rows],
    }


def _results_json(found: Results, sort: str, top: int | None) -> dict[str, Any]:
    if not found.is_multi_circuit:
        data = _circuit_json(found, sort, top)
        if not found.probabilities and found.raw is not None:
            data["raw"] = found.raw
        return data
    aggregate = None
    if found.aggregate is not None:
        width = {cid: c.qubits for cid, c in found.children.items()}
        aggregate = {
            cid: {bitstring(s, width.get(cid, 1)): p for s, p in probs.items()}
            for cid, probs in found.aggregate.items()
        }
    return {
        "job_id": found.job_id,
        "name": found.name,
        "shots": found.shots,
        "circuits": [_circuit_json(c, sort, top) for c in found.children.values()],
        "aggregate": aggregate,
    }


async def results(args: argparse.Namespace) -> int:
    """``results JOB_ID [--top N] [--sort S]``: a completed job's outcomes as a histogram."""
    jid = job_id(args.job_id)
    if args.top is not None and args.top < 1:
        raise UsageError(f"--top must be at least 1, got {args.top}")
    async with make_client(args) as client:
        found = await client.jobs.results(jid)
    if args.json:
        print_json(_results_json(found, args.sort, args.top))
        return EXIT_OK
    out = _out()
    ascii = not out.encoding.lower().startswith("utf")
    draw = {"sort": args.sort, "top": args.top, "ascii": ascii}
    if not found.is_multi_circuit:
        if not found.probabilities and not found.counts:
            out.print(f"job {jid} has no probabilities to show; --json prints its raw results")
            return EXIT_OK
        out.print(histogram(found, title=f"Results of {_label(found)}", **draw))
        return EXIT_OK
    total = len(found.children)
    out.print(f"[bold]multi-circuit job {jid}[/]: {total} circuits")
    for n, child in enumerate(found.children.values(), 1):
        out.print(histogram(child, title=f"circuit {n} of {total}: {_label(child)}", **draw))
    if found.aggregate is not None:
        out.print(
            f"aggregate: the probabilities of all {len(found.aggregate)} circuits, "
            "keyed by child job id (--json prints them)"
        )
    else:
        out.print("aggregate: not offered for this job")
    return EXIT_OK


def _label(result: CircuitResult) -> str:
    return f"{result.name} ({result.job_id})" if result.name else result.job_id
