"""The newest-first job store, its indexes and opaque pagination cursors."""

from __future__ import annotations

import base64
import binascii
import bisect
import math
import random
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._store import Job


_UUID4_KEEP = ~((0xC000 << 48) | (0xF000 << 64))
_UUID4_SET = (0x8000 << 48) | (4 << 76)
"""The variant and version bits ``uuid.UUID(int=..., version=4)`` clears and sets."""


def encode_cursor(seq: int) -> str:
    """Opaque pagination cursor for a position in the store."""
    return base64.urlsafe_b64encode(f"ionq-emu:{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """Inverse of :func:`encode_cursor`; raises ValueError on garbage."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError("bad cursor") from exc
    prefix, _, seq = raw.partition(":")
    if prefix != "ionq-emu" or not seq.isdigit():
        raise ValueError("bad cursor")
    return int(seq)


class JobStore:
    """Jobs by id, plus newest-first orderings (all jobs, per backend/session/parent/source)."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self.by_id: dict[str, Job] = {}
        self._order: list[Job] = []
        self._index: dict[tuple[str, str], list[Job]] = {}
        self._clones: dict[str, Job | list[Job]] = {}
        """Jobs cloned from each source: the job itself while it is the only one (no list)."""

    def __len__(self) -> int:
        return len(self.by_id)

    def new_id(self) -> str:
        """A random (seeded) UUID4 string, as ``str(uuid.UUID(int=bits, version=4))`` spells it."""
        h = f"{self._rng.getrandbits(128) & _UUID4_KEEP | _UUID4_SET:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def insert(self, job: Job) -> None:
        """Add a job; O(1)."""
        self.by_id[job.id] = job
        self._order.append(job)
        for key in self._keys(job):
            self._index.setdefault(key, []).append(job)
        src = job.cloned_from
        if src:
            known = self._clones.setdefault(src, job)
            if isinstance(known, list):
                known.append(job)
            elif known is not job:
                self._clones[src] = [known, job]

    def delete(self, job: Job) -> None:
        """Remove a job from lookups (orderings skip it lazily)."""
        job.deleted = True
        self.by_id.pop(job.id, None)

    def clones_of(self, src_id: str) -> list[Job]:
        """Jobs cloned or moved from ``src_id``, oldest first."""
        known = self._clones.get(src_id, [])
        return [j for j in (known if isinstance(known, list) else [known]) if not j.deleted]

    @staticmethod
    def _keys(job: Job) -> Iterator[tuple[str, str]]:
        yield ("target", job.backend)
        if job.session_id:
            yield ("session", job.session_id)
        if job.parent_job_id:
            yield ("parent", job.parent_job_id)

    def page(
        self,
        *,
        now: float,
        limit: int,
        before: int | None,
        stored_by: float = math.inf,
        ids: list[str] | None = None,
        status: str | None = None,
        targets: list[str] | None = None,
        session_id: str | None = None,
        parent_job_id: str | None = None,
    ) -> tuple[list[Job], int | None]:
        """Up to ``limit`` jobs newest first, older than cursor ``before``; and the next cursor.

        Only jobs stored at or before clock time ``stored_by`` are listed (the index's lag).
        """
        sources: list[list[Job]]
        if ids is not None:
            found = {self.by_id[i].seq: self.by_id[i] for i in ids if i in self.by_id}
            sources = [[found[s] for s in sorted(found)]]
        elif session_id is not None:
            sources = [self._index.get(("session", session_id), [])]
        elif parent_job_id is not None:
            sources = [self._index.get(("parent", parent_job_id), [])]
        elif targets:
            sources = [self._index.get(("target", t), []) for t in dict.fromkeys(targets)]
        else:
            sources = [self._order]

        def keep(job: Job) -> bool:
            return (
                not job.deleted
                and job.stored_at <= stored_by
                and (status is None or job.status_at(now) == status)
                and (not targets or job.backend in targets)
                and (session_id is None or job.session_id == session_id)
                and (parent_job_id is None or job.parent_job_id == parent_job_id)
            )

        out: list[Job] = []
        for job in _merge_desc(sources, before):
            if keep(job):
                if len(out) == limit:
                    return out, out[-1].seq
                out.append(job)
        return out, None


def _merge_desc(sources: list[list[Job]], before: int | None) -> Iterable[Job]:
    """Jobs of seq-ascending lists, merged newest first, starting below ``before``."""
    pos = [
        len(s) if before is None else bisect.bisect_left(s, before, key=lambda j: j.seq)
        for s in sources
    ]
    best = _newest(sources, pos)
    while best >= 0:
        pos[best] -= 1
        yield sources[best][pos[best]]
        best = _newest(sources, pos)


def _newest(sources: list[list[Job]], pos: list[int]) -> int:
    """Index of the source whose next job (below its position) is newest; -1 when all are done."""
    best = -1
    for k, s in enumerate(sources):
        if pos[k] > 0 and (best < 0 or s[pos[k] - 1].seq > sources[best][pos[best] - 1].seq):
            best = k
    return best
