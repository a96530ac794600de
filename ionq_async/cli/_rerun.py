"""``ionq-async rerun`` and ``ionq-async demo``: batch re-runs with a live progress display."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

from rich.console import Console

from .. import PollPolicy, RerunProgress, RerunReport
from .._batch.outcomes import OutcomeColumns
from .._batch.types import count_statuses
from ._base import (
    CLI_POLL,
    EXIT_INCOMPLETE,
    EXIT_OK,
    UsageError,
    clone_request,
    describe_error,
    make_client,
    print_json,
    read_sources,
)
from ._live import RerunDisplay
from ._render import probabilities_table, problems, summary
from ._secrets import RedactingStream, Redactor
from ._spend import check_spend_args, plan_budget, run_session, show_estimate

if TYPE_CHECKING:
    from .. import AsyncIonQ, CloneRequest, RerunOutcome
    from .._batch.campaign import SpendPlan
    from ..testing import Fate
    from ..testing import Job as FakeJob

__all__ = ["demo", "rerun"]

_DEMO_POLL = PollPolicy(initial=0.2, factor=1.25, max_interval=0.5)
_DEMO_MAX_JOBS = 20_000


def succeeded(report: RerunReport, *, waited: bool = True) -> bool:
    """True when every source's clone completed (or, with ``--no-wait``, was submitted)."""
    if report.ok:
        return True
    return not waited and all(o.status in ("completed", "submitted") for o in report.outcomes)


def outcome_json(o: RerunOutcome) -> dict[str, Any]:
    """One line of ``--out``: source_id, job_id, status, error (and attempts, failure)."""
    line: dict[str, Any] = {
        "source_id": o.source_id,
        "job_id": o.job_id,
        "status": o.status,
        "error": describe_error(o.error),
        "attempts": o.attempts,
    }
    if o.reason is not None:
        line["reason"] = o.reason
    if o.cost is not None:
        line["cost"] = o.cost
    if o.failure is not None:
        line["failure"] = {"code": o.failure.code, "message": o.failure.message}
    return line


async def run_batch(
    client: AsyncIonQ,
    sources: Sequence[str],
    request: CloneRequest | None,
    *,
    console: Console,
    title: str,
    out: IO[str] | None = None,
    on_outcome: Callable[[RerunOutcome], None] | None = None,
    plan: SpendPlan | None = None,
    **options: Any,
) -> RerunReport:
    """Run ``client.jobs.rerun`` under a live display; stream outcomes to ``out``.

    Under a budget the library enforces ``plan``: it is handed the plan's estimate, so the
    sources are estimated once.
    """
    started = time.monotonic()
    got = OutcomeColumns()
    unit = None if plan is None else plan.unit
    if plan is not None:
        options["max_cost"] = plan.max_cost
        options["estimate"] = plan.estimate
    with RerunDisplay[RerunProgress](console, len(sources), title=title, unit=unit) as display:
        outcomes = client.jobs.rerun(sources, request, on_progress=display.update, **options)
        try:
            async with contextlib.aclosing(outcomes):
                async for outcome in outcomes:
                    got.add(outcome)
                    if out is not None:
                        out.write(json.dumps(outcome_json(outcome)) + "\n")
                        out.flush()
                    if on_outcome is not None:
                        on_outcome(outcome)
        except asyncio.CancelledError:
            display.stop()
            console.print(
                f"[yellow]interrupted[/]: {len(got):,} of {len(sources):,} sources finished"
            )
            raise
    ordered = got.in_order(sources, complete=False)
    final = display.latest
    return RerunReport(
        outcomes=ordered,
        counts=count_statuses(ordered.statuses()),
        duration=time.monotonic() - started,
        estimated_cost=None if plan is None else plan.estimated,
        actual_cost=None if plan is None else _actual(plan, ordered),
        cost_unit=unit,
        campaign_cost=None if final is None else final.campaign_spent,
        cost_ratio=None if final is None else final.cost_ratio,
        max_cost=None if plan is None else plan.max_cost,
    )


def _actual(plan: SpendPlan, outcomes: Sequence[RerunOutcome]) -> float:
    """The actual cost of the clones this run made (not those of a resumed run's journal)."""
    pending = {*plan.prices, *plan.unestimated}
    return sum(o.cost or 0.0 for o in outcomes if o.source_id in pending)


