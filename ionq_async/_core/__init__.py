"""The request path: every API call goes down through here and back.

- `transport`: one HTTP attempt over aiohttp, its errors translated to ours.
- `ratelimit`: the pacer every request of one client shares.
- `retry`: when and how long to retry (tenacity lives here and nowhere else).
- `http`: one call = retries + a connection slot + the rate limit + one send + decoding.
- `serde`: the one cattrs converter (JSON <-> models); `estimates`: the estimate query and answer.
- `operations`: the job calls the engines are handed.
- `defaults`: the SDK's defaults.
"""
