"""JobService: submit, inspect, cancel, retry and delete jobs; store uploads; estimate prices.

The database is the source of truth for job state; the executor only hears "there is work".
Every status change goes through :mod:`reelforge.service.lifecycle`.

A video request (what ``POST /api/videos`` carries) is a dict::

    {"script": "...markdown or plain text..."}          # or
    {"storyboard": {...storyboard fields...}}
    # optional overrides (storyboard fields): template, language, voice, format, resolution,
    # target_duration (alias: duration), max_scenes, music, captions, title, seed
    # optional: "preview": bool (small and fast), "queue": "cpu" | "gpu"

Media files are never given as paths: upload them (:meth:`JobService.store_upload`) and refer to
them as ``media:<id>`` in any path field (scene visuals, music, narration, watermark, captions
file) or in a Markdown image ``![](media:<id>)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, BinaryIO

from reelforge.service.db import Database
from reelforge.service.executor import Executor
from reelforge.service.models import Job, JobEvent, Media
from reelforge.service.settings import ServiceSettings
from reelforge.service.storage import Storage


class JobService:
    """The service verbs over a database, a store and an executor."""

    def __init__(
        self, db: Database, storage: Storage, executor: Executor, settings: ServiceSettings
    ) -> None:
        self.db = db
        self.storage = storage
        self.executor = executor
        self.settings = settings

    # --- jobs ---------------------------------------------------------------------------------

    def submit_video(
        self,
        request: dict[str, Any],
        *,
        owner: str | None = None,
        priority: str = "medium",
        webhook_url: str | None = None,
    ) -> Job:
        """Validate ``request`` (builds the Storyboard; SpecError/JobError when bad), store it
        under ``jobs/<id>/input.json``, queue the job and tell the executor. Returns the job
        (status ``queued``)."""
        raise NotImplementedError

    def get(self, job_id: str, owner: str | None = None) -> Job:
        """The job, or JobError (``not found``) when missing or owned by someone else."""
        raise NotImplementedError

    def list(
        self,
        status: str | None = None,
        kind: str | None = None,
        owner: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[Job], int]:
        """Jobs newest first, filtered; returns (page, total matching)."""
        raise NotImplementedError

    def cancel(self, job_id: str, owner: str | None = None) -> Job:
        """Cancel a job that is not final (a running one stops at its next progress step)."""
        raise NotImplementedError

    def delete(self, job_id: str, owner: str | None = None) -> None:
        """Cancel the job if it runs, delete its stored files and its rows."""
        raise NotImplementedError

    def retry(self, job_id: str, owner: str | None = None) -> Job:
        """Queue a failed or cancelled job again (a fresh attempt budget)."""
        raise NotImplementedError

    def events(self, job_id: str, after_id: int = 0, owner: str | None = None) -> list[JobEvent]:
        """The job's events with id > ``after_id`` in order (for SSE streams)."""
        raise NotImplementedError

    def artifact_key(self, job_id: str, name: str, owner: str | None = None) -> str:
        """The storage key of result ``name`` (``video``, ``srt``, ``vtt``, ``ass``,
        ``words.json``, ``thumbnail``, ``manifest``) of a completed job, else JobError."""
        raise NotImplementedError

    def recover(self) -> int:
        """Re-queue jobs whose worker died (lease expired) and hand every queued job to the
        executor again. Returns how many jobs were handed over."""
        raise NotImplementedError

    def estimate(self, request: dict[str, Any]) -> dict[str, Any]:
        """Price estimate: ``{"duration_s", "compute_s", "queue", "cost", "currency",
        "rates": {...}}`` from the configured rates."""
        raise NotImplementedError

    # --- uploads ------------------------------------------------------------------------------

    def store_upload(
        self,
        owner: str | None,
        filename: str | None,
        stream: BinaryIO | Iterable[bytes],
        declared_type: str | None = None,
    ) -> Media:
        """Store an uploaded image/audio/video; the type is sniffed from the content (a
        declared type that disagrees is refused), the size limit enforced while reading."""
        raise NotImplementedError

    def get_media(self, media_id: str, owner: str | None = None) -> Media:
        raise NotImplementedError

    # --- health -------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """``{"database": {...}, "storage": {...}, "executor": {...}}`` each with ``ok``."""
        raise NotImplementedError

    def close(self, wait: bool = True) -> None:
        """Stop the executor and release the database."""
        raise NotImplementedError
