"""Per-owner storage quotas: what one owner's uploads and results take, checked before more.

``owner_quota_bytes`` bounds each owner's uploads plus the results of their completed jobs, so
one tenant cannot fill the server's store (``storage_quota_bytes``) and fail everyone else's
jobs. Uploads are refused when they would pass it, new jobs while the owner is at it; a job
already running may finish past it (its results then count). Sizes of a completed job's
results are read from the store once and remembered (results never change).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from sqlalchemy import func, select

from reelforge.service.db import Database
from reelforge.service.models import Job, Media
from reelforge.service.settings import ServiceSettings
from reelforge.service.storage import Storage, StorageError

_REMEMBERED = 100_000  # result sizes kept in memory (jobs)


class OwnerQuotaExceeded(StorageError):
    """An owner's storage quota would be passed (HTTP 507, like the server's own quota)."""


class _ResultSizes:
    """Bytes of each completed job's results, read once per job (an LRU of job ids)."""

    def __init__(self) -> None:
        self._sizes: OrderedDict[str, int] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, storage: Storage, job_id: str, keys: list[str]) -> int:
        with self._lock:
            if job_id in self._sizes:
                self._sizes.move_to_end(job_id)
                return self._sizes[job_id]
        total = 0
        for key in keys:
            try:
                total += int(storage.size(key))
            except StorageError:
                continue  # gone already: counts nothing
        with self._lock:
            self._sizes[job_id] = total
            while len(self._sizes) > _REMEMBERED:
                self._sizes.popitem(last=False)
        return total


_results = _ResultSizes()


def owner_usage(db: Database, storage: Storage, owner: str | None) -> dict[str, int]:
    """``{"uploads", "results", "total"}`` bytes stored for ``owner``."""
    with db.session() as session:
        uploads = session.scalar(select(func.sum(Media.size)).where(Media.owner == owner)) or 0
        completed = session.execute(
            select(Job.id, Job.result).where(
                Job.owner == owner, Job.status == "completed", Job.result.is_not(None)
            )
        ).all()
    results = sum(
        _results.get(storage, job_id, list((result or {}).values())) for job_id, result in completed
    )
    return {"uploads": int(uploads), "results": results, "total": int(uploads) + results}


def check_owner_quota(
    db: Database, storage: Storage, settings: ServiceSettings, owner: str | None, incoming: int
) -> None:
    """Refuse (:class:`OwnerQuotaExceeded`) when storing ``incoming`` more bytes for ``owner``
    would pass ``owner_quota_bytes``; ``incoming=1`` asks "is there room left at all"."""
    quota = settings.owner_quota_bytes
    if quota is None:
        return
    used = owner_usage(db, storage, owner)["total"]
    if used + incoming > quota:
        raise OwnerQuotaExceeded(
            f"your storage quota is used: {used} of {quota} bytes stored, "
            f"{incoming} more would not fit",
            hint="delete uploads (DELETE /api/media/{id}) or jobs (DELETE /api/jobs/{id}) "
            "you no longer need",
        )
