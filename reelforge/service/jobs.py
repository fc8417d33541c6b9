"""JobService: submit, inspect, cancel, retry and delete jobs; store uploads; estimate prices.

The database is the source of truth for job state; the executor only hears "there is work".
Every status change goes through :mod:`reelforge.service.lifecycle`. Jobs of every kind
(:mod:`reelforge.kinds`) take one path in: :meth:`JobService.submit` checks the kind's request,
its media and its workload, stores it, hashes it for the cache and queues it; a kind's route
only builds its request (:func:`reelforge.service.requests.video_request` for videos).
"""

from __future__ import annotations

import builtins
import contextlib
import json
import time
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any, BinaryIO, TypeVar

from pydantic import ValidationError
from sqlalchemy import delete as sql_delete
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from reelforge import kinds
from reelforge.errors import JobError, ReelforgeError, SpecError
from reelforge.kinds import JobKind, JobRequest, Output
from reelforge.service.db import Database
from reelforge.service.executor import Executor
from reelforge.service.lifecycle import JobStatus, transition
from reelforge.service.models import (
    Job,
    JobEvent,
    Media,
    new_id,
    priority_value,
    utcnow,
)
from reelforge.service.pricing import admit, breakdown
from reelforge.service.quotas import check_owner_quota
from reelforge.service.recovery import queued_jobs, remove_work, requeue_expired
from reelforge.service.requests import (
    MediaLookup,
    check_media,
    input_hash,
    inspect_uploads,
    video_request,
)
from reelforge.service.settings import ServiceSettings
from reelforge.service.storage import Storage
from reelforge.service.uploads import UnsupportedMedia as UnsupportedMedia  # re-exported
from reelforge.service.uploads import UploadTooLarge as UploadTooLarge  # re-exported
from reelforge.service.uploads import store_upload
from reelforge.service.webhooks import check_url

T = TypeVar("T")


class JobNotFound(JobError):
    """No such job (or media) for this owner."""


class JobConflict(JobError):
    """The job is not in a state that allows this (retry a completed job, cancel a failed one)."""


def retry_stale(action: Callable[[], T], attempts: int = 8) -> T:
    """Run ``action`` again when a concurrent writer changed the job first (optimistic lock)."""
    for attempt in range(attempts):
        try:
            return action()
        except StaleDataError:
            if attempt == attempts - 1:
                raise JobError(
                    "the job kept changing while being updated",
                    hint="try again in a moment",
                ) from None
            time.sleep(0.01 * (attempt + 1))
    raise AssertionError("unreachable")


