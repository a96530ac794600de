"""Keeping the API key off the screen: argv and output with the key replaced by ``***``.

The key can reach the CLI's output three ways: the resume hint repeats the command line, an
error's text may quote what a server echoed, and a traceback quotes exception messages. The
command line is redacted by position (``--api-key KEY``, ``--api-key=KEY`` and argparse's
abbreviations such as ``--api KEY``); everything written to stdout and stderr is redacted by
value, for the key given on the command line and the one in ``IONQ_API_KEY``.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any, TextIO, cast

__all__ = ["MASK", "RedactingStream", "Redactor", "keys_in_argv", "redact_argv", "redacted_output"]

MASK = "***"
OPTION = "--api-key"
ENV = "IONQ_API_KEY"
# Shorter "keys" are not real IonQ keys; masking every occurrence of them would garble output.
_MIN_MASKED = 6


def _is_key_option(word: str) -> bool:
    """True for ``--api-key`` and the abbreviations argparse accepts for it (``--a`` ...)."""
    name = word.partition("=")[0]
    return len(name) >= 3 and OPTION.startswith(name)


def keys_in_argv(argv: Sequence[str]) -> list[str]:
    """The values given to ``--api-key`` (in either form) on a command line."""
    keys = []
    for i, word in enumerate(argv):
        if not _is_key_option(word):
            continue
        if "=" in word:
            keys.append(word.partition("=")[2])
        elif i + 1 < len(argv):
            keys.append(argv[i + 1])
    return [k for k in keys if k]


def redact_argv(argv: Sequence[str]) -> list[str]:
    """``argv`` with every ``--api-key`` value replaced by ``***``."""
    out: list[str] = []
    mask_next = False
    for word in argv:
        if mask_next:
            out.append(MASK)
            mask_next = False
        elif _is_key_option(word):
            name, eq, _ = word.partition("=")
            out.append(f"{name}={MASK}" if eq else word)
            mask_next = not eq
        else:
            out.append(word)
    return out


class Redactor:
    """Replaces each known key in a text by ``***``."""

    def __init__(self, keys: Iterable[str | None]) -> None:
        unique = {k for k in keys if k and len(k) >= _MIN_MASKED}
        # Longest first, so a key that contains another is masked whole.
        self.keys = sorted(unique, key=len, reverse=True)

    @classmethod
    def for_cli(cls, argv: Sequence[str], api_key: str | None = None) -> Redactor:
        """The keys of one CLI run: ``--api-key`` values and ``$IONQ_API_KEY``."""
        return cls([*keys_in_argv(argv), api_key, os.environ.get(ENV)])

    def __call__(self, text: str) -> str:
        """``text`` with every key masked."""
        for key in self.keys:
            if key in text:
                text = text.replace(key, MASK)
        return text


class RedactingStream:
    """A text stream that masks every key before writing through to ``stream``."""

    def __init__(self, stream: IO[str], redact: Redactor) -> None:
        self._stream = stream
        self._redact = redact

    def write(self, text: str) -> int:
        """Write ``text`` masked; report it all written, as the caller counts."""
        self._stream.write(self._redact(text))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        """Write each line masked."""
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextlib.contextmanager
def redacted_output(redact: Redactor) -> Iterator[None]:
    """Mask the keys in all that is written to ``sys.stdout`` and ``sys.stderr`` meanwhile."""
    if not redact.keys:
        yield
        return
    out, err = sys.stdout, sys.stderr
    sys.stdout = cast(TextIO, RedactingStream(out, redact))
    sys.stderr = cast(TextIO, RedactingStream(err, redact))
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout, sys.stderr = out, err
