"""The client's resources: thin typed methods over the request path and the engines.

`jobs`, `sessions`, `backends`, `account` (whoami, usage, schemas), `listing` (`jobs.list()`),
`status_changes` (cancel, delete), and results reading (`results`, `result_reader`,
`result_formats`).
"""
