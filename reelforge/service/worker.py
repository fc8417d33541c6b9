"""Running one job: claim it, render it, upload its outputs, finish it (or retry it).

``run_job`` is what every executor calls, in a thread or in a Celery task. It is safe to call
twice for the same job: only one call can claim it, and outputs go to fixed keys under
``jobs/<id>/`` so a re-run overwrites rather than duplicates.
"""

from __future__ import annotations

from reelforge.service.db import Database
from reelforge.service.settings import ServiceSettings
from reelforge.service.storage import Storage

RESULT_FILES: dict[str, str] = {
    "video": "video.mp4",
    "srt": "video.srt",
    "vtt": "video.vtt",
    "ass": "video.ass",
    "words.json": "video.words.json",
    "thumbnail": "video.jpg",
    "manifest": "video.json",
}
"""Result name -> file name under ``jobs/<id>/`` in storage."""


def run_job(
    job_id: str, db: Database, storage: Storage, settings: ServiceSettings, worker_id: str
) -> str | None:
    """Claim and run job ``job_id``; returns its final-or-requeued status, or ``None`` when
    the job could not be claimed (another worker has it, it is not ready, or it is gone)."""
    raise NotImplementedError
