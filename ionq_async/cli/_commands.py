"""The single-job commands of ``ionq-async``: clone, get, list, wait and cancel."""

from __future__ import annotations

import argparse
import contextlib
import sys

from rich.console import Console

from .._core.serde import dump_job
from .._models.jobs import Job, JobStatus
from ._base import (
    CLI_POLL,
    EXIT_INCOMPLETE,
    EXIT_OK,
    UsageError,
    clone_request,
    job_id,
    job_ids,
    make_client,
    plain,
    print_json,
)
from ._render import job_table, jobs_table, status_text

__all__ = ["cancel", "clone", "get", "list_jobs", "wait"]


def _out() -> Console:
    return Console(highlight=False)


def _err() -> Console:
    return Console(stderr=True, highlight=False)


def _exit_for(jobs: list[Job]) -> int:
    return EXIT_OK if all(j.status == JobStatus.COMPLETED for j in jobs) else EXIT_INCOMPLETE


async def clone(args: argparse.Namespace) -> int:
    """``clone JOB_ID [clone options] [--wait] [--json]``."""
    source = job_id(args.job_id)
    request = clone_request(args)
    async with make_client(args) as client:
        created = await client.jobs.clone(source, request)
        if not args.wait:
            if args.json:
                print_json({"source_id": source, **job_json_created(created.id, created.status)})
            else:
                _out().print(
                    f"cloned [bold]{source}[/] -> [bold green]{created.id}[/]"
                    f" ({created.status or 'submitted'})"
                )
            return EXIT_OK
        if not args.json:
            _err().print(f"cloned {source} -> [bold]{created.id}[/]; waiting for it to finish")
        job = await client.jobs.wait(
            created.id, timeout=args.timeout, poll=CLI_POLL, raise_on_failure=False
        )
    if args.json:
        print_json({"source_id": source, **dump_job(job)})
    else:
        _out().print(job_table(job))
    return _exit_for([job])


def job_json_created(new_id: str, status: object) -> dict[str, object]:
    """The JSON of a clone answer."""
    return {"id": new_id, "status": str(status) if status is not None else "submitted"}


async def get(args: argparse.Namespace) -> int:
    """``get JOB_ID``: one job's fields."""
    jid = job_id(args.job_id)
    async with make_client(args) as client:
        job = await client.jobs.get(jid)
    if args.json:
        print_json(dump_job(job))
    else:
        _out().print(job_table(job))
    return EXIT_OK


async def list_jobs(args: argparse.Namespace) -> int:
    """``list [--status S] [--limit N]``: the newest jobs."""
    if args.limit < 1:
        raise UsageError(f"--limit must be at least 1, got {args.limit}")
    jobs: list[Job] = []
    async with make_client(args) as client:
        pages = client.jobs.list(status=args.status, limit=min(args.limit, 1000))
        async with contextlib.aclosing(pages):
            async for job in pages:
                jobs.append(job)
                if len(jobs) >= args.limit:
                    break
    if args.json:
        print_json([dump_job(j) for j in jobs])
    elif jobs:
        title = f"{len(jobs)} newest {args.status + ' ' if args.status else ''}jobs"
        out = _out()
        out.print(jobs_table(jobs, title=title, width=out.width))
    else:
        _err().print("no jobs")
    return EXIT_OK


async def wait(args: argparse.Namespace) -> int:
    """``wait JOB_ID... [--timeout S]``: print each job as it finishes."""
    ids = list(dict.fromkeys(job_ids(args.job_ids)))
    done: list[Job] = []
    out = _out()
    async with make_client(args) as client:
        finished = client.jobs.wait_many(ids, timeout=args.timeout, poll=CLI_POLL)
        async with contextlib.aclosing(finished):
            async for job in finished:
                done.append(job)
                if not args.json:
                    failure = f"  {job.failure.code}: {job.failure.message}" if job.failure else ""
                    out.print(status_text(job.status).append(plain(f"  {job.id}{failure}")))
    if args.json:
        print_json([dump_job(j) for j in done])
    return _exit_for(done)


async def cancel(args: argparse.Namespace) -> int:
    """``cancel JOB_ID...``."""
    ids = list(dict.fromkeys(job_ids(args.job_ids)))
    async with make_client(args) as client:
        if len(ids) == 1:
            await client.jobs.cancel(ids[0])
        else:
            await client.jobs.cancel_many(ids)
    if args.json:
        print_json({"canceled": ids})
    else:
        word = "job" if len(ids) == 1 else "jobs"
        print(f"asked IonQ to cancel {len(ids)} {word}", file=sys.stderr)
        for jid in ids:
            print(jid)
    return EXIT_OK
