"""Running one job of any kind: claim it, run it, upload its outputs, finish it (or retry it).

``run_job`` is what every executor calls, in a thread or in a Celery task. What the job does
comes from its kind (:mod:`reelforge.kinds`): its request model reads the stored input, its run
function makes the files, its output table names them; nothing here knows a kind. It is safe to call
twice for the same job: only one call can claim it (a compare-and-set in
:func:`reelforge.service.lifecycle.claim`), and outputs go to fixed keys under ``jobs/<id>/``
so a re-run overwrites rather than duplicates.

While it runs, the worker holds a lease (``lease_expires_at``) renewed by a heartbeat thread. A
worker that dies stops renewing; :func:`reelforge.service.recovery.requeue_expired` (run at
start-up and periodically by executors) then puts the job back in the queue, or fails it when
its attempts are spent. Every write the worker makes is conditional on still holding the
lease, so a job that was cancelled, deleted or handed to another worker is never overwritten:
the worker notices at its next progress report and stops.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import threading
import time
import traceback
from collections.abc import Callable, Collection
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeGuard

from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.orm.exc import StaleDataError

from reelforge import kinds
from reelforge.errors import (
    JobError,
    ReelforgeError,
    RenderCancelled,
    ResourceLimitExceeded,
    SpecError,
)
from reelforge.kinds import JobKind, JobRequest, Output
from reelforge.media.ffmpeg import Cancellation
from reelforge.service.db import Database
from reelforge.service.lifecycle import ACTIVE, JobStatus, add_event, claim, transition
from reelforge.service.models import Job, Media, utcnow
from reelforge.service.recovery import remove_work, work_folder
from reelforge.service.redact import redact_paths, server_folders
from reelforge.service.requests import CANONICAL_REF
from reelforge.service.settings import ServiceSettings
from reelforge.service.storage import Storage, StorageFull
from reelforge.service.webhooks import notify

log = logging.getLogger(__name__)
_ACTIVE_STATUSES = frozenset(status.value for status in ACTIVE)

# Job stage -> its share of the whole job's progress [start, end).
_SPANS: dict[JobStatus, tuple[float, float]] = {
    JobStatus.PROCESSING: (0.0, 0.35),
    JobStatus.RENDERING: (0.35, 0.9),
    JobStatus.POST_PROCESSING: (0.9, 0.93),
    JobStatus.UPLOADING: (0.93, 1.0),
}


class _Release(BaseException):  # noqa: N818 - a control-flow signal, not an error
    """Raised inside the progress callback when the worker shuts down: requeue the job."""


class _Stop(BaseException):  # noqa: N818 - a control-flow signal, not an error
    """Raised inside the pipeline's progress callback to abandon a job (cancelled, lease lost,
    timed out). A BaseException so that no ``except Exception`` in the pipeline swallows it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class JobTimeout(JobError):
    """A job ran past its kind's time limit."""


