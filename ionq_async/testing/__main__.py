"""``python -m ionq_async.testing``: run the standalone emulator."""

from ._serve import main

main()
