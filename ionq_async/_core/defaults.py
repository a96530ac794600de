"""Every default of the SDK in one place: timeouts, retries, polling, scans and batches."""

from __future__ import annotations

# The client and its request path.
BASE_URL = "https://api.ionq.co/v0.4"
REQUEST_TIMEOUT = 60.0
MAX_CONNECTIONS = 100
ERROR_BODY_SNIPPET = 500
SESSION_END_WAIT = 10.0
"""Seconds `AsyncIonQ.close()` waits for session ends still under way."""

# Retries (RetryPolicy's defaults) and the client-wide retry budget.
RETRY_MAX_ATTEMPTS = 5
RETRY_INITIAL_WAIT = 0.5
RETRY_MAX_WAIT = 8.0
RETRY_MULTIPLIER = 2.0
RETRY_JITTER = 0.5
RETRY_MAX_AFTER = 60.0
RETRY_STATUSES: frozenset[int] = frozenset({429, 500, 502, 503, 504, *range(520, 530)})
BUDGET_CAPACITY = 500
BUDGET_RETRY_COST = 5
BUDGET_TIMEOUT_COST = 10
BUDGET_REFILL = 1

# The poll schedule (PollPolicy's defaults) and how the poller batches.
POLL_INITIAL = 1.0
POLL_FACTOR = 1.5
POLL_MAX_INTERVAL = 30.0
POLL_JITTER = 0.1
CHUNK_IDS = 100
"""Ids per `GET /jobs?ids=...` request (poller and batched reads)."""
CONCURRENT_CHUNKS = 8
COALESCE = 0.25
"""A watch due within this share of its interval joins the current round."""
NOT_FOUND_GRACE = 10.0
"""The default `listing_lag`: seconds a new job may take to be listed. A 404 that soon after a
watch starts is "not listed yet"; a token scan that finds nothing is repeated after it."""

# Listing and token scans.
MAX_PAGE = 1000
SCAN_PAGE = 1000
SCAN_LIMIT = 100_000
"""Jobs one token scan reads at most; a scan cut short leaves the outcome unknown."""
SCAN_OVERLAP = 100
CLOCK_SKEW = 120.0
"""Seconds subtracted from a submission's time to bound how far back a token scan reads."""
TOKEN_KEY = "ionq_async_token"

# Batch re-runs.
BATCH_CONCURRENCY = 64
TRANSIENT_FAILURES = frozenset(
    {"InternalError", "QuantumComputerError", "SystemCancel", "SimulationTimeout"}
)
"""Failure codes worth re-running (`retry_failed`): the system's fault, not the circuit's."""
