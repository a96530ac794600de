"""Where a job's probabilities live (artifact or legacy URL) and how to read them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from yarl import URL

from ..errors import IonQError, ResponseValidationError

__all__ = [
    "Source",
    "artifact_path",
    "find_source",
    "legacy_path",
    "legacy_result_path",
    "parse_probabilities",
    "probability_artifact",
]

Source = tuple[str | None, str, list[tuple[str, str]]]
"""Where a result payload is read: (its format if known, path under base_url, query)."""

PROBABILITY_FORMATS = (
    "ionq.result.probabilities.json.v1",
    "ionq.result.probabilities.json.v2",
)


def probability_artifact(results: Mapping[str, Any] | None) -> tuple[str, str] | None:
    """The (artifact id, format) of a job's probabilities artifact, if it offers one."""
    for fmt in PROBABILITY_FORMATS:
        entry = (results or {}).get(fmt)
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            return entry["id"], fmt
    return None


def artifact_path(job_id: str, artifact_id: str) -> str:
    """The path of `GET /jobs/{id}/artifacts/{artifact_id}`, the id escaped."""
    if artifact_id in ("", ".", ".."):
        raise ResponseValidationError(f"job {job_id} names an invalid artifact id")
    return f"/jobs/{job_id}/artifacts/{quote(artifact_id, safe='')}"


def legacy_result_path(
    base_url: str, results: Mapping[str, Any] | None, job_id: str
) -> tuple[str, list[tuple[str, str]]]:
    """The path and query of the job's legacy probabilities URL (its default path if none)."""
    legacy = (results or {}).get("probabilities")
    url = legacy.get("url") if isinstance(legacy, dict) else None
    if not isinstance(url, str) or not url:
        return f"/jobs/{job_id}/results/probabilities", []
    return legacy_path(base_url, url)


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
) -> Source | None:
    """Where to read the first of `formats` the job offers: an artifact, else a legacy URL."""
    entries = results or {}
    descriptors = {
        (entry.get("format") if isinstance(entry.get("format"), str) else key): entry["id"]
        for key, entry in entries.items()
        if isinstance(entry, dict) and isinstance(entry.get("id"), str)
    }
    for fmt in formats:
        if fmt in descriptors:
            return fmt, artifact_path(job_id, descriptors[fmt]), []
    legacy = entries.get(legacy_key) if legacy_key else None
    url = legacy.get("url") if isinstance(legacy, dict) else None
    if isinstance(url, str) and url:
        return (None, *legacy_path(base_url, url))
    return None


def parse_probabilities(data: Any, fmt: str | None) -> dict[str, float]:
    """`{decimal state: probability}` from a v1 (flat) or v2 (registers) payload."""
    if not isinstance(data, dict):
        raise ResponseValidationError("probabilities are not a JSON object")
    if (fmt or "").endswith(".v2") or isinstance(data.get("probabilities"), dict):
        return _v2_to_flat(data)
    try:
        return {str(k): float(v) for k, v in data.items()}
    except (TypeError, ValueError) as exc:
        raise ResponseValidationError(f"probabilities are not numbers: {exc}") from exc


def _v2_to_flat(payload: Mapping[str, Any]) -> dict[str, float]:
    """`{"probabilities": {"registers": {reg: {bits: p}}}}` -> `{decimal state: p}`."""
    registers = (payload.get("probabilities") or {}).get("registers")
    if not isinstance(registers, dict) or not registers:
        raise ResponseValidationError("probabilities v2 payload has no registers")
    register = registers.get("output_all") or next(iter(registers.values()))
    try:
        return {str(int(bits, 2)): float(p) for bits, p in register.items()}
    except (TypeError, ValueError, AttributeError) as exc:
        raise ResponseValidationError(f"probabilities v2 payload is malformed: {exc}") from exc