def _place(source: Path, target: Path) -> None:
    """``source`` at ``target``, read-only: a hard link when both share a file system (no
    copy), else a copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
    target.chmod(0o444)


def result_key(job_id: str, output: Output) -> str:
    """Where an output of job ``job_id`` is stored."""
    return f"jobs/{job_id}/{output.file}"


def pick_ready(db: Database, queues: tuple[str, ...], limit: int = 8) -> list[str]:
    """Ids of queued jobs ready to run in ``queues``: highest priority first, then FIFO."""
    now = utcnow()
    with db.session() as session:
        return list(
            session.scalars(
                select(Job.id)
                .where(
                    Job.status == JobStatus.QUEUED.value,
                    Job.queue.in_(queues),
                    (Job.next_attempt_at.is_(None)) | (Job.next_attempt_at <= now),
                )
                .order_by(Job.priority.desc(), Job.queued_at, Job.created_at)
                .limit(limit)
            ).all()
        )


def run_job(
    job_id: str,
    db: Database,
    storage: Storage,
    settings: ServiceSettings,
    worker_id: str,
    *,
    should_stop: Callable[[], bool] | None = None,
) -> str | None:
    """Claim and run job ``job_id``; returns the status it ended in (``completed``, ``failed``,
    ``cancelled``, or ``queued`` for a retry later), or ``None`` when the job could not be
    claimed (another worker has it, it is not ready, or it is gone).

    ``should_stop`` is asked at every progress step: when it says yes (the worker is shutting
    down) the job goes back to the queue without using up an attempt, to resume elsewhere or
    after a restart."""
    with db.transaction() as session:
        job = claim(session, job_id, worker_id, settings.lease_seconds)
        if job is None:
            return None
        snapshot = {
            "kind": job.kind,
            "attempts": job.attempts,
            "owner": job.owner,
            "input_hash": job.input_hash,
            "webhook_url": job.webhook_url,
        }
    run = _Run(job_id, snapshot, db, storage, settings, worker_id)
    run.should_stop = should_stop
    return run.run()


class _Run:
    """One attempt at one job, by one worker."""

    def __init__(
        self,
        job_id: str,
        snapshot: dict[str, Any],
        db: Database,
        storage: Storage,
        settings: ServiceSettings,
        worker_id: str,
    ) -> None:
        self.job_id = job_id
        self.snapshot = snapshot
        self.db = db
        self.storage = storage
        self.settings = settings
        self.worker_id = worker_id
        self.status = JobStatus.PROCESSING
        self.started = time.monotonic()
        self.timeout = settings.timeout_for(snapshot["kind"])
        self.lost: str | None = None  # why this worker no longer owns the job
        self.last_write = 0.0
        self.write_lock = threading.Lock()
        self.done = threading.Event()
        self.cached_from: str | None = None
        self.summary: dict[str, Any] | None = None  # the kind's result summary, scrubbed
        self.last_progress = 0.0
        self.notified = False
        self.local_media: dict[str, str] = {}  # local file of an upload -> its media: reference
        self.should_stop: Callable[[], bool] | None = None
        self.kind: JobKind | None = None  # known once the run starts
        # The render's ffmpeg processes: memory-limited, killed at once when the job is lost.
        self.control = Cancellation(memory_bytes=settings.ffmpeg_memory_bytes)

    # --- ownership ------------------------------------------------------------------------------

    def _owned_update(self, message: str | None = None, **values: Any) -> bool:
        """UPDATE the job only while this worker holds it in the current status (renewing the
        lease); with ``progress`` also a progress event. False when the job is no longer ours."""
        now = utcnow()
        values.setdefault("updated_at", now)
        with self.write_lock, self.db.transaction() as session:
            result = session.execute(
                update(Job)
                .where(
                    Job.id == self.job_id,
                    Job.lease_owner == self.worker_id,
                    Job.status == self.status.value,
                )
                .values(
                    lease_expires_at=now + timedelta(seconds=self.settings.lease_seconds),
                    **values,
                )
                .execution_options(synchronize_session=False)
            )
            owned = bool(result.rowcount == 1)  # type: ignore[attr-defined]
            if owned and "progress" in values:
                status = self.status.value
                add_event(session, self.job_id, now, status, status, values["progress"], message)
        if not owned and self.lost is None:
            self.lost = "the job was cancelled, deleted or taken over"
        return owned

    def _heartbeat(self) -> None:
        # Look at least every second: a cancel must stop an ffmpeg stuck in a filter promptly.
        # Writing is needed only to renew the lease (every third of it); in between, a read
        # notices a cancel, so a running job does not write to the database every second.
        interval = max(min(self.settings.lease_seconds / 3, 1.0), 0.05)
        renew_every = max(self.settings.lease_seconds / 3, interval)
        renewed = time.monotonic()
        while not self.done.wait(interval):
            if self.lost:
                self.control.cancel(RenderCancelled(f"stopped: {self.lost}"))
                return
            if time.monotonic() - self.started > self.timeout:
                # The render is stuck (no progress report came to notice): record the timeout
                # from here; the render thread stops at its next report, if it ever reports.
                self._fail(
                    JobTimeout(
                        f"the job ran longer than its limit of {self.timeout:g} s",
                        hint="shorten the video, use preview, or raise REELFORGE_TIMEOUTS",
                    ),
                    traceback_text=None,
                    force=True,
                )
                self.lost = self.lost or "timeout"
                self.control.cancel(RenderCancelled("stopped: the job ran past its time limit"))
                return
            try:
                if time.monotonic() - renewed >= renew_every:
                    self._owned_update()
                    renewed = time.monotonic()
                else:
                    self._still_held()
            except Exception:  # noqa: BLE001 - a missed beat is retried; the lease has slack
                log.warning("heartbeat for job %s failed", self.job_id, exc_info=True)

    def _still_held(self) -> None:
        """Read (no write) whether this worker still holds the job in its current status."""
        with self.db.session() as session:
            row = session.execute(
                select(Job.lease_owner, Job.status).where(Job.id == self.job_id)
            ).first()
        if row is None or row[0] != self.worker_id or row[1] != self.status.value:
            # The status may have just moved on with this worker: the conditional update
            # (under the write lock) decides, and marks the job lost when it is not ours.
            self._owned_update()

    def _holds(self, job: Job | None, statuses: Collection[str]) -> TypeGuard[Job]:
        """Whether this worker still holds ``job`` (its lease) in one of ``statuses``."""
        return job is not None and job.lease_owner == self.worker_id and job.status in statuses

    def _check(self) -> None:
        if self.lost:
            raise _Stop(self.lost)
        if self.should_stop is not None and self.should_stop():
            raise _Release()

    def _release(self) -> str:
        """Give the job back to the queue (worker shutting down); the attempt is not counted."""

        def attempt() -> str:
            with self.write_lock, self.db.transaction() as session:
                job = session.get(Job, self.job_id)
                if not self._holds(job, _ACTIVE_STATUSES):
                    return job.status if job is not None else JobStatus.CANCELLED.value
                transition(
                    session,
                    job,
                    JobStatus.QUEUED,
                    note=f"worker {self.worker_id} shut down; the job resumes on the next worker",
                    attempts=max(job.attempts - 1, 0),
                )
                return JobStatus.QUEUED.value

        for _ in range(8):
            try:
                return attempt()
            except StaleDataError:
                time.sleep(0.01)
        return self._abandoned("released")

    def _advance(self, status: JobStatus, note: str | None = None) -> None:
        """Move to a later stage, unless the job was cancelled or taken (then stop)."""
        self._check()
        if status == self.status:
            return

        def attempt() -> None:
            with self.write_lock, self.db.transaction() as session:
                job = session.get(Job, self.job_id)
                if not self._holds(job, {self.status.value}):
                    self.lost = "the job was cancelled, deleted or taken over"
                    return
                transition(session, job, status, note=note, progress=_SPANS[status][0])
                # Set before the commit, under the lock: the heartbeat must never renew the
                # lease against the old status (that would look like a lost job).
                self.status = status

        previous = self.status
        for _ in range(8):
            try:
                attempt()
                break
            except StaleDataError:
                self.status = previous
                time.sleep(0.01)
        self._check()

    def progress(self, stage: str, fraction: float) -> None:
        """The pipeline's progress callback: stage changes, throttled progress, cancel checks."""
        self._check()
        if time.monotonic() - self.started > self.timeout:
            raise JobTimeout(
                f"the job ran longer than its limit of {self.timeout:g} s",
                hint="shorten the video, use preview, or raise REELFORGE_TIMEOUTS",
            )
        where = self.kind.stage(stage) if self.kind is not None else kinds.Stage("rendering")
        target = JobStatus(where.job_stage)
        if ACTIVE.index(target) > ACTIVE.index(self.status):
            self._advance(target)
        if target != self.status:  # a late report from an earlier stage
            return
        share = min(max(fraction, 0.0), 1.0)
        self._report(where.start + (where.end - where.start) * share, stage)

    def _report(self, fraction: float, stage: str | None = None, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_write < self.settings.progress_interval_s:
            return
        self.last_write = now
        low, high = _SPANS[self.status]
        overall = max(low + (high - low) * min(max(fraction, 0.0), 1.0), self.last_progress)
        self.last_progress = overall
        elapsed = now - self.started
        eta = elapsed / overall * (1 - overall) if overall > 0.05 else None
        self._owned_update(stage, progress=round(overall, 4), eta_s=eta)
        self._check()

    # --- the run --------------------------------------------------------------------------------

    def run(self) -> str:
        beat = threading.Thread(target=self._heartbeat, name=f"lease-{self.job_id}", daemon=True)
        beat.start()
        # One folder per attempt: a timed-out attempt that is still running never shares files
        # with the retry that replaced it, and what a crashed attempt left is removed now.
        job_folder = work_folder(self.settings, self.job_id)
        work = job_folder / f"attempt-{self.snapshot['attempts']}"
        try:
            remove_work(self.settings, self.job_id, keep=work)
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True, exist_ok=True)
            self.kind = kinds.get(self.snapshot["kind"])
            result = self._cached(self.kind) or self._make(self.kind, work)
            self._advance(JobStatus.UPLOADING)
            keys = self._upload(self.kind, result)
            final = self._complete(keys)
        except _Stop as stop:
            final = self._abandoned(stop.reason)
        except _Release:
            final = self._release()
        except BaseException as exc:  # noqa: BLE001 - every failure is recorded on the job
            if self.lost:
                final = self._abandoned(self.lost)
            else:
                final = self._fail(exc, traceback_text=traceback.format_exc())
            if not isinstance(exc, Exception):
                self.done.set()
                raise
        finally:
            self.done.set()
            if not self.settings.keep_work_dirs:
                shutil.rmtree(work, ignore_errors=True)
                with contextlib.suppress(OSError):
                    job_folder.rmdir()  # only when no other attempt is still in there
        if final in (JobStatus.COMPLETED.value, JobStatus.FAILED.value):
            self._notify()
        return final

    def _request(self, kind: JobKind) -> JobRequest:
        """The stored request, read back by the kind's model (bad input is not retried)."""
        document = json.loads(
            b"".join(self.storage.open_range(f"jobs/{self.job_id}/input.json")).decode("utf-8")
        )
        try:
            return kind.request.model_validate(document["request"])
        except (ValidationError, KeyError, TypeError) as exc:
            raise SpecError(
                f"the stored request of job {self.job_id} is not a {kind.name} request: {exc}",
                hint="submit the request again",
            ) from None

    def _with_local_media(self, kind: JobKind, request: JobRequest, work: Path) -> JobRequest:
        """``request`` with every ``media:`` reference replaced by a read-only copy (or hard
        link) of the upload in the attempt's ``inputs`` folder: a job's processes are handed
        its own inputs only, never a path into the shared store."""
        owner = self.snapshot["owner"]
        inputs = work / "inputs"
        with self.db.session() as session:

            def local(path: str) -> str:
                match = CANONICAL_REF.match(path)
                item = session.get(Media, match.group(1)) if match else None
                if item is None or item.owner != owner:  # deleted since the job was queued
                    raise SpecError(f"unknown media: {path}", hint="upload the file again")
                where = inputs / f"{item.id}{item.extension}"
                if not where.exists():
                    _place(self.storage.local_path(item.key), where)
                self.local_media[str(where)] = item.reference
                return str(where)

            return kind.with_media(request, local)  # type: ignore[no-any-return]

    def _make(self, kind: JobKind, work: Path) -> dict[str, Path]:
        """Run the kind in ``work``; its output files by result name."""
        request = self._with_local_media(kind, self._request(kind), work)
        self._check()
        with self.control:
            result = kind.run(request, work, self.progress, cache_dir=self.settings.cache_dir)
        self._advance(JobStatus.POST_PROCESSING)
        files = {name: Path(path) for name, path in result.files.items() if name in kind.outputs}
        missing = [
            name
            for name, output in kind.outputs.items()
            if (output.required and name not in files)
            or (name in files and not files[name].is_file())
        ]
        if missing:
            raise JobError(
                "the run did not write: " + ", ".join(missing),
                hint="this is a bug in reelforge; the job's traceback has details",
            )
        for name, path in files.items():
            if kind.outputs[name].names_paths:
                self._scrub_manifest(path, work)
        self.summary = self._summary(kind, result.summary, files, work)
        self._report(1.0, "post_processing", force=True)
        return files

    def _summary(
        self, kind: JobKind, summary: Any, files: dict[str, Path], work: Path
    ) -> dict[str, Any] | None:
        """The run's summary as stored with the job: JSON, bounded, no server paths, and every
        ``"outputs"`` entry naming a file this run wrote (a kind breaking that is a bug)."""
        if summary is None:
            return None

        def bug(why: str) -> JobError:
            return JobError(
                f"the {kind.name} run's result summary {why}",
                hint="this is a bug in reelforge; the job's traceback has details",
            )

        try:
            data = json.loads(json.dumps(summary, ensure_ascii=False, allow_nan=False))
        except (TypeError, ValueError) as exc:
            raise bug(f"is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise bug("is not a JSON object")
        data = self._scrub(data, work)
        size = len(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        if size > kinds.SUMMARY_MAX_BYTES:
            raise bug(f"takes {size} bytes; at most {kinds.SUMMARY_MAX_BYTES}")

        def check(value: Any) -> None:
            if isinstance(value, dict):
                outputs = value.get("outputs")
                if outputs is not None and (
                    not isinstance(outputs, dict)
                    or not all(isinstance(n, str) and n in files for n in outputs.values())
                ):
                    raise bug(f"names outputs the run did not write: {outputs!r}")
                for item in value.values():
                    check(item)
            elif isinstance(value, list):
                for item in value:
                    check(item)

        check(data)
        return data  # type: ignore[no-any-return]

    def _scrub_manifest(self, manifest: Path, work: Path) -> None:
        """Server paths never reach users: uploads become their ``media:`` references, files
        in the work folder or caches become ``work:``/``cache:`` relative names."""
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return  # not JSON (a fake renderer): leave it
        manifest.write_text(
            json.dumps(self._scrub(data, work), indent=1, ensure_ascii=False), encoding="utf-8"
        )

    def _scrub(self, data: Any, work: Path) -> Any:
        """``data`` (JSON) with server paths replaced as :meth:`_scrub_manifest` says."""
        roots = [(str(work.resolve()), "work:"), (str(work), "work:")]
        if self.settings.cache_dir is not None:
            roots += [
                (str(Path(self.settings.cache_dir).resolve()), "cache:"),
                (str(self.settings.cache_dir), "cache:"),
            ]
        roots.append((str(Path(self.settings.data_dir).resolve()), "data:"))

        def scrub(value: Any) -> Any:
            if isinstance(value, str):
                if value in self.local_media:
                    return self.local_media[value]
                for root, label in roots:
                    if value.startswith(root + "/"):
                        return label + value[len(root) + 1 :]
                if value.startswith("/") and len(value) < 4096 and os.path.exists(value):
                    return "local:" + Path(value).name  # some other server file: name only
                return value
            if isinstance(value, dict):
                return {key: scrub(item) for key, item in value.items()}
            if isinstance(value, list):
                return [scrub(item) for item in value]
            return value

        return scrub(data)

    def _cached(self, kind: JobKind) -> dict[str, Path] | None:
        """A completed job of the same owner with the same input: reuse its stored outputs.

        Scoped per owner: another tenant's job is never a donor, so no job reveals that someone
        else made the same video, nor its id, nor (by a quick answer) that it exists."""
        digest = self.snapshot["input_hash"]
        if not digest:
            return None
        owner = self.snapshot["owner"]
        same_owner = Job.owner.is_(None) if owner is None else Job.owner == owner
        with self.db.session() as session:
            donors = session.scalars(
                select(Job)
                .where(
                    Job.input_hash == digest,
                    same_owner,
                    Job.status == JobStatus.COMPLETED.value,
                    Job.id != self.job_id,
                )
                .order_by(Job.finished_at.desc())
                .limit(3)
            ).all()
        for donor in donors:
            result = donor.result or {}
            required = {name for name, output in kind.outputs.items() if output.required}
            if set(result) >= required and all(self.storage.exists(key) for key in result.values()):
                try:
                    files = {name: self.storage.local_path(key) for name, key in result.items()}
                except ReelforgeError:
                    continue
                self.cached_from = donor.id
                self.summary = donor.summary
                self._advance(JobStatus.POST_PROCESSING, note=f"reusing the output of {donor.id}")
                return files
        return None

    def _upload(self, kind: JobKind, files: dict[str, Path]) -> dict[str, str]:
        keys: dict[str, str] = {}
        total = len(files)
        for number, (name, path) in enumerate(sorted(files.items()), start=1):
            self._check()
            output = kind.outputs[name]
            key = result_key(self.job_id, output)
            self.storage.put_file(key, path, output.content_type)
            keys[name] = key
            self._report(number / total, "uploading", force=number == total)
        return keys

    def _complete(self, keys: dict[str, str]) -> str:
        def attempt() -> bool:
            with self.write_lock, self.db.transaction() as session:
                job = session.get(Job, self.job_id)
                if not self._holds(job, {JobStatus.UPLOADING.value}):
                    return False
                transition(
                    session,
                    job,
                    JobStatus.COMPLETED,
                    note=f"done in {self._elapsed()}",
                    result=keys,
                    summary=self.summary,
                    error=None,
                    hint=None,
                    traceback=None,
                    cached_from=self.cached_from,
                )
                return True

        for _ in range(8):
            try:
                if attempt():
                    return JobStatus.COMPLETED.value
                break
            except StaleDataError:
                time.sleep(0.01)
        return self._abandoned("the job was cancelled, deleted or taken over")

    def _elapsed(self) -> str:
        return f"{time.monotonic() - self.started:.1f} s"

    def _abandoned(self, reason: str) -> str:
        """This worker no longer owns the job: leave its state alone, tidy what we wrote."""
        with self.db.session() as session:
            job = session.get(Job, self.job_id)
            status = job.status if job is not None else None
            owner = job.lease_owner if job is not None else None
        if job is None:
            # Deleted while running: remove anything uploaded after the delete.
            self.storage.delete_prefix(f"jobs/{self.job_id}/")
            return JobStatus.CANCELLED.value
        if status == JobStatus.CANCELLED.value:
            self._remove_outputs()
        log.info(
            "job %s abandoned by %s: %s (now %s, %s)",
            self.job_id,
            self.worker_id,
            reason,
            status,
            owner,
        )
        return str(status)

    def _remove_outputs(self) -> None:
        """Delete outputs this job uploaded (the input stays, for a retry)."""
        for output in self.kind.outputs.values() if self.kind is not None else ():
            key = result_key(self.job_id, output)
            try:
                if self.storage.exists(key):
                    self.storage.delete_prefix(key)
            except Exception:  # noqa: BLE001 - tidying never hides the real outcome
                log.warning("could not delete %s", key, exc_info=True)

    def _fail(self, exc: BaseException, traceback_text: str | None, force: bool = False) -> str:
        """Record the failure; queue a retry with backoff while attempts remain."""
        if isinstance(exc, ReelforgeError):
            error, hint = exc.message, exc.hint
        else:
            error = f"{type(exc).__name__}: {exc}"
            hint = "an unexpected error; the job's traceback has details"
        # tenants read the error and hint: no server paths (the stored traceback keeps them)
        folders = server_folders(self.settings)
        error, hint = redact_paths(error, folders), redact_paths(hint or "", folders)
        # Bad input, a full store, or a render that hit its memory or time limit fail the same
        # way again: no automatic retry. A crash or a lost worker is retried.
        retryable = not isinstance(
            exc, SpecError | StorageFull | ResourceLimitExceeded | JobTimeout
        )
        settings = self.settings

        def attempt() -> str:
            with self.write_lock, self.db.transaction() as session:
                job = session.get(Job, self.job_id)
                if not self._holds(job, _ACTIVE_STATUSES):
                    return job.status if job is not None else JobStatus.CANCELLED.value
                if retryable and job.attempts < job.max_attempts:
                    delay = settings.backoff_for(job.attempts)
                    transition(
                        session,
                        job,
                        JobStatus.QUEUED,
                        note=f"attempt {job.attempts} failed: {error}; retry in {delay:g} s",
                        next_attempt_at=utcnow() + timedelta(seconds=delay),
                        error=error,
                        hint=hint,
                        traceback=traceback_text,
                    )
                    return JobStatus.QUEUED.value
                transition(
                    session,
                    job,
                    JobStatus.FAILED,
                    note=error,
                    error=error,
                    hint=hint,
                    traceback=traceback_text,
                )
                return JobStatus.FAILED.value

        for _ in range(8):
            try:
                final = attempt()
                break
            except StaleDataError:
                time.sleep(0.01)
        else:
            final = JobStatus.FAILED.value
        if final == JobStatus.FAILED.value:
            self._remove_outputs()  # a half-uploaded result must not count against the quota
            if force:
                self._notify()
        log.info("job %s attempt failed: %s -> %s", self.job_id, error, final)
        return final

    def _notify(self) -> None:
        if not self.snapshot.get("webhook_url") or self.notified:
            return
        self.notified = True
        try:
            notify(self.job_id, self.db, self.settings)
        except Exception:  # noqa: BLE001 - a webhook never fails the job
            log.warning("webhook for job %s could not be scheduled", self.job_id, exc_info=True)
