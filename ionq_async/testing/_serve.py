"""Standalone emulator server (used by ``python -m ionq_async.testing`` and the CLI)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import textwrap
from collections.abc import Callable, Sequence
from typing import Any

from ._artifacts import CIRCUIT_FORMATS, PROBS_V2, RESULTS_SHAPES
from ._estimate import ESTIMATE_SHAPES
from ._faults import ROUTES, FaultPlan
from ._server import DEFAULT_DURATIONS, FakeIonQ

_ROUTES = textwrap.fill("routes: " + ", ".join(ROUTES), 78, subsequent_indent="  ")
_EPILOG = f"""\
--fault-rate takes RATE (every route) or ROUTE=RATE and may be repeated; each rule
draws its faults (429, 5xx, an HTML 502 page, a reset connection) from its own
generator, seeded by --seed.
{_ROUTES}

examples:
  python -m ionq_async.testing --port 0 --durations 1,2,5
  python -m ionq_async.testing --fault-rate get_job=0.2 --fault-rate end_session=1 --seed 7
  python -m ionq_async.testing --results-shape descriptors --cost-factor 1.15 --list-lag 3
"""


async def _run(fake: FakeIonQ) -> None:
    async with fake:
        bell = fake.add_job(name="bell", shots=1000, status="completed")
        print(f"IonQ v0.4 emulator listening on {fake.base_url}", flush=True)
        print(f"API key: {fake.api_key}", flush=True)
        print(f"Seeded completed Bell job: {bell.id}", flush=True)
        await asyncio.Event().wait()


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    rate_limit: float | None = None,
    fault_rate: float = 0.0,
    api_key: str | None = None,
    seed: int = 0,
    faults: FaultPlan | None = None,
    **options: Any,
) -> None:
    """Run the emulator until Ctrl-C, printing its base URL and API key.

    ``fault_rate`` faults that fraction of all requests; ``faults`` is a whole plan instead.
    Other keyword arguments go to :class:`FakeIonQ` (``durations``, ``results_shape``,
    ``cost_factor``, ``list_lag``, ...); bad values raise ValueError before anything is bound.
    """
    if faults is None and fault_rate > 0:
        faults = FaultPlan.random(fault_rate, seed=seed)
    fake = FakeIonQ(rate_limit, faults, seed=seed, api_key=api_key, host=host, port=port, **options)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run(fake))


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def _at_least(low: float, *, strict: bool = False) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = _number(text)
        if value < low or (strict and value == low):
            raise argparse.ArgumentTypeError(f"{text} must be {'>' if strict else '>='} {low:g}")
        return value

    return parse


def _fraction(text: str) -> float:
    value = _number(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text} must be between 0 and 1")
    return value


def _fault_rule(text: str) -> tuple[str, float]:
    route, sep, rate = text.rpartition("=")
    if not sep:
        return "*", _fraction(text)
    if route != "*" and route not in ROUTES:
        raise argparse.ArgumentTypeError(
            f"unknown route {route!r}; expected '*' or one of: {', '.join(ROUTES)}"
        )
    return route, _fraction(rate)


def _durations(text: str) -> tuple[float, float, float]:
    parts = text.split(",")
    if len(parts) != 3:
        raise argparse.ArgumentTypeError(
            f"{text!r} must be three seconds, SUBMITTED,READY,STARTED (e.g. 0.05,0.1,0.2)"
        )
    parse = _at_least(0)
    first, second, third = (parse(p) for p in parts)
    return first, second, third


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not between 0 and 65535")
    return port


def _parser(
    prog: str = "python -m ionq_async.testing",
    parser_class: type[argparse.ArgumentParser] = argparse.ArgumentParser,
) -> argparse.ArgumentParser:
    parser = parser_class(
        prog=prog,
        description="Serve the offline IonQ v0.4 emulator until Ctrl-C.\n"
        "It prints its base URL, its API key and the id of a seeded completed Bell job.",
        epilog=_EPILOG.replace("python -m ionq_async.testing", prog),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    net = parser.add_argument_group("server")
    net.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    net.add_argument("--port", type=_port, default=8765, help="8765; 0 picks a free port")
    net.add_argument("--api-key", metavar="KEY", help="the key to accept (default: generated)")
    net.add_argument(
        "--seed", type=int, default=0, help="seeds job ids, the API key, failures and faults (0)"
    )
    jobs = parser.add_argument_group("jobs")
    jobs.add_argument(
        "--durations",
        type=_durations,
        default=DEFAULT_DURATIONS,
        metavar="SUBMITTED,READY,STARTED",
        help="seconds a job spends in each status before it ends "
        f"({','.join(f'{d:g}' for d in DEFAULT_DURATIONS)})",
    )
    jobs.add_argument(
        "--failure-rate",
        type=_fraction,
        default=0.0,
        metavar="F",
        help="fraction of API-created jobs that end failed (0)",
    )
    jobs.add_argument(
        "--results-shape",
        choices=RESULTS_SHAPES,
        default="both",
        help="a completed job's results: legacy {url} entries, artifact descriptors (the spec) "
        "or both, as the live API sends (both)",
    )
    jobs.add_argument(
        "--result-format",
        action="append",
        choices=CIRCUIT_FORMATS,
        metavar="FORMAT",
        help=f"a format a circuit job's results name; repeatable ({PROBS_V2}); "
        f"one of: {', '.join(CIRCUIT_FORMATS)}",
    )
    jobs.add_argument(
        "--estimate-shape",
        choices=ESTIMATE_SHAPES,
        default="rate_card",
        help="GET /jobs/estimate's answer: the spec's rate_card or IonQ's April 2026 "
        "rate_information (rate_card)",
    )
    billing = parser.add_argument_group("billing and listings")
    billing.add_argument(
        "--cost-factor",
        type=_at_least(0),
        default=1.0,
        metavar="F",
        help="completed jobs are billed their estimate times F (1.0)",
    )
    billing.add_argument(
        "--list-lag",
        type=_at_least(0),
        default=0.0,
        metavar="SECONDS",
        help="GET /jobs listings show a job SECONDS after it is created (0)",
    )
    faults = parser.add_argument_group("faults")
    faults.add_argument(
        "--fault-rate",
        type=_fault_rule,
        action="append",
        default=[],
        metavar="[ROUTE=]RATE",
        help="fault RATE (0..1) of the requests to ROUTE, or to every route; repeatable",
    )
    faults.add_argument(
        "--rate-limit",
        type=_at_least(0, strict=True),
        metavar="R",
        help="requests per second per key, then 429 (off)",
    )
    faults.add_argument(
        "--burst",
        type=_at_least(1),
        metavar="N",
        help="requests allowed at once under --rate-limit (max(1, R))",
    )
    return parser


def _fault_plan(
    parser: argparse.ArgumentParser, rules: list[tuple[str, float]], seed: int
) -> FaultPlan:
    routes = [route for route, _ in rules]
    repeated = sorted({r for r in routes if routes.count(r) > 1})
    if repeated:
        parser.error(f"argument --fault-rate: route {repeated[0]!r} given more than once")
    plan = FaultPlan()
    for i, (route, rate) in enumerate(rules):
        if rate > 0:
            plan.add_random(rate, routes=None if route == "*" else [route], seed=seed + i)
    return plan


def main(
    argv: Sequence[str] | None = None,
    *,
    prog: str = "python -m ionq_async.testing",
    parser_class: type[argparse.ArgumentParser] = argparse.ArgumentParser,
) -> None:
    """Parse command-line options and call :func:`serve` (usage errors exit 2).

    ``prog`` and ``parser_class`` let the ``ionq-async emulator`` command reuse this one
    command line with its own name and error style.
    """
    parser = _parser(prog, parser_class)
    args = parser.parse_args(argv)
    if args.burst is not None and args.rate_limit is None:
        parser.error("argument --burst: needs --rate-limit")
    try:
        serve(
            args.host,
            args.port,
            rate_limit=args.rate_limit,
            burst=args.burst,
            api_key=args.api_key,
            seed=args.seed,
            faults=_fault_plan(parser, args.fault_rate, args.seed),
            durations=args.durations,
            failure_rate=args.failure_rate,
            results_shape=args.results_shape,
            result_formats=tuple(dict.fromkeys(args.result_format or [PROBS_V2])),
            estimate_shape=args.estimate_shape,
            cost_factor=args.cost_factor,
            list_lag=args.list_lag,
        )
    except OSError as exc:
        where = f"{args.host}:{args.port}"
        parser.exit(1, f"{parser.prog}: error: cannot serve on {where}: {exc.strerror or exc}\n")
