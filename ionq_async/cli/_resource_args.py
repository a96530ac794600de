"""The parsers of ``backends``, ``whoami``, ``sessions list|create|end`` and ``results``.

Nothing here imports rich, so building the parser works without it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

__all__ = ["SORTS", "add_resource_commands"]

SORTS = ("probability", "bitstring")


def add_resource_commands(
    command: Callable[[str, str], argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """Add the resource commands through ``command(name, help)``; ``common`` holds the globals."""
    p = command("results", "show a completed job's results as a histogram")
    p.add_argument("job_id", metavar="JOB_ID")
    p.add_argument("--top", type=int, metavar="N", help="only the N most likely outcomes")
    p.add_argument(
        "--sort",
        choices=SORTS,
        default="probability",
        help="order outcomes by probability (most likely first, the default) or by bitstring",
    )
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command("backends", "list the backends: status, qubits, queue time")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command("whoami", "show the API key's name, id and project (never the key)")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command("sessions", "list, create and end sessions (reserved QPU time)")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(p))

    def action(name: str, help: str) -> argparse.ArgumentParser:
        return actions.add_parser(name, help=help, description=help, parents=[common])

    q = action("list", "list sessions, newest first")
    q.add_argument("--active", action="store_true", help="only sessions that have not ended")
    q.add_argument("--json", action="store_true", help="print JSON")

    q = action("create", "open a session on a backend")
    q.add_argument("backend", metavar="BACKEND", help="e.g. qpu.forte-1")
    q.add_argument("--job-limit", type=int, metavar="N", help="end the session after N jobs")
    q.add_argument(
        "--duration-limit", type=int, metavar="MIN", help="end the session after MIN minutes"
    )
    q.add_argument(
        "--cost-limit", type=float, metavar="USD", help="end the session past USD dollars"
    )
    q.add_argument("--json", action="store_true", help="print JSON")

    q = action("end", "end a session")
    q.add_argument("session_id", metavar="SESSION_ID")
    q.add_argument("--json", action="store_true", help="print JSON")
