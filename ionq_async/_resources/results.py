"""Where a job's result payloads live: an artifact, a legacy result URL, or the default path."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from yarl import URL

from .._core import api
from .._core.queries import Params
from ..errors import IonQError, ResponseValidationError
from .result_formats import KINDS

__all__ = ["Source", "find_source", "legacy_path", "probabilities_source"]

Source = tuple[str | None, api.Request[Any]]
"""Where a result payload is read: its format if known, and the request that reads it."""


def legacy_path(base_url: str, url: str) -> tuple[str, list[tuple[str, str]]]:
    """The path (under base_url) and query of a legacy result URL (`results.<kind>.url`).

    The API's URLs repeat the version prefix (`/v0.4/jobs/...`), which is stripped. A URL
    on another host is refused: the API key would be sent there.
    """
    base = URL(base_url)
    target = URL(url)
    origin = (target.scheme, target.host, target.port)
    if target.is_absolute() and origin != (base.scheme, base.host, base.port):
        raise IonQError(
            f"refusing to send the API key to {target.scheme}://{target.host}: the "
            f"result URL is not on {base.host}"
        )
    path = target.path if target.path.startswith("/") else "/" + target.path
    prefix = base.path.rstrip("/")
    if prefix and (path == prefix or path.startswith(prefix + "/")):
        path = path[len(prefix) :]
    return path, list(target.query.items())


def find_source(
    base_url: str,
    job_id: str,
    results: Mapping[str, Any] | None,
    formats: tuple[str, ...],
    legacy_key: str | None,
    extra: Params = (),
) -> Source | None:
    """Where to read the first of `formats` the job offers: an artifact, else a legacy URL.

    `extra` is added to a legacy URL's query.
    """
    entries = results or {}
    descriptors = {
        (entry.get("format") if isinstance(entry.get("format"), str) else key): entry["id"]
        for key, entry in entries.items()
        if isinstance(entry, dict) and isinstance(entry.get("id"), str)
    }
    for fmt in formats:
        if fmt in descriptors:
            artifact_id = descriptors[fmt]
            if artifact_id in ("", ".", ".."):
                raise ResponseValidationError(f"job {job_id} names an invalid artifact id")
            return fmt, api.GET_JOB_ARTIFACT(job_id, artifact_id)
    legacy = entries.get(legacy_key) if legacy_key else None
    url = legacy.get("url") if isinstance(legacy, dict) else None
    if isinstance(url, str) and url:
        path, query = legacy_path(base_url, url)
        return None, api.GET_RESULT_AT(path, [*query, *extra])
    return None


def probabilities_source(
    base_url: str, job_id: str, results: Mapping[str, Any] | None, extra: Params = ()
) -> Source:
    """Where a job's probabilities are read: its artifact, its legacy URL, or the default path.

    With `extra` (a `sharpen` query) artifacts are passed over: only the legacy route takes it.
    """
    formats = () if extra else KINDS["probabilities"]
    found = find_source(base_url, job_id, results, formats, "probabilities", extra)
    return found or (None, api.GET_JOB_PROBABILITIES(job_id, list(extra)))
