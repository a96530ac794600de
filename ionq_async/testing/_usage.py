"""GET /organizations/{organization_id}/usage: completed jobs at what they were billed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from aiohttp import web

from ._http import BadRequest, NotFound, json_response
from ._sessions import ORGANIZATION_ID
from ._store import PROJECT_ID, SUBMITTER_ID, Job


class UsageServer(Protocol):
    """What the usage report uses of the emulator."""

    @property
    def jobs(self) -> Mapping[str, Job]: ...

    @property
    def now(self) -> Callable[[], float]: ...

    def actual_cost(self, job: Job) -> float: ...


GROUPS = ("job", "project", "user")
MODALITIES = ("daily", "weekly", "monthly")
UNIT = "USD"


def _date(request: web.Request, key: str) -> dt.date:
    raw = request.query.get(key)
    if raw is None:
        raise BadRequest(f'"{key}" is required', [key], "query")
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f'"{key}" must be a date (YYYY-MM-DD)', [key], "query") from None


def _choice(request: web.Request, key: str, options: tuple[str, ...]) -> str:
    value = request.query.get(key)
    if value not in options:
        raise BadRequest(f'"{key}" must be one of {", ".join(options)}', [key], "query")
    return value


def _bucket(day: dt.date, modality: str) -> dt.date:
    if modality == "weekly":
        return day - dt.timedelta(days=day.weekday())
    if modality == "monthly":
        return day.replace(day=1)
    return day


def _group(job: Job, group_by: str) -> tuple[str, str]:
    if group_by == "job":
        return job.id, job.name or job.id
    if group_by == "user":
        return SUBMITTER_ID, "Emulator user"
    return PROJECT_ID, "Emulator project"


def _row(fake: UsageServer, jobs: list[Job]) -> dict[str, Any]:
    amount = round(sum(fake.actual_cost(j) for j in jobs), 2)
    return {
        "job_count": len(jobs),
        "amount": amount,
        "amount_unit": UNIT,
        "amounts": [{"amount": amount, "unit": UNIT}],
        "time_us": float(sum(int(j.durations[2] * 1_000_000) for j in jobs)),
    }


async def usage(fake: UsageServer, request: web.Request) -> web.Response:
    """Completed top-level jobs submitted in ``[start_date, end_date)``, bucketed by modality."""
    org = request.match_info["organization_id"]
    start, end = _date(request, "start_date"), _date(request, "end_date")
    group_by = _choice(request, "group_by", GROUPS)
    modality = _choice(request, "modality", MODALITIES)
    if org != ORGANIZATION_ID:
        raise NotFound(f"Organization {org} does not exist.")
    if end <= start:
        raise BadRequest('"end_date" must be after "start_date"', ["end_date"], "query")
    now = fake.now()
    buckets: dict[dt.date, list[Job]] = {}
    for job in fake.jobs.values():
        day = dt.datetime.fromtimestamp(job.created, dt.UTC).date()
        counted = job.parent_job_id is None and not job.dry_run
        if counted and start <= day < end and job.status_at(now) == "completed":
            buckets.setdefault(_bucket(day, modality), []).append(job)
    data = []
    for day in sorted(buckets, reverse=True):
        groups: dict[tuple[str, str], list[Job]] = {}
        for job in buckets[day]:
            groups.setdefault(_group(job, group_by), []).append(job)
        top = sorted(groups.items(), key=lambda kv: -sum(fake.actual_cost(j) for j in kv[1]))[:5]
        data.append(
            {
                "from": day.isoformat(),
                **_row(fake, buckets[day]),
                "group_usages": [
                    {"group_id": gid, "group_name": name, **_row(fake, js)}
                    for (gid, name), js in top
                ],
            }
        )
    every = [j for js in buckets.values() for j in js]
    total = _row(fake, every)
    return json_response(
        {
            "organization": ORGANIZATION_ID,
            "group_type": group_by,
            "modality": modality,
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "usage_from": f"{start.isoformat()}T00:00:00Z",
            "usage_to": f"{end.isoformat()}T00:00:00Z",
            "usage_unit": UNIT,
            "amount_total": total["amount"],
            "amount_totals": total["amounts"],
            "job_count": total["job_count"],
            "time_us_total": total["time_us"],
            "usage_data": data,
        }
    )
