"""Spend and sessions of ``ionq-async rerun``: budgets, the estimate and the run's session."""

from __future__ import annotations

import argparse
import contextlib
import math
import re
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table

from .._models.jobs import Money
from ..errors import BudgetExceededError
from ._base import EXIT_INCOMPLETE, EXIT_OK, UsageError

if TYPE_CHECKING:
    from .. import AsyncIonQ, CloneRequest, RerunEstimate
    from .._batch.campaign import Campaign, SpendPlan

__all__ = [
    "check_spend_args",
    "estimate_table",
    "parse_amount",
    "plan_budget",
    "read_campaign",
    "refusal",
    "run_session",
    "session_cost_limit",
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


async def read_campaign(args: argparse.Namespace) -> Campaign:
    """What the journal of a ``--resume`` records of earlier runs (nothing for a new run)."""
    from .._batch.campaign import Campaign
    from .._batch.journal import Journal

    if not args.resume:
        return Campaign()
    async with Journal(args.journal) as journal:
        return await Campaign.read(journal)


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


async def _plan(
    client: AsyncIonQ,
    args: argparse.Namespace,
    sources: Sequence[str],
    request: CloneRequest | None,
) -> tuple[RerunEstimate, SpendPlan | None, int]:
    """The library's estimate of what this run may clone and, under ``--max-cost``, its plan."""
    from .._batch.campaign import SpendPlan, budget_in

    campaign = await read_campaign(args)
    todo = campaign.pending(sources)
    estimate = await client.jobs.estimate_rerun(todo, request)
    if args.max_cost is None:
        return estimate, None, len(todo)
    try:
        limit = budget_in(args.max_cost, estimate)
    except ValueError:
        unit = estimate.total.unit
        raise UsageError(f"--max-cost is in {args.max_cost.unit}, the estimate in {unit}") from None
    return estimate, SpendPlan.of(estimate, todo, limit, campaign), len(todo)


def refusal(args: argparse.Namespace, plan: SpendPlan) -> tuple[str, str] | None:
    """Why the library refuses a run under ``--max-cost``, in the CLI's words, and the way out."""
    refused = plan.refusal(partial=args.partial, allow_incomplete=args.allow_incomplete_estimate)
    if refused is None:
        return None
    unit = plan.unit
    n = len(plan.prices) + len(plan.unestimated)
    if refused == "incomplete":
        return (
            f"{len(plan.unestimated):,} of {n:,} sources could not be estimated, so the run "
            "cannot be held to --max-cost",
            "--estimate lists them, --allow-incomplete-estimate skips them",
        )
    if plan.earlier or plan.drift > 1:
        drift = f" (IonQ's estimates x{plan.drift:.2f})" if plan.drift > 1 else ""
        return (
            f"earlier runs on the journal spent {_money(plan.earlier, unit)} of --max-cost "
            f"{_money(plan.max_cost, unit)}; the rest is estimated at "
            f"{_money(plan.cost, unit)}{drift} for {n:,} sources",
            "--partial runs what fits, a higher --max-cost runs the rest",
        )
    return (
        f"the estimate is {_money(plan.cost, unit)} for {n:,} sources, over "
        f"--max-cost {_money(plan.max_cost, unit)}",
        "--partial runs what fits",
    )


async def plan_budget(
    client: AsyncIonQ,
    args: argparse.Namespace,
    sources: Sequence[str],
    request: CloneRequest | None,
    console: Console,
) -> SpendPlan | None:
    """Estimate the run under ``--max-cost``; refuse it (BudgetExceededError) before any clone."""
    if args.max_cost is None:
        return None
    estimate, plan, _ = await _plan(client, args, sources, request)
    assert plan is not None
    refused = refusal(args, plan)
    if refused is not None:
        why, hint = refused
        message = f"{why}; no clone was sent ({hint})"
        raise BudgetExceededError(message, estimate=estimate, max_cost=plan.max_cost)
    unit = plan.unit
    console.print(
        f"estimate [bold]{_money(plan.estimated, unit)}[/] for "
        f"{_sources(len(plan.prices))} · budget [bold]{_money(plan.max_cost, unit)}[/]"
    )
    if plan.earlier or plan.drift > 1:
        drift = f" · priced at {plan.drift:.2f}x IonQ's estimates" if plan.drift > 1 else ""
        console.print(
            f"earlier runs on the journal spent [bold]{_money(plan.earlier, unit)}[/] · "
            f"left [bold]{_money(plan.left, unit)}[/]{drift}"
        )
    return plan


async def show_estimate(
    client: AsyncIonQ,
    args: argparse.Namespace,
    sources: Sequence[str],
    request: CloneRequest | None,
) -> int:
    """``rerun --estimate``: print the estimate; 1 if incomplete or over ``--max-cost``."""
    estimate, plan, todo = await _plan(client, args, sources, request)
    refused = None if plan is None else refusal(args, plan)
    why = None if refused is None else refused[0]
    if args.json:
        from ._base import print_json

        print_json(_estimate_json(estimate, todo, plan, why))
    else:
        console = Console(highlight=False)
        console.print(estimate_table(estimate, todo))
        if plan is not None:
            verdict = "[green]the run fits[/]"
            if refused is not None:
                verdict = f"[red]a run would be refused[/] ({refused[1]})"
            console.print(f"budget {_money(plan.max_cost, plan.unit)}: {verdict}")
        console.print("[dim]no clone was sent[/]")
    return EXIT_INCOMPLETE if why or not estimate.complete else EXIT_OK


def _estimate_json(
    estimate: RerunEstimate, sources: int, plan: SpendPlan | None, refused: str | None
) -> dict[str, Any]:
    unit = estimate.total.unit
    return {
        "sources": sources,
        "unit": unit,
        "total": estimate.total.value,
        "by_backend": {b: m.value for b, m in estimate.by_backend.items()},
        "unestimated": dict(estimate.unestimated),
        "max_cost": None if plan is None else plan.max_cost,
        "spent_before": None if plan is None else plan.earlier,
        "cost_ratio": None if plan is None else plan.campaign.ratio,
        "refused": refused,
    }


def session_cost_limit(args: argparse.Namespace, plan: SpendPlan | None) -> Money | float | None:
    """The cost limit of a session opened for the run: ``--session-cost-limit``, and under
    ``--max-cost`` no more than the budget left (in cents, rounded down)."""
    limit: float | None = args.session_cost_limit
    if plan is None:
        return limit
    left = math.floor(plan.left * 100 + 1e-6) / 100
    if left <= 0:
        return limit
    if limit is not None and limit <= left and plan.unit.lower() == "usd":
        return limit
    return Money(value=left, unit=plan.unit)


@contextlib.asynccontextmanager
async def run_session(
    client: AsyncIonQ, args: argparse.Namespace, console: Console, plan: SpendPlan | None = None
) -> AsyncIterator[str | None]:
    """The session the clones go into: ``--session ID``, or one opened for the run and ended.

    A session opened for a budgeted run gets the budget left as its cost limit, so that
    IonQ enforces the budget too.
    """
    if args.new_session is None:
        if args.session is not None:
            console.print(f"clones go into session [bold]{args.session}[/]")
        yield args.session
        return
    cost_limit = session_cost_limit(args, plan)
    opened = client.sessions.open(
        args.new_session,
        job_count_limit=args.session_job_limit,
        cost_limit=cost_limit,
    )
    async with opened as session:
        console.print(f"session [bold]{session.id}[/] opened on {args.new_session}")
        if isinstance(cost_limit, Money):
            console.print(f"session cost limit {_money(cost_limit.value, cost_limit.unit)}")
        try:
            yield session.id
        except BaseException:
            console.print(f"ending session [bold]{session.id}[/]")
            raise
    console.print(f"session [bold]{session.id}[/] ended")
