"""Engines of single jobs, handed narrow operations (never the client):

- `polling`: one poller per client awaits every watched job, polling due jobs in batches;
  `poll_policy` says when, `schedule` keeps the due polls and deadlines, `watch` is one
  waiter's interest in one job.
- `waits`: `wait()` and `wait_many()` over the poller.
- `idempotency`: a clone with a client token, found again after a lost answer by the
  `token_index`.
"""
