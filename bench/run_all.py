"""Run every benchmark and print one markdown report (``nox -s bench`` calls this).

``python bench/run_all.py [--out FILE] [--b2-sizes 1000 10000 100000] [--runs 3]``
``python bench/run_all.py --smoke``: every benchmark at tiny sizes, in parallel, to prove the
harness works (CI); its numbers mean nothing.

Each benchmark runs as its own process (and measures in fresh subprocesses), in this
order: B1 bench_requests (unpinned, then ``--pin``: server and clients each on its own CPU),
B1s bench_blocking (the blocking client's overhead per call), B2 bench_batch, B2's CLI row
bench_cli, B3 bench_ratelimit, B4 bench_polling, B5 bench_soak (at least 10 minutes), then the
emulator listing check bench_emulator_list (full run only).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PACKAGES = (
    "ionq-async",
    "aiohttp",
    "tenacity",
    "cattrs",
    "attrs",
    "orjson",
    "ionq-core",
    "httpx",
    "httpcore",
    "httpx-retries",
    "sniffio",
)


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def machine_facts() -> str:
    """Versions and machine facts, as a markdown list."""
    versions = ", ".join(f"{name} {_version(name)}" for name in PACKAGES)
    return "\n".join(
        [
            f"- date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}",
            f"- machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), "
            f"{_cpu_model()}, {platform.system()} {platform.release()}",
            f"- Python {platform.python_version()} ({platform.python_implementation()}), "
            f"event loop: asyncio (no uvloop)",
            f"- packages: {versions}",
            f"- load average at start: {_loadavg()}",
        ]
    )


def _plan(args: argparse.Namespace) -> list[tuple[str, list[str], bool]]:
    """(title, argv, markdown?) of every benchmark to run."""
    smoke = ["--smoke"] if args.smoke else []
    runs = [] if args.smoke else ["--runs", str(args.runs)]
    b2 = ["bench/bench_batch.py", *smoke, *runs]
    if not args.smoke:
        b2 += ["--sizes", *map(str, args.b2_sizes)]
    plan = [
        ("B1", ["bench/bench_requests.py", *smoke, *runs], True),
        ("B1 pinned", ["bench/bench_requests.py", "--pin", *smoke, *runs], True),
        ("B1s", ["bench/bench_blocking.py", *smoke, *runs], True),
        ("B2", b2, True),
        ("B2 CLI", ["bench/bench_cli.py", *smoke, *runs], True),
    ]
    if (BENCH / "bench_ratelimit.py").exists():
        plan.append(("B3", ["bench/bench_ratelimit.py", *smoke], False))
    plan.append(("B4", ["bench/bench_polling.py", *smoke, *runs], True))
    plan.append(("B5", ["bench/bench_soak.py", *smoke], True))
    if not args.smoke:
        plan.append(("emulator listing", ["bench/bench_emulator_list.py"], False))
    return plan


def _section(title: str, out: str, markdown: bool) -> str:
    if markdown:
        return out.strip()
    return f"### {title}\n\n```\n{out.strip()}\n```"


def main() -> int:
    """Run the plan; print (and optionally write) the report; non-zero if any failed."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--smoke", action="store_true", help="tiny sizes, in parallel (CI)")
    p.add_argument("--out", type=Path, help="also write the report to this file")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--b2-sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    p.add_argument("--timeout", type=float, default=3600.0, help="per benchmark, seconds")
    args = p.parse_args()
    started = time.perf_counter()
    command = "python bench/run_all.py " + shlex.join(sys.argv[1:])
    parts = [f"## Results\n\nCommand: `{command.strip()}`\n", machine_facts(), ""]
    timeout = 120.0 if args.smoke else args.timeout
    plan = _plan(args)
    failed: list[str] = []

    def collect(title: str, argv: list[str], markdown: bool, proc: subprocess.Popen[str]) -> None:
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            failed.append(f"{title}: timed out after {timeout:.0f} s")
            return
        if proc.returncode != 0:
            failed.append(f"{title}: `python {shlex.join(argv)}` exited {proc.returncode}")
            return
        parts.append(f"Command: `python {shlex.join(argv)}`\n")
        parts.append(_section(title, out, markdown) + "\n")

    running = []
    for title, argv, markdown in plan:
        proc = subprocess.Popen(
            [sys.executable, *argv], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        if args.smoke:  # all at once: only the harness is being checked
            running.append((title, argv, markdown, proc))
        else:  # one at a time: the machine has 2 cores
            collect(title, argv, markdown, proc)
    for title, argv, markdown, proc in running:
        collect(title, argv, markdown, proc)
    parts.append(f"- load average at end: {_loadavg()}")
    parts.append(f"- total time: {time.perf_counter() - started:.0f} s")
    for line in failed:
        parts.append(f"- FAILED {line}")
    report = "\n".join(parts) + "\n"
    print(report)
    if args.out is not None:
        args.out.write_text(report)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