def _spend_json(report: RerunReport) -> dict[str, Any]:
    if report.cost_unit is None:
        return {}
    return {
        "estimated_cost": report.estimated_cost,
        "actual_cost": report.actual_cost,
        "cost_unit": report.cost_unit,
        "campaign_cost": report.campaign_cost,
        "cost_ratio": report.cost_ratio,
        "max_cost": report.max_cost,
    }


def _print_spend(console: Console, report: RerunReport) -> None:
    """Under a budget: the campaign's spend against it, and IonQ billing over its estimates."""
    unit = report.cost_unit
    if unit is None or report.campaign_cost is None or report.max_cost is None:
        return
    console.print(
        f"campaign {report.campaign_cost:,.2f} {unit} of --max-cost "
        f"{report.max_cost:,.2f} {unit} (this run {report.actual_cost or 0.0:,.2f} {unit})"
    )
    ratio = report.cost_ratio
    if ratio is not None and ratio > 1:
        console.print(
            f"[yellow]warning[/]: IonQ billed up to {ratio:.2f}x its estimates; clones after "
            f"the first such bill were priced at {ratio:.2f}x"
        )


def _open_out(path: str) -> IO[str]:
    return open(path, "w", encoding="utf-8")


def _check_journal(args: argparse.Namespace) -> None:
    from .._batch.journal import Journal

    if args.journal is None:
        if args.resume:
            raise UsageError("--resume needs --journal FILE (the journal of the run to resume)")
        return
    path = Path(args.journal)
    if path.is_dir():
        raise UsageError(f"--journal {args.journal} is a directory, not a file")
    if args.resume:
        if not path.is_file():
            raise UsageError(f"--resume: journal {args.journal} not found")
    elif Journal.exists_with_entries(path):
        raise UsageError(
            f"journal {args.journal} already holds a run: add --resume to finish it, "
            "or pass a new --journal file"
        )


async def _settled(args: argparse.Namespace, sources: Sequence[str]) -> bool:
    """Whether the journal already settles every source (a resume would clone nothing)."""
    from .._batch.journal import Journal
    from .._batch.resume import journaled_end

    async with Journal(args.journal) as journal:
        entries = await journal.load()
    return all(
        (entry := entries.get(source_id)) is not None and journaled_end(entry) is not None
        for source_id in sources
    )


async def rerun(args: argparse.Namespace) -> int:
    """``rerun (JOB_ID... | --from FILE | -) [clone options] [--concurrency N] ...``."""
    sources = read_sources(args.job_ids, args.from_file)
    check_spend_args(args)
    request = clone_request(args)
    if args.concurrency < 1:
        raise UsageError(f"--concurrency must be at least 1, got {args.concurrency}")
    if args.retry_failed < 0:
        raise UsageError(f"--retry-failed must be 0 or more, got {args.retry_failed}")
    if args.timeout is not None and args.timeout <= 0:
        raise UsageError(f"--timeout must be > 0 seconds, got {args.timeout}")
    _check_journal(args)
    if args.estimate:
        async with make_client(args) as client:
            return await show_estimate(client, args, sources, request)
    with contextlib.ExitStack() as stack:
        out = None
        if args.out is not None:
            try:
                file = stack.enter_context(await asyncio.to_thread(_open_out, args.out))
            except OSError as exc:
                raise UsageError(f"cannot write --out {args.out}: {exc.strerror}") from None
            # An outcome's error text may quote a server that echoed the key.
            out = cast(IO[str], RedactingStream(file, Redactor.for_cli((), args.api_key)))
        err = Console(stderr=True, highlight=False)
        client = make_client(args, max_connections=max(100, args.concurrency))
        async with client:
            plan = await plan_budget(client, args, sources, request, err)
            if args.new_session is not None and args.resume and await _settled(args, sources):
                err.print("every source is settled in the journal: no session opened")
                args.new_session = None
            async with run_session(client, args, err, plan) as session:
                report = await run_batch(
                    client,
                    sources,
                    request,
                    console=err,
                    title="re-running",
                    out=out,
                    plan=plan,
                    concurrency=args.concurrency,
                    wait=not args.no_wait,
                    poll=CLI_POLL,
                    timeout=args.timeout,
                    journal=args.journal,
                    retry_failed=args.retry_failed,
                    over_budget="partial" if args.partial else "refuse",
                    allow_incomplete_estimate=args.allow_incomplete_estimate,
                    session=session,
                )
    if args.json:
        print_json(
            {
                "counts": report.counts,
                "duration": round(report.duration, 3),
                **_spend_json(report),
                "outcomes": [outcome_json(o) for o in report.outcomes],
            }
        )
    else:
        out_console = Console(highlight=False)
        out_console.print(summary(report))
        _print_spend(out_console, report)
        table = problems(report.outcomes)
        if table is not None:
            out_console.print(table)
        if args.out is not None:
            out_console.print(f"[dim]outcomes written to {args.out}[/]")
    return EXIT_OK if succeeded(report, waited=not args.no_wait) else EXIT_INCOMPLETE


