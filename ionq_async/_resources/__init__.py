"""The client's resources: thin typed methods over the operation declarations and the engines.

`jobs`, `sessions`, `backends`, `account` (schemas), `listing` (`jobs.list()`), and results
reading (`results`: where a payload lives, `result_reader`, `result_formats`: decoding).
"""
