"""Retention: uploads and finished jobs (with their results) expire after a set age.

``media_retention_s`` and ``job_retention_s`` (unset = kept for ever); ``reelforge serve`` runs
:func:`expire` every ``retention_interval_s``. An upload that a job still waiting or running
names is kept until that job ends. Safe to run from several processes at once.
"""

from __future__ import annotations

import contextlib
import json
import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from reelforge.service.models import Job, Media, utcnow

_MEDIA_REF = re.compile(r"media:([0-9a-f]{32})")
_FINAL = ("completed", "failed", "cancelled")


def expire(service: Any) -> dict[str, int]:
    """Delete what is past its retention now; returns ``{"jobs": n, "media": n}`` removed."""
    settings = service.settings
    removed = {"jobs": 0, "media": 0}
    if settings.job_retention_s is not None:
        removed["jobs"] = int(service.purge(settings.job_retention_s))
    if settings.media_retention_s is not None:
        removed["media"] = expire_media(service, settings.media_retention_s)
    return removed


def expire_media(service: Any, older_than_s: float) -> int:
    """Delete uploads stored more than ``older_than_s`` seconds ago that no unfinished job
    names; returns how many."""
    from reelforge.errors import ReelforgeError

    cutoff = utcnow() - timedelta(seconds=older_than_s)
    with service.db.session() as session:
        old = session.scalars(select(Media.id).where(Media.created_at < cutoff)).all()
        if not old:
            return 0
        waiting = session.scalars(select(Job.params).where(Job.status.not_in(_FINAL))).all()
    in_use = {m for params in waiting for m in _MEDIA_REF.findall(json.dumps(params or {}))}
    removed = 0
    for media_id in old:
        if media_id in in_use:
            continue
        with contextlib.suppress(ReelforgeError):  # another process removed it first
            service.delete_media(media_id)
            removed += 1
    return removed
