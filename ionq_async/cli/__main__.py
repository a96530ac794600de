"""`python -m ionq_async.cli`: the ionq-async command."""

from . import main

raise SystemExit(main())
