"""Job status: the enum, the allowed transitions, and the only code that changes a job's status.

::

    submitted -> queued -> processing -> rendering -> post_processing -> uploading -> completed
                   ^           |             |              |               |
                   +-----------+-------------+--------------+---------------+  (retry, lost lease)
    any non-final status -> failed | cancelled;   failed | cancelled -> queued (retry)

:func:`transition` validates a change against :data:`TRANSITIONS`, stamps the timestamps,
appends to ``Job.history`` and writes a :class:`JobEvent`. :func:`claim` is the one exception in
form, not in rule: taking a queued job must be a single compare-and-set ``UPDATE`` so two
workers (threads or machines) can never both win; it stamps the same way. Neither commits:
callers own the transaction. ``Job.version`` makes a stale ORM write fail (SQLAlchemy's
``StaleDataError``) instead of silently overwriting a concurrent change such as a cancel.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from reelforge.errors import JobError
from reelforge.service.models import Job, JobEvent, utcnow


class JobStatus(StrEnum):
    SUBMITTED = "submitted"
    QUEUED = "queued"
    PROCESSING = "processing"
    RENDERING = "rendering"
    POST_PROCESSING = "post_processing"
    UPLOADING = "uploading"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in FINAL

    @property
    def is_active(self) -> bool:
        """A worker holds the job (it has a lease)."""
        return self in ACTIVE


ACTIVE: tuple[JobStatus, ...] = (
    JobStatus.PROCESSING,
    JobStatus.RENDERING,
    JobStatus.POST_PROCESSING,
    JobStatus.UPLOADING,
)
"""Statuses in which a worker runs the job, in order; they double as the job's stages."""

FINAL: tuple[JobStatus, ...] = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)

_STOP = {JobStatus.FAILED, JobStatus.CANCELLED}


def _active_next(status: JobStatus) -> set[JobStatus]:
    """From an active stage: any later stage (a stage may have nothing to do), or back to the
    queue (retry after an error, or a lost lease), or failed/cancelled."""
    later = set(ACTIVE[ACTIVE.index(status) + 1 :])
    if status is JobStatus.UPLOADING:
        later.add(JobStatus.COMPLETED)
    return later | _STOP | {JobStatus.QUEUED}


TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.SUBMITTED: frozenset({JobStatus.QUEUED} | _STOP),
    JobStatus.QUEUED: frozenset({JobStatus.PROCESSING} | _STOP),
    **{status: frozenset(_active_next(status)) for status in ACTIVE},
    JobStatus.COMPLETED: frozenset(),
    JobStatus.FAILED: frozenset({JobStatus.QUEUED}),
    JobStatus.CANCELLED: frozenset({JobStatus.QUEUED}),
}
"""Allowed status changes: ``TRANSITIONS[old]`` is the set of statuses ``old`` may become."""

_PROTECTED = {"id", "status", "history", "version"}


def can_transition(old: str | JobStatus, new: str | JobStatus) -> bool:
    return JobStatus(new) in TRANSITIONS[JobStatus(old)]


