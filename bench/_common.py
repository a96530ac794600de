"""Shared helpers of the benchmarks: subprocesses, CPU and memory readings, statistics."""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
_START_TIMEOUT = 30.0
_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds() -> float:
    """User + system CPU seconds of this process so far."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MB (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def gc_collections() -> list[int]:
    """How many collections the cyclic GC has run so far, per generation."""
    import gc

    return [g["collections"] for g in gc.get_stats()]


def pin_cpus() -> tuple[int, int]:
    """Two CPUs this process may use: (server's, client's), for a pinned measurement."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        raise RuntimeError(f"pinned mode needs 2 CPUs, this process may use only {cpus}")
    return cpus[0], cpus[1]


def pin(cpu: int | None) -> None:
    """Run this process (and the threads it starts later) on `cpu` only; None: no change."""
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
        if os.sched_getaffinity(0) != {cpu}:
            raise RuntimeError(f"could not pin to CPU {cpu}")


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of another process, from /proc/PID/stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / _TICK


class Server:
    """A child process that prints ``PORT <n>`` (or a JSON line) once it is ready."""

    def __init__(self, argv: Sequence[str]) -> None:
        self.proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=BENCH.parent,
        )
        self.first_line = self.read_line(_START_TIMEOUT)

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self.proc.pid

    def read_line(self, timeout: float) -> str:
        """The child's next stdout line (it must come within `timeout` seconds)."""
        import selectors

        assert self.proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            if not sel.select(timeout):
                self.close()
                raise TimeoutError(f"no answer from {self.proc.args!r} in {timeout} s")
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.proc.args!r} exited with {self.proc.wait()}")
        return line.strip()

    def ask(self, command: dict[str, Any], timeout: float = 600.0) -> dict[str, Any]:
        """Send one JSON command line; return the JSON line it answers."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        answer: dict[str, Any] = json.loads(self.read_line(timeout))
        return answer

    def close(self) -> None:
        """Stop the child (terminate, then kill after 5 s)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_child(argv: Sequence[str], timeout: float) -> dict[str, Any]:
    """Run a measurement in a fresh process; return the JSON object it prints last."""
    done = subprocess.run(
        list(argv), capture_output=True, text=True, timeout=timeout, cwd=BENCH.parent
    )
    if done.returncode != 0:
        raise RuntimeError(f"{argv!r} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def median_spread(values: Sequence[float], fmt: str = "{:.0f}") -> str:
    """``median (min-max)`` of the values, or the single value."""
    vals = [v for v in values if v == v]
    if not vals:
        return "n/a"
    if len(vals) == 1:
        return fmt.format(vals[0])
    lo, hi = min(vals), max(vals)
    return f"{fmt.format(statistics.median(vals))} ({fmt.format(lo)}-{fmt.format(hi)})"


def median(values: Sequence[float]) -> float:
    """The median, NaN when empty."""
    vals = [v for v in values if v == v]
    return statistics.median(vals) if vals else float("nan")


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def python() -> str:
    """The interpreter running the benchmarks (children use the same one)."""
    return sys.executable


def stamp() -> float:
    """A monotonic timestamp."""
    return time.perf_counter()


def core_client(base_url: str, api_key: str, connections: int) -> Any:
    """ionq-core's IonQClient in its best configuration for a loopback benchmark.

    IonQClient's own transport stack (ErrorRaisingTransport over httpx-retries with its
    default Retry), with the httpx pool raised to `connections` connections, all of them kept
    alive (httpx keeps only 20 alive by default, so most requests would reconnect).
    """
    import warnings

    import httpx
    from httpx_retries import Retry, RetryTransport
    from ionq_core import IonQClient
    from ionq_core._transport import RETRYABLE_STATUS_CODES, ErrorRaisingTransport

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # plain http: loopback only
        client = IonQClient(api_key=api_key, base_url=base_url)
    pool = httpx.AsyncHTTPTransport(
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    )
    retry = Retry(
        total=2,
        backoff_factor=0.5,
        backoff_jitter=0.5,
        max_backoff_wait=60.0,
        status_forcelist=RETRYABLE_STATUS_CODES,
        allowed_methods=Retry.RETRYABLE_METHODS | {"POST"},
    )
    old = client.get_async_httpx_client()
    client.set_async_httpx_client(
        httpx.AsyncClient(
            base_url=base_url,
            headers=old.headers,
            timeout=old.timeout,
            transport=ErrorRaisingTransport(RetryTransport(transport=pool, retry=retry)),
        )
    )
    return client
