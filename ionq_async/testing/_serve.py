"""Standalone emulator server (used by ``python -m ionq_async.testing`` and the CLI)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Sequence

from ._faults import FaultPlan


async def _run(
    host: str,
    port: int,
    rate_limit: float | None,
    fault_rate: float,
    api_key: str | None,
    seed: int,
) -> None:
    from ._server import FakeIonQ

    faults = FaultPlan.random(fault_rate, seed=seed) if fault_rate > 0 else None
    fake = FakeIonQ(rate_limit, faults, seed=seed, api_key=api_key, host=host, port=port)
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
) -> None:
    """Run the emulator until Ctrl-C, printing its base URL and API key."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run(host, port, rate_limit, fault_rate, api_key, seed))


def main(argv: Sequence[str] | None = None) -> None:
    """Parse command-line options and call :func:`serve`."""
    parser = argparse.ArgumentParser(
        prog="python -m ionq_async.testing", description="Offline IonQ v0.4 emulator."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--rate-limit", type=float, default=None, help="requests/second per key")
    parser.add_argument(
        "--fault-rate", type=float, default=0.0, help="fraction of faulted requests"
    )
    parser.add_argument("--api-key", default=None, help="fixed API key (default: generated)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    serve(
        args.host,
        args.port,
        rate_limit=args.rate_limit,
        fault_rate=args.fault_rate,
        api_key=args.api_key,
        seed=args.seed,
    )
