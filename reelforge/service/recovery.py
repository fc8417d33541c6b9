"""Jobs whose worker was lost go back to the queue: worker ids, dead workers, expired leases.

A worker id names its machine and process (:func:`worker_name`), so a job held by a process
that no longer exists on this machine is recovered at once (:func:`dead_local_worker`); any
other lost job is recovered when its lease runs out. :func:`requeue_expired` runs at start-up
and periodically in every executor; each change goes through :func:`lifecycle.transition`.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import uuid
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from reelforge.service.db import Database
from reelforge.service.lifecycle import ACTIVE, JobStatus, transition
from reelforge.service.models import Job, utcnow
from reelforge.service.settings import ServiceSettings

log = logging.getLogger(__name__)


def worker_name(prefix: str = "w") -> str:
    """A worker id unique across machines and restarts: ``<prefix>-<host>-<pid>-<random>``."""
    return f"{prefix}-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def dead_local_worker(worker_id: str | None) -> bool:
    """True when ``worker_id`` (``<prefix>-<host>-<pid>-<tag>``, see :func:`worker_name`)
    names a process on this machine that no longer exists: its jobs need not wait for the
    lease to run out."""
    if not worker_id:
        return False
    parts = worker_id.split("-")
    if len(parts) < 4 or "-".join(parts[1:-2]) != socket.gethostname():
        return False
    try:
        pid = int(parts[-2])
    except ValueError:
        return False
    if pid == os.getpid() or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, owned by another user
        return False
    return False


def work_folder(settings: ServiceSettings, job_id: str) -> Path:
    """Where job ``job_id`` runs on this machine: one sub-folder per attempt."""
    return Path(settings.work_dir or settings.data_dir / "work") / job_id


def remove_work(settings: ServiceSettings, job_id: str, keep: Path | None = None) -> None:
    """Delete what earlier (crashed or timed-out) attempts of a job left on this machine, all
    but ``keep``; everything when ``keep`` is None (the job is deleted)."""
    folder = work_folder(settings, job_id)
    if not folder.is_dir():
        return
    if keep is None:
        shutil.rmtree(folder, ignore_errors=True)
        return
    for entry in folder.iterdir():
        if entry == keep:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def queued_jobs(db: Database) -> list[tuple[str, str, int]]:
    """(id, queue, priority) of every queued job, most urgent first: what an executor is
    handed again after a restart or a lost broker message."""
    with db.session() as session:
        rows = session.execute(
            select(Job.id, Job.queue, Job.priority)
            .where(Job.status == JobStatus.QUEUED.value)
            .order_by(Job.priority.desc(), Job.queued_at)
        ).all()
    return [(job_id, queue, priority) for job_id, queue, priority in rows]


def requeue_expired(db: Database, settings: ServiceSettings) -> list[str]:
    """Jobs held by a worker whose lease expired, or by a dead process on this machine, go back
    to the queue (or fail when their attempts are spent). Returns their ids. Safe to run from
    many processes at once."""
    now = utcnow()
    host = socket.gethostname()
    with db.session() as session:
        candidates = session.execute(
            select(Job.id, Job.lease_owner, Job.lease_expires_at).where(
                Job.status.in_([s.value for s in ACTIVE]),
                (Job.lease_expires_at < now) | Job.lease_owner.contains(f"-{host}-"),
            )
        ).all()
    expired = [
        job_id
        for job_id, owner, until in candidates
        if (until is not None and until < now) or dead_local_worker(owner)
    ]
    done = []
    for job_id in expired:
        try:
            with db.transaction() as session:
                job = session.get(Job, job_id)
                if job is None or job.status not in {s.value for s in ACTIVE}:
                    continue
                dead = dead_local_worker(job.lease_owner)
                if not dead and (job.lease_expires_at is None or job.lease_expires_at >= now):
                    continue
                why = "its process is gone" if dead else "lease expired"
                lost = f"worker {job.lease_owner} stopped responding ({why})"
                if job.attempts < job.max_attempts:
                    transition(
                        session,
                        job,
                        JobStatus.QUEUED,
                        note=f"{lost}; retrying",
                        error=lost,
                        hint="the job is retried automatically",
                    )
                else:
                    transition(
                        session,
                        job,
                        JobStatus.FAILED,
                        note=lost,
                        error=f"{lost} on the last of {job.max_attempts} attempts",
                        hint="check the worker's logs (memory, crashes), then retry the job",
                    )
            done.append(job_id)
        except StaleDataError:
            continue  # another process recovered it, or the worker came back
    if done:
        log.info("re-queued %d job(s) whose worker was lost", len(done))
    return done
