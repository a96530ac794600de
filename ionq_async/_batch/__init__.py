"""The batch re-run feature: clone many source jobs, await them, account for each one once.

A map, in the order a batch meets them:

- `types`: what a caller passes (`RerunOptions`) and gets back (outcome, progress, report).
- `estimate`: what a batch will cost before it runs (`estimate_rerun`).
- `run`: the entry points `rerun()` (a `RerunStream`) / `rerun_all()`: open the journal,
  drive the engine; `leaving`: what leaving a stream early stops and settles.
- `journal`: the SQLite record that makes a batch resumable; `resume`: what an entry means.
- `prefetch`: fresh sources read ahead in chunks; `records`: what is kept per source in flight.
- `campaign`: the budget before a run (`max_cost`; with a journal, of every run on it);
  `spend`: the budget clone by clone, prices raised to the drift IonQ's bills show.
- `engine`: the driver itself: workers that clone, the poller that awaits, one outcome each;
  `send`: one clone (intent row fsynced, then the POST); `ends`: an end journaled, then emitted.
"""
