"""Spend and sessions of ``ionq-async rerun``: budgets, the estimate and the run's session."""

from __future__ import annotations

import argparse
import contextlib
import re
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from attrs import frozen
from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table

from .._models.jobs import Money
from ..errors import BudgetExceededError
from ._base import EXIT_INCOMPLETE, EXIT_OK, UsageError

if TYPE_CHECKING:
    from .. import AsyncIonQ, CloneRequest, RerunEstimate

__all__ = [
    "Budget",
    "check_spend_args",
    "estimate_table",
    "parse_amount",
    "pending_sources",
    "plan_budget",
    "run_session",
    "show_estimate",
]

_AMOUNT = re.compile(r"\s*(\d[\d,_]*(?:\.\d*)?|\.\d+)\s*([A-Za-z]+)?\s*")
_MAX_UNESTIMATED = 8


def parse_amount(text: str) -> Money | float:
    """``250`` (in the estimate's unit) or ``250usd`` / ``250 usd`` (a Money)."""
    match = _AMOUNT.fullmatch(text)
    if match is None:
        raise UsageError(f"--max-cost takes an amount like 250 or 250usd, got {text!r}")
    value = float(match.group(1).replace(",", "").replace("_", ""))
    unit = match.group(2)
    return Money(value=value, unit=unit.lower()) if unit else value


def check_spend_args(args: argparse.Namespace) -> None:
    """Check the spend and session flags together; a session's backend becomes the clones'."""
    if args.max_cost is not None:
        args.max_cost = parse_amount(args.max_cost)
    elif args.partial or args.allow_incomplete_estimate:
        flag = "--partial" if args.partial else "--allow-incomplete-estimate"
        raise UsageError(f"{flag} needs --max-cost AMOUNT")
    if args.session is not None and args.new_session is not None:
        raise UsageError("give --session ID or --new-session BACKEND, not both")
    limits = args.session_cost_limit is not None or args.session_job_limit is not None
    if limits and args.new_session is None:
        raise UsageError("--session-cost-limit and --session-job-limit need --new-session BACKEND")
    if args.session_job_limit is not None and args.session_job_limit < 1:
        raise UsageError(f"--session-job-limit must be at least 1, got {args.session_job_limit}")
    if args.session_cost_limit is not None and not args.session_cost_limit > 0:
        raise UsageError(f"--session-cost-limit must be > 0, got {args.session_cost_limit}")
    if args.estimate and (args.session is not None or args.new_session is not None):
        raise UsageError("--estimate sends no clone: drop --session / --new-session")
    if args.new_session is not None:
        if args.backend is not None and args.backend != args.new_session:
            raise UsageError(
                f"--backend {args.backend} differs from the session's backend {args.new_session}"
            )
        args.backend = args.new_session


async def pending_sources(args: argparse.Namespace, sources: Sequence[str]) -> list[str]:
    """The sources this run may clone: all, or on ``--resume`` those the journal has not done."""
    if not args.resume:
        return list(sources)
    from .._batch.journal import Journal
    from .._batch.resume import journaled_end

    async with Journal(args.journal) as journal:
        known = await journal.load()
    return [
        s
        for s in sources
        if (e := known.get(s)) is None or (journaled_end(e) is None and e.job_id is None)
    ]


def _sources(n: int) -> str:
    return f"{n:,} source" + ("" if n == 1 else "s")


def _money(value: float, unit: str) -> str:
    return f"{value:,.2f} {unit}"


def estimate_table(estimate: RerunEstimate, sources: int) -> RenderableType:
    """The estimate per backend and in total, then the sources it could not price."""
    unit = estimate.total.unit
    table = Table(box=box.ROUNDED, title=f"Estimate of {_sources(sources)}", title_style="bold")
    table.add_column("backend")
    table.add_column("sources", justify="right")
    table.add_column("estimate", justify="right")
    per_backend: dict[str, int] = {}
    for e in estimate.estimates:
        per_backend[e.backend] = per_backend.get(e.backend, 0) + 1
    for backend, cost in sorted(estimate.by_backend.items()):
        table.add_row(backend, f"{per_backend.get(backend, 0):,}", _money(cost.value, unit))
    table.add_section()
    table.add_row("total", f"{len(estimate.estimates):,}", _money(estimate.total.value, unit))
    parts: list[RenderableType] = [table]
    if estimate.unestimated:
        missing = Table(
            box=box.SIMPLE_HEAD,
            title=f"{_sources(len(estimate.unestimated))} not estimated (not in the total)",
            title_style="bold yellow",
        )
        missing.add_column("source job", no_wrap=True)
        missing.add_column("reason", overflow="fold")
        for source_id, reason in list(estimate.unestimated.items())[:_MAX_UNESTIMATED]:
            missing.add_row(source_id, reason)
        if len(estimate.unestimated) > _MAX_UNESTIMATED:
            missing.caption = f"... and {len(estimate.unestimated) - _MAX_UNESTIMATED:,} more"
        parts.append(missing)
    return Group(*parts)


