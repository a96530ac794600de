"""The typed models: frozen attrs classes, with no wire logic and no import from the rest.

- `jobs`: jobs, their status, settings and the clone request.
- `api`: backends, sessions, whoami and usage.
- `answers`: estimates, status changes and pages.
- `results`: a completed job's results.
- `job_types`: the spec's job creation payload types.
"""