# --- demo ---------------------------------------------------------------------------------

_CIRCUITS: dict[str, list[dict[str, Any]]] = {
    "bell": [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}],
    "ghz-3": [
        {"gate": "h", "target": 0},
        {"gate": "cnot", "control": 0, "target": 1},
        {"gate": "cnot", "control": 1, "target": 2},
    ],
    "plus-plus": [{"gate": "h", "target": 0}, {"gate": "h", "target": 1}],
    "flip": [{"gate": "x", "target": 0}, {"gate": "x", "target": 2}],
}


def _demo_fates(sources: list[str], rng: random.Random) -> Callable[[FakeJob], Fate | str | None]:
    """A ``fate_for`` hook: ~3 % broken sources, ~5 % flaky once, ~1 % canceled, and varied
    durations so the jobs finish at different times."""
    from ..testing import Fate

    shuffled = rng.sample(sources, len(sources))
    n = len(sources)
    broken = set(shuffled[: max(1, n * 3 // 100)])
    flaky = set(shuffled[len(broken) : len(broken) + max(1, n * 5 // 100)])
    canceled = set(shuffled[len(broken) + len(flaky) : len(broken) + len(flaky) + n // 100])
    flaked: set[str] = set()

    def fate_for(job: FakeJob) -> Fate | str | None:
        job.durations = (rng.uniform(0.05, 0.2), rng.uniform(0.1, 0.3), rng.uniform(0.1, 0.9))
        src = job.cloned_from or ""
        if src in broken:
            return Fate.failed("CompilationError", "Gate count exceeds the backend's limit.")
        if src in flaky and src not in flaked:
            flaked.add(src)
            return Fate.failed("QuantumComputerError", "The QPU was recalibrated mid-run.")
        if src in canceled:
            return "canceled"
        return None

    return fate_for


async def demo(args: argparse.Namespace) -> int:
    """``demo [--jobs N]``: an offline rerun of N jobs on the in-process emulator."""
    if not 1 <= args.jobs <= _DEMO_MAX_JOBS:
        raise UsageError(f"--jobs must be between 1 and {_DEMO_MAX_JOBS:,}, got {args.jobs}")
    from ..testing import FakeIonQ

    console = Console(highlight=False)
    rng = random.Random(2026)
    kinds = list(_CIRCUITS)
    async with FakeIonQ(durations=(0.1, 0.2, 0.4), seed=7) as fake:
        label: dict[str, str] = {}
        for i in range(args.jobs):
            kind = kinds[i % len(kinds)]
            src = fake.add_job(
                name=f"{kind}-{i:04d}", circuit=_CIRCUITS[kind], shots=1000, status="completed"
            )
            label[src.id] = kind
        sources = list(label)
        fake.fate_for = _demo_fates(sources, rng)
        console.print(
            f"[bold]ionq-async demo[/]  offline IonQ v0.4 emulator at [cyan]{fake.base_url}[/]"
        )
        console.print(
            f"[dim]Re-running {args.jobs:,} completed jobs ({', '.join(kinds)}) through "
            "AsyncIonQ.[/]"
        )
        async with fake.client() as client:
            report = await run_batch(
                client,
                sources,
                None,
                console=console,
                title="re-running",
                concurrency=64,
                poll=_DEMO_POLL,
                retry_failed=1,
            )
            console.print(summary(report, title=f"Rerun of {args.jobs:,} jobs"))
            table = problems(report.outcomes, limit=5)
            if table is not None:
                console.print(table)
            rows = []
            for kind in kinds:
                first = next(
                    (
                        o
                        for o in report.outcomes
                        if label[o.source_id] == kind and o.status == "completed" and o.job_id
                    ),
                    None,
                )
                if first is not None and first.job_id is not None:
                    probs = await client.jobs.probabilities(first.job_id)
                    rows.append((kind, first.job_id, probs))
            if rows:
                console.print(probabilities_table(rows))
    console.print(
        "[dim]With a real key:[/] IONQ_API_KEY=... ionq-async rerun JOB_ID... --journal run.db"
    )
    return EXIT_OK