@frozen
class Budget:
    """A run's budget (a number in `unit`), the estimate it was checked against, and the
    sources that estimate covers (on ``--resume``, those the journal has not finished)."""

    limit: float
    unit: str
    estimate: RerunEstimate
    pending: frozenset[str]


def _limit(args: argparse.Namespace, estimate: RerunEstimate) -> float:
    """``--max-cost`` as a number in the estimate's unit."""
    budget = args.max_cost
    if not isinstance(budget, Money):
        return float(budget)
    unit = estimate.total.unit
    if budget.unit != unit.lower() and estimate.estimates:
        raise UsageError(f"--max-cost is in {budget.unit}, the estimate in {unit}")
    return budget.value


def refusal(args: argparse.Namespace, budget: Budget) -> tuple[str, str] | None:
    """Why a run must not start under ``--max-cost`` (as the SDK would refuse), and the way out."""
    estimate, unit = budget.estimate, budget.unit
    n = len(estimate.estimates) + len(estimate.unestimated)
    if estimate.unestimated and not args.allow_incomplete_estimate:
        return (
            f"{len(estimate.unestimated):,} of {n:,} sources could not be estimated, so the run "
            "cannot be held to --max-cost",
            "--estimate lists them, --allow-incomplete-estimate skips them",
        )
    if estimate.total.value > budget.limit + 1e-9 and not args.partial:
        return (
            f"the estimate is {_money(estimate.total.value, unit)} for {n:,} sources, over "
            f"--max-cost {_money(budget.limit, unit)}",
            "--partial runs what fits",
        )
    return None


async def plan_budget(
    client: AsyncIonQ,
    args: argparse.Namespace,
    sources: Sequence[str],
    request: CloneRequest | None,
    console: Console,
) -> Budget | None:
    """Estimate the run under ``--max-cost``; refuse it (BudgetExceededError) before any clone."""
    if args.max_cost is None:
        return None
    todo = await pending_sources(args, sources)
    estimate = await client.jobs.estimate_rerun(todo, request)
    unit = estimate.total.unit
    budget = Budget(_limit(args, estimate), unit, estimate, frozenset(todo))
    refused = refusal(args, budget)
    if refused is not None:
        why, hint = refused
        message = f"{why}; no clone was sent ({hint})"
        raise BudgetExceededError(message, estimate=estimate, max_cost=budget.limit)
    console.print(
        f"estimate [bold]{_money(estimate.total.value, unit)}[/] for "
        f"{_sources(len(estimate.estimates))} · budget [bold]{_money(budget.limit, unit)}[/]"
    )
    return budget


async def show_estimate(
    client: AsyncIonQ,
    args: argparse.Namespace,
    sources: Sequence[str],
    request: CloneRequest | None,
) -> int:
    """``rerun --estimate``: print the estimate; 1 if incomplete or over ``--max-cost``."""
    todo = await pending_sources(args, sources)
    estimate = await client.jobs.estimate_rerun(todo, request)
    budget = None
    if args.max_cost is not None:
        budget = Budget(_limit(args, estimate), estimate.total.unit, estimate, frozenset(todo))
    refused = None if budget is None else refusal(args, budget)
    why = None if refused is None else refused[0]
    if args.json:
        from ._base import print_json

        print_json(_estimate_json(estimate, len(todo), budget, why))
    else:
        console = Console(highlight=False)
        console.print(estimate_table(estimate, len(todo)))
        if budget is not None:
            verdict = "[green]the run fits[/]"
            if refused is not None:
                verdict = f"[red]a run would be refused[/] ({refused[1]})"
            console.print(f"budget {_money(budget.limit, budget.unit)}: {verdict}")
        console.print("[dim]no clone was sent[/]")
    return EXIT_INCOMPLETE if why or not estimate.complete else EXIT_OK


def _estimate_json(
    estimate: RerunEstimate, sources: int, budget: Budget | None, refused: str | None
) -> dict[str, Any]:
    unit = estimate.total.unit
    return {
        "sources": sources,
        "unit": unit,
        "total": estimate.total.value,
        "by_backend": {b: m.value for b, m in estimate.by_backend.items()},
        "unestimated": dict(estimate.unestimated),
        "max_cost": None if budget is None else budget.limit,
        "refused": refused,
    }


@contextlib.asynccontextmanager
async def run_session(
    client: AsyncIonQ, args: argparse.Namespace, console: Console
) -> AsyncIterator[str | None]:
    """The session the clones go into: ``--session ID``, or one opened for the run and ended."""
    if args.new_session is None:
        if args.session is not None:
            console.print(f"clones go into session [bold]{args.session}[/]")
        yield args.session
        return
    opened = client.sessions.open(
        args.new_session,
        job_count_limit=args.session_job_limit,
        cost_limit=args.session_cost_limit,
    )
    async with opened as session:
        console.print(f"session [bold]{session.id}[/] opened on {args.new_session}")
        try:
            yield session.id
        except BaseException:
            console.print(f"ending session [bold]{session.id}[/]")
            raise
    console.print(f"session [bold]{session.id}[/] ended")
