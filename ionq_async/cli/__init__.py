"""``ionq-async``: clone, await and re-run IonQ jobs from the shell; an offline demo and emulator.

Exit codes: 0 every job completed, 1 some did not (or the API refused), 2 bad input,
130 interrupted. Bad input and API errors are one ``ionq-async: error: ...`` line on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
import traceback
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, NoReturn

from .._version import __version__
from ..errors import IonQError
from ._base import (
    EXIT_INCOMPLETE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    PROG,
    UsageError,
    plain,
    seconds,
)
from ._resource_args import add_resource_commands
from ._secrets import MASK, Redactor, redact_argv, redacted_output

__all__ = ["build_parser", "main"]

Command = Callable[[argparse.Namespace], Coroutine[Any, Any, int]]


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad usage as one line (the UsageError path) instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _global_options(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument(
        "--api-key", default=default, metavar="KEY", help="IonQ API key (default: $IONQ_API_KEY)"
    )
    parser.add_argument(
        "--base-url",
        default=default,
        metavar="URL",
        help="API base URL (default: $IONQ_BASE_URL or https://api.ionq.co/v0.4)",
    )


def _clone_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("clone options (unset fields are inherited)")
    group.add_argument("--shots", type=int, metavar="N", help="shots, 1 to 1,000,000")
    group.add_argument("--backend", metavar="B", help="e.g. simulator, qpu.aria-1")
    group.add_argument("--name", metavar="S", help="name of the new job")
    group.add_argument(
        "--metadata", action="extend", nargs="+", metavar="K=V", help="metadata (replaces)"
    )
    group.add_argument("--noise-model", metavar="M", help="simulator noise model, e.g. aria-1")
    group.add_argument("--noise-seed", type=int, metavar="N", help="noise seed (int32)")
    group.add_argument(
        "--debiasing",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="turn error-mitigation debiasing on or off",
    )
    group.add_argument(
        "--dry-run", action="store_true", help="validate and estimate cost; do not run"
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``ionq-async`` argument parser."""
    parser = _Parser(
        prog=PROG,
        description="Clone, await and re-run IonQ v0.4 jobs; try `ionq-async demo` (offline).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _global_options(parser, None)
    common = _Parser(add_help=False)
    _global_options(common, argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, description=help, parents=[common])

    p = command("clone", "clone a job (same circuit, your overrides)")
    p.add_argument("job_id", metavar="JOB_ID")
    _clone_options(p)
    p.add_argument("--wait", action="store_true", help="wait for the clone to finish")
    p.add_argument("--timeout", type=seconds, metavar="S", help="with --wait: give up after S s")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command("get", "show one job")
    p.add_argument("job_id", metavar="JOB_ID")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command("list", "list the newest jobs")
    p.add_argument(
        "--status",
        choices=("submitted", "ready", "started", "completed", "failed", "canceled"),
        metavar="S",
        help="only jobs in status S (submitted, ready, started, completed, failed, canceled)",
    )
    p.add_argument("--limit", type=int, default=25, metavar="N", help="at most N jobs (25)")
    p.add_argument("--json", action="store_true", help="print JSON")

    add_resource_commands(command, common)

    p = command("wait", "wait for jobs to finish; print each as it does")
    p.add_argument("job_ids", nargs="+", metavar="JOB_ID")
    p.add_argument("--timeout", type=seconds, metavar="S", help="give up after S seconds")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command("cancel", "cancel jobs")
    p.add_argument("job_ids", nargs="+", metavar="JOB_ID")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command("rerun", "clone many jobs and await them, with progress and a summary")
    p.add_argument(
        "job_ids", nargs="*", metavar="JOB_ID", help="source job ids, or - to read them on stdin"
    )
    p.add_argument(
        "--from", dest="from_file", metavar="FILE", help="read source ids from FILE, one a line"
    )
    _clone_options(p)
    batch = p.add_argument_group("batch options")
    batch.add_argument(
        "--concurrency", type=int, default=64, metavar="N", help="clones in flight (64)"
    )
    batch.add_argument(
        "--journal", metavar="FILE", help="record progress in FILE (SQLite) to resume later"
    )
    batch.add_argument("--resume", action="store_true", help="finish the run in --journal FILE")
    batch.add_argument("--out", metavar="FILE", help="write one JSON line per outcome to FILE")
    batch.add_argument(
        "--retry-failed",
        type=int,
        default=0,
        metavar="N",
        help="re-run a job that failed transiently up to N times (0)",
    )
    batch.add_argument("--timeout", type=seconds, metavar="S", help="stop waiting after S seconds")
    batch.add_argument("--no-wait", action="store_true", help="clone only; do not await")
    batch.add_argument("--json", action="store_true", help="print the report as JSON")
    spend = p.add_argument_group("spend and sessions")
    spend.add_argument(
        "--estimate", action="store_true", help="print what the run would cost; send no clone"
    )
    spend.add_argument(
        "--max-cost",
        metavar="AMOUNT",
        help="budget, e.g. 250 or 250usd: refuse a run estimated over it; never spend past it",
    )
    spend.add_argument("--partial", action="store_true", help="over --max-cost: run what fits")
    spend.add_argument(
        "--allow-incomplete-estimate",
        action="store_true",
        help="with --max-cost: run even if some sources cannot be estimated (they are skipped)",
    )
    spend.add_argument("--session", metavar="ID", help="send the clones into session ID")
    spend.add_argument(
        "--new-session",
        metavar="BACKEND",
        help="open a session on BACKEND for the run; end it after, whatever happens",
    )
    spend.add_argument(
        "--session-cost-limit", type=float, metavar="USD", help="with --new-session: cost limit"
    )
    spend.add_argument(
        "--session-job-limit", type=int, metavar="N", help="with --new-session: job count limit"
    )

    p = sub.add_parser(
        "demo",
        help="offline demo: rerun jobs on an in-process emulator",
        description="Start the IonQ emulator in-process, seed N jobs and re-run them.",
    )
    p.add_argument("--jobs", type=int, default=200, metavar="N", help="source jobs (200)")

    p = sub.add_parser(
        "emulator",
        help="serve the offline IonQ v0.4 emulator (`ionq-async emulator --help`: its options)",
        add_help=False,
    )
    p.add_argument("emulator_args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser


def _fail(message: object) -> None:
    print(f"{PROG}: error: {plain(message)}", file=sys.stderr, flush=True)


def _require_rich() -> None:
    try:
        import rich  # noqa: F401
    except ImportError:
        raise UsageError(
            "this command needs rich; install the CLI extra: pip install 'ionq-async[cli]'"
        ) from None


def _emulator(argv: Sequence[str]) -> int:
    """`ionq-async emulator ARGS`: the command line of `python -m ionq_async.testing`."""
    from ..testing._serve import main as serve_main

    try:
        serve_main(argv, prog=f"{PROG} emulator", parser_class=_Parser)
    except UsageError as exc:
        _fail(exc)
        return EXIT_USAGE
    except SystemExit as exc:  # --help (0), a port in use (1, its message printed)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    return EXIT_OK


def _command(name: str) -> Command:
    from . import _commands, _rerun, _resources

    commands: dict[str, Command] = {
        "clone": _commands.clone,
        "get": _commands.get,
        "list": _commands.list_jobs,
        "wait": _commands.wait,
        "cancel": _commands.cancel,
        "backends": _resources.backends,
        "whoami": _resources.whoami,
        "sessions": _resources.sessions,
        "results": _resources.results,
        "rerun": _rerun.rerun,
        "demo": _rerun.demo,
    }
    return commands[name]


def _shell_word(word: str) -> str:
    """One shell word, quoted where needed, a trailing key mask left bare (``--api-key=***``)."""
    if word.endswith(MASK):
        head = word.removesuffix(MASK)
        return (shlex.quote(head) if head else "") + MASK
    return shlex.quote(word)


def _resume_hint(args: argparse.Namespace, argv: Sequence[str]) -> str | None:
    """How to finish an interrupted rerun: its command line with ``--resume``, key masked."""
    if getattr(args, "command", None) != "rerun":
        return None
    if not args.journal:
        return (
            "clones already submitted keep running on IonQ; pass --journal FILE next time "
            "to be able to resume an interrupted rerun"
        )
    words = [PROG, *redact_argv(argv)]
    if "--resume" not in words:
        words.append("--resume")
    stdin = " (with the same ids on stdin)" if "-" in args.job_ids else ""
    masked = any(w.endswith(MASK) for w in words)
    key = f"\n(put your key in place of {MASK}, or set IONQ_API_KEY)" if masked else ""
    return f"to finish this run{stdin}:\n  {' '.join(map(_shell_word, words))}{key}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["emulator"]:
        # The emulator's --api-key is the fake key it accepts, printed for clients to use.
        return _emulator(argv[1:])
    redact = Redactor.for_cli(argv)
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        _fail(redact(str(exc)))
        return EXIT_USAGE
    if args.command == "emulator":  # after global options: `ionq-async --api-key K emulator`
        return _emulator(args.emulator_args)
    redact = Redactor([*redact.keys, args.api_key])
    with redacted_output(redact):
        return _run(args, argv)


def _run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Run the parsed command; every failure becomes a message and an exit code."""
    try:
        if args.command is None:
            build_parser().print_help(sys.stderr)
            return EXIT_USAGE
        _require_rich()
        return asyncio.run(_command(args.command)(args))
    except UsageError as exc:
        _fail(exc)
        return EXIT_USAGE
    except IonQError as exc:
        _fail(exc)
        return EXIT_INCOMPLETE
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        hint = _resume_hint(args, argv)
        if hint:
            print(hint, file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:
        _fail(exc)
        return EXIT_INCOMPLETE
    except Exception:
        # What Python would print for an uncaught error, but through the masked stderr.
        traceback.print_exc()
        return EXIT_INCOMPLETE