def transition(
    session: Session,
    job: Job,
    new_status: str | JobStatus,
    *,
    note: str | None = None,
    now: datetime | None = None,
    **fields: Any,
) -> Job:
    """Move ``job`` to ``new_status``; the only function that changes a job's status.

    Validates the change (an illegal one raises :class:`JobError`), sets ``fields`` (column
    names: ``error``, ``hint``, ``traceback``, ``result``, ``next_attempt_at``...), stamps
    ``queued_at``/``started_at``/``finished_at``/``updated_at``, appends ``{status, at, note}`` to
    ``history`` and adds a :class:`JobEvent`. Does not commit.
    """
    try:
        new = JobStatus(new_status)
    except ValueError:
        raise JobError(
            f"unknown job status {new_status!r}",
            hint="one of: " + ", ".join(s.value for s in JobStatus),
        ) from None
    old = JobStatus(job.status)
    if new not in TRANSITIONS[old]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[old])) or "nothing (final)"
        raise JobError(
            f"job {job.id} cannot go from {old.value} to {new.value}",
            hint=f"a {old.value} job can become: {allowed}",
        )
    for name in fields:
        if name in _PROTECTED or not hasattr(Job, name):
            raise TypeError(f"transition() got an unknown or protected job field {name!r}")
    now = now or utcnow()

    if new is JobStatus.QUEUED:
        job.queued_at = now
        job.finished_at = None
        job.lease_owner = None
        job.lease_expires_at = None
        job.stage = None
        job.progress = 0.0
        job.eta_s = None
        if old.is_final:  # a fresh start: the attempt budget and the last error go
            job.attempts = 0
            job.next_attempt_at = None
            job.error = job.hint = job.traceback = None
            job.result = None
            job.summary = None
    elif new.is_active:
        job.stage = new.value
        if old is JobStatus.QUEUED:
            job.started_at = now
    elif new.is_final:
        job.finished_at = now
        job.lease_owner = None
        job.lease_expires_at = None
        job.next_attempt_at = None
        job.eta_s = None if new is not JobStatus.COMPLETED else 0.0
        if new is JobStatus.COMPLETED:
            job.progress = 1.0
            job.stage = None
    for name, value in fields.items():
        setattr(job, name, value)

    job.status = new.value
    job.updated_at = now
    job.history = [*(job.history or []), {"status": new.value, "at": now.isoformat(), "note": note}]
    add_event(session, job.id, now, new.value, job.stage, job.progress, note)
    return job


def add_event(
    session: Session,
    job_id: str,
    at: datetime,
    status: str,
    stage: str | None,
    progress: float | None,
    message: str | None,
) -> None:
    """Append one entry to the job's event stream (what the SSE clients and pollers read)."""
    event = JobEvent(
        job_id=job_id, at=at, status=status, stage=stage, progress=progress, message=message
    )
    session.add(event)


def claim(
    session: Session,
    job_id: str,
    worker_id: str,
    lease_seconds: float,
    *,
    now: datetime | None = None,
) -> Job | None:
    """Take queued job ``job_id`` for ``worker_id`` with one compare-and-set ``UPDATE``.

    Succeeds only when the job is queued, its ``next_attempt_at`` (retry backoff) has passed and
    no live lease is held; then the job is ``processing`` with a lease until
    ``now + lease_seconds`` and one more attempt counted. Returns the job, or ``None`` when
    another worker won or the job is not ready. Works the same on SQLite and PostgreSQL.
    """
    now = now or utcnow()
    statement = (
        update(Job)
        .where(
            Job.id == job_id,
            Job.status == JobStatus.QUEUED.value,
            or_(Job.next_attempt_at.is_(None), Job.next_attempt_at <= now),
            or_(Job.lease_expires_at.is_(None), Job.lease_expires_at <= now),
        )
        .values(
            status=JobStatus.PROCESSING.value,
            stage=JobStatus.PROCESSING.value,
            progress=0.0,
            eta_s=None,
            lease_owner=worker_id,
            lease_expires_at=now + timedelta(seconds=lease_seconds),
            attempts=Job.attempts + 1,
            started_at=now,
            updated_at=now,
            version=Job.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if session.execute(statement).rowcount != 1:  # type: ignore[attr-defined]
        return None
    job = session.get(Job, job_id, populate_existing=True)
    if job is None:  # deleted between the two statements
        return None
    note = f"attempt {job.attempts} of {job.max_attempts} on {worker_id}"
    job.history = [
        *(job.history or []),
        {"status": JobStatus.PROCESSING.value, "at": now.isoformat(), "note": note},
    ]
    processing = JobStatus.PROCESSING.value
    add_event(session, job.id, now, processing, processing, 0.0, note)
    return job