# --- the service -------------------------------------------------------------------------------


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
        """Queue a video from a lenient video request (see :mod:`reelforge.service.requests`)."""
        with self.db.session() as session:
            video = video_request(request, self._media_lookup(session, owner))
        return self.submit("video", video, owner=owner, priority=priority, webhook_url=webhook_url)

    def submit(
        self,
        kind_name: str,
        request: JobRequest | dict[str, Any],
        *,
        owner: str | None = None,
        priority: str = "medium",
        webhook_url: str | None = None,
    ) -> Job:
        """Validate ``request`` for kind ``kind_name`` (its model, its media, this server's
        limits: SpecError/JobError when bad), store it under ``jobs/<id>/input.json``, queue the
        job and tell the executor. Returns the job (status ``queued``)."""
        kind = kinds.get(kind_name)
        parsed = self._parse(kind, request)
        priority_number = priority_value(priority)
        if webhook_url is not None:
            check_url(webhook_url, self.settings)
        admit(kind.name, kind.workload(parsed), self.settings)
        # An owner at their storage quota makes no new results (OwnerQuotaExceeded, a 507).
        check_owner_quota(self.db, self.storage, self.settings, owner, 1)
        with self.db.session() as session:
            uploads = check_media(kind, parsed, self._media_lookup(session, owner))
            digest = input_hash(kind, parsed, uploads)
        inspect_uploads(kind, parsed, uploads, self.storage.local_path)
        stored = parsed.model_dump(mode="json")
        job_id = new_id()
        document = {"kind": kind.name, "request": stored, "owner": owner}
        self.storage.put_bytes(
            f"jobs/{job_id}/input.json",
            json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8"),
            "application/json",
        )
        now = utcnow()
        with self.db.transaction() as session:
            job = Job(
                id=job_id,
                kind=kind.name,
                status=JobStatus.SUBMITTED.value,
                priority=priority_number,
                queue=parsed.queue,
                params=stored,
                input_hash=digest,
                owner=owner,
                webhook_url=webhook_url,
                max_attempts=self.settings.max_attempts,
                attempts=0,
                progress=0.0,
                created_at=now,
                updated_at=now,
                history=[{"status": "submitted", "at": now.isoformat(), "note": None}],
            )
            session.add(job)
            session.add(JobEvent(job_id=job_id, at=now, status="submitted", progress=0.0))
            transition(session, job, JobStatus.QUEUED, note="accepted")
        self.executor.submit(job.id, job.queue, job.priority)
        return job

    @staticmethod
    def _parse(kind: JobKind, request: JobRequest | dict[str, Any]) -> JobRequest:
        """``request`` as the kind's model (a dict is validated; a SpecError when bad)."""
        if isinstance(request, kind.request):
            return request
        try:
            return kind.request.model_validate(request)
        except ValidationError as exc:
            problems = "; ".join(
                ".".join(str(part) for part in error["loc"]) + ": " + error["msg"]
                for error in exc.errors()
            )
            raise SpecError(
                f"a bad {kind.name} request: {problems}", hint="see GET /openapi.json"
            ) from None

    @staticmethod
    def _media_lookup(session: Session, owner: str | None) -> MediaLookup:
        """Finds the owner's uploads (``None`` for an unknown id or someone else's)."""

        def find(media_id: str) -> Media | None:
            item = session.get(Media, media_id)
            return item if item is not None and item.owner == owner else None

        return find

    def _load(self, session: Session, job_id: str, owner: str | None) -> Job:
        job = session.get(Job, job_id) if isinstance(job_id, str) else None
        if job is None or (owner is not None and job.owner != owner):
            raise JobNotFound(f"no job {job_id}", hint="list your jobs with GET /api/jobs")
        return job

    def get(self, job_id: str, owner: str | None = None) -> Job:
        """The job, or :class:`JobNotFound` when missing or owned by someone else."""
        with self.db.session() as session:
            return self._load(session, job_id, owner)

    def list(
        self,
        status: str | None = None,
        kind: str | None = None,
        owner: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[Job], int]:
        """Jobs newest first, filtered; returns (page, total matching)."""
        if status is not None and status not in {s.value for s in JobStatus}:
            raise SpecError(
                f"unknown status {status!r}",
                hint="one of: " + ", ".join(s.value for s in JobStatus),
            )
        if kind is not None and kind not in kinds.names():
            raise SpecError(f"unknown kind {kind!r}", hint="one of: " + ", ".join(kinds.names()))
        if not 1 <= limit <= 1000 or offset < 0:
            raise SpecError("limit must be 1..1000 and offset >= 0", hint="?limit=50&offset=0")
        conditions = []
        if status is not None:
            conditions.append(Job.status == status)
        if kind is not None:
            conditions.append(Job.kind == kind)
        if owner is not None:
            conditions.append(Job.owner == owner)
        with self.db.session() as session:
            total = session.scalar(select(func.count()).select_from(Job).where(*conditions)) or 0
            page = session.scalars(
                select(Job)
                .where(*conditions)
                .order_by(Job.created_at.desc(), Job.id)
                .limit(limit)
                .offset(offset)
            ).all()
        return list(page), int(total)

    def cancel(self, job_id: str, owner: str | None = None) -> Job:
        """Cancel a job that is not final (a running one stops at its next progress step).
        Cancelling a cancelled job is a no-op; a completed or failed one is a
        :class:`JobConflict`."""

        def attempt() -> Job:
            with self.db.transaction() as session:
                job = self._load(session, job_id, owner)
                if job.status == JobStatus.CANCELLED:
                    return job
                if JobStatus(job.status).is_final:
                    raise JobConflict(
                        f"job {job_id} is {job.status}; only unfinished jobs can be cancelled",
                        hint="delete it instead (DELETE /api/jobs/<id>)",
                    )
                return transition(session, job, JobStatus.CANCELLED, note="cancelled on request")

        return retry_stale(attempt)

    def delete(self, job_id: str, owner: str | None = None) -> None:
        """Cancel the job if it runs, delete its stored files and its rows."""
        job = self.get(job_id, owner)
        if not JobStatus(job.status).is_final:
            with contextlib.suppress(JobConflict):
                self.cancel(job_id, owner)
        self.storage.delete_prefix(f"jobs/{job_id}/")
        remove_work(self.settings, job.id)  # what a crashed attempt left on this machine
        with self.db.transaction() as session:
            session.execute(sql_delete(JobEvent).where(JobEvent.job_id == job_id))
            session.execute(sql_delete(Job).where(Job.id == job_id))

    def retry(self, job_id: str, owner: str | None = None) -> Job:
        """Queue a failed or cancelled job again (a fresh attempt budget)."""

        def attempt() -> Job:
            with self.db.transaction() as session:
                job = self._load(session, job_id, owner)
                if job.status not in (JobStatus.FAILED, JobStatus.CANCELLED):
                    raise JobConflict(
                        f"job {job_id} is {job.status}; only failed or cancelled jobs are retried",
                        hint="wait for it to finish, or submit a new job",
                    )
                if not self.storage.exists(f"jobs/{job_id}/input.json"):
                    raise JobConflict(
                        f"job {job_id} has lost its input", hint="submit the request again"
                    )
                return transition(session, job, JobStatus.QUEUED, note="retry on request")

        job = retry_stale(attempt)
        self.executor.submit(job.id, job.queue, job.priority)
        return job

    def purge(self, older_than_s: float, owner: str | None = None) -> int:
        """Delete finished jobs (files and rows) that finished more than ``older_than_s``
        seconds ago; returns how many. For a retention policy run now and then."""
        cutoff = utcnow() - timedelta(seconds=older_than_s)
        conditions = [
            Job.status.in_(
                [JobStatus.COMPLETED.value, JobStatus.FAILED.value, JobStatus.CANCELLED.value]
            ),
            Job.finished_at < cutoff,
        ]
        if owner is not None:
            conditions.append(Job.owner == owner)
        with self.db.session() as session:
            ids = session.scalars(select(Job.id).where(*conditions)).all()
        removed = 0
        for job_id in ids:
            with contextlib.suppress(JobNotFound):
                self.delete(job_id)
                removed += 1
        return removed

    def events(
        self, job_id: str, after_id: int = 0, owner: str | None = None
    ) -> builtins.list[JobEvent]:
        """The job's events with id > ``after_id`` in order (for SSE streams)."""
        with self.db.session() as session:
            self._load(session, job_id, owner)
            return list(
                session.scalars(
                    select(JobEvent)
                    .where(JobEvent.job_id == job_id, JobEvent.id > after_id)
                    .order_by(JobEvent.id)
                ).all()
            )

    def artifact_key(self, job_id: str, name: str, owner: str | None = None) -> str:
        """The storage key of result ``name`` (``video``, ``srt``, ``manifest``...) of a
        completed job, else JobNotFound."""
        return self.artifact(job_id, name, owner)[0]

    def download(self, job_id: str, download: str, owner: str | None = None) -> tuple[str, Output]:
        """``(storage key, output)`` of the result a completed job's kind downloads as
        ``download`` (``video``, ``captions.srt``...), else JobNotFound."""
        job = self.get(job_id, owner)
        found = kinds.get(job.kind).output_named(download)
        if found is None:
            raise JobNotFound(
                f"job {job_id} has no {download!r} result", hint="see the job's links.files"
            )
        return self.artifact(job_id, found[0], owner)

    def artifact(self, job_id: str, name: str, owner: str | None = None) -> tuple[str, Output]:
        """``(storage key, output)`` of result ``name`` of a completed job."""
        job = self.get(job_id, owner)
        if job.status != JobStatus.COMPLETED:
            raise JobConflict(
                f"job {job_id} is {job.status}; results exist once it is completed",
                hint="follow GET /api/jobs/<id> or its event stream",
            )
        key = (job.result or {}).get(name)
        output = kinds.get(job.kind).outputs.get(name)
        if key is None or output is None:
            raise JobNotFound(
                f"job {job_id} has no {name!r} result",
                hint="results: " + ", ".join(sorted(job.result or {})),
            )
        return key, output

    def recover(self) -> int:
        """Re-queue jobs whose worker died (lease expired) and hand every queued job to the
        executor again. Returns how many jobs were handed over."""
        requeue_expired(self.db, self.settings)
        queued = queued_jobs(self.db)
        for job_id, queue, priority in queued:
            self.executor.submit(job_id, queue, priority)
        return len(queued)

    def estimate(self, request: dict[str, Any]) -> dict[str, Any]:
        """Price estimate of a lenient video request from the configured rates:
        ``{"duration_s", "compute_s", "queue", "preview", "scenes", "cost", "currency",
        "rates"}``. Validates the request like a submit."""
        return self.quote("video", video_request(request, None))

    def quote(self, kind_name: str, request: JobRequest | dict[str, Any]) -> dict[str, Any]:
        """Price estimate of a request of kind ``kind_name``; refused like a submit when this
        server would not take it."""
        kind = kinds.get(kind_name)
        parsed = self._parse(kind, request)
        check_media(kind, parsed, None)
        workload = kind.workload(parsed)
        admit(kind.name, workload, self.settings)
        return breakdown(workload, parsed.preview, parsed.queue, self.settings)

    # --- uploads ------------------------------------------------------------------------------

    def store_upload(
        self,
        owner: str | None,
        filename: str | None,
        stream: BinaryIO | Iterable[bytes],
        declared_type: str | None = None,
    ) -> Media:
        """Store an uploaded image, sound or video (see :mod:`reelforge.service.uploads`)."""
        return store_upload(
            self.db, self.storage, self.settings, owner, filename, stream, declared_type
        )

    def get_media(self, media_id: str, owner: str | None = None) -> Media:
        with self.db.session() as session:
            media = session.get(Media, media_id)
            if media is None or (owner is not None and media.owner != owner):
                raise JobNotFound(f"no media {media_id}", hint="upload with POST /api/media")
            return media

    def media_reference(self, field: str, reference: str, owner: str | None) -> str:
        """The canonical ``media:<id>.<ext>`` of ``owner``'s upload that ``reference`` names
        (``media:<id>``, with or without its extension); a SpecError on ``field`` when the
        owner has no such upload."""
        media_id = reference.removeprefix("media:").split(".")[0]
        with self.db.session() as session:
            upload = self._media_lookup(session, owner)(media_id)
        if upload is None:
            raise SpecError(
                f"{field}: unknown media:{media_id}",
                hint="upload the file with POST /api/media and use the id it returns",
            )
        return upload.reference

    def delete_media(self, media_id: str, owner: str | None = None) -> None:
        """Delete an upload (jobs already rendered keep their outputs; queued jobs that use it
        fail with a clear error)."""
        media = self.get_media(media_id, owner)
        self.storage.delete_prefix(f"media/{media.id}/")
        with self.db.transaction() as session:
            session.execute(sql_delete(Media).where(Media.id == media.id))

    # --- health -------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """``{"ok", "database", "storage", "queue"}``, each part with ``ok`` and details."""
        report: dict[str, Any] = {}
        try:
            self.db.check()
            with self.db.session() as session:
                counts = dict(
                    session.execute(select(Job.status, func.count()).group_by(Job.status)).all()
                )
            report["database"] = {"ok": True, "revision": self.db.current_revision()}
            report["queue"] = {
                "ok": True,
                "executor": type(self.executor).__name__,
                "jobs": {s.value: int(counts.get(s.value, 0)) for s in JobStatus},
            }
            executor_health = getattr(self.executor, "health", None)
            if callable(executor_health):
                try:
                    state = dict(executor_health())
                except Exception as exc:  # noqa: BLE001 - health reports, never raises
                    state = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
                report["queue"]["ok"] = bool(state.get("ok", False))
                if state.get("error"):
                    report["queue"]["error"] = state["error"]
                report["queue"]["workers"] = state
        except ReelforgeError as exc:
            report["database"] = {"ok": False, "error": exc.message, "hint": exc.hint}
            report["queue"] = {"ok": False, "error": "database unavailable"}
        try:
            self.storage.check()
            report["storage"] = {"ok": True, "kind": type(self.storage).__name__}
        except ReelforgeError as exc:
            report["storage"] = {"ok": False, "error": exc.message, "hint": exc.hint}
        report["ok"] = all(part["ok"] for part in report.values())
        return report

    def close(self, wait: bool = True) -> None:
        """Stop the executor and release the database."""
        self.executor.shutdown(wait=wait)
        self.db.dispose()
