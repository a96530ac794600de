"""The request path: every API call goes down through here and back.

- `api`: the spec's 25 operations, each declared once (method, path, query or body, loader,
  kind); `declaration`: what a declaration is, and the Request that calling one gives.
- `http`: `RequestPath.send`: retries by kind + a connection slot + the rate limit + one
  send + the answer's loader.
- `transport`: one HTTP attempt over aiohttp, its errors translated to ours.
- `ratelimit`: the pacer every request of one client shares.
- `retry`: what may be retried (`Kind`), when and how long (tenacity lives here only).
- `queries`: queries and bodies, checked before sending; `loaders`: the answers, read;
  `serde`: the one cattrs converter (JSON <-> models); `paging`: the cursor walk.
- `operations`: the job calls the engines are handed (declarations bound to a request path).
- `defaults`: the SDK's defaults.
"""
