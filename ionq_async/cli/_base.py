"""Shared pieces of the ``ionq-async`` CLI: exit codes, input checks, clients and JSON output.

Nothing here imports rich, so the parser and the ``emulator`` command work without it.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._engine.polling import PollPolicy
from .._models.jobs import CloneRequest, ErrorMitigation, Noise, Settings, check_job_id

if TYPE_CHECKING:
    from .._client import AsyncIonQ

__all__ = [
    "CLI_POLL",
    "EXIT_INCOMPLETE",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "PROG",
    "UsageError",
    "clone_request",
    "describe_error",
    "job_ids",
    "make_client",
    "plain",
    "print_json",
    "read_sources",
    "seconds",
]

# C0 controls, DEL and C1 controls: ESC starts terminal sequences (clear screen, set title).
_CONTROLS = dict.fromkeys([*range(0x00, 0x20), *range(0x7F, 0xA0)])

PROG = "ionq-async"
EXIT_OK = 0
EXIT_INCOMPLETE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
CLI_POLL = PollPolicy(initial=1.0, factor=1.5, max_interval=15.0)
"""How the CLI polls the jobs it waits for (gentler than the SDK's default)."""


class UsageError(Exception):
    """Bad input: printed as one ``ionq-async: error: ...`` line, exit code 2."""


def plain(value: object) -> str:
    """`value` as text without control characters: what a server sent is shown, never run."""
    return str(value).translate(_CONTROLS)


def seconds(value: str) -> float:
    """An argparse type: a finite number of seconds > 0 (`nan`, `inf`, `-1` are refused)."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {value!r}") from None
    if not 0 < number < math.inf:
        raise argparse.ArgumentTypeError(f"must be a finite number of seconds > 0, got {value}")
    return number


def job_id(value: str, where: str = "") -> str:
    """``value`` if it is a job id (a canonical UUID), else a UsageError."""
    try:
        return check_job_id(value.strip())
    except ValueError:
        prefix = f"{where}: " if where else ""
        raise UsageError(f"{prefix}not a job id (a UUID like 0198c7d2-...): {value!r}") from None


def job_ids(values: Iterable[str]) -> list[str]:
    """Checked job ids, in order."""
    return [job_id(v) for v in values]


def read_sources(ids: list[str], from_file: str | None) -> list[str]:
    """Source ids from the command line, ``--from FILE`` or ``-`` (stdin), deduplicated.

    Files hold one id per line; blank lines and ``#`` comments are skipped.
    """
    sources: list[str] = []
    stdin = "-" in ids
    if stdin and from_file is not None:
        raise UsageError("give source ids on stdin ('-') or with --from, not both")
    named = [i for i in ids if i != "-"]
    if (stdin or from_file is not None) and named:
        raise UsageError("give source ids as arguments, or with --from / '-', not both")
    if from_file is not None:
        path = Path(from_file)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UsageError(f"--from file not found: {from_file}") from None
        except OSError as exc:
            raise UsageError(f"cannot read --from file {from_file}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise UsageError(f"--from file {from_file} is not UTF-8 text (one id a line)") from None
        sources = _lines(text.splitlines(), from_file)
    elif stdin:
        sources = _lines(sys.stdin.read().splitlines(), "stdin")
    else:
        sources = job_ids(named)
    if not sources:
        raise UsageError("no source job ids given (pass JOB_ID..., --from FILE or '-')")
    return list(dict.fromkeys(sources))


def _lines(lines: list[str], name: str) -> list[str]:
    out = []
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip()
        if text:
            out.append(job_id(text, f"{name} line {number}"))
    return out


def _metadata(pairs: list[str] | None) -> dict[str, str] | None:
    if not pairs:
        return None
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--metadata takes key=value pairs, got {pair!r}")
        out[key] = value
    return out


def clone_request(args: argparse.Namespace) -> CloneRequest | None:
    """The CloneRequest the clone options describe (None when none is given)."""
    noise = None
    if args.noise_seed is not None and args.noise_model is None:
        raise UsageError("--noise-seed needs --noise-model")
    settings = None
    if args.debiasing is not None:
        settings = Settings(error_mitigation=ErrorMitigation(debiasing=args.debiasing))
    try:
        if args.noise_model is not None:
            noise = Noise(model=args.noise_model, seed=args.noise_seed)
        request = CloneRequest(
            name=args.name,
            metadata=_metadata(args.metadata),
            shots=args.shots,
            backend=args.backend,
            settings=settings,
            dry_run=True if args.dry_run else None,
            noise=noise,
        )
    except (TypeError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    return None if request == CloneRequest() else request


def make_client(args: argparse.Namespace, **kwargs: Any) -> AsyncIonQ:
    """An AsyncIonQ from ``--api-key``/``IONQ_API_KEY`` and ``--base-url``/``IONQ_BASE_URL``."""
    from .._client import AsyncIonQ

    try:
        return AsyncIonQ(api_key=args.api_key, base_url=args.base_url, **kwargs)
    except ValueError as exc:
        if str(exc).startswith("no IonQ API key"):
            raise UsageError("no IonQ API key: pass --api-key or set IONQ_API_KEY") from None
        raise UsageError(str(exc)) from None


def describe_error(error: BaseException | None) -> str | None:
    """``"TypeName: message"`` for an outcome's error (None for none)."""
    if error is None:
        return None
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def print_json(data: Any) -> None:
    """Write ``data`` as indented JSON on stdout."""
    sys.stdout.write(json.dumps(data, indent=2) + "\n")
